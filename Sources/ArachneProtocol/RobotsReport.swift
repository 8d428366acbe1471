import ArachneCore

/// A robots.txt fetch, as a worker reports it to the coordinator (which caches it durably for 24 hours and admits the
/// sitemaps it lists) and as the coordinator hands a cached one to the next worker that crawls the origin.
public struct RobotsReport: Sendable, Hashable {
    /// The crawl job it was fetched for.
    public var job: String
    /// `scheme://host[:port]`.
    public var origin: String
    /// When it was fetched, Unix seconds.
    public var fetchedAt: Double
    /// The final status (0: no response) and redirects followed.
    public var status: Int
    public var redirects: Int
    /// Why there was no usable response: a network failure's message, or "too-many-redirects"; nil with a response.
    public var failure: String?
    /// The body as fetched (at most `maxBody` bytes: RFC 9309 asks crawlers to parse 500 KiB at least).
    public var body: [UInt8]
    /// The `Sitemap:` URLs that are in the crawl's scope, as links `via: sitemap` (worker to coordinator only).
    public var sitemaps: CrawlFindings?

    public static let maxBody = 512 * 1024

    public init(job: String, origin: String, fetchedAt: Double, status: Int, redirects: Int = 0,
                failure: String? = nil, body: [UInt8] = [], sitemaps: CrawlFindings? = nil)
    {
        self.job = job
        self.origin = origin
        self.fetchedAt = fetchedAt
        self.status = status
        self.redirects = redirects
        self.failure = failure
        self.body = body.count > Self.maxBody ? Array(body[..<Self.maxBody]) : body
        self.sitemaps = sitemaps
    }

    /// Whether the fetch came to an answer worth caching (any status, or too many redirects), not a network failure.
    public var isAnswer: Bool { status > 0 || failure == Self.tooManyRedirects }

    public static let tooManyRedirects = "too-many-redirects"
}

extension WireWriter {
    mutating func encode(_ report: RobotsReport) {
        string(report.job)
        string(report.origin)
        double(report.fetchedAt)
        int(report.status)
        int(report.redirects)
        bool(report.failure != nil)
        if let failure = report.failure { string(failure) }
        blob(report.body)
        bool(report.sitemaps != nil)
        if let sitemaps = report.sitemaps { encode(sitemaps) }
    }
}

extension WireReader {
    mutating func decodeRobotsReport() throws(ProtocolError) -> RobotsReport {
        let job = try string("job id")
        let origin = try string("origin")
        let fetchedAt = try double("fetched at")
        let status = try nonNegative("status")
        let redirects = try nonNegative("redirects")
        let failure = try bool("has failure") ? try string("failure") : nil
        let body = try blob("body")
        guard body.count <= RobotsReport.maxBody else { throw invalid("body", "longer than \(RobotsReport.maxBody)") }
        let sitemaps = try bool("has sitemaps") ? try decodeFindings() : nil
        return RobotsReport(job: job, origin: origin, fetchedAt: fetchedAt, status: status, redirects: redirects,
                            failure: failure, body: body, sitemaps: sitemaps)
    }
}
