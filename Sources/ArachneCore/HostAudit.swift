/// Where the delay between request starts on a host came from.
public enum DelaySource: String, Codable, Sendable, Hashable, CaseIterable {
    /// The crawl default (`--delay` not given).
    case `default`
    /// `--delay` as the user gave it.
    case flag
    /// The host's robots.txt `Crawl-delay`, longer than the flag.
    case crawlDelay = "crawl-delay"
    /// Back-off after 429 or 503 answers, longer than both.
    case backOff = "back-off"
}

/// What a crawl did to one host, as the worker that held the host measured it: the politeness audit of the report.
/// Workers send these as they go; the coordinator merges the figures of one host (`merge`) — a host is held by one
/// worker at a time, so the merge only meets several workers after one was lost.
public struct HostAudit: Codable, Sendable, Hashable {
    /// The host (lower-case, no port): the unit politeness is kept by.
    public var host: String
    /// Requests started: pages and robots.txt fetches.
    public var requests: Int
    /// The most requests in flight to the host at once (a request holds at most one connection).
    public var maxInFlight: Int
    /// The smallest gap between two request starts, in milliseconds; nil with fewer than two requests.
    public var minGapMs: Int?
    /// The delay kept between request starts, in milliseconds (the flag or default, raised by Crawl-delay), and
    /// where it came from; `back-off` when 429/503 answers stretched it further (to `backOffMs` at most).
    public var delayMs: Int
    public var delaySource: DelaySource
    /// The longest delay back-off imposed, in milliseconds (0 when the host never asked to slow down).
    public var backOffMs: Int
    /// The connection limit in force.
    public var perHost: Int
    /// Answers 429 and 503 seen, and pages fetched again after one.
    public var tooManyRequests: Int
    public var unavailable: Int
    public var retries: Int
    /// robots.txt as the crawl found it, e.g. "200: 12 rules, Crawl-delay 2 s", "404: everything allowed", "off".
    public var robots: String
    /// Pages robots.txt kept the crawl from fetching.
    public var robotsBlocked: Int

    public init(
        host: String, requests: Int = 0, maxInFlight: Int = 0, minGapMs: Int? = nil, delayMs: Int = 0,
        delaySource: DelaySource = .default, backOffMs: Int = 0, perHost: Int = 0, tooManyRequests: Int = 0, unavailable: Int = 0,
        retries: Int = 0, robots: String = "", robotsBlocked: Int = 0
    ) {
        self.host = host
        self.requests = requests
        self.maxInFlight = maxInFlight
        self.minGapMs = minGapMs
        self.delayMs = delayMs
        self.delaySource = delaySource
        self.backOffMs = backOffMs
        self.perHost = perHost
        self.tooManyRequests = tooManyRequests
        self.unavailable = unavailable
        self.retries = retries
        self.robots = robots
        self.robotsBlocked = robotsBlocked
    }

    enum CodingKeys: String, CodingKey {
        case host, requests
        case maxInFlight = "max_in_flight"
        case minGapMs = "min_gap_ms"
        case delayMs = "delay_ms"
        case delaySource = "delay_source"
        case backOffMs = "back_off_ms"
        case perHost = "per_host"
        case tooManyRequests = "status_429"
        case unavailable = "status_503"
        case retries, robots
        case robotsBlocked = "robots_blocked"
    }

    /// Whether the figures broke the host's own limits: more requests in flight than allowed, or two starts closer
    /// than the delay in force (a millisecond of timer slack allowed). There should never be one.
    public var brokeLimits: Bool {
        if perHost > 0 && maxInFlight > perHost { return true }
        if let minGapMs, delayMs > 0, minGapMs + 1 < delayMs { return true }
        return false
    }

    /// Adds another report of the same host (a later snapshot from another worker session).
    public mutating func merge(_ other: HostAudit) {
        requests += other.requests
        maxInFlight = max(maxInFlight, other.maxInFlight)
        if let gap = other.minGapMs { minGapMs = min(minGapMs ?? gap, gap) }
        delayMs = max(delayMs, other.delayMs)
        if other.delaySource == .backOff || delaySource != .backOff { delaySource = other.delaySource }
        backOffMs = max(backOffMs, other.backOffMs)
        perHost = other.perHost
        tooManyRequests += other.tooManyRequests
        unavailable += other.unavailable
        retries += other.retries
        if !other.robots.isEmpty { robots = other.robots }
        robotsBlocked += other.robotsBlocked
    }
}
