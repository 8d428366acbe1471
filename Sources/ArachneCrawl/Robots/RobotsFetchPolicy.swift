import ArachneCore
import ArachneURL

/// What fetching a host's `/robots.txt` came to, as `RobotsFetchPolicy` needs it.
public enum RobotsFetchOutcome: Sendable, Hashable {
    /// A response arrived: its status after `redirects` redirects were followed, and its body.
    case response(status: Int, body: [UInt8], redirects: Int)
    /// The redirect chain was longer than the fetcher followed.
    case tooManyRedirects
    /// No response: DNS, connect, TLS, timeout, reset. The message says which.
    case unreachable(String)

    /// The outcome of a fetch by Arachne's fetcher (`FetchOutcome`).
    public init(_ outcome: FetchOutcome) {
        if let failure = outcome.failure {
            self = failure.kind == .tooManyRedirects ? .tooManyRedirects : .unreachable(failure.message)
        } else if outcome.status == 0 {
            self = .unreachable("no response")
        } else {
            self = .response(status: outcome.status, body: outcome.body, redirects: outcome.redirects)
        }
    }
}

/// What a crawl may do on a host, given its robots.txt: follow its rules, or everything allowed, or everything
/// disallowed, each until a time when robots.txt should be fetched again. Times are seconds on the caller's clock.
public enum RobotsState: Sendable {
    /// robots.txt was fetched (2xx): follow its rules.
    case rules(RobotsRules, refreshAt: Double)
    /// robots.txt is unavailable (4xx, too many redirects): everything is allowed. The string says why.
    case allowAll(String, refreshAt: Double)
    /// robots.txt is unreachable (5xx, 429, network failure): everything is disallowed until a retry. The string
    /// says why.
    case disallowAll(String, retryAt: Double)

    /// When robots.txt should be fetched again.
    public var refreshAt: Double {
        switch self {
        case .rules(_, let at), .allowAll(_, let at), .disallowAll(_, let at): at
        }
    }

    /// Whether `agent` may fetch `url` in this state, and why.
    public func verdict(for url: WebURL, agent: String) -> RobotsVerdict {
        verdict(forPath: RobotsRules.pathAndQuery(of: url), agent: agent)
    }

    /// Whether `agent` may fetch the path-and-query `path` in this state, and why.
    public func verdict(forPath path: String, agent: String) -> RobotsVerdict {
        switch self {
        case .rules(let rules, _): rules.verdict(forPath: path, agent: agent)
        case .allowAll(let why, _): RobotsVerdict(isAllowed: true, reason: .allowAll(why))
        case .disallowAll(let why, _):
            path == "/robots.txt"
                ? RobotsVerdict(isAllowed: true, reason: .robotsTxt)
                : RobotsVerdict(isAllowed: false, reason: .disallowAll(why))
        }
    }
}

/// RFC 9309 §2.3.1 and §2.4 for one host, as a state machine with no I/O: feed it each robots.txt fetch outcome
/// with the time, and it says what the crawl may do until when.
///
/// - 2xx: parse the body (its first 500 KiB) and follow it for `cacheLifetime` (24 h, §2.4).
/// - Redirects: the fetcher follows up to `maxRedirects` (5, §2.3.1.2); a longer chain, or a 3xx it did not follow,
///   means robots.txt is unavailable.
/// - 4xx (404, 401, 403 …): unavailable, everything allowed for `cacheLifetime` (§2.3.1.3). 429 is the exception:
///   like Google, Arachne reads "too many requests" as the server struggling, so unreachable.
/// - 5xx, 429, no response, any other status: unreachable, everything disallowed (§2.3.1.4) until a retry after
///   `retryDelay(failures:)`: `firstRetryDelay` (1 min), doubled per consecutive failure, at most `maxRetryDelay`
///   (24 h). After `unreachableLimit` (30 days) of nothing but failures, the last rules fetched (or, with none,
///   everything allowed) are used again, still retried on that schedule — the RFC's "reasonably long period".
public struct RobotsFetchPolicy: Sendable {
    public var cacheLifetime: Double = 24 * 3600
    public var maxRedirects = 5
    public var firstRetryDelay: Double = 60
    public var maxRetryDelay: Double = 24 * 3600
    public var unreachableLimit: Double = 30 * 24 * 3600

    /// The state after the last outcome; nil before the first.
    public private(set) var state: RobotsState?
    /// The last state that came from an answer (rules or unavailable): what a long outage falls back to.
    private var lastAnswer: RobotsState?
    /// When the current run of unreachable outcomes began, and how long it is.
    private var unreachableSince: Double?
    private var failures = 0

    public init() {}

    /// Whether robots.txt should be fetched (again) before crawling the host at `now`.
    public func needsFetch(now: Double) -> Bool {
        state.map { now >= $0.refreshAt } ?? true
    }

    /// The delay before retrying after `failures` consecutive unreachable outcomes (1, 2, …).
    public func retryDelay(failures: Int) -> Double {
        var delay = firstRetryDelay
        for _ in 1..<max(1, failures) where delay < maxRetryDelay { delay *= 2 }
        return min(delay, maxRetryDelay)
    }

    /// Takes a fetch outcome at `now` and returns (and keeps) what the crawl may do.
    @discardableResult
    public mutating func decide(outcome: RobotsFetchOutcome, now: Double) -> RobotsState {
        let next: RobotsState
        switch classify(outcome, now: now) {
        case .answer(let answer):
            // The host answered: any outage is over.
            lastAnswer = answer
            unreachableSince = nil
            failures = 0
            next = answer
        case .unreachable(let why):
            next = unreachable(why, now: now)
        }
        state = next
        return next
    }

    private enum Classified {
        case answer(RobotsState)
        case unreachable(String)
    }

    private func classify(_ outcome: RobotsFetchOutcome, now: Double) -> Classified {
        let refreshAt = now + cacheLifetime
        switch outcome {
        case .response(let status, let body, let redirects) where redirects <= maxRedirects:
            switch status {
            case 200...299: return .answer(.rules(RobotsRules(parsing: body), refreshAt: refreshAt))
            case 300...399:
                return .answer(.allowAll("robots.txt answered \(status) with no redirect to follow",
                                         refreshAt: refreshAt))
            case 429: return .unreachable("robots.txt answered 429 (too many requests)")
            case 400...499: return .answer(.allowAll("robots.txt answered \(status)", refreshAt: refreshAt))
            default: return .unreachable("robots.txt answered \(status)")
            }
        case .response, .tooManyRedirects:
            return .answer(.allowAll("robots.txt redirected more than \(maxRedirects) times", refreshAt: refreshAt))
        case .unreachable(let message):
            return .unreachable("robots.txt is unreachable: \(message)")
        }
    }

    private mutating func unreachable(_ why: String, now: Double) -> RobotsState {
        failures += 1
        let since = unreachableSince ?? now
        unreachableSince = since
        let retryAt = now + retryDelay(failures: failures)
        guard now - since >= unreachableLimit else { return .disallowAll(why, retryAt: retryAt) }
        // A long outage: use the last answer again (or allow everything), and keep retrying.
        switch lastAnswer {
        case .rules(let rules, _): return .rules(rules, refreshAt: retryAt)
        case .allowAll(let previous, _): return .allowAll(previous, refreshAt: retryAt)
        case .disallowAll, nil:
            return .allowAll("\(why), for more than \(Int(unreachableLimit / 86400)) days", refreshAt: retryAt)
        }
    }
}
