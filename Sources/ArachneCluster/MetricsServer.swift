import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 listener for `GET /metrics`, on a thread of its own: a scrape never runs on the coordinator's
/// loop, the control loop or the store's writer, and a slow or stuck scraper holds up only this thread (each
/// connection has 2 s to send its request). One connection at a time, `Connection: close`: scrapes are rare.
public final class MetricsServer: Sendable {
    /// The address actually bound, `HOST:PORT`.
    public let address: String
    private let fd: Int32

    /// Listens on `HOST:PORT` (IPv4; port 0 picks one) and answers each scrape with `render()`.
    public init(listen: String, render: @escaping @Sendable () -> [UInt8]) throws {
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw CoordinatorError("--metrics '\(listen)' must be HOST:PORT, e.g. 127.0.0.1:9464")
        }
        let host = String(listen[..<colon])
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host.isEmpty ? "0.0.0.0" : host, &address.sin_addr) == 1 else {
            throw CoordinatorError("--metrics '\(listen)': '\(host)' is not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CoordinatorError("cannot open the metrics socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw CoordinatorError("cannot listen for metrics on \(listen): \(String(cString: strerror(code)))")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.address = "\(host.isEmpty ? "0.0.0.0" : host):\(UInt16(bigEndian: actual.sin_port))"
        let thread = Thread { Self.serve(fd, render: render) }
        thread.name = "arachne-metrics"
        thread.start()
    }

    /// Stops accepting (the thread's `accept` returns) and closes the socket once the thread is done.
    public func close() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private static func serve(_ listener: Int32, render: @Sendable () -> [UInt8]) {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break
            }
            answer(connection, render: render)
            Glibc.close(connection)
        }
        Glibc.close(listener)
    }

    private static func answer(_ connection: Int32, render: () -> [UInt8]) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while request.count < 16384 {
            let n = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            request += buffer[0..<n]
            if request.firstRange(of: end) != nil { break }
        }
        let line = String(decoding: request.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let response: [UInt8]
        if parts.count == 3, parts[0] == "GET" || parts[0] == "HEAD",
           parts[1] == "/metrics" || parts[1].hasPrefix("/metrics?")
        {
            let body = render()
            response = head(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body.count)
                + (parts[0] == "HEAD" ? [] : body)
        } else if parts.count == 3, parts[0] != "GET" && parts[0] != "HEAD" {
            let body = Array("only GET /metrics is served here\n".utf8)
            response = head(405, "Method Not Allowed", "text/plain; charset=utf-8", body.count) + body
        } else {
            let body = Array("not found: this listener serves /metrics\n".utf8)
            response = head(404, "Not Found", "text/plain; charset=utf-8", body.count) + body
        }
        var sent = 0
        while sent < response.count {
            let n = response.withUnsafeBytes {
                send(connection, $0.baseAddress! + sent, response.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            sent += n
        }
    }

    private static func head(_ status: Int, _ reason: String, _ type: String, _ length: Int) -> [UInt8] {
        Array(("HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(length)\r\n"
            + "Connection: close\r\n\r\n").utf8)
    }
}
