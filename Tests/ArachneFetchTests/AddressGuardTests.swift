import ArachneCore
import ArachneEventLoop
@testable import ArachneFetch
import ArachneSite
import ArachneSystem
import Foundation
import Glibc
import Testing

/// The private-address guard at connect time, with real sockets: a demo site listening on 127.0.0.2 counts the
/// connections it accepts, and a guard that blocks 127.0.0.0/8 but 127.0.0.1 must refuse it however the URL spells
/// or reaches the address, in both clients, before any connection is made.
@Suite(.serialized) struct AddressGuardTests {
    static func range(_ text: String) -> AddressRange { try! AddressRange(parsing: text) }

    /// The default guard with 127.0.0.1 let through (as a test host would be), so only 127.0.0.2 is in question.
    static let loopbackBut1 = AddressPolicy(allow: [range("127.0.0.1/32")])

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        /// The URL, with PORT for the site's port.
        let url: String
        var resolve: [String] = []
        var policy = AddressGuardTests.loopbackBut1
        let allowed: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "address literal", url: "http://127.0.0.2:PORT/bytes/10", allowed: false),
        Case(name: "name pinned to it", url: "http://pinned.test:PORT/bytes/10",
             resolve: ["pinned.test:PORT:127.0.0.2"], allowed: false),
        Case(name: "decimal spelling", url: "http://2130706434:PORT/bytes/10", allowed: false),
        Case(name: "hex spelling", url: "http://0x7f.0.0.2:PORT/bytes/10", allowed: false),
        Case(name: "octal spelling", url: "http://0177.0.0.2:PORT/bytes/10", allowed: false),
        Case(name: "short spelling", url: "http://127.2:PORT/bytes/10", allowed: false),
        Case(name: "IPv4-mapped IPv6 literal", url: "http://[::ffff:127.0.0.2]:PORT/bytes/10", allowed: false),
        Case(name: "--allow 127.0.0.2/32", url: "http://127.0.0.2:PORT/bytes/10",
             policy: AddressPolicy(allow: [range("127.0.0.1/32"), range("127.0.0.2/32")]), allowed: true),
        Case(name: "--allow, pinned", url: "http://pinned.test:PORT/bytes/10", resolve: ["pinned.test:PORT:127.0.0.2"],
             policy: AddressPolicy(allow: [range("127.0.0.2/32")]), allowed: true),
        Case(name: "a seed host, pinned", url: "http://pinned.test:PORT/bytes/10",
             resolve: ["pinned.test:PORT:127.0.0.2"], policy: AddressPolicy(allowedHosts: ["pinned.test"]),
             allowed: true),
        Case(name: "another host pinned to a seed's address", url: "http://other.test:PORT/bytes/10",
             resolve: ["other.test:PORT:127.0.0.2"], policy: AddressPolicy(allowedHosts: ["pinned.test"]),
             allowed: false),
        Case(name: "--allow-private", url: "http://127.0.0.2:PORT/bytes/10", policy: AddressPolicy(allowPrivate: true),
             allowed: true),
        Case(name: "--deny beats --allow-private and a seed host", url: "http://pinned.test:PORT/bytes/10",
             resolve: ["pinned.test:PORT:127.0.0.2"],
             policy: AddressPolicy(deny: [range("127.0.0.2/32")], allowedHosts: ["pinned.test"], allowPrivate: true),
             allowed: false),
    ]

    static let arguments = FetchEngine.allCases.flatMap { engine in cases.map { (engine, $0) } }

    @Test(arguments: arguments) func guardAtConnectTime(engine: FetchEngine, c: Case) async throws {
        let siteLoop = try EventLoop(name: "guard-site")
        let site = try DemoSite.start(on: siteLoop, host: "127.0.0.2")
        let port = String(site.port)
        let url = c.url.replacingOccurrences(of: "PORT", with: port)
        let settings = FetchSettings(
            totalTimeoutMs: 5_000, resolve: c.resolve.map { $0.replacingOccurrences(of: "PORT", with: port) },
            addressPolicy: c.policy)
        let outcome = try await Self.fetch(url, settings, engine: engine)
        if c.allowed {
            #expect(outcome.failure == nil, "\(String(describing: outcome.failure))")
            #expect(outcome.status == 200)
            #expect(site.connectionsAccepted == 1)
        } else {
            #expect(outcome.failure?.kind == .blockedAddress, "\(String(describing: outcome.failure))")
            #expect(outcome.failure?.message.contains("127.0.0.2") == true, "\(String(describing: outcome.failure))")
            #expect(outcome.status == 0)
            // An unguarded fetch next: the site accepts connections in the order they came, so when it has answered,
            // a connection of the refused fetch would have been counted first.
            let control = try await Self.fetch("http://127.0.0.2:\(port)/bytes/10", FetchSettings(), engine: engine)
            #expect(control.status == 200)
            #expect(site.connectionsAccepted == 1, "the refused fetch connected")
        }
        site.stop()
        siteLoop.shutdown()
    }

    /// A keep-alive connection opened for a job without a guard is not reused for a guarded job's request to the
    /// same authority: the reused connection's address is judged too.
    @Test(arguments: FetchEngine.allCases) func aReusedConnectionIsJudged(engine: FetchEngine) async throws {
        let siteLoop = try EventLoop(name: "guard-site")
        let site = try DemoSite.start(on: siteLoop, host: "127.0.0.2")
        let loop = try EventLoop(name: "guard-fetch")
        let fetcher = Fetcher(loop: loop, engine: engine)
        let url = "http://127.0.0.2:\(site.port)/bytes/10"
        let open = FetchProfile(settings: FetchSettings())
        let guarded = FetchProfile(settings: FetchSettings(addressPolicy: Self.loopbackBut1))
        let first = await withTaskExecutorPreference(loop) { await fetcher.fetch(url, profile: open) }
        #expect(first.status == 200)
        let second = await withTaskExecutorPreference(loop) { await fetcher.fetch(url, profile: guarded) }
        #expect(second.failure?.kind == .blockedAddress, "\(String(describing: second.failure))")
        #expect(second.bytesReceived == 0)
        // The connection is still good for the job that may use it.
        let third = await withTaskExecutorPreference(loop) { await fetcher.fetch(url, profile: open) }
        #expect(third.status == 200)
        // The native client keeps the connection; libcurl closes one whose request a callback aborted.
        #expect(site.connectionsAccepted == (engine == .curl ? 2 : 1))
        #expect(site.requestsServed == 2, "the guarded request was sent")
        await fetcher.close()
        loop.shutdown()
        site.stop()
        siteLoop.shutdown()
    }

    /// ::1 through libcurl (the native client leaves IPv6 to it): refused by default, connected to when allowed.
    @Test(arguments: FetchEngine.allCases) func ipv6Loopback(engine: FetchEngine) async throws {
        guard let listener = IPv6Listener() else {
            print("skipped: this machine has no ::1")
            return
        }
        defer { listener.close() }
        let url = "http://[::1]:\(listener.port)/"
        let blocked = try await Self.fetch(url, FetchSettings(totalTimeoutMs: 2_000, addressPolicy: AddressPolicy()),
                                           engine: engine)
        #expect(blocked.failure?.kind == .blockedAddress, "\(String(describing: blocked.failure))")
        #expect(blocked.failure?.message.contains("loopback ::1/128") == true)
        #expect(listener.acceptPending() == 0)
        // Allowed: the connection is made (the listener never answers, so the fetch times out).
        let policy = AddressPolicy(allow: [Self.range("::1/128")])
        let allowed = try await Self.fetch(
            url, FetchSettings(totalTimeoutMs: 300, addressPolicy: policy), engine: engine)
        #expect(allowed.failure?.kind == .timeout, "\(String(describing: allowed.failure))")
        #expect(listener.acceptPending() == 1)
    }

    static func fetch(_ url: String, _ settings: FetchSettings, engine: FetchEngine) async throws -> FetchOutcome {
        let loop = try EventLoop(name: "guard-fetch")
        let fetcher = Fetcher(loop: loop, engine: engine)
        let profile = FetchProfile(settings: settings)
        let outcome = await withTaskExecutorPreference(loop) { await fetcher.fetch(url, profile: profile) }
        await fetcher.close()
        loop.shutdown()
        return outcome
    }
}

/// A listening TCP socket on [::1] that never answers; accepts are counted on demand.
private final class IPv6Listener {
    let fd: Int32
    let port: UInt16

    init?() {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(fd)
            return nil
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin6_port)
    }

    /// Accepts (and closes) every connection waiting; returns how many there were.
    func acceptPending() -> Int {
        var count = 0
        while true {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { return count }
            Glibc.close(connection)
            count += 1
        }
    }

    func close() {
        Glibc.close(fd)
    }
}
