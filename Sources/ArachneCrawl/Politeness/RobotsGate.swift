import ArachneCore

/// robots.txt for every origin one crawl job meets on a worker: which origins need their robots.txt fetched, which
/// are being fetched, and for the rest whether a page may be fetched and which rule decides. No I/O: the caller
/// fetches `/robots.txt` when told to and hands the outcome back. Times are Unix seconds.
///
/// An origin whose robots.txt stays unreachable (5xx, 429, no answer) waits, disallowed, and is tried again after
/// `firstRetrySeconds`, doubling; after `maxAttempts` failures its pages are given up with a `robots` record saying
/// why, so a crawl ends even when a host never answers. A `Crawl-delay` above the crawl's limit skips the origin too.
public struct RobotsGate: Sendable {
    /// The product token robots.txt groups are matched against (from `--user-agent`).
    public let agent: String
    public var firstRetrySeconds: Double
    public var maxAttempts: Int

    /// What the gate says about a page.
    public enum Decision: Sendable {
        /// robots.txt must be fetched first; the caller fetches it and calls `fetched`.
        case fetchRobots
        /// Another request is fetching robots.txt; ask again when it is done.
        case waitForFetch
        /// robots.txt is unreachable for now: ask again at this time.
        case waitUntil(Double)
        /// The page may be fetched.
        case allow
        /// The page must not be fetched: its record's message.
        case refuse(String)
    }

    private enum OriginState: Sendable {
        case fetching
        case known(RobotsFetchPolicy)
        case skipped(String)
        /// Pages go on without robots.txt (its address is one the crawl may not connect to: each page is refused by
        /// the private-address guard with a record of its own).
        case unguarded
    }

    private var origins: [String: OriginState] = [:]
    private var failures: [String: Int] = [:]
    /// The Crawl-delay each origin's rules ask of `agent`, in seconds, once known.
    public private(set) var crawlDelays: [String: Double] = [:]

    public init(agent: String, firstRetrySeconds: Double = 60, maxAttempts: Int = 4) {
        self.agent = agent
        self.firstRetrySeconds = firstRetrySeconds
        self.maxAttempts = maxAttempts
    }

    /// The decision for the page at `path` (its path and query, `OriginAndPath`) of `origin` at `now`;
    /// `.fetchRobots` marks the origin as being fetched.
    public mutating func decide(path: String, origin: String, now: Double) -> Decision {
        switch origins[origin] {
        case nil:
            origins[origin] = .fetching
            return .fetchRobots
        case .fetching:
            return .waitForFetch
        case .skipped(let why):
            return .refuse(why)
        case .unguarded:
            return .allow
        case .known(let policy):
            guard let state = policy.state else { return .fetchRobots }
            if policy.needsFetch(now: now) {
                if case .disallowAll = state {
                    origins[origin] = .fetching
                    return .fetchRobots
                }
                // Rules past their 24 hours: fetch again, and meanwhile follow the old ones.
                origins[origin] = .fetching
                return .fetchRobots
            }
            if case .disallowAll(_, let retryAt) = state { return .waitUntil(retryAt) }
            let verdict = state.verdict(forPath: path, agent: agent)
            return verdict.isAllowed ? .allow : .refuse("disallowed by robots.txt: \(verdict)")
        }
    }

    /// The outcome of fetching `origin`'s robots.txt at `now` (or one cached by the coordinator, fetched then).
    /// Returns the state it leads to.
    @discardableResult
    public mutating func fetched(origin: String, outcome: RobotsFetchOutcome, now: Double) -> RobotsState {
        var policy: RobotsFetchPolicy
        if case .known(let known) = origins[origin] { policy = known } else { policy = RobotsFetchPolicy() }
        policy.firstRetryDelay = firstRetrySeconds
        let state = policy.decide(outcome: outcome, now: now)
        if case .disallowAll(let why, _) = state {
            let count = failures[origin, default: 0] + 1
            failures[origin] = count
            if count >= maxAttempts {
                origins[origin] = .skipped("\(why) (tried \(count) times); its pages are not fetched")
                return state
            }
        } else {
            failures[origin] = nil
        }
        if case .rules(let rules, _) = state, let delay = rules.crawlDelay(for: agent) { crawlDelays[origin] = delay }
        origins[origin] = .known(policy)
        return state
    }

    /// robots.txt could not be fetched because the private-address guard refused its address: the origin's pages go
    /// on, to be refused by the guard one by one (`blocked-address` records), not held back as if unreachable.
    public mutating func addressBlocked(origin: String) {
        origins[origin] = .unguarded
    }

    /// Skips every page of `origin` with this reason (a `Crawl-delay` above the crawl's limit).
    public mutating func skip(origin: String, because why: String) {
        origins[origin] = .skipped(why)
    }

    /// A fetch of robots.txt was abandoned (the session ended): the origin needs it again.
    public mutating func forgetFetch(origin: String) {
        if case .fetching = origins[origin] { origins[origin] = nil }
    }
}

extension RobotsState {
    /// A short account for the politeness audit: "200: 3 groups, 12 rules, Crawl-delay 2 s".
    public func summary(agent: String) -> String {
        switch self {
        case .rules(let rules, _):
            let ruleCount = rules.groups.reduce(0) { $0 + $1.rules.count }
            var text = "fetched: \(rules.groups.count) groups, \(ruleCount) rules"
            if let delay = rules.crawlDelay(for: agent) { text += ", Crawl-delay \(delay) s" }
            return text
        case .allowAll(let why, _): return "\(why): everything allowed"
        case .disallowAll(let why, _): return "\(why): everything disallowed until it answers"
        }
    }
}
