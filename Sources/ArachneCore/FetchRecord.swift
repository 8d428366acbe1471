/// Identifies one unit of work in a job: the index of a URL in the job's URL list and the repetition.
/// Every key of a job ends with exactly one terminal `FetchRecord`.
public struct RequestKey: Hashable, Sendable, Codable, Comparable {
    public var urlIndex: Int
    public var repetition: Int

    public init(urlIndex: Int, repetition: Int) {
        self.urlIndex = urlIndex
        self.repetition = repetition
    }

    public static func < (a: RequestKey, b: RequestKey) -> Bool {
        (a.urlIndex, a.repetition) < (b.urlIndex, b.repetition)
    }
}

/// Where a body is stored: a WARC file beside the report, the byte range of its gzip member, and its digest.
public struct BodyReference: Codable, Sendable, Hashable {
    /// The WARC file, relative to the report's directory.
    public var file: String
    /// Offset of the gzip member holding the response record.
    public var offset: Int64
    /// Length of that gzip member in bytes.
    public var length: Int64
    /// The payload digest as written in WARC-Payload-Digest (`sha1:BASE32`).
    public var digest: String
    /// True when the stored payload was cut at the body cap.
    public var truncated: Bool

    public init(file: String, offset: Int64, length: Int64, digest: String, truncated: Bool) {
        self.file = file
        self.offset = offset
        self.length = length
        self.digest = digest
        self.truncated = truncated
    }
}

/// The terminal record of one (URL, repetition): fetched, failed with a classified error, or cancelled.
/// One line of `records.ndjson`.
public struct FetchRecord: Codable, Sendable, Hashable {
    public var url: String
    public var repetition: Int
    /// The worker that produced the record ("local" for `arachne fetch`).
    public var worker: String
    /// How many times the request was leased out (1 unless a worker was lost and it was re-leased).
    public var attempts: Int
    /// HTTP status, 0 when no response.
    public var status: Int
    /// Body bytes received (decoded).
    public var bytes: Int64
    public var finalURL: String
    public var redirects: Int
    public var timings: PhaseTimings
    public var error: FetchFailure?
    public var body: BodyReference?
    /// When the request finished, in seconds since the Unix epoch.
    public var finishedAt: Double

    public init(
        url: String, repetition: Int, worker: String, attempts: Int, status: Int, bytes: Int64, finalURL: String,
        redirects: Int, timings: PhaseTimings, error: FetchFailure?, body: BodyReference?, finishedAt: Double
    ) {
        self.url = url
        self.repetition = repetition
        self.worker = worker
        self.attempts = attempts
        self.status = status
        self.bytes = bytes
        self.finalURL = finalURL
        self.redirects = redirects
        self.timings = timings
        self.error = error
        self.body = body
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case url, repetition, worker, attempts, status, bytes
        case finalURL = "final_url"
        case redirects, timings, error, body
        case finishedAt = "finished_at"
    }

    /// True when a response arrived without a failure (any status).
    public var succeeded: Bool { error == nil && status > 0 }
}
