import ArachneCore

/// The crawl's limits on what enters its frontier, as a pure value: given a newly seen URL's depth, host and any
/// trap the worker found, admit it for fetching or name the skip kind its record carries.
///
/// Checks, in order: a trap the worker's rules caught; `--max-depth`; `--max-pages` (URLs admitted in the whole
/// crawl, seeds included); `--max-pages-per-host`. Only admitted URLs count toward the page limits, so a crawl
/// never fetches more than `maxPages` pages, and every URL past a limit still ends with exactly one record.
public struct FrontierAdmission: Sendable, Hashable {
    public let maxDepth: Int
    public let maxPages: Int?
    public let maxPagesPerHost: Int?
    /// URLs admitted so far.
    public private(set) var admitted = 0
    /// URLs admitted so far per host (`host:port`).
    public private(set) var admittedPerHost: [String: Int] = [:]

    public init(options: CrawlOptionsSpec, admitted: Int = 0, admittedPerHost: [String: Int] = [:]) {
        maxDepth = options.maxDepth
        maxPages = options.maxPages
        maxPagesPerHost = options.maxPagesPerHost
        self.admitted = admitted
        self.admittedPerHost = admittedPerHost
    }

    /// Admits the URL (nil, and counts it) or returns the skip kind that keeps it out.
    public mutating func decide(depth: Int, host: String, trap: FetchErrorKind? = nil) -> FetchErrorKind? {
        if let trap { return trap }
        if depth > maxDepth { return .maxDepth }
        if let maxPages, admitted >= maxPages { return .maxPages }
        if let maxPagesPerHost, admittedPerHost[host, default: 0] >= maxPagesPerHost { return .maxPagesPerHost }
        admitted += 1
        admittedPerHost[host, default: 0] += 1
        return nil
    }

    /// The message of a skip record of `kind` for a URL at `depth` on `host`.
    public func message(for kind: FetchErrorKind, depth: Int, host: String) -> String {
        switch kind {
        case .maxDepth: "depth \(depth) is past --max-depth \(maxDepth); not fetched"
        case .maxPages: "the crawl reached --max-pages \(maxPages ?? 0); not fetched"
        case .maxPagesPerHost: "host \(host) reached --max-pages-per-host \(maxPagesPerHost ?? 0); not fetched"
        case .urlTooLong: "URL longer than 2048 bytes (a trap defence); not fetched"
        case .tooManySegments: "more than 20 path segments (a trap defence); not fetched"
        case .repeatedSegments: "a run of path segments repeated 3 or more times (a trap defence); not fetched"
        default: "\(kind.rawValue); not fetched"
        }
    }
}
