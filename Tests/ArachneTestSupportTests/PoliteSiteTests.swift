import ArachneLinks
import ArachneTestSupport
import Foundation
import Glibc
import Testing

/// The polite-crawl test site serves what it is configured to and logs exactly what happened.
@Suite("PoliteSite fixture", .serialized)
struct PoliteSiteTests {
    typealias Site = PoliteSite

    /// Three hosts: a and b on their own loopback addresses, c on 127.0.0.1.
    static func threeHosts() -> Site.Configuration {
        Site.Configuration(hosts: [
            Site.Host(
                "a", address: "127.0.0.2",
                robots: .text("User-agent: *\nDisallow: /private/\nCrawl-delay: 1\nSitemap: {host:a}/sitemap.xml.gz\n"),
                pages: Site.Pages(count: 10, linksPerPage: 3, linkHosts: ["b"]),
                sitemaps: [Site.Sitemap("/sitemap.xml.gz", gzip: true)],
                routes: [
                    "/page/3": [.status(503, retryAfter: "2"), .status(429, retryAfter: "1"), .generated],
                    "/moved": [.redirect(to: "{host:b}/page/1")],
                ]),
            Site.Host(
                "b", address: "127.0.0.3",
                robots: .redirect(to: "{host:a}/robots.txt"),
                pages: Site.Pages(count: 5, linksPerPage: 2, linkHosts: ["a"]),
                sitemaps: [
                    Site.Sitemap("/sitemap_index.xml", .index(["/sitemap.xml", "{host:a}/sitemap.xml.gz"])),
                    Site.Sitemap("/sitemap.xml", .urls(["/page/0", "{host:b}/page/1?x=1&y=2"])),
                ]),
            Site.Host(
                "c", address: "127.0.0.1",
                robots: Site.Response(status: 200, body: "User-agent: *\nAllow: /\n", bodySize: 600_000,
                                      delayMilliseconds: 300)),
        ])
    }

    func connect(_ site: Site, _ host: String) throws -> BlockingHTTPConnection {
        let (address, port) = site.endpoint(host)
        return try BlockingHTTPConnection(address: address, port: port)
    }

    @Test("robots.txt: a body with a host's URL, a redirect, a delayed oversized one, none")
    func robots() throws {
        let site = try Site.start(Self.threeHosts())
        defer { site.stop() }
        #expect(site.url("a").hasPrefix("http://127.0.0.2:"))
        #expect(site.url("b").hasPrefix("http://127.0.0.3:"))
        #expect(site.url("c").hasPrefix("http://127.0.0.1:"))

        let a = try connect(site, "a").request("GET", "/robots.txt")
        #expect(a.status == 200)
        #expect(a.text.contains("Sitemap: \(site.url("a"))/sitemap.xml.gz\n"))
        #expect(a.header("content-type") == "text/plain")

        let b = try connect(site, "b").request("GET", "/robots.txt")
        #expect(b.status == 301)
        #expect(b.header("location") == site.url("a", "/robots.txt"))

        let before = Site.monotonicMicroseconds()
        let c = try connect(site, "c").request("GET", "/robots.txt")
        #expect(Site.monotonicMicroseconds() - before >= 300_000)
        #expect(c.status == 200 && c.body.count == 600_000)
        #expect(c.text.hasPrefix("User-agent: *\nAllow: /\n# padding"))

        let none = try connect(site, "c").request("GET", "/nothing")
        #expect(none.status == 404)
    }

    @Test("status sequences with Retry-After, redirects, the page graph, HEAD and other methods")
    func routes() throws {
        let site = try Site.start(Self.threeHosts())
        defer { site.stop() }
        let a = try connect(site, "a")
        let first = try a.request("GET", "/page/3")
        #expect(first.status == 503 && first.header("retry-after") == "2")
        let second = try a.request("GET", "/page/3")
        #expect(second.status == 429 && second.header("retry-after") == "1")
        let third = try a.request("GET", "/page/3?again")
        #expect(third.status == 200 && third.header("retry-after") == nil)
        #expect(try a.request("GET", "/page/3").status == 200, "the last entry repeats")

        // Page 3 of a: link 0 → a's page 4, link 1 → b's page (3 + 2) % 5 = 0, link 2 → a's page 6.
        let links = LinkExtractor.extract(from: third.body, charset: "utf-8").links.map(\.href)
        #expect(links == ["/page/4", site.url("b", "/page/0"), "/page/6"])
        #expect(third.header("content-type") == "text/html; charset=utf-8")
        #expect(try a.request("GET", "/page/10").status == 404, "a has 10 pages")
        #expect(try a.request("GET", "/moved").header("location") == site.url("b", "/page/1"))

        let head = try a.request("HEAD", "/page/1")
        #expect(head.status == 200 && head.body.isEmpty && Int(head.header("content-length") ?? "") ?? 0 > 0)
        #expect(try a.request("DELETE", "/page/1").status == 405)
        #expect(try a.request("GET", "/").status == 200)
    }

    @Test("sitemaps: gzipped as a file, an index, a urlset of given URLs")
    func sitemaps() throws {
        let site = try Site.start(Self.threeHosts())
        defer { site.stop() }
        let gz = try connect(site, "a").request("GET", "/sitemap.xml.gz")
        #expect(gz.status == 200)
        #expect(gz.header("content-type") == "application/x-gzip" && gz.header("content-encoding") == nil)
        #expect(Array(gz.body.prefix(2)) == [0x1F, 0x8B])
        let pages = SitemapReader.read(gz.body)
        #expect(pages.kind == .urlset && pages.compressed)
        #expect(pages.entries.map(\.location) == (0..<10).map { site.url("a", "/page/\($0)") })

        let b = try connect(site, "b")
        let index = SitemapReader.read(try b.request("GET", "/sitemap_index.xml").body)
        #expect(index.kind == .sitemapIndex)
        #expect(index.entries.map(\.location) == [site.url("b", "/sitemap.xml"), site.url("a", "/sitemap.xml.gz")])
        let urls = SitemapReader.read(try b.request("GET", "/sitemap.xml").body)
        #expect(urls.entries.map(\.location) == [site.url("b", "/page/0"), site.url("b", "/page/1?x=1&y=2")])
    }

    @Test("the log: connection ids, sequence on the connection, peer, Host header, method, status, times")
    func log() throws {
        let site = try Site.start(Self.threeHosts())
        defer { site.stop() }
        let first = try connect(site, "a")
        _ = try first.request("GET", "/robots.txt")
        _ = try first.request("GET", "/page/3")
        _ = try first.request("HEAD", "/page/1", host: "www.example.test")
        // Two pipelined requests on another connection.
        let second = try connect(site, "a")
        try second.send("GET", "/page/0")
        try second.send("GET", "/page/2")
        #expect(try second.readResponse().status == 200)
        #expect(try second.readResponse().status == 200)
        _ = try connect(site, "b").request("GET", "/page/0")

        site.stop()
        #expect(!site.isRunning)
        let log = try site.log()
        let a = log.requests(host: "a")
        #expect(a.map(\.path) == ["/robots.txt", "/page/3", "/page/1", "/page/0", "/page/2"])
        #expect(log.paths(host: "a") == a.map(\.path))
        #expect(a.map(\.method) == ["GET", "GET", "HEAD", "GET", "GET"])
        #expect(a.map(\.status) == [200, 503, 200, 200, 200])
        #expect(a.map(\.sequence) == [0, 1, 2, 0, 1])
        #expect(Set(a[0..<3].map(\.connection)).count == 1)
        #expect(Set(a[3..<5].map(\.connection)).count == 1)
        #expect(a[0].connection != a[3].connection)
        #expect(a[0].peer == "127.0.0.1:\(first.localPort)")
        #expect(a[3].peer == "127.0.0.1:\(second.localPort)")
        #expect(a[0].local == site.url("a").dropFirst("http://".count).description)
        #expect(a[0].hostHeader == site.url("a").dropFirst("http://".count).description)
        #expect(a[2].hostHeader == "www.example.test")
        #expect(a.allSatisfy { $0.start <= $0.end && $0.bytes > 0 && $0.error == nil })
        #expect(zip(a, a.dropFirst()).allSatisfy { $0.start <= $1.start })
        // The kernel's arrival time of each request (wall clock, µs), in order and within this test's minute.
        let now = Int64(Date().timeIntervalSince1970 * 1e6)
        #expect(a.allSatisfy { ($0.arrived ?? 0) > now - 60_000_000 && ($0.arrived ?? .max) <= now }, "\(a)")
        #expect(zip(a, a.dropFirst()).allSatisfy { ($0.arrived ?? 0) <= ($1.arrived ?? 0) })
        #expect(log.requests(host: "b").map(\.path) == ["/page/0"])
        #expect(log.requests(host: nil).count == 6)
        #expect(log.connectionCount(host: "a") == 2)
        #expect(log.connectionCount(host: "b") == 1)
        #expect(log.connections.values.allSatisfy { $0.closed != nil }, "stopping closes and logs every connection")
        #expect(log.connections[a[0].connection]?.peer == a[0].peer)
        #expect(log.connections[a[0].connection]!.opened <= a[0].start)
        #expect(log.maxConcurrency(host: "a") == 1)
    }

    @Test("two connections with a request open at once are concurrency 2; one connection is 1")
    func concurrency() throws {
        let site = try Site.start(Site.Configuration(hosts: [
            Site.Host("slow", address: "127.0.0.2", latencyMilliseconds: 300, pages: Site.Pages(count: 4)),
            Site.Host("other", address: "127.0.0.3", latencyMilliseconds: 300, pages: Site.Pages(count: 4)),
        ]))
        defer { site.stop() }
        let (address, port) = site.endpoint("slow")
        let other = site.endpoint("other")
        // Two connections to `slow` and one to `other`, each sending at the same moment.
        let targets = [(address, port, "/page/0"), (address, port, "/page/1"), (other.address, other.port, "/page/2")]
        let statuses = Statuses()
        let done = DispatchGroup()
        for (index, (address, port, path)) in targets.enumerated() {
            done.enter()
            // Threads, not concurrentPerform: that runs only as many at once as there are cores.
            Thread {
                let connection = try? BlockingHTTPConnection(address: address, port: port)
                statuses.set(index, (try? connection?.request("GET", path).status) ?? 0)
                done.leave()
            }.start()
        }
        done.wait()
        #expect(statuses.all == [0: 200, 1: 200, 2: 200])
        // Then two requests one after the other on one connection.
        let sequential = try BlockingHTTPConnection(address: address, port: port)
        _ = try sequential.request("GET", "/page/2")
        _ = try sequential.request("GET", "/page/3")

        let log = try site.log(waitingFor: 5)
        #expect(log.requests.count == 5)
        #expect(log.maxConcurrency(host: "slow") == 2)
        #expect(log.maxConcurrency(host: "other") == 1)
        #expect(log.maxConcurrency(host: nil) == 3)
        let slow = log.requests(host: "slow")
        #expect(slow.allSatisfy { $0.end - $0.start >= 300_000 }, "latency is inside the request's time")
        // The sequential pair: the second started after the first ended, so at least 300 ms apart.
        let pair = slow.filter { $0.peer.hasSuffix(":\(sequential.localPort)") }
        #expect(pair.count == 2)
        #expect(pair[1].start - pair[0].start >= 300_000)
        #expect(log.smallestStartGap(host: "slow")! < 300_000, "the concurrent two started close together")
        #expect(log.smallestIdleGap(host: "slow")! < 0, "they overlapped")
        #expect(Site.RequestLog(requests: pair).smallestIdleGap(host: nil)! >= 0)
        #expect(Site.RequestLog(requests: pair).maxConcurrency(host: "slow") == 1)
    }

    @Test("requests one after another on fresh connections never log as concurrent (the log is causal)")
    func causal() throws {
        let site = try Site.start(Site.Configuration(hosts: [
            Site.Host("a", address: "127.0.0.2", pages: Site.Pages(count: 50)),
        ]))
        defer { site.stop() }
        let (address, port) = site.endpoint("a")
        for page in 0..<100 {
            let connection = try BlockingHTTPConnection(address: address, port: port)
            #expect(try connection.request("GET", "/page/\(page % 50)").status == 200)
            // Half are closed by the client, half left open: neither may look concurrent.
            if page.isMultiple(of: 2) { connection.close() }
        }
        let log = try site.log(waitingFor: 100)
        #expect(log.requests.count == 100)
        #expect(log.connectionCount(host: "a") == 100)
        #expect(log.maxConcurrency(host: "a") == 1)
        #expect(log.smallestIdleGap(host: "a")! >= 0)
    }

    @Test("a response cut by the client leaving or by stop is logged with an error")
    func cutResponses() throws {
        let site = try Site.start(Site.Configuration(hosts: [
            Site.Host(
                "a", address: "127.0.0.2", routes: ["/slow": [Site.Response(body: "late", delayMilliseconds: 5_000)]]),
        ]))
        let (address, port) = site.endpoint("a")
        let leaving = try BlockingHTTPConnection(address: address, port: port)
        try leaving.send("GET", "/slow")
        let staying = try BlockingHTTPConnection(address: address, port: port)
        try staying.send("GET", "/slow")
        usleep(200_000)
        leaving.close()
        _ = try site.log(waitingFor: 1)
        let started = Site.monotonicMicroseconds()
        site.stop()
        #expect(Site.monotonicMicroseconds() - started < 3_000_000, "stop waits at most a second for a response")
        let requests = try site.log().requests
        #expect(requests.count == 2)
        #expect(requests.map(\.error).sorted { ($0 ?? "") < ($1 ?? "") } == [
            "the client closed the connection before the response", "the site stopped before the response",
        ])
        #expect(requests.allSatisfy { $0.bytes == 0 && $0.path == "/slow" })
    }

    @Test("the measures on a hand-made log")
    func measures() {
        func request(_ connection: Int, _ start: Int64, _ end: Int64, host: String = "h") -> Site.LoggedRequest {
            Site.LoggedRequest(
                host: host, connection: connection, sequence: 0, local: "", peer: "", start: start, end: end,
                method: "GET", path: "/\(start)", hostHeader: "", status: 200, bytes: 1, error: nil)
        }
        let log = Site.RequestLog(requests: [
            request(1, 0, 100), request(2, 50, 150), request(3, 100, 200), request(1, 200, 300),
            request(4, 1_000, 1_100), request(5, 0, 5_000, host: "other"),
        ])
        #expect(log.maxConcurrency(host: "h") == 2, "3 starts as 1 ends: no overlap")
        #expect(log.smallestStartGap(host: "h") == 50)
        #expect(log.smallestIdleGap(host: "h") == -50)
        #expect(log.paths(host: "h") == ["/0", "/50", "/100", "/200", "/1000"])
        #expect(log.maxConcurrency(host: nil) == 3)
        #expect(Site.RequestLog(requests: [request(1, 0, 10)]).smallestStartGap(host: nil) == nil)
        #expect(Site.RequestLog(requests: []).maxConcurrency(host: nil) == 0)
    }

    @Test("a site that cannot start says why")
    func cannotStart() {
        // 192.0.2.1 (TEST-NET-1) is no local address: bind fails.
        let configuration = Site.Configuration(hosts: [Site.Host("a", address: "192.0.2.1")])
        #expect {
            try Site.start(configuration)
        } throws: { error in
            "\(error)".contains("Cannot assign requested address")
        }
    }

    @Test("stop ends the process by its pid; the ports are closed")
    func stop() throws {
        let site = try Site.start(Self.threeHosts())
        let (address, port) = site.endpoint("a")
        #expect(try BlockingHTTPConnection(address: address, port: port).request("GET", "/").status == 200)
        let pid = site.pid
        #expect(kill(pid, 0) == 0)
        site.stop()
        site.stop()
        #expect(!site.isRunning)
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
        #expect(throws: (any Error).self) { try BlockingHTTPConnection(address: address, port: port) }
    }
}

/// Results written by concurrent workers.
final class Statuses: @unchecked Sendable {
    // Safety: guarded by `lock`.
    private let lock = NSLock()
    private var values: [Int: Int] = [:]

    func set(_ index: Int, _ status: Int) { lock.withLock { values[index] = status } }
    var all: [Int: Int] { lock.withLock { values } }
}
