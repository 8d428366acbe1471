import ArachneSystem
import Foundation
import Glibc

/// One blocking HTTP/1.1 keep-alive connection, for tests that need to control exactly which connection a request
/// goes on (curl and the fetch engine pool connections their own way). Responses need a `Content-Length`.
///
/// Not Sendable: one thread uses it.
public final class BlockingHTTPConnection {
    public struct Response: Sendable {
        public var status: Int
        /// Header lines as received, names lower-cased.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.name == name.lowercased() }?.value
        }

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let fd: Int32
    private var buffered: [UInt8] = []
    private var closed = false
    /// The client side's port: the one the server logs in `peer`.
    public let localPort: UInt16
    public let address: String
    public let port: UInt16

    /// Connects to `address:port` (an IPv4 address); reads and writes give up after `timeout`.
    public init(address: String, port: UInt16, timeout: Duration = .seconds(15)) throws {
        guard let target = IPv4Address(address, port: port) else {
            throw PoliteSiteError("not an IPv4 address: \(address)")
        }
        fd = try Syscall.tcpSocket(nonBlocking: false)
        do {
            try Syscall.setTimeout(fd, .receive, timeout)
            try Syscall.setTimeout(fd, .send, timeout)
            _ = try Syscall.connect(fd, target)
            localPort = try Syscall.localAddress(fd).port
        } catch {
            try? Syscall.close(fd)
            throw error
        }
        self.address = address
        self.port = port
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        try? Syscall.close(fd)
    }

    /// Sends one request and reads its response. `host` is the `Host` header (default `address:port`).
    public func request(
        _ method: String = "GET", _ path: String, host: String? = nil, headers: [String] = []
    ) throws -> Response {
        try send(method, path, host: host, headers: headers)
        return try readResponse(method: method)
    }

    /// Sends a request without reading the response (for pipelining).
    public func send(_ method: String = "GET", _ path: String, host: String? = nil, headers: [String] = []) throws {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host ?? "\(address):\(port)")\r\n"
        for header in headers { text += header + "\r\n" }
        text += "\r\n"
        try write(Array(text.utf8))
    }

    /// Reads the next response; `method` tells whether it has a body (HEAD has none).
    public func readResponse(method: String = "GET") throws -> Response {
        var headEnd: Int?
        while true {
            if let end = Self.find([13, 10, 13, 10], in: buffered) {
                headEnd = end
                break
            }
            try fill()
        }
        let head = String(decoding: buffered[..<headEnd!], as: UTF8.self)
        buffered.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw PoliteSiteError("bad status line: \(head.prefix(100))")
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = method == "HEAD" ? 0 : Int(headers.first { $0.name == "content-length" }?.value ?? "0") ?? 0
        while buffered.count < length { try fill() }
        let body = Array(buffered[..<length])
        buffered.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let result = try bytes.withUnsafeBytes {
                try Syscall.write(fd, from: UnsafeRawBufferPointer(rebasing: $0[offset...]))
            }
            guard case .processed(let count) = result else { throw PoliteSiteError("write timed out") }
            offset += count
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let result = try chunk.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) }
        switch result {
        case .processed(0): throw PoliteSiteError("the server closed the connection")
        case .processed(let count): buffered += chunk[..<count]
        case .wouldBlock: throw PoliteSiteError("read timed out")
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }
}
