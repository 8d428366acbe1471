import ArachneCore

/// The limits a crawl keeps on every host: connections, the delay between request starts, and how far it backs off
/// and retries when a host answers 429 or 503.
public struct PolitenessRules: Sendable, Hashable {
    /// Requests in flight to one host at most.
    public var perHost: Int
    /// Milliseconds between two request starts on one host.
    public var delayMs: Int64
    /// Where `delayMs` came from: the default or the user's flag.
    public var delaySource: DelaySource
    /// The longest robots.txt `Crawl-delay` honoured, in milliseconds.
    public var maxCrawlDelayMs: Int64
    /// Times a page answered with 429 or 503 is fetched again before its answer is its record.
    public var maxRetries: Int
    /// The longest wait a `Retry-After` may impose before the page is given up with its answer, in milliseconds.
    public var maxRetryAfterMs: Int64
    /// The first back-off step and the largest back-off delay, in milliseconds.
    public var firstBackOffMs: Int64
    public var maxBackOffMs: Int64

    public init(
        perHost: Int = 2, delayMs: Int64 = 250, delaySource: DelaySource = .default, maxCrawlDelayMs: Int64 = 30_000,
        maxRetries: Int = 3, maxRetryAfterMs: Int64 = 600_000, firstBackOffMs: Int64 = 1_000,
        maxBackOffMs: Int64 = 60_000
    ) {
        self.perHost = max(1, perHost)
        self.delayMs = max(0, delayMs)
        self.delaySource = delaySource
        self.maxCrawlDelayMs = maxCrawlDelayMs
        self.maxRetries = maxRetries
        self.maxRetryAfterMs = maxRetryAfterMs
        self.firstBackOffMs = firstBackOffMs
        self.maxBackOffMs = maxBackOffMs
    }

    /// The rules of a crawl's options (`--per-host`, `--delay`, `--max-crawl-delay`).
    public init(options: CrawlOptionsSpec) {
        self.init(
            perHost: options.perHost, delayMs: Int64(options.delayMs),
            delaySource: options.delayMs == CrawlOptionsSpec().delayMs ? .default : .flag,
            maxCrawlDelayMs: Int64(options.maxCrawlDelayMs))
    }
}

/// One host's politeness as a state machine with no I/O and no clock of its own (times are milliseconds on the
/// caller's monotonic clock): when the next request may start, what starting and finishing one does, and how 429 and
/// 503 answers slow the host down — `Retry-After` first, then exponential back-off, recovering by halves on each
/// ordinary answer. It also keeps the host's audit figures as it goes.
public struct HostPoliteness: Sendable {
    public let rules: PolitenessRules
    /// Requests started and not finished.
    public private(set) var inFlight = 0
    private var lastStartMs: Int64?
    /// robots.txt's `Crawl-delay` for the crawler, once known.
    public private(set) var crawlDelayMs: Int64?
    /// The extra delay back-off imposes now (0 when the host is not backing off).
    public private(set) var backOffMs: Int64 = 0
    /// No request starts before this (a `Retry-After`).
    private var blockedUntilMs: Int64 = 0
    public private(set) var audit: HostAudit

    public init(host: String, rules: PolitenessRules) {
        self.rules = rules
        audit = HostAudit(host: host, delayMs: Int(rules.delayMs), delaySource: rules.delaySource,
                          perHost: rules.perHost)
    }

    /// The delay kept between request starts now: the rules' delay, raised by Crawl-delay and by back-off.
    public var delayMs: Int64 { max(rules.delayMs, crawlDelayMs ?? 0, backOffMs) }

    /// When the next request may start, or nil while `perHost` requests are in flight.
    public var readyAtMs: Int64? {
        guard inFlight < rules.perHost else { return nil }
        let spaced = lastStartMs.map { $0 + delayMs } ?? Int64.min
        return max(spaced, blockedUntilMs)
    }

    /// Whether a request may start at `now`.
    public func mayStart(now: Int64) -> Bool { readyAtMs.map { $0 <= now } ?? false }

    /// A request starts at `now` (the caller checked `mayStart`).
    public mutating func start(now: Int64) {
        if let last = lastStartMs {
            let gap = Int(now - last)
            audit.minGapMs = min(audit.minGapMs ?? gap, gap)
        }
        lastStartMs = now
        inFlight += 1
        audit.requests += 1
        audit.maxInFlight = max(audit.maxInFlight, inFlight)
    }

    /// The host's robots.txt asks for `seconds` between requests. Returns false when that is more than the rules
    /// allow (`maxCrawlDelayMs`): the host is to be skipped.
    public mutating func setCrawlDelay(seconds: Double) -> Bool {
        let ms = Int64((seconds * 1_000).rounded(.up))
        guard ms <= rules.maxCrawlDelayMs else { return false }
        crawlDelayMs = max(crawlDelayMs ?? 0, ms)
        if ms > rules.delayMs {
            audit.delayMs = Int(ms)
            if audit.delaySource != .backOff { audit.delaySource = .crawlDelay }
        }
        return true
    }

    /// What the caller does with a page after its answer.
    public enum Verdict: Sendable, Hashable {
        /// The answer is the page's record.
        case keep
        /// Fetch the page again (429/503 with a retry left); it may start no earlier than the host allows.
        case retry
    }

    /// A request that started finishes at `now` with HTTP `status` (0: no response) and the answer's
    /// `Retry-After` in milliseconds, if any. `retries` is how often this page was fetched again already. `sentAtMs`
    /// is when the request really left (its start plus the name lookup and connection it needed): when it is later
    /// than the last start, the next start is spaced from it, so a new connection's setup never shortens the gap
    /// the server sees.
    public mutating func finish(
        now: Int64, status: Int, retryAfterMs: Int64?, retries: Int, sentAtMs: Int64? = nil
    ) -> Verdict {
        inFlight = max(0, inFlight - 1)
        if let sentAtMs, let last = lastStartMs, sentAtMs > last { lastStartMs = sentAtMs }
        guard status == 429 || status == 503 else {
            if status > 0 && backOffMs > 0 {
                // Recover gradually: halve the back-off on each ordinary answer, down to nothing.
                backOffMs /= 2
                if backOffMs <= max(rules.delayMs, crawlDelayMs ?? 0) { backOffMs = 0 }
            }
            return .keep
        }
        if status == 429 { audit.tooManyRequests += 1 } else { audit.unavailable += 1 }
        backOffMs = min(rules.maxBackOffMs, max(rules.firstBackOffMs, backOffMs * 2, delayMs * 2))
        var wait = backOffMs
        if let retryAfterMs { wait = max(wait, retryAfterMs) }
        blockedUntilMs = max(blockedUntilMs, now + wait)
        audit.backOffMs = max(audit.backOffMs, Int(wait))
        audit.delaySource = .backOff
        guard retries < rules.maxRetries, (retryAfterMs ?? 0) <= rules.maxRetryAfterMs else { return .keep }
        audit.retries += 1
        return .retry
    }

    /// robots.txt kept a page from being fetched.
    public mutating func refused() {
        audit.robotsBlocked += 1
    }

    /// What robots.txt came to, for the audit.
    public mutating func noteRobots(_ summary: String) {
        audit.robots = summary
    }

    /// A request that was started never happened as a request to the host (it was cancelled before sending):
    /// frees its slot without an answer.
    public mutating func abandon() {
        inFlight = max(0, inFlight - 1)
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as milliseconds from `nowSeconds` (Unix time).
public enum RetryAfter {
    public static func milliseconds(_ value: String, nowSeconds: Double) -> Int64? {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let text = String(value.drop(while: blank).reversed().drop(while: blank).reversed())
        if let seconds = Int64(text), seconds >= 0 { return min(seconds, 86_400 * 365) * 1_000 }
        guard let date = HTTPDate.parse(text) else { return nil }
        return max(0, Int64(((date - nowSeconds) * 1_000).rounded(.up)))
    }
}
