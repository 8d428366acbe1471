import ArachneCore
import ArachneCrawl
import Testing

/// The per-host pacing state machine, driven by hand with its clock.
@Suite struct HostPolitenessTests {
    func host(perHost: Int = 2, delayMs: Int64 = 250, maxCrawlDelayMs: Int64 = 30_000) -> HostPoliteness {
        HostPoliteness(host: "a.example", rules: PolitenessRules(
            perHost: perHost, delayMs: delayMs, maxCrawlDelayMs: maxCrawlDelayMs))
    }

    @Test func requestStartsAreSpacedByTheDelayAndCappedByTheConnectionLimit() {
        var h = host(perHost: 2, delayMs: 100)
        #expect(h.mayStart(now: 0))
        h.start(now: 0)
        #expect(!h.mayStart(now: 99), "the delay runs from the last start")
        #expect(h.mayStart(now: 100))
        h.start(now: 100)
        #expect(h.readyAtMs == nil, "two in flight: at the limit")
        #expect(!h.mayStart(now: 10_000))
        _ = h.finish(now: 150, status: 200, retryAfterMs: nil, retries: 0)
        #expect(h.readyAtMs == 200)
        #expect(h.audit.requests == 2 && h.audit.maxInFlight == 2 && h.audit.minGapMs == 100)
        #expect(!h.audit.brokeLimits)
    }

    @Test func crawlDelayIsAFloorThatAZeroDelayDoesNotLower() {
        var h = host(delayMs: 0)
        let accepted = h.setCrawlDelay(seconds: 2)
        #expect(accepted)
        h.start(now: 0)
        _ = h.finish(now: 10, status: 200, retryAfterMs: nil, retries: 0)
        #expect(h.readyAtMs == 2_000)
        #expect(h.audit.delaySource == .crawlDelay && h.audit.delayMs == 2_000)
    }

    @Test func aCrawlDelayAboveTheLimitIsRefused() {
        var h = host(maxCrawlDelayMs: 30_000)
        let accepted = h.setCrawlDelay(seconds: 31)
        #expect(!accepted)
        #expect(h.crawlDelayMs == nil)
    }

    @Test func retryAfterBlocksTheHostAndThePageIsRetriedThenKept() {
        var h = host(perHost: 1, delayMs: 0)
        h.start(now: 0)
        #expect(h.finish(now: 10, status: 429, retryAfterMs: 5_000, retries: 0) == .retry)
        #expect(h.readyAtMs == 5_010, "Retry-After from the answer")
        #expect(h.audit.tooManyRequests == 1 && h.audit.retries == 1 && h.audit.delaySource == .backOff)
        h.start(now: 5_010)
        #expect(h.finish(now: 5_020, status: 503, retryAfterMs: nil, retries: 3) == .keep, "out of retries")
        #expect(h.audit.unavailable == 1)
    }

    @Test func backOffGrowsExponentiallyAndRecoversByHalves() {
        var h = host(perHost: 1, delayMs: 100)
        h.start(now: 0)
        _ = h.finish(now: 0, status: 503, retryAfterMs: nil, retries: 0)
        let first = h.backOffMs
        #expect(first == 1_000)
        h.start(now: 1_000)
        _ = h.finish(now: 1_000, status: 503, retryAfterMs: nil, retries: 0)
        #expect(h.backOffMs == 2_000)
        h.start(now: 3_000)
        _ = h.finish(now: 3_000, status: 200, retryAfterMs: nil, retries: 0)
        #expect(h.backOffMs == 1_000, "halved on an ordinary answer")
        h.start(now: 4_000)
        _ = h.finish(now: 4_000, status: 200, retryAfterMs: nil, retries: 0)
        #expect(h.backOffMs == 500)
        for step in 0..<4 {
            h.start(now: 5_000 + Int64(step) * 1_000)
            _ = h.finish(now: 5_000 + Int64(step) * 1_000, status: 200, retryAfterMs: nil, retries: 0)
        }
        #expect(h.backOffMs == 0, "back to the plain delay")
        #expect(h.delayMs == 100)
    }

    @Test func aRetryAfterBeyondTheLimitKeepsTheAnswer() {
        var h = host()
        h.start(now: 0)
        #expect(h.finish(now: 0, status: 429, retryAfterMs: 3_600_000, retries: 0) == .keep)
    }

    @Test func theAuditFlagsAGapShorterThanTheDelay() {
        var audit = HostAudit(host: "a", requests: 3, maxInFlight: 1, minGapMs: 40, delayMs: 250, perHost: 2)
        #expect(audit.brokeLimits)
        audit.minGapMs = 250
        #expect(!audit.brokeLimits)
        audit.maxInFlight = 3
        #expect(audit.brokeLimits)
    }

    @Test(arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777.0),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777.0),
        ("Sun Nov  6 08:49:37 1994", 784_111_777.0),
    ])
    func httpDatesInAllThreeForms(text: String, seconds: Double) {
        #expect(HTTPDate.parse(text) == seconds)
    }

    @Test func retryAfterInSecondsOrAsADate() {
        #expect(RetryAfter.milliseconds("120", nowSeconds: 0) == 120_000)
        #expect(RetryAfter.milliseconds(" 0 ", nowSeconds: 0) == 0)
        #expect(RetryAfter.milliseconds("Sun, 06 Nov 1994 08:49:47 GMT", nowSeconds: 784_111_777) == 10_000)
        #expect(RetryAfter.milliseconds("soon", nowSeconds: 0) == nil)
        #expect(RetryAfter.milliseconds("-5", nowSeconds: 0) == nil)
    }
}

/// robots.txt per origin for one crawl job: fetch once, then obey; wait while unreachable; give up after retries.
@Suite struct RobotsGateTests {
    let robots = Array("User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n".utf8)

    @Test func theFirstPageAsksForRobotsAndOthersWaitForIt() {
        var gate = RobotsGate(agent: "arachne")
        guard case .fetchRobots = gate.decide(path: "/x", origin: "http://a", now: 0) else {
            Issue.record("first page must fetch robots.txt")
            return
        }
        guard case .waitForFetch = gate.decide(path: "/y", origin: "http://a", now: 0) else {
            Issue.record("a second page waits for that fetch")
            return
        }
        gate.fetched(origin: "http://a", outcome: .response(status: 200, body: robots, redirects: 0), now: 0)
        guard case .allow = gate.decide(path: "/x", origin: "http://a", now: 1) else {
            Issue.record("allowed")
            return
        }
        guard case .refuse(let why) = gate.decide(path: "/private/p", origin: "http://a", now: 1) else {
            Issue.record("disallowed")
            return
        }
        #expect(why.contains("line 2") && why.contains("Disallow: /private/"), "\(why)")
    }

    @Test func aServerErrorDisallowsUntilARetryAndGivesUpAfterFourAttempts() {
        var gate = RobotsGate(agent: "arachne", firstRetrySeconds: 10, maxAttempts: 4)
        _ = gate.decide(path: "/x", origin: "http://a", now: 0)
        gate.fetched(origin: "http://a", outcome: .response(status: 503, body: [], redirects: 0), now: 0)
        guard case .waitUntil(let at) = gate.decide(path: "/x", origin: "http://a", now: 1) else {
            Issue.record("waits while unreachable")
            return
        }
        #expect(at == 10)
        var now = 10.0
        for _ in 0..<3 {
            guard case .fetchRobots = gate.decide(path: "/x", origin: "http://a", now: now) else {
                Issue.record("retried when due")
                return
            }
            gate.fetched(origin: "http://a", outcome: .unreachable("connection refused"), now: now)
            now += 1_000
        }
        guard case .refuse(let why) = gate.decide(path: "/x", origin: "http://a", now: now) else {
            Issue.record("given up after four attempts")
            return
        }
        #expect(why.contains("tried 4 times"), "\(why)")
    }

    @Test func aClientErrorAllowsEverything() {
        var gate = RobotsGate(agent: "arachne")
        _ = gate.decide(path: "/x", origin: "http://a", now: 0)
        gate.fetched(origin: "http://a", outcome: .response(status: 404, body: [], redirects: 0), now: 0)
        guard case .allow = gate.decide(path: "/private/x", origin: "http://a", now: 1) else {
            Issue.record("404: everything allowed")
            return
        }
    }

    @Test func rulesAreFetchedAgainAfterTwentyFourHours() {
        var gate = RobotsGate(agent: "arachne")
        _ = gate.decide(path: "/x", origin: "http://a", now: 0)
        gate.fetched(origin: "http://a", outcome: .response(status: 200, body: robots, redirects: 0), now: 0)
        guard case .fetchRobots = gate.decide(path: "/x", origin: "http://a", now: 24 * 3600 + 1) else {
            Issue.record("refetched after 24 h")
            return
        }
    }
}
