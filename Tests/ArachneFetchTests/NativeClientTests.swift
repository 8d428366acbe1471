import ArachneCore
import ArachneEventLoop
@testable import ArachneFetch
import ArachneSite
import ArachneSystem
import Foundation
import Synchronization
import Testing

/// A server on 127.0.0.1 that plays a script: each accepted connection is handed, in order, to the next step, which
/// reads and writes on the blocking socket as it likes and returns when the connection may be closed.
final class ScriptedServer: @unchecked Sendable {
    // Safety: `listener` and `port` are set before the thread starts; the thread owns the accepted sockets.
    typealias Step = @Sendable (ScriptedConnection) -> Void
    let port: UInt16
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)
    let accepted = Atomic(0)

    init(_ steps: [Step]) throws {
        listener = try Syscall.tcpSocket(nonBlocking: false)
        try Syscall.bind(listener, .loopback(port: 0))
        try Syscall.listen(listener, backlog: 16)
        port = try Syscall.localAddress(listener).port
        let thread = Thread { [self] in
            for step in steps {
                var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&entry, 1, 5000) == 1, case .processed(let fd)? = try? Syscall.accept(listener) else { break }
                accepted.add(1, ordering: .relaxed)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)  // the steps block
                step(ScriptedConnection(fd: fd))
                try? Syscall.close(fd)
            }
            done.signal()
        }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Waits for the script to end (every step ran, or no connection came for 5 s), then closes the listener.
    func finish() {
        done.wait()
        try? Syscall.close(listener)
    }
}

/// One accepted connection, seen by a script step.
struct ScriptedConnection {
    let fd: Int32

    /// Reads until a request head has arrived (or the peer closed); returns false on close.
    @discardableResult
    func readRequest() -> Bool {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !head.ends(with: Array("\r\n\r\n".utf8)) {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return false }
            head.append(contentsOf: buffer[..<count])
        }
        return true
    }

    func write(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

/// The native HTTP/1.1 client's own behaviour on a connection, against servers that do what tests need.
@Suite(.serialized) struct NativeClientTests {
    let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    func fetch(_ fetcher: Fetcher, _ url: String, _ settings: FetchSettings = FetchSettings()) async -> FetchOutcome {
        await withTaskExecutorPreference(fetcher.loop) {
            await fetcher.fetch(url, profile: FetchProfile(settings: settings))
        }
    }

    /// Polls `condition` every 5 ms for up to 5 s.
    func waitUntil(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 5 s")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func withFetcher(maxHostConnections: Int = 0, engine: FetchEngine = .auto, _ body: (Fetcher) async throws -> Void)
        async throws
    {
        let loop = try EventLoop(name: "test-native")
        let fetcher = Fetcher(loop: loop, maxHostConnections: maxHostConnections, engine: engine)
        try await body(fetcher)
        await fetcher.close()
        loop.shutdown()
    }

    @Test func aReusedConnectionClosedUnansweredIsRetriedOnceOnANewOne() async throws {
        let ok = ok
        let server = try ScriptedServer([
            { connection in
                connection.readRequest()
                connection.write(ok)
                connection.readRequest()  // the second request arrives; the server closes instead of answering
            },
            { connection in
                connection.readRequest()
                connection.write(ok)
            },
            { connection in
                connection.readRequest()  // a fresh connection closed unanswered is a failure, not retried
            },
        ])
        try await withFetcher { fetcher in
            #expect(await fetch(fetcher, server.url + "/1").status == 200)
            let retried = await fetch(fetcher, server.url + "/2")
            #expect(retried.status == 200)
            #expect(String(decoding: retried.body, as: UTF8.self) == "ok")
            let failed = await fetch(fetcher, server.url + "/3", FetchSettings(forbidReuse: true))
            #expect(failed.failure?.kind == .reset)
            #expect(failed.failure?.message == "the server closed the connection without responding")
        }
        server.finish()
        #expect(server.accepted.load(ordering: .relaxed) == 3)
    }

    @Test func aConnectionIsNotReusedAfterCloseOrStrayBytes() async throws {
        let server = try ScriptedServer([
            { connection in
                connection.readRequest()
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            },
            { connection in
                connection.readRequest()
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSTRAY")
            },
            { connection in
                connection.readRequest()
                connection.write("HTTP/1.0 200 OK\r\n\r\nuntil close")
            },
        ])
        try await withFetcher { fetcher in
            #expect(await fetch(fetcher, server.url + "/a").status == 200)
            let stray = await fetch(fetcher, server.url + "/b")
            #expect(stray.status == 200)
            #expect(stray.body == Array("ok".utf8))
            let untilClose = await fetch(fetcher, server.url + "/c")
            #expect(untilClose.body == Array("until close".utf8))
            #expect(untilClose.httpVersion == "1.0")
        }
        server.finish()
        #expect(server.accepted.load(ordering: .relaxed) == 3)
    }

    @Test func aRedirectToANamedHostIsFollowed() async throws {
        let ok = ok
        let target = try ScriptedServer([{ connection in
            connection.readRequest()
            connection.write(ok)
        }])
        let redirect = "HTTP/1.1 302 Found\r\nLocation: http://localhost:\(target.port)/there\r\nContent-Length: 0\r\n\r\n"
        let step: ScriptedServer.Step = { connection in
            connection.readRequest()
            connection.write(redirect)
            connection.readRequest()
            connection.write(redirect)
        }
        let redirector = try ScriptedServer([step])
        try await withFetcher { fetcher in
            let outcome = await fetch(fetcher, redirector.url + "/here")
            #expect(outcome.status == 200)
            #expect(outcome.redirects == 1)
            #expect(outcome.finalURL == "http://localhost:\(target.port)/there")
            #expect(outcome.body == Array("ok".utf8))
            let capped = await fetch(fetcher, redirector.url + "/here", FetchSettings(totalTimeoutMs: 5000, maxRedirects: 0))
            #expect(capped.failure == nil)
            #expect(capped.status == 302, "with redirects off, the 3xx is the response")
        }
        redirector.finish()
        target.finish()
    }

    @Test func aRedirectToHTTPSContinuesInLibcurlCountingEveryHop() async throws {
        // Not a TLS server: libcurl's handshake fails, which shows the hop reached libcurl.
        let plain = try ScriptedServer([{ connection in
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        }])
        let location = "https://127.0.0.1:\(plain.port)/secure"
        let redirector = try ScriptedServer([{ connection in
            connection.readRequest()
            connection.write("HTTP/1.1 301 Moved\r\nLocation: \(location)\r\nContent-Length: 0\r\n\r\n")
        }])
        try await withFetcher { fetcher in
            let outcome = await fetch(fetcher, redirector.url + "/here", FetchSettings(totalTimeoutMs: 5000))
            #expect(outcome.failure?.kind == .tls, "\(String(describing: outcome.failure))")
            #expect(outcome.redirects == 1)
            #expect(outcome.timings.total > 0)
        }
        redirector.finish()
        plain.finish()
    }

    @Test func thePerHostLimitQueuesRequestsInsteadOfOpeningMoreConnections() async throws {
        let site = try EventLoop(name: "test-site-limit")
        let demo = try DemoSite.start(on: site)
        try await withFetcher(maxHostConnections: 2) { fetcher in
            let statuses = await withTaskGroup(of: Int.self) { group in
                for index in 0..<40 {
                    group.addTask { await fetch(fetcher, demo.baseURL + "/bytes/\(index)").status }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 40 && statuses.allSatisfy { $0 == 200 })
        }
        #expect(demo.connectionsAccepted <= 2)
        // A job's own limit applies on a fetcher that has none (a worker fetches for many jobs), with either client.
        for engine in FetchEngine.allCases {
        let accepted = demo.connectionsAccepted
        try await withFetcher(engine: engine) { fetcher in
            let settings = FetchSettings(perHostConnections: 3)
            let statuses = await withTaskGroup(of: Int.self) { group in
                for index in 0..<40 {
                    group.addTask { await fetch(fetcher, demo.baseURL + "/bytes/\(index)", settings).status }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 40 && statuses.allSatisfy { $0 == 200 })
        }
        #expect(demo.connectionsAccepted - accepted <= 3, "\(engine)")
        }
        demo.stop()
        site.shutdown()
    }

    @Test func idleConnectionsAndPoolsStayBoundedAcrossManyHosts() async throws {
        let site = try EventLoop(name: "test-site-hosts")
        let demo = try DemoSite.start(on: site)
        let port = demo.baseURL.split(separator: ":").last!
        let hosts = (0..<300).map { "h\($0).test" }
        let pins = hosts.map { "\($0):\(port):127.0.0.1" }
        let before = Syscall.openDescriptorCount()
        let loop = try EventLoop(name: "test-native-hosts")
        // 16 lanes: at most 256 idle connections are kept (four times, at least 256).
        let fetcher = Fetcher(loop: loop, maxConnections: 16, engine: .auto)
        let keepAlive = FetchSettings(resolve: pins)
        for host in hosts {
            #expect(await fetch(fetcher, "http://\(host):\(port)/bytes/10", keepAlive).status == 200)
        }
        #expect(demo.connectionsAccepted == 300)
        #expect(await fetcher.nativePools.idle == 256)
        // Each kept connection is two descriptors here: the client's, and the demo site's in the same process.
        #expect(Syscall.openDescriptorCount() - before <= 2 * 256 + 4)
        // The most recent host reuses its connection; the first one's was closed to make room.
        _ = await fetch(fetcher, "http://h299.test:\(port)/bytes/10", keepAlive)
        #expect(demo.connectionsAccepted == 300)
        _ = await fetch(fetcher, "http://h0.test:\(port)/bytes/10", keepAlive)
        #expect(demo.connectionsAccepted == 301)
        // A new connection per request leaves no connection in a pool: pools of hosts without one are dropped.
        let manyPins = (0..<1_100).map { "c\($0).test:\(port):127.0.0.1" }
        let close = FetchSettings(resolve: manyPins, forbidReuse: true)
        for index in 0..<1_100 {
            #expect(await fetch(fetcher, "http://c\(index).test:\(port)/bytes/1", close).status == 200)
        }
        #expect(await fetcher.nativePools.pools <= 256 + 1_024 + 1)
        await fetcher.close()
        loop.shutdown()
        #expect(Syscall.openDescriptorCount() == before)
        demo.stop()
        site.shutdown()
    }

    @Test func namesAreLookedUpOffTheLoopAndCached() async throws {
        let ok = ok
        let server = try ScriptedServer([{ connection in
            connection.readRequest()
            connection.write(ok)
            connection.readRequest()
            connection.write(ok)
        }])
        try await withFetcher { fetcher in
            // localhost comes from /etc/hosts: a lookup, not a network.
            let first = await fetch(fetcher, "http://localhost:\(server.port)/a")
            #expect(first.status == 200 && first.failure == nil)
            #expect(first.httpVersion == "1.1")
            #expect(await fetcher.nativePools.pools == 1, "the native client served it")
            let second = await fetch(fetcher, "http://localhost:\(server.port)/b")
            #expect(second.status == 200)
            #expect(second.timings.namelookup == 0, "the second request reuses the connection and the answer")
        }
        server.finish()
        #expect(server.accepted.load(ordering: .relaxed) == 1)
    }

    @Test func aRefusedAddressIsAConnectFailureOfTheNativeClient() async throws {
        let fd = try Syscall.tcpSocket(nonBlocking: false)
        try Syscall.bind(fd, .loopback(port: 0))
        let port = try Syscall.localAddress(fd).port
        try Syscall.close(fd)
        try await withFetcher { fetcher in
            let outcome = await fetch(fetcher, "http://127.0.0.1:\(port)/")
            #expect(outcome.failure?.kind == .connect)
            #expect(outcome.failure?.message == "Failed to connect to 127.0.0.1:\(port): Connection refused")
            // A name whose IPv4 address refuses goes on to libcurl, which tries its other addresses and reports.
            let named = await fetch(fetcher, "http://localhost:\(port)/")
            #expect(named.failure?.kind == .connect)
            // libcurl's words, naming the host and port (the native client's would say "localhost:PORT (127.0.0.1)").
            #expect(named.failure?.message.hasPrefix("Failed to connect to localhost port \(port)") == true,
                    "\(String(describing: named.failure))")
        }
    }

    /// Containers without IPv6 cannot run the next test; everywhere else it runs.
    static let ipv6LoopbackAvailable: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }()

    @Test(.enabled(if: NativeClientTests.ipv6LoopbackAvailable, "needs an IPv6 loopback"))
    func aNameServedOnlyOverIPv6IsFetchedByLibcurl() async throws {
        // A server on [::1] only: the native client's IPv4 connect is refused, libcurl reaches it over IPv6.
        let listener = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(listener, $0, length) }
        }
        try #require(bound == 0 && listen(listener, 4) == 0)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin6_port)
        let ok = ok
        let served = DispatchSemaphore(value: 0)
        Thread {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, 5000) == 1 {
                let fd = accept(listener, nil, nil)
                if fd >= 0 {
                    let connection = ScriptedConnection(fd: fd)
                    connection.readRequest()
                    connection.write(ok)
                    close(fd)
                }
            }
            served.signal()
        }.start()
        try await withFetcher { fetcher in
            let outcome = await fetch(fetcher, "http://localhost:\(port)/six", FetchSettings(totalTimeoutMs: 5000))
            #expect(outcome.status == 200, "\(String(describing: outcome.failure))")
            #expect(outcome.body == Array("ok".utf8))
        }
        served.wait()
    }

    @Test func aNameThatDoesNotResolveIsLeftToLibcurlWhichReportsIt() async throws {
        try await withFetcher { fetcher in
            let outcome = await fetch(fetcher, "http://no-such-host.invalid/", FetchSettings(totalTimeoutMs: 10_000))
            #expect(outcome.failure?.kind == .dns, "\(String(describing: outcome.failure))")
        }
    }

    @Test(arguments: FetchEngine.allCases)
    func aTransferWaitingForItsHostsLimitCanBeCancelled(engine: FetchEngine) async throws {
        let site = try EventLoop(name: "test-site-wait")
        let demo = try DemoSite.start(on: site)
        try await withFetcher(engine: engine) { fetcher in
            let profile = FetchProfile(settings: FetchSettings(perHostConnections: 1))
            let slow = Task(executorPreference: fetcher.loop) {
                await fetcher.fetch(demo.baseURL + "/delay/500", profile: profile)
            }
            // Started in this order, whatever the machine's load: the second waits for the first one's slot.
            try await waitUntil { await fetcher.inFlight == 1 }
            let waiting = Task(executorPreference: fetcher.loop) {
                await fetcher.fetch(demo.baseURL + "/delay/500", profile: profile)
            }
            try await waitUntil { await fetcher.inFlight == 2 }
            waiting.cancel()
            let cancelled = await waiting.value
            #expect(cancelled.failure?.kind == .cancelled)
            #expect(await slow.value.status == 200)
            #expect(await fetcher.inFlight == 0)
        }
        #expect(demo.connectionsAccepted == 1)
        demo.stop()
        site.shutdown()
    }
}
