import ArachneCore
import ArachneSystem
import Foundation

/// One rung of the ladder: a way of fetching the same URL N times, timed and checked.
///
/// A model fetches `job.requests` times with at most `job.concurrency` requests in flight, checks every response with
/// `job.check(_:)`, and stops once `budget` has passed, returning what it completed so far: a run with fewer
/// completions than requests is "over budget". `run` must return, whatever the server does.
public protocol IOModel: Sendable {
    /// The name users pass to `--model` ("blocking", "threads", ...).
    var name: String { get }
    /// One line saying what the model does, for help and docs.
    var summary: String { get }
    /// True if the model can fetch https URLs; the raw-socket models speak plain HTTP only.
    var supportsHTTPS: Bool { get }
    /// Runs the job and reports what happened. Never throws: failures are counted in the result.
    func run(_ job: LadderJob, budget: Duration) async -> ModelRun
}

extension IOModel {
    public var summary: String { "" }
    public var supportsHTTPS: Bool { false }
}

/// The same job for every model: where to fetch, how often, how many at once, and what a good response looks like.
public struct LadderJob: Sendable, Hashable {
    public let url: TargetURL
    /// The URL's host, resolved once per run (getaddrinfo), so no model pays for name resolution.
    public let address: IPv4Address
    /// N: how many requests to make.
    public var requests: Int
    /// The most requests in flight at once (models that run one at a time ignore it).
    public var concurrency: Int
    /// Worker processes, for the cluster model.
    public var workers: Int
    /// The body length every response must have: the first (probe) response's. Nil when unknown; responses are
    /// then checked against their own Content-Length only.
    public var expectedBodyLength: Int?
    /// The HTTP/1.1 GET the raw-socket models send, `Connection: close` included.
    public let requestBytes: [UInt8]

    public init(
        url: TargetURL, address: IPv4Address, requests: Int, concurrency: Int, workers: Int = 2,
        expectedBodyLength: Int? = nil
    ) {
        precondition(
            requests >= 1 && concurrency >= 1 && workers >= 1, "requests, concurrency and workers must be at least 1")
        self.url = url
        self.address = address
        self.requests = requests
        self.concurrency = concurrency
        self.workers = workers
        self.expectedBodyLength = expectedBodyLength
        self.requestBytes = Self.requestHead(for: url)
    }

    /// The request: one GET, one connection. `Connection: close` makes the server end the response by closing, as
    /// the tutorial's client relies on.
    public static func requestHead(for url: TargetURL) -> [UInt8] {
        let components = URLComponents(string: url.string)
        var target = components?.percentEncodedPath ?? "/"
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?\(query)" }
        let defaultPort = url.scheme == "https" ? 443 : 80
        let hostHeader = url.port == defaultPort ? url.host : "\(url.host):\(url.port)"
        let head = "GET \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: arachne-ladder\r\n"
            + "Accept: */*\r\nConnection: close\r\n\r\n"
        return Array(head.utf8)
    }

    /// Why `response` is not acceptable (a non-2xx status, or a body of the wrong length), or nil when it is.
    public func check(_ response: ResponseSummary) -> FetchFailure? {
        guard (200..<300).contains(response.status) else {
            return FetchFailure(kind: .other, message: "HTTP status \(response.status)")
        }
        if let declared = response.declaredLength, declared != response.bodyLength {
            return FetchFailure(
                kind: .protocol, message: "body of \(response.bodyLength) bytes, Content-Length \(declared)")
        }
        if let expected = expectedBodyLength, expected != response.bodyLength {
            return FetchFailure(
                kind: .other,
                message: "body of \(response.bodyLength) bytes, the first response had \(expected)")
        }
        return nil
    }
}

/// What one model did with one job: counts, wall time (the tutorial's "spend time") and client CPU time.
public struct ModelRun: Sendable, Hashable {
    public var model: String
    /// N, the requests asked for.
    public var requests: Int
    public var succeeded: Int
    public var failed: Int
    /// Wall-clock seconds from the first request to the last completion (or to the budget's end).
    public var wallSeconds: Double
    /// User + system CPU seconds the client used (getrusage deltas); the cluster model includes its workers.
    public var cpuSeconds: Double
    /// Body bytes of the successful responses.
    public var bytesReceived: Int
    /// Failures by kind (`FetchErrorKind` raw values).
    public var errors: [String: Int]
    /// The first failure's message, to show the user what went wrong.
    public var firstError: String?
    /// Anything else the model wants shown beside its row.
    public var note: String?

    public init(
        model: String, requests: Int, succeeded: Int, failed: Int, wallSeconds: Double, cpuSeconds: Double,
        bytesReceived: Int = 0, errors: [String: Int] = [:], firstError: String? = nil, note: String? = nil
    ) {
        self.model = model
        self.requests = requests
        self.succeeded = succeeded
        self.failed = failed
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.bytesReceived = bytesReceived
        self.errors = errors
        self.firstError = firstError
        self.note = note
    }

    /// Requests that ended, well or badly.
    public var completed: Int { succeeded + failed }
    /// A model completes fewer than N requests only when it was stopped at its time budget.
    public var overBudget: Bool { completed < requests }
    /// Completed requests per wall-clock second.
    public var requestsPerSecond: Double { wallSeconds > 0 ? Double(completed) / wallSeconds : 0 }
}
