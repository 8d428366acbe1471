import ArachneCore
import ArachneEventLoop
import ArachneFetch
import ArachneSite
import ArachneSystem
import Foundation
import Synchronization
import Testing

/// A `LaneGate` shut at every 100th question, opened again 20 ms later by a thread of its own.
final class ShuttingGate: LaneGate {
    struct State {
        var asks = 0
        var shut = 0
        var isShut = false
        var asksWhileShut = 0
        var waiting: [@Sendable () -> Void] = []
    }
    let state = Mutex(State())

    var hasRoom: Bool {
        let shutNow = state.withLock { state -> Bool in
            if state.isShut {
                state.asksWhileShut += 1
                return false
            }
            state.asks += 1
            guard state.asks % 100 == 0 else { return false }
            state.isShut = true
            state.shut += 1
            return true
        }
        if shutNow {
            Thread.detachNewThread { [self] in
                usleep(20_000)
                let waiting = state.withLock { state in
                    state.isShut = false
                    defer { state.waiting.removeAll() }
                    return state.waiting
                }
                for handler in waiting { handler() }
            }
        }
        return !shutNow && !state.withLock(\.isShut)
    }

    func whenRoom(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.isShut { state.waiting.append(handler) }
            return !state.isShut
        }
        if runNow { handler() }
    }
}

/// A loop running the demo site, and another running a Fetcher: client and server on separate threads, talking over
/// real loopback sockets.
final class FetchHarness: @unchecked Sendable {
    // Safety: immutable after init.
    let siteLoop: EventLoop
    let site: DemoSite
    let loop: EventLoop
    let fetcher: Fetcher

    init(engine: FetchEngine = .auto, maxConnections: Int = 64) throws {
        siteLoop = try EventLoop(name: "test-site")
        site = try DemoSite.start(on: siteLoop)
        loop = try EventLoop(name: "test-fetch")
        fetcher = Fetcher(loop: loop, maxConnections: maxConnections, engine: engine)
    }

    func url(_ path: String) -> String { site.baseURL + path }

    func fetch(_ path: String, _ settings: FetchSettings = FetchSettings()) async -> FetchOutcome {
        let profile = FetchProfile(settings: settings)
        let url = url(path)
        return await withTaskExecutorPreference(loop) { await fetcher.fetch(url, profile: profile) }
    }

    func close() async {
        await fetcher.close()
        loop.shutdown()
        site.stop()
        siteLoop.shutdown()
    }
}

@Suite(.serialized) struct FetcherTests {
    @Test(arguments: FetchEngine.allCases) func okResponsesReuseOneKeepAliveConnection(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        for _ in 0..<10 {
            let outcome = await h.fetch("/bytes/1000")
            #expect(outcome.status == 200)
            #expect(outcome.body.count == 1000)
            #expect(outcome.failure == nil)
            #expect(outcome.httpVersion == "1.1")
        }
        #expect(h.site.connectionsAccepted == 1)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func timingsAreCumulativeAndPositive(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let outcome = await h.fetch("/bytes/2048")
        let t = outcome.timings
        #expect(t.total > 0)
        #expect(t.namelookup <= t.connect && t.connect <= t.pretransfer)
        #expect(t.pretransfer <= t.starttransfer && t.starttransfer <= t.total)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func errorStatusesAreResponsesNotFailures(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        for code in [404, 500, 503] {
            let outcome = await h.fetch("/status/\(code)")
            #expect(outcome.status == code)
            #expect(outcome.failure == nil)
        }
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func chunkedAndGzipBodiesArriveWhole(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let plain = await h.fetch("/bytes/20000")
        let chunked = await h.fetch("/chunked/20000")
        let gzip = await h.fetch("/gzip/20000")
        #expect(chunked.body.count == 20000)
        #expect(gzip.body.count == 20000)
        #expect(gzip.failure == nil)
        #expect(String(decoding: gzip.rawHeader, as: UTF8.self).lowercased().contains("content-encoding: gzip"))
        #expect(plain.body.count == 20000)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func redirectsAreFollowedAndCapped(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let followed = await h.fetch("/redirect/3")
        #expect(followed.status == 200)
        #expect(followed.redirects == 3)
        #expect(followed.finalURL.hasSuffix("/redirect/0"))
        let capped = await h.fetch("/redirect/5", FetchSettings(maxRedirects: 2))
        #expect(capped.failure?.kind == .tooManyRedirects)
        let loop = await h.fetch("/redirect-loop", FetchSettings(maxRedirects: 5))
        #expect(loop.failure?.kind == .tooManyRedirects)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func refusedConnectionIsClassified(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        // A port that was just free: bind, read it, close.
        let fd = try Syscall.tcpSocket(nonBlocking: false)
        try Syscall.bind(fd, .loopback(port: 0))
        let port = try Syscall.localAddress(fd).port
        try Syscall.close(fd)
        let outcome = await withTaskExecutorPreference(h.loop) {
            await h.fetcher.fetch("http://127.0.0.1:\(port)/", profile: FetchProfile(settings: FetchSettings()))
        }
        #expect(outcome.failure?.kind == .connect)
        #expect(outcome.status == 0)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func connectTimeoutEndsAConnectThatNeverCompletes(engine: FetchEngine)
        async throws
    {
        // A listener that never accepts, with its accept queue full: Linux drops further SYNs, so a connect to it
        // hangs (the kernel retries the SYN after 1 s, then 3 s) — a black-holed address, on loopback.
        let listener = try Syscall.tcpSocket(nonBlocking: false)
        defer { try? Syscall.close(listener) }
        try Syscall.bind(listener, .loopback(port: 0))
        try Syscall.listen(listener, backlog: 0)
        let port = try Syscall.localAddress(listener).port
        var fillers: [Int32] = []
        defer { for fd in fillers { try? Syscall.close(fd) } }
        for _ in 0..<4 {
            let fd = try Syscall.tcpSocket(nonBlocking: true)
            fillers.append(fd)
            _ = try Syscall.connect(fd, .loopback(port: port))
        }
        try await Task.sleep(for: .milliseconds(50))

        let h = try FetchHarness(engine: engine)
        let settings = FetchSettings(connectTimeoutMs: 300, totalTimeoutMs: 20_000)
        let outcome = await withTaskExecutorPreference(h.loop) {
            await h.fetcher.fetch("http://127.0.0.1:\(port)/", profile: FetchProfile(settings: settings))
        }
        #expect(outcome.failure?.kind == .timeout, "\(String(describing: outcome.failure))")
        #expect(outcome.status == 0)
        // It is the connect timeout that ended it, not the total one, and the connection never came up.
        #expect(outcome.timings.connect == 0)
        #expect(outcome.timings.total < 5_000_000, "\(outcome.timings.total) µs")
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func stalledServerTimesOut(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let outcome = await h.fetch("/broken/stall", FetchSettings(totalTimeoutMs: 300))
        #expect(outcome.failure?.kind == .timeout)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func bodyCapKeepsAPrefixAndCountsTheRest(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let outcome = await h.fetch("/bytes/5000", FetchSettings(bodyCap: 1000))
        #expect(outcome.failure == nil)
        #expect(outcome.body.count == 1000)
        #expect(outcome.truncated)
        #expect(outcome.bytesReceived == 5000)
        let full = await h.fetch("/bytes/5000")
        #expect(Array(full.body.prefix(1000)) == outcome.body)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func hugeAndEndlessBodiesFailAsTooLarge(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let declared = await h.fetch("/bytes/50000", FetchSettings(maxResponseBytes: 10_000))
        #expect(declared.failure?.kind == .tooLarge)
        let endless = await h.fetch("/broken/endless", FetchSettings(totalTimeoutMs: 10_000, maxResponseBytes: 200_000))
        #expect(endless.failure?.kind == .tooLarge)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func endlessInterimResponsesFailTheRequest(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        // Long before the total timeout: the native client stops after 16 interim responses, libcurl at 300 KiB of
        // response headers.
        let outcome = await h.fetch("/broken/interim", FetchSettings(totalTimeoutMs: 20_000))
        #expect(outcome.failure?.kind == .protocol, "\(String(describing: outcome.failure))")
        #expect(outcome.timings.total < 10_000_000)
        #expect(await h.fetch("/bytes/10").status == 200)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func hostileResponsesAreClassified(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let garbage = await h.fetch("/broken/garbage")
        #expect(garbage.failure?.kind == .protocol)
        let badStatus = await h.fetch("/broken/bad-status")
        #expect(badStatus.failure?.kind == .protocol)
        let reset = await h.fetch("/broken/reset")
        #expect(reset.failure?.kind == .reset)
        let truncated = await h.fetch("/broken/truncated")
        #expect(truncated.failure?.kind == .reset)
        let hugeHeader = await h.fetch("/broken/huge-header")
        // libcurl 7.88 reports a header line past its 100 KiB limit as "Out of memory" (CURLE_OUT_OF_MEMORY), which
        // cannot be told from a real one: it stays `io` there.
        #expect(hugeHeader.failure?.kind == (engine == .curl ? .io : .protocol), "\(String(describing: hugeHeader.failure))")
        // The fetcher is still healthy afterwards.
        #expect(await h.fetch("/bytes/10").status == 200)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func cancellingTheTaskCancelsTheTransfer(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let task = Task(executorPreference: h.loop) {
            await h.fetcher.fetch(h.url("/delay/10000"), profile: FetchProfile(settings: FetchSettings()))
        }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let outcome = await task.value
        #expect(outcome.failure?.kind == .cancelled)
        #expect(await h.fetcher.inFlight == 0)
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func thousandRequestsAtConcurrency64EachDeliveredOnce(engine: FetchEngine) async throws {
        let h = try FetchHarness(engine: engine)
        let urls = (0..<10).map { h.url("/bytes/\(100 + $0)") }
        let seen = Mutex<[RequestKey: Int]>([:])
        let ok = Mutex(0)
        let cursor = await FetchLanes.run(
            fetcher: h.fetcher, urls: urls, cursor: .init(urlCount: urls.count, repeatCount: 100), concurrency: 64,
            profile: FetchProfile(settings: FetchSettings())
        ) { key, outcome in
            seen.withLock { $0[key, default: 0] += 1 }
            if outcome.status == 200 && outcome.body.count == 100 + key.urlIndex { ok.withLock { $0 += 1 } }
        }
        #expect(cursor.position == 1000)
        let counts = seen.withLock { $0 }
        #expect(counts.count == 1000)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(ok.withLock { $0 } == 1000)
        #expect(h.site.connectionsAccepted <= 64)
        await h.close()
    }

    /// The lanes' back-pressure: the gate has no room at every 100th request and opens 20 ms later; meanwhile the
    /// lanes start nothing and ask nothing, then go on, and every key is still delivered once.
    @Test func lanesWaitWhileTheGateIsShutAndGoOnWhenItOpens() async throws {
        let h = try FetchHarness()
        let urls = (0..<10).map { h.url("/bytes/\(100 + $0)") }
        let gate = ShuttingGate()
        let delivered = Mutex([RequestKey: Int]())
        let cursor = await FetchLanes.run(
            fetcher: h.fetcher, urls: urls, cursor: .init(urlCount: urls.count, repeatCount: 100), concurrency: 16,
            profile: FetchProfile(settings: FetchSettings()), gate: gate
        ) { key, outcome in
            #expect(outcome.status == 200)
            delivered.withLock { $0[key, default: 0] += 1 }
        }
        #expect(cursor.position == 1000)
        let counts = delivered.withLock { $0 }
        #expect(counts.count == 1000 && counts.values.allSatisfy { $0 == 1 })
        let final = gate.state.withLock { $0 }
        #expect(final.shut >= 10, "the gate was shut \(final.shut) times")
        #expect(final.asksWhileShut == 0, "the lanes asked again before the gate called back")
        await h.close()
    }

    @Test(arguments: FetchEngine.allCases) func closingReleasesEverySocket(engine: FetchEngine) async throws {
        let before = Syscall.openDescriptorCount()
        let h = try FetchHarness(engine: engine)
        for _ in 0..<5 { _ = await h.fetch("/bytes/10") }
        await h.close()
        #expect(Syscall.openDescriptorCount() == before)
    }
}
