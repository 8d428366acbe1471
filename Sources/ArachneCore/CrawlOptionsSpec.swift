/// How far from its seeds a crawl may go.
public enum CrawlScopeKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Same scheme, host and port as a seed.
    case host
    /// Same registrable domain as a seed (Public Suffix List, private section included), any scheme or port.
    /// An IP address, or a host with no registrable domain (`localhost`, a bare public suffix), must equal a
    /// seed's host instead.
    case domain
    /// Under a seed's directory: same scheme, host and port, and a path that starts with the seed's path up to
    /// and including its last `/`.
    case prefix
    /// Every http(s) URL.
    case any
}

/// A crawl's link options as they travel from the coordinator to workers, in JSON with snake_case keys. Absent keys
/// take the defaults, so older or terser senders still decode.
public struct CrawlOptionsSpec: Codable, Sendable, Hashable {
    /// How far from the seeds links are followed (default `host`).
    public var scope: CrawlScopeKind
    /// PCRE2 patterns; when any are given, a link must match one of them.
    public var include: [String]
    /// PCRE2 patterns; a link matching any of them is dropped.
    public var exclude: [String]
    /// The most links followed from a seed to a page (default 20; 0 fetches the seeds only).
    public var maxDepth: Int
    /// The most pages fetched in the whole crawl; nil for no limit.
    public var maxPages: Int?
    /// The most pages fetched from one host; nil for no limit.
    public var maxPagesPerHost: Int?
    /// Whether the trap rules apply (default true).
    public var trapDefences: Bool
    /// Whether `rel="nofollow"` links are followed too (default false).
    public var followNofollow: Bool
    /// Requests in flight to one host at most, cluster-wide (default 2).
    public var perHost: Int
    /// Milliseconds between the starts of two requests to one host (default 250). A robots.txt `Crawl-delay` is
    /// a floor this does not lower.
    public var delayMs: Int
    /// The longest `Crawl-delay` honoured, in milliseconds (default 30,000): a host asking more is skipped.
    public var maxCrawlDelayMs: Int
    /// Whether robots.txt is fetched and obeyed (default true).
    public var robots: Bool
    /// Whether the `Sitemap:` lines of robots.txt are read and their URLs crawled (default true).
    public var sitemaps: Bool
    /// Whether hosts that resolve to one IP address share one politeness budget (default false).
    public var perIP: Bool
    /// Milliseconds before an unreachable robots.txt is tried again (default 60,000; doubled per failure, four tries
    /// before the origin's pages are given up).
    public var robotsRetryMs: Int

    public init(
        scope: CrawlScopeKind = .host, include: [String] = [], exclude: [String] = [], maxDepth: Int = 20,
        maxPages: Int? = nil, maxPagesPerHost: Int? = nil, trapDefences: Bool = true, followNofollow: Bool = false,
        perHost: Int = 2, delayMs: Int = 250, maxCrawlDelayMs: Int = 30_000, robots: Bool = true,
        sitemaps: Bool = true, perIP: Bool = false, robotsRetryMs: Int = 60_000
    ) {
        self.scope = scope
        self.include = include
        self.exclude = exclude
        self.maxDepth = maxDepth
        self.maxPages = maxPages
        self.maxPagesPerHost = maxPagesPerHost
        self.trapDefences = trapDefences
        self.followNofollow = followNofollow
        self.perHost = perHost
        self.delayMs = delayMs
        self.maxCrawlDelayMs = maxCrawlDelayMs
        self.robots = robots
        self.sitemaps = sitemaps
        self.perIP = perIP
        self.robotsRetryMs = robotsRetryMs
    }

    enum CodingKeys: String, CodingKey {
        case scope, include, exclude
        case maxDepth = "max_depth"
        case maxPages = "max_pages"
        case maxPagesPerHost = "max_pages_per_host"
        case trapDefences = "trap_defences"
        case followNofollow = "follow_nofollow"
        case perHost = "per_host"
        case delayMs = "delay_ms"
        case maxCrawlDelayMs = "max_crawl_delay_ms"
        case robots, sitemaps
        case perIP = "per_ip"
        case robotsRetryMs = "robots_retry_ms"
    }

    public init(from decoder: any Decoder) throws {
        let defaults = CrawlOptionsSpec()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scope = try container.decodeIfPresent(CrawlScopeKind.self, forKey: .scope) ?? defaults.scope
        include = try container.decodeIfPresent([String].self, forKey: .include) ?? defaults.include
        exclude = try container.decodeIfPresent([String].self, forKey: .exclude) ?? defaults.exclude
        maxDepth = try container.decodeIfPresent(Int.self, forKey: .maxDepth) ?? defaults.maxDepth
        maxPages = try container.decodeIfPresent(Int.self, forKey: .maxPages)
        maxPagesPerHost = try container.decodeIfPresent(Int.self, forKey: .maxPagesPerHost)
        trapDefences = try container.decodeIfPresent(Bool.self, forKey: .trapDefences) ?? defaults.trapDefences
        followNofollow = try container.decodeIfPresent(Bool.self, forKey: .followNofollow) ?? defaults.followNofollow
        perHost = try container.decodeIfPresent(Int.self, forKey: .perHost) ?? defaults.perHost
        delayMs = try container.decodeIfPresent(Int.self, forKey: .delayMs) ?? defaults.delayMs
        maxCrawlDelayMs =
            try container.decodeIfPresent(Int.self, forKey: .maxCrawlDelayMs) ?? defaults.maxCrawlDelayMs
        robots = try container.decodeIfPresent(Bool.self, forKey: .robots) ?? defaults.robots
        sitemaps = try container.decodeIfPresent(Bool.self, forKey: .sitemaps) ?? defaults.sitemaps
        perIP = try container.decodeIfPresent(Bool.self, forKey: .perIP) ?? defaults.perIP
        robotsRetryMs = try container.decodeIfPresent(Int.self, forKey: .robotsRetryMs) ?? defaults.robotsRetryMs
    }
}
