import ArachneCore
import Testing

@testable import ArachneCrawl

/// RFC 9309 §2.3.1 (what a fetch outcome means) and §2.4 (how long it holds), driven by a fake clock.
/// A day, in the policy's seconds.
private let day = 86_400.0

@Suite struct RobotsFetchPolicyTests {
    static let body = Array("User-agent: *\nDisallow: /private\n".utf8)

    static func kind(_ state: RobotsState) -> String {
        switch state {
        case .rules: "rules"
        case .allowAll: "allowAll"
        case .disallowAll: "disallowAll"
        }
    }

    /// §2.3.1.1 success, §2.3.1.2 redirects, §2.3.1.3 unavailable, §2.3.1.4 unreachable.
    /// Columns: outcome, the state it leads to, how long that holds, whether `/private` is then allowed.
    static let outcomes: [(String, RobotsFetchOutcome, String, Double, Bool)] = [
        ("2.3.1.1 200", .response(status: 200, body: body, redirects: 0), "rules", day, false),
        ("2.3.1.1 204", .response(status: 204, body: [], redirects: 0), "rules", day, true),
        ("2.3.1.2 5 redirects", .response(status: 200, body: body, redirects: 5), "rules", day, false),
        ("2.3.1.2 6 redirects", .response(status: 200, body: body, redirects: 6), "allowAll", day, true),
        ("2.3.1.2 too many", .tooManyRedirects, "allowAll", day, true),
        ("2.3.1.2 3xx not followed", .response(status: 301, body: [], redirects: 0), "allowAll", day, true),
        ("2.3.1.3 404", .response(status: 404, body: body, redirects: 0), "allowAll", day, true),
        ("2.3.1.3 401", .response(status: 401, body: [], redirects: 0), "allowAll", day, true),
        ("2.3.1.3 403", .response(status: 403, body: [], redirects: 0), "allowAll", day, true),
        ("2.3.1.3 410", .response(status: 410, body: [], redirects: 1), "allowAll", day, true),
        ("2.3.1.4 429 (Google)", .response(status: 429, body: [], redirects: 0), "disallowAll", 60, false),
        ("2.3.1.4 500", .response(status: 500, body: body, redirects: 0), "disallowAll", 60, false),
        ("2.3.1.4 503", .response(status: 503, body: [], redirects: 0), "disallowAll", 60, false),
        ("2.3.1.4 timeout", .unreachable("timed out"), "disallowAll", 60, false),
        ("2.3.1.4 odd status", .response(status: 600, body: [], redirects: 0), "disallowAll", 60, false),
        ("2.3.1.4 1xx", .response(status: 101, body: [], redirects: 0), "disallowAll", 60, false),
    ]

    @Test(arguments: outcomes)
    func firstOutcome(label: String, outcome: RobotsFetchOutcome, kind: String, until: Double, allowed: Bool) {
        var policy = RobotsFetchPolicy()
        #expect(policy.needsFetch(now: 1000))
        let state = policy.decide(outcome: outcome, now: 1000)
        #expect(Self.kind(state) == kind)
        #expect(state.refreshAt == 1000 + until)
        #expect(!policy.needsFetch(now: 1000 + until - 1))
        #expect(policy.needsFetch(now: 1000 + until))
        let verdict = state.verdict(forPath: "/private", agent: "a")
        #expect(verdict.isAllowed == allowed, "\(verdict)")
        // §2.3: whatever the state, robots.txt itself may be fetched.
        #expect(state.verdict(forPath: "/robots.txt", agent: "a").isAllowed)
    }

    @Test func reasonsSayWhat() {
        var policy = RobotsFetchPolicy()
        let notFound = policy.decide(outcome: .response(status: 404, body: [], redirects: 0), now: 0)
        #expect(notFound.verdict(forPath: "/x", agent: "a").description
            == "everything allowed: robots.txt answered 404")
        let down = policy.decide(outcome: .response(status: 503, body: [], redirects: 0), now: 0)
        #expect(down.verdict(forPath: "/x", agent: "a").description
            == "everything disallowed for now: robots.txt answered 503")
        let gone = policy.decide(outcome: .unreachable("connection refused"), now: 0)
        #expect(gone.verdict(forPath: "/x", agent: "a").reason
            == .disallowAll("robots.txt is unreachable: connection refused"))
    }

    /// §2.3.1.4: retries back off: 1 min, doubled per consecutive failure, at most a day; an answer resets it.
    @Test func retryDelaysDoubleAndReset() {
        var policy = RobotsFetchPolicy()
        var now = 0.0
        var delays: [Double] = []
        for _ in 0..<14 {
            let state = policy.decide(outcome: .response(status: 503, body: [], redirects: 0), now: now)
            delays.append(state.refreshAt - now)
            now = state.refreshAt
        }
        #expect(delays == [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720, 61440, day, day, day])
        policy.decide(outcome: .response(status: 200, body: Self.body, redirects: 0), now: now)
        let again = policy.decide(outcome: .unreachable("reset"), now: now + day)
        #expect(again.refreshAt == now + day + 60)
    }

    /// §2.4: rules are used for 24 hours, then fetched again; a new answer replaces them.
    @Test func cacheForADay() throws {
        var policy = RobotsFetchPolicy()
        policy.decide(outcome: .response(status: 200, body: Self.body, redirects: 0), now: 0)
        #expect(!policy.needsFetch(now: day - 0.001))
        #expect(policy.needsFetch(now: day))
        let fresh = policy.decide(outcome: .response(status: 200, body: Array("User-agent: *\nDisallow: /\n".utf8),
                                                      redirects: 0), now: day)
        #expect(fresh.refreshAt == 2 * day)
        #expect(!fresh.verdict(forPath: "/public", agent: "a").isAllowed)
        #expect(Self.kind(try #require(policy.state)) == "rules")
    }

    /// §2.3.1.4 and §2.4: unreachable for 30 days, the last rules come back (still retried); with none, allow all.
    @Test(arguments: [true, false])
    func longOutageFallsBackToTheLastAnswer(hadRules: Bool) {
        var policy = RobotsFetchPolicy()
        if hadRules { policy.decide(outcome: .response(status: 200, body: Self.body, redirects: 0), now: 0) }
        var now = day
        var state = policy.decide(outcome: .unreachable("refused"), now: now)
        while now < 31 * day {
            if now - day < 30 * day {
                #expect(Self.kind(state) == "disallowAll", "day \(now / day)")
            }
            now = state.refreshAt
            state = policy.decide(outcome: .response(status: 500, body: [], redirects: 0), now: now)
        }
        #expect(now - day >= 30 * day)
        #expect(Self.kind(state) == (hadRules ? "rules" : "allowAll"))
        #expect(state.refreshAt == now + day, "still retried")
        #expect(state.verdict(forPath: "/private", agent: "a").isAllowed == !hadRules)
        #expect(state.verdict(forPath: "/public", agent: "a").isAllowed)
    }

    /// §2.5: a body over 500 KiB is parsed up to 500 KiB.
    @Test func oversizedBodyIsParsedUpTo500KiB() {
        var body = Array("User-agent: *\nDisallow: /a\n".utf8)
        body += [UInt8](repeating: UInt8(ascii: "\n"), count: RobotsParser.maxBytes)
        body += Array("Disallow: /b\n".utf8)
        var policy = RobotsFetchPolicy()
        let state = policy.decide(outcome: .response(status: 200, body: body, redirects: 0), now: 0)
        guard case .rules(let rules, _) = state else {
            Issue.record("expected rules")
            return
        }
        #expect(!state.verdict(forPath: "/a", agent: "x").isAllowed)
        #expect(state.verdict(forPath: "/b", agent: "x").isAllowed)
        #expect(rules.summary.bytesIgnored > 0)
    }

    /// The crawl's fetcher outcome maps onto the policy's.
    @Test func fetchOutcomesMap() {
        #expect(RobotsFetchOutcome(.failed(.tooManyRedirects, "6 redirects")) == .tooManyRedirects)
        #expect(RobotsFetchOutcome(.failed(.connect, "refused")) == .unreachable("refused"))
        #expect(RobotsFetchOutcome(.failed(.timeout, "slow")) == .unreachable("slow"))
        #expect(RobotsFetchOutcome(FetchOutcome(status: 0)) == .unreachable("no response"))
        #expect(RobotsFetchOutcome(FetchOutcome(status: 404, body: [1], redirects: 2))
            == .response(status: 404, body: [1], redirects: 2))
    }
}
