/// What one fetch produced: the response (or the failure) with its timings. Bodies are plain bytes so they can
/// travel as raw ZeroMQ frames and be written to WARC files without copies through Foundation types.
public struct FetchOutcome: Sendable {
    /// The HTTP status code, or 0 when no response was received.
    public var status: Int
    /// The body as received (decoded when the server used a content encoding), up to the configured cap.
    public var body: [UInt8]
    /// Body bytes received in total, including bytes dropped beyond the cap.
    public var bytesReceived: Int64
    /// True when bytes beyond the cap were dropped.
    public var truncated: Bool
    /// The URL the transfer ended at, after redirects.
    public var finalURL: String
    /// How many redirects were followed.
    public var redirects: Int
    /// Per-phase durations in microseconds.
    public var timings: PhaseTimings
    /// The failure, or nil when a response was received (whatever its status).
    public var failure: FetchFailure?
    /// The response's HTTP version ("1.1", "2", ...), or empty when no response was received.
    public var httpVersion: String
    /// The final response's status line and header lines as received (kept with bodies, for WARC records).
    public var rawHeader: [UInt8] = []

    public init(
        status: Int = 0, body: [UInt8] = [], bytesReceived: Int64 = 0,
        truncated: Bool = false, finalURL: String = "", redirects: Int = 0, timings: PhaseTimings = .zero,
        failure: FetchFailure? = nil, httpVersion: String = ""
    ) {
        self.status = status
        self.body = body
        self.bytesReceived = bytesReceived
        self.truncated = truncated
        self.finalURL = finalURL
        self.redirects = redirects
        self.timings = timings
        self.failure = failure
        self.httpVersion = httpVersion
    }

    /// True when a response arrived and no failure was recorded.
    public var succeeded: Bool { failure == nil && status > 0 }

    /// A failed outcome with no response.
    public static func failed(_ kind: FetchErrorKind, _ message: String, url: String = "", timings: PhaseTimings = .zero)
        -> FetchOutcome
    {
        FetchOutcome(finalURL: url, timings: timings, failure: FetchFailure(kind: kind, message: message))
    }
}
