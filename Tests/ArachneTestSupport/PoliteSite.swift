import ArachneSystem
import Foundation
import Glibc

/// A multi-host test site for politeness tests: `Tests/Fixtures/polite_site.py` run as a real process (Python 3
/// stdlib, a thread per connection), listening on several loopback addresses and ports, serving configured robots.txt
/// files, status sequences (429/503 with `Retry-After`), latencies, sitemaps (gzipped or not) and a generated page
/// graph, and logging every connection and request with CLOCK_MONOTONIC microseconds.
///
/// A separate process, so the crawl under test cannot starve it or share its runtime, and its log is exact per
/// connection: each connection has an id, each request its sequence number on it. `start` waits until every host
/// listens; `stop` ends it by pid (SIGTERM, then SIGKILL after 5 s); it also exits when this process dies (its
/// standard input closes). The script's docstring documents the configuration and the log format.
///
/// `@unchecked Sendable`: `process` and the paths are set in `init` and never change; `stop` is idempotent and guarded
/// by `lock`.
public final class PoliteSite: @unchecked Sendable {
    /// Base URLs by host name: `http://ADDRESS:PORT`.
    public let baseURLs: [String: String]
    /// The site's process id.
    public let pid: Int32
    /// The request log (JSON lines) and the script's standard error, in a temporary directory removed when this
    /// object goes away.
    public let logPath: String
    public let stderrPath: String
    private let directory: String

    private let process: Process
    private let stdinPipe: Pipe
    private let lock = NSLock()
    private var stopped = false

    /// The script, beside this file's directory.
    public static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/polite_site.py").path
    }

    private init(process: Process, stdinPipe: Pipe, baseURLs: [String: String], directory: String) {
        self.process = process
        self.stdinPipe = stdinPipe
        self.baseURLs = baseURLs
        self.pid = process.processIdentifier
        self.directory = directory
        self.logPath = directory + "/requests.ndjson"
        self.stderrPath = directory + "/stderr.txt"
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts the site and waits (up to `timeout` seconds) until every host listens.
    public static func start(_ configuration: Configuration, timeout: Double = 15) throws -> PoliteSite {
        let directory = temporaryDirectory("polite-site")
        let configPath = directory + "/config.json"
        let logPath = directory + "/requests.ndjson"
        let stderrPath = directory + "/stderr.txt"
        var document = configuration
        document.log = logPath
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(document).write(to: URL(fileURLWithPath: configPath))
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptPath, configPath]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()

        // The ready line: {"ready": true, "pid": ..., "hosts": {...}}.
        struct Ready: Decodable {
            var hosts: [String: String]
        }
        let fd = output.fileHandleForReading.fileDescriptor
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var byte: UInt8 = 0
        var ready: Ready?
        while ready == nil {
            let left = deadline.timeIntervalSinceNow
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard left > 0, poll(&poller, 1, Int32(left * 1000)) > 0, Glibc.read(fd, &byte, 1) == 1 else { break }
            line.append(byte)
            if byte == UInt8(ascii: "\n") {
                ready = try? JSONDecoder().decode(Ready.self, from: Data(line))
                if ready == nil { break }
            }
        }
        guard let ready else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: directory)
            throw PoliteSiteError(
                "the polite site did not start within \(timeout) s (output: \(String(decoding: line, as: UTF8.self))"
                    + "): \(stderr)")
        }
        return PoliteSite(process: process, stdinPipe: input, baseURLs: ready.hosts, directory: directory)
    }

    /// `http://ADDRESS:PORT` of host `name` followed by `path`.
    public func url(_ name: String, _ path: String = "") -> String {
        guard let base = baseURLs[name] else { preconditionFailure("no host named \(name) in the polite site") }
        return base + path
    }

    /// The address and port host `name` listens on.
    public func endpoint(_ name: String) -> (address: String, port: UInt16) {
        let authority = url(name).dropFirst("http://".count)
        let colon = authority.lastIndex(of: ":")!
        return (String(authority[..<colon]), UInt16(authority[authority.index(after: colon)...])!)
    }

    /// The log as it is now. A request is logged just after its response is handed to the kernel, so a client can
    /// have its response a moment before the line exists: use `log(waitingFor:)` or `stop()` first.
    public func log() throws -> RequestLog {
        try RequestLog(contentsOf: logPath)
    }

    /// The log once it holds at least `count` requests (or after `timeout` seconds, whatever it holds).
    public func log(waitingFor count: Int, timeout: Double = 10) throws -> RequestLog {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let log = try self.log()
            if log.requests.count >= count || Date() >= deadline { return log }
            usleep(10_000)
        }
    }

    /// Stops the site by its pid: SIGTERM (it finishes logging the requests in progress, up to 1 s), SIGKILL after
    /// 5 s. Idempotent.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(pid, SIGKILL) }
        }
        process.waitUntilExit()
        try? stdinPipe.fileHandleForWriting.close()
    }

    /// Whether the process has exited.
    public var isRunning: Bool { process.isRunning }

    /// The current CLOCK_MONOTONIC time in microseconds: the clock of the log's timestamps.
    public static func monotonicMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
    }
}

public struct PoliteSiteError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

// MARK: Configuration

extension PoliteSite {
    /// What the site serves, host by host. Encoded to the script's JSON configuration.
    public struct Configuration: Encodable, Sendable {
        public var hosts: [Host]
        var log: String?
        /// The site exits when its standard input closes: when this process dies.
        var exitOnStdinEOF = true

        public init(hosts: [Host]) {
            self.hosts = hosts
        }

        enum CodingKeys: String, CodingKey {
            case hosts, log
            case exitOnStdinEOF = "exit_on_stdin_eof"
        }
    }

    /// One listening address and what it serves.
    public struct Host: Encodable, Sendable {
        /// The name tests refer to it by, and `{host:NAME}` in bodies becomes its base URL.
        public var name: String
        /// An IPv4 loopback address: 127.0.0.1, 127.0.0.2, … (all of 127/8 is local on Linux).
        public var address: String
        /// 0 lets the kernel pick.
        public var port: UInt16
        /// Added before every response of the host.
        public var latencyMilliseconds: Int
        /// `/robots.txt`; nil serves 404.
        public var robots: Response?
        public var pages: Pages?
        public var sitemaps: [Sitemap]
        /// Per-path response sequences: the k-th request for a path gets entry min(k, count - 1). Paths compare
        /// without their query.
        public var routes: [String: [Response]]

        public init(
            _ name: String, address: String = "127.0.0.1", port: UInt16 = 0, latencyMilliseconds: Int = 0,
            robots: Response? = nil, pages: Pages? = nil, sitemaps: [Sitemap] = [], routes: [String: [Response]] = [:]
        ) {
            self.name = name
            self.address = address
            self.port = port
            self.latencyMilliseconds = latencyMilliseconds
            self.robots = robots
            self.pages = pages
            self.sitemaps = sitemaps
            self.routes = routes
        }

        enum CodingKeys: String, CodingKey {
            case name, address, port, robots, pages, sitemaps, routes
            case latencyMilliseconds = "latency_ms"
        }
    }

    /// A generated page graph: `/page/0` … `/page/(count-1)`, page N's link i pointing to page (N + i + 1) % count of
    /// host `[self] + linkHosts` at i % (1 + linkHosts.count). Link 0 stays on the host, so `/page/0` reaches every
    /// page of its host.
    public struct Pages: Encodable, Sendable {
        public var count: Int
        public var linksPerPage: Int
        public var linkHosts: [String]
        /// Pad each page to about this many bytes.
        public var pageBytes: Int

        public init(count: Int, linksPerPage: Int = 3, linkHosts: [String] = [], pageBytes: Int = 0) {
            self.count = count
            self.linksPerPage = linksPerPage
            self.linkHosts = linkHosts
            self.pageBytes = pageBytes
        }

        enum CodingKeys: String, CodingKey {
            case count
            case linksPerPage = "links"
            case linkHosts = "link_hosts"
            case pageBytes = "page_bytes"
        }
    }

    /// A sitemap served at `path`: an XML urlset of the host's pages or of given URLs, or an index of sitemaps;
    /// gzipped as a file (`application/x-gzip`, no `Content-Encoding`) when `gzip` is set. URLs may be paths of
    /// the host or contain `{host:NAME}`.
    public struct Sitemap: Encodable, Sendable {
        public enum Content: Sendable {
            case pages
            case urls([String])
            case index([String])
        }

        public var path: String
        public var gzip: Bool
        public var content: Content

        public init(_ path: String, gzip: Bool = false, _ content: Content = .pages) {
            self.path = path
            self.gzip = gzip
            self.content = content
        }

        enum CodingKeys: String, CodingKey {
            case path, gzip, pages, urls, index
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(path, forKey: .path)
            try container.encode(gzip, forKey: .gzip)
            switch content {
            case .pages: try container.encode(true, forKey: .pages)
            case .urls(let urls): try container.encode(urls, forKey: .urls)
            case .index(let urls): try container.encode(urls, forKey: .index)
            }
        }
    }

    /// One configured response.
    public struct Response: Encodable, Sendable {
        /// nil: 301 with a `location`, else 200.
        public var status: Int?
        /// `{host:NAME}` becomes that host's base URL.
        public var body: String
        /// Pad the body with `#` comment lines to this many bytes (an oversized robots.txt).
        public var bodySize: Int
        public var contentType: String?
        public var headers: [[String]]
        /// Wait this long before answering (on top of the host's latency).
        public var delayMilliseconds: Int
        public var retryAfter: String?
        public var location: String?
        /// Send the body gzip-compressed, as a file.
        public var gzip: Bool
        /// Close the connection after this response.
        public var close: Bool
        /// Serve the generated content (page, sitemap, 404) instead, after `delayMilliseconds`.
        public var passThrough: Bool

        public init(
            status: Int? = nil, body: String = "", bodySize: Int = 0, contentType: String? = nil,
            headers: [(String, String)] = [], delayMilliseconds: Int = 0, retryAfter: String? = nil,
            location: String? = nil, gzip: Bool = false, close: Bool = false, passThrough: Bool = false
        ) {
            self.status = status
            self.body = body
            self.bodySize = bodySize
            self.contentType = contentType
            self.headers = headers.map { [$0.0, $0.1] }
            self.delayMilliseconds = delayMilliseconds
            self.retryAfter = retryAfter
            self.location = location
            self.gzip = gzip
            self.close = close
            self.passThrough = passThrough
        }

        /// A text body with status 200 (a robots.txt).
        public static func text(_ body: String, status: Int = 200, delayMilliseconds: Int = 0) -> Response {
            Response(status: status, body: body, delayMilliseconds: delayMilliseconds)
        }

        /// A status with a short body, and `Retry-After` if given (429, 503).
        public static func status(_ status: Int, retryAfter: String? = nil) -> Response {
            Response(status: status, body: "status \(status)\n", retryAfter: retryAfter)
        }

        /// A redirect (301 unless given).
        public static func redirect(to location: String, status: Int = 301) -> Response {
            Response(status: status, location: location)
        }

        /// The generated content, as if no route were configured.
        public static let generated = Response(passThrough: true)

        enum CodingKeys: String, CodingKey {
            case status, body, headers, location, gzip, close
            case bodySize = "body_size"
            case contentType = "content_type"
            case delayMilliseconds = "delay_ms"
            case retryAfter = "retry_after"
            case passThrough = "pass"
        }
    }
}

// MARK: The log

extension PoliteSite {
    /// One answered request, as the site logged it.
    public struct LoggedRequest: Decodable, Sendable, Hashable {
        /// The configured host name that served it.
        public var host: String
        /// The connection id (1, 2, … in accept order, across hosts) and the request's 0-based place on it.
        public var connection: Int
        public var sequence: Int
        /// The listening address and the client's address, `ADDRESS:PORT`.
        public var local: String
        public var peer: String
        /// CLOCK_MONOTONIC µs: when the request line was read, and when the response was handed to the kernel.
        public var start: Int64
        public var end: Int64
        /// CLOCK_REALTIME µs: when the kernel received the bytes that completed the request head (nil in logs of
        /// sites without it). A crawler's spacing is judged by this: it does not wait for the site's loop.
        public var arrived: Int64?
        public var method: String
        /// The request target as sent (path and query).
        public var path: String
        public var hostHeader: String
        public var status: Int
        /// Response bytes sent (head and body).
        public var bytes: Int
        /// Set when the request was malformed or the response could not be sent.
        public var error: String?

        public init(
            host: String, connection: Int, sequence: Int, local: String, peer: String, start: Int64, end: Int64,
            method: String, path: String, hostHeader: String, status: Int, bytes: Int, error: String? = nil
        ) {
            self.host = host
            self.connection = connection
            self.sequence = sequence
            self.local = local
            self.peer = peer
            self.start = start
            self.end = end
            self.method = method
            self.path = path
            self.hostHeader = hostHeader
            self.status = status
            self.bytes = bytes
            self.error = error
        }

        enum CodingKeys: String, CodingKey {
            case host, local, peer, method, path, status, bytes, error
            case connection = "conn"
            case sequence = "seq"
            case start = "start_us"
            case end = "end_us"
            case arrived = "arrived_us"
            case hostHeader = "host_header"
        }
    }

    /// A connection's life: accepted at `opened`, closed at `closed` (nil while open).
    public struct LoggedConnection: Sendable, Hashable {
        public var id: Int
        public var host: String
        public var peer: String
        public var opened: Int64
        public var closed: Int64?
    }

    /// The parsed log, with the measures politeness tests assert on. `host` parameters are configured host names;
    /// nil means every host together.
    public struct RequestLog: Sendable {
        /// Requests in the order they started.
        public var requests: [LoggedRequest]
        /// Connections by id.
        public var connections: [Int: LoggedConnection]

        public init(requests: [LoggedRequest], connections: [Int: LoggedConnection] = [:]) {
            self.requests = requests.sorted {
                ($0.start, $0.connection, $0.sequence) < ($1.start, $1.connection, $1.sequence)
            }
            self.connections = connections
        }

        /// Parses the site's JSON-lines log.
        public init(contentsOf path: String) throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            struct Event: Decodable {
                var kind: String
                var conn: Int
                var host: String
                var peer: String?
                var t_us: Int64?
            }
            let decoder = JSONDecoder()
            var requests: [LoggedRequest] = []
            var connections: [Int: LoggedConnection] = [:]
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                let event = try decoder.decode(Event.self, from: line)
                switch event.kind {
                case "request":
                    requests.append(try decoder.decode(LoggedRequest.self, from: line))
                case "open":
                    connections[event.conn] = LoggedConnection(
                        id: event.conn, host: event.host, peer: event.peer ?? "", opened: event.t_us ?? 0, closed: nil)
                case "close":
                    connections[event.conn]?.closed = event.t_us
                default:
                    break
                }
            }
            self.init(requests: requests, connections: connections)
        }

        /// The requests host `host` served, in start order.
        public func requests(host: String?) -> [LoggedRequest] {
            guard let host else { return requests }
            return requests.filter { $0.host == host }
        }

        /// The paths (with queries) requested of `host`, in start order.
        public func paths(host: String?) -> [String] { requests(host: host).map(\.path) }

        /// Connections accepted by `host`.
        public func connectionCount(host: String?) -> Int {
            connections.values.filter { host == nil || $0.host == host }.count
        }

        /// The most connections that had a request open at the same moment, a request being open from `start` to
        /// `end`. A request that starts in the microsecond another ends does not overlap it.
        public func maxConcurrency(host: String?) -> Int {
            var events: [(time: Int64, isStart: Bool, connection: Int)] = []
            for request in requests(host: host) {
                events.append((request.start, true, request.connection))
                events.append((request.end, false, request.connection))
            }
            events.sort { $0.time != $1.time ? $0.time < $1.time : (!$0.isStart && $1.isStart) }
            var open: [Int: Int] = [:]
            var most = 0
            for event in events {
                if event.isStart {
                    open[event.connection, default: 0] += 1
                } else {
                    open[event.connection]! -= 1
                    if open[event.connection] == 0 { open[event.connection] = nil }
                }
                most = max(most, open.count)
            }
            return most
        }

        /// The smallest time between two consecutive request starts at `host`, in microseconds; nil with fewer than
        /// two requests.
        /// Measured on the kernel's arrival times when every request has one (the site's own reading of a request
        /// can be late on a loaded machine, shortening the next gap), else on the start times.
        public func smallestStartGap(host: String?) -> Int64? {
            let served = requests(host: host)
            let arrivals = served.compactMap(\.arrived)
            let starts = arrivals.count == served.count ? arrivals.sorted() : served.map(\.start)
            return zip(starts, starts.dropFirst()).map { $1 - $0 }.min()
        }

        /// The smallest time between the end of a response and the start of the next request at `host` (the delay a
        /// crawler waited), in microseconds; negative when requests overlapped; nil with fewer than two requests.
        public func smallestIdleGap(host: String?) -> Int64? {
            let served = requests(host: host)
            guard served.count >= 2 else { return nil }
            var latestEnd = served[0].end
            var smallest = Int64.max
            for request in served.dropFirst() {
                smallest = min(smallest, request.start - latestEnd)
                latestEnd = max(latestEnd, request.end)
            }
            return smallest
        }
    }
}
