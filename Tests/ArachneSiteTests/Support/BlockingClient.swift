import ArachneEventLoop
import ArachneSite
import ArachneSystem
import Foundation
import Glibc
import Testing

/// A test failure with a message.
struct ClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One parsed HTTP response as the test client read it.
struct HTTPResponse {
    var version: String
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// The chunk sizes of a chunked body, in order, the final 0 included.
    var chunkSizes: [Int] = []

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking HTTP/1.x client on a plain socket, with receive and send timeouts so no test can hang. Used from a
/// dedicated thread (`onThread`), never from the site's loop or the cooperative pool.
final class BlockingClient {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    init(port: UInt16, timeoutSeconds: Int = 10) throws {
        fd = try Syscall.tcpSocket(nonBlocking: false)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        do {
            _ = try Syscall.connect(fd, .loopback(port: port))
        } catch {
            try? Syscall.close(fd)
            throw error
        }
    }

    deinit { close() }

    func close() {
        if !closed {
            closed = true
            try? Syscall.close(fd)
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let result = try bytes.withUnsafeBytes { all in
                try Syscall.write(fd, from: UnsafeRawBufferPointer(rebasing: all[offset...]))
            }
            guard case .processed(let count) = result else { throw ClientError("send timed out") }
            offset += count
        }
    }

    /// `GET path` (or another method) with the given extra header lines.
    func request(
        _ path: String, method: String = "GET", version: String = "HTTP/1.1", headers: [String] = []
    ) throws {
        var text = "\(method) \(path) \(version)\r\nHost: 127.0.0.1\r\n"
        for header in headers { text += header + "\r\n" }
        try send(text + "\r\n")
    }

    /// Reads more bytes into the buffer; 0 at end of stream. Throws on a timeout or a socket error (a reset).
    @discardableResult
    func fill() throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let result = try chunk.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) }
        guard case .processed(let count) = result else { throw ClientError("read timed out") }
        buffer.append(contentsOf: chunk[0..<count])
        return count
    }

    /// Whether a byte arrives within `milliseconds` (poll; nothing is consumed). False when nothing did.
    func hasData(withinMilliseconds milliseconds: Int32) -> Bool {
        if !buffer.isEmpty { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    private func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[0..<newline])
                buffer.removeFirst(newline + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if buffer.count > 1 << 20 { throw ClientError("line longer than 1 MiB") }
            if try fill() == 0 {
                throw ClientError("end of stream in a line: \(String(decoding: buffer, as: UTF8.self))")
            }
        }
    }

    private func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            if try fill() == 0 { throw ClientError("end of stream after \(buffer.count) of \(count) bytes") }
        }
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// Everything until the server closes.
    func readToEnd() throws -> [UInt8] {
        while try fill() > 0 {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// Reads the status line and header lines.
    func readHead() throws -> HTTPResponse {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            throw ClientError("bad status line: \(statusLine)")
        }
        var headers: [(name: String, value: String)] = []
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw ClientError("bad header line: \(line)") }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((String(line[..<colon]), value))
        }
        return HTTPResponse(version: String(parts[0]), status: status, headers: headers, body: [])
    }

    /// Reads one whole response; `head` says the request was HEAD (no body follows).
    func readResponse(head: Bool = false) throws -> HTTPResponse {
        var response = try readHead()
        if head || response.status == 204 || response.status == 304 { return response }
        if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine, radix: 16) else { throw ClientError("bad chunk size line: \(sizeLine)") }
                response.chunkSizes.append(size)
                if size == 0 {
                    guard try readLine().isEmpty else { throw ClientError("trailer after the last chunk") }
                    return response
                }
                response.body += try readExactly(size)
                guard try readLine().isEmpty else { throw ClientError("chunk not followed by CRLF") }
            }
        }
        if let length = response.header("Content-Length").flatMap(Int.init) {
            response.body = try readExactly(length)
        } else {
            response.body = try readToEnd()
        }
        return response
    }
}

/// Runs blocking work on a new thread, keeping the cooperative pool free while it waits on sockets.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

/// A loop and a demo site on it, for one test.
final class SiteFixture: Sendable {
    let loop: EventLoop
    let site: DemoSite

    init(pageCount: Int = DemoSite.defaultPageCount) throws {
        loop = try EventLoop(name: "site-test")
        do {
            site = try DemoSite.start(on: loop, pageCount: pageCount)
        } catch {
            loop.shutdown()
            throw error
        }
    }

    var port: UInt16 { site.port }

    func shutdown() {
        site.stop()
        loop.shutdown()
    }

    /// Polls `condition` every 10 ms for up to 5 s (for state the server reaches a moment after the client sees it).
    func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}

/// Starts a site, runs `body`, and stops the site whatever happens.
func withSite(
    pageCount: Int = DemoSite.defaultPageCount, _ body: (SiteFixture) async throws -> Void
) async throws {
    let fixture = try SiteFixture(pageCount: pageCount)
    do {
        try await body(fixture)
    } catch {
        fixture.shutdown()
        throw error
    }
    fixture.shutdown()
}

/// Runs `bytes` through python3's gzip module: an independent decoder for `/gzip/N`.
func gunzipWithPython(_ bytes: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c", "import gzip, sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))",
    ]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(bytes))
    try input.fileHandleForWriting.close()
    let decoded = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ClientError("python3 gzip.decompress failed") }
    return Array(decoded)
}

/// Descriptors of this process that are TCP sockets whose local port is `port`: the site's listener and the
/// connections it accepted (test clients have `port` as their remote port, not their local one).
func socketsWithLocalPort(_ port: UInt16) -> Int {
    var inodes = Set<String>()
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // Read to end of file: /proc files report size 0, and the table can be longer than one read.
        guard let handle = FileHandle(forReadingAtPath: file) else { continue }
        let table = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        try? handle.close()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, let colon = fields[1].lastIndex(of: ":"),
                  UInt16(fields[1][fields[1].index(after: colon)...], radix: 16) == port
            else { continue }
            inodes.insert(String(fields[9]))
        }
    }
    var count = 0
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for name in names {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
              target.hasPrefix("socket:[")
        else { continue }
        if inodes.contains(String(target.dropFirst(8).dropLast())) { count += 1 }
    }
    return count
}

/// The suites that open sockets run one test at a time: the descriptor-count check in the lifecycle suite compares
/// the whole process's count, which a load test running beside it would disturb.
@Suite(.serialized) struct SiteSocketTests {}
