import ArachneEventLoop
import ArachneSystem
import Dispatch
import Glibc
import Synchronization

/// A small HTTP/1.1 server on an Arachne event loop that serves a deterministic synthetic site, for tests, the demo
/// and the IO-model ladder (benchmarks use nginx).
///
/// It is a class driven by readiness callbacks, not an actor pinned to the loop: every piece of its work starts from
/// an epoll callback or a timer that already runs on the loop thread, so there is nothing to `await`, and synchronous
/// callbacks avoid a job per event. Its mutable state is touched only on the loop thread; the counters are atomics;
/// `start` and `stop` hop to the loop and wait, so they are callable from any thread except that `stop` must come
/// before the loop's `shutdown()`.
///
/// HTTP/1.1: keep-alive by default (`Connection: close` honoured; HTTP/1.0 keeps the connection only with
/// `Connection: keep-alive`), pipelined requests answered in order, request heads limited (bad requests get a 4xx
/// with `Connection: close`), `GET` and `HEAD` served (other methods get 405), request bodies with `Content-Length`
/// read and discarded. Each response is written with one `send` when the socket takes it; the rest waits for
/// writability.
///
/// Routes (all deterministic; see docs/demo-site.md):
/// - `/` — HTML index linking to `/page/0` … `/page/9` and to the crawler test pages.
/// - `/page/N` (N < the page count, 1000 by default) — HTML page with text and five links to other pages
///   (`DemoSite.pageLinks(N, pageCount:)`).
/// - `/robots.txt` — disallows `/broken/`, `/delay/`, `/redirect-loop`; names `/sitemap.xml`.
/// - `/sitemap.xml` — a sitemap of `/`, the crawler test pages and the first 1,000 pages.
/// - `/crawl/…`, `/files/data.csv`, `/moved/N` (301 to `/page/N`) — the crawler test set (`crawlResource(at:)`,
///   `crawlExpectation(pageCount:maxDepth:)`).
/// - `/bytes/N` — exactly N bytes (`DemoSite.body(count:)`), `application/octet-stream`; N ≤ 2^30.
/// - `/status/CODE` — that status (200…599) with body `status CODE\n` (no body for 204 and 304).
/// - `/delay/MS` — 200 after MS milliseconds (a loop timer); MS ≤ 600000.
/// - `/redirect/N` — 302 to `/redirect/N-1`; `/redirect/0` is 200. N ≤ 10000.
/// - `/redirect-loop` — 302 to itself, forever.
/// - `/chunked/N` — N bytes in chunked encoding, in chunks of `DemoSite.chunkSize(forBodyOf: N)`.
/// - `/gzip/N` — the N bytes of `/bytes/N`, gzip-compressed, `Content-Encoding: gzip`; N ≤ 8 MiB.
/// - `/headers` — the request's header lines, echoed as `text/plain`.
/// - `/broken/garbage` — non-HTTP bytes, then close.
/// - `/broken/reset` — a TCP reset (SO_LINGER 0, close) instead of a response.
/// - `/broken/stall` — never answers; the connection stays open until the client goes or `stop()`.
/// - `/broken/truncated` — `Content-Length: 1024`, 100 body bytes, then close.
/// - `/broken/endless` — a chunked body that never ends.
/// - `/broken/bad-status` — an invalid status line, then close.
/// - `/broken/huge-header` — a 200 KiB header line, then close.
/// - `/broken/interim` — interim `103 Early Hints` responses without end, never a final response.
public final class DemoSite: @unchecked Sendable {
    // Safety: `loop`, `port`, `host`, `baseURL` and the counters are immutable or atomic; every other stored property
    // is touched only on the loop thread (callbacks, or closures passed to `loop.execute`).

    /// The loop the site runs on.
    public let loop: EventLoop
    /// The address the site listens on.
    public let host: String
    /// The port it listens on (the one the kernel picked when started with port 0).
    public let port: UInt16
    /// `http://HOST:PORT`, with 127.0.0.1 for a wildcard host.
    public let baseURL: String
    /// Pages are `/page/0` … `/page/(pageCount - 1)`.
    public let pageCount: Int

    private let accepted = Atomic<Int>(0)
    private let served = Atomic<Int>(0)
    private let open = Atomic<Int>(0)
    private let stopRequested = Atomic<Bool>(false)

    private var listenerFD: Int32
    private var connections: [Int32: SiteConnection] = [:]
    /// Rendered pages, direct-mapped by page number: the whole default site, the most recent pages of a big one.
    private var pageCache: [(page: Int, response: FixedResponse)?]
    private static let pageCacheLimit = 16_384
    private var gzipCache: [Int: FixedResponse] = [:]
    private var sitemapCache: FixedResponse?
    let indexResponse: FixedResponse
    let robotsResponse: FixedResponse
    let trapResponses: [FixedResponse] = DemoSite.trapPages.indices.map {
        FixedResponse(status: 200, contentType: DemoSite.trapPages[$0].contentType, text: DemoSite.trapBody($0))
    }
    let notFoundResponse = FixedResponse(status: 404, contentType: "text/plain", text: "not found\n")
    let redirectDoneResponse = FixedResponse(status: 200, contentType: "text/plain", text: "redirects done\n")
    let redirectLoopResponse = FixedResponse(
        status: 302, contentType: "text/plain", body: Array("redirecting to /redirect-loop\n".utf8)
    ) { $0.appendLiteral("Location: /redirect-loop\r\n") }
    let methodNotAllowedResponse = FixedResponse(
        status: 405, contentType: "text/plain", body: Array("only GET and HEAD are served\n".utf8)
    ) { $0.appendLiteral("Allow: GET, HEAD\r\n") }

    /// Connections accepted since start.
    public var connectionsAccepted: Int { accepted.load(ordering: .relaxed) }
    /// Requests answered: the whole response (or the deliberate misbehaviour of a `/broken/` route) was handed to
    /// the kernel. A stalled or endless response is never counted; a refused request (4xx) is.
    public var requestsServed: Int { served.load(ordering: .relaxed) }
    /// Connections open now.
    public var openConnections: Int { open.load(ordering: .relaxed) }

    private init(loop: EventLoop, listenerFD: Int32, address: IPv4Address, pageCount: Int) {
        self.loop = loop
        self.listenerFD = listenerFD
        self.port = address.port
        self.host = address.host
        self.pageCount = pageCount
        let urlHost = address.address == 0 ? "127.0.0.1" : address.host
        self.baseURL = "http://\(urlHost):\(address.port)"
        pageCache = Array(repeating: nil, count: min(pageCount, Self.pageCacheLimit))
        indexResponse = FixedResponse(
            status: 200, contentType: "text/html; charset=utf-8", text: DemoSite.indexHTML(pageCount: pageCount))
        robotsResponse = FixedResponse(
            status: 200, contentType: "text/plain", text: DemoSite.robotsTxt(baseURL: baseURL))
    }

    /// Listens on `host:port` (an IPv4 address; port 0 lets the kernel pick) and starts serving a site of
    /// `pageCount` pages (within `pageCountRange`) on `loop`. Callable from any thread, the loop's included.
    public static func start(
        on loop: EventLoop, host: String = "127.0.0.1", port: UInt16 = 0, pageCount: Int = defaultPageCount
    ) throws -> DemoSite {
        guard pageCountRange.contains(pageCount) else {
            throw DemoSiteError(
                "demo site page count must be from \(pageCountRange.lowerBound) to \(pageCountRange.upperBound), "
                    + "not \(pageCount)")
        }
        guard let requested = IPv4Address(host, port: port) else {
            throw DemoSiteError("demo site host must be an IPv4 address such as 127.0.0.1, not \"\(host)\"")
        }
        let fd = try Syscall.tcpSocket(nonBlocking: true)
        let address: IPv4Address
        do {
            try Syscall.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
            try Syscall.bind(fd, requested)
            try Syscall.listen(fd, backlog: 1024)
            address = try Syscall.localAddress(fd)
        } catch {
            try? Syscall.close(fd)
            throw DemoSiteError("demo site could not listen on \(requested): \(error)")
        }
        let site = DemoSite(loop: loop, listenerFD: fd, address: address, pageCount: pageCount)
        do {
            try site.onLoop { try site.registerListener() }
        } catch {
            try? Syscall.close(fd)
            throw DemoSiteError("demo site could not watch its listening socket: \(error)")
        }
        return site
    }

    /// Closes the listening socket and every connection (pending timers are cancelled), and returns when that is
    /// done. Callable from any thread; must come before the loop's `shutdown()`, since it waits for the loop. Calls
    /// after the first return at once.
    public func stop() {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? onLoop { self.closeEverything() }
    }

    // MARK: Loop side

    private func registerListener() throws {
        try loop.register(fd: listenerFD, interest: .readable) { [self] _ in acceptConnections() }
    }

    private func closeEverything() {
        for connection in Array(connections.values) { connection.close() }
        if listenerFD >= 0 {
            loop.deregister(fd: listenerFD)
            try? Syscall.close(listenerFD)
            listenerFD = -1
        }
    }

    private func acceptConnections() {
        for _ in 0..<256 {
            guard listenerFD >= 0 else { return }
            let result: IOResult<Int32>
            do {
                result = try Syscall.accept(listenerFD)
            } catch {
                if error.errno == ECONNABORTED || error.errno == EPROTO { continue }
                // Out of descriptors or memory: stop accepting for a moment rather than spin on a ready listener.
                pauseAccepting()
                return
            }
            guard case .processed(let fd) = result else { return }
            accepted.add(1, ordering: .relaxed)
            try? Syscall.setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
            let connection = SiteConnection(fd: fd, site: self)
            do {
                try loop.register(fd: fd, interest: .readable) { readiness in connection.handle(readiness) }
            } catch {
                connection.discardUnregistered()
                continue
            }
            connections[fd] = connection
            open.add(1, ordering: .relaxed)
        }
    }

    private func pauseAccepting() {
        guard listenerFD >= 0 else { return }
        try? loop.modify(fd: listenerFD, interest: [])
        loop.scheduleTimer(afterMilliseconds: 100) { [self] in
            guard listenerFD >= 0 else { return }
            try? loop.modify(fd: listenerFD, interest: .readable)
        }
    }

    func connectionClosed(_ fd: Int32) {
        if connections.removeValue(forKey: fd) != nil {
            open.subtract(1, ordering: .relaxed)
        }
    }

    func responseServed() {
        served.add(1, ordering: .relaxed)
    }

    /// `/page/n`, built on first use and kept until another page takes its cache slot.
    func pageResponse(_ n: Int) -> FixedResponse {
        let slot = n % pageCache.count
        if let cached = pageCache[slot], cached.page == n { return cached.response }
        let page = FixedResponse(
            status: 200, contentType: "text/html; charset=utf-8", body: Self.pageBytes(n, pageCount: pageCount))
        pageCache[slot] = (n, page)
        return page
    }

    /// `/sitemap.xml`, built on first use.
    func sitemapResponse() -> FixedResponse {
        if let sitemap = sitemapCache { return sitemap }
        let sitemap = FixedResponse(
            status: 200, contentType: "application/xml",
            text: Self.sitemapXML(baseURL: baseURL, pageCount: pageCount))
        sitemapCache = sitemap
        return sitemap
    }

    /// `/gzip/n`; the most recent few sizes are kept, since compressing a large body takes a while.
    func gzipResponse(_ n: Int) -> FixedResponse {
        if let response = gzipCache[n] { return response }
        let response = FixedResponse(
            status: 200, contentType: "application/octet-stream", body: Gzip.compress(Self.body(count: n))
        ) { $0.appendLiteral("Content-Encoding: gzip\r\n") }
        if gzipCache.count >= 16 { gzipCache.removeAll(keepingCapacity: true) }
        if n <= 1 << 20 { gzipCache[n] = response }
        return response
    }

    // MARK: Hopping to the loop

    /// Runs `body` on the loop thread and waits for it; runs it directly when already there.
    private func onLoop<T>(_ body: @escaping () throws -> T) throws -> T {
        if loop.inEventLoop { return try body() }
        let box = HandOff<T>(body)
        loop.execute { box.run() }
        return try box.wait()
    }
}

/// Carries a closure to the loop thread and its result back. `@unchecked Sendable`: `body` and `result` are written
/// before `done.signal()` and read after `done.wait()`, which orders them; the closure runs on exactly one thread.
private final class HandOff<T>: @unchecked Sendable {
    private let body: () throws -> T
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping () throws -> T) { self.body = body }

    func run() {
        result = Result { try body() }
        done.signal()
    }

    func wait() throws -> T {
        done.wait()
        return try result!.get()
    }
}

/// A demo site that could not start, with what went wrong.
public struct DemoSiteError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
