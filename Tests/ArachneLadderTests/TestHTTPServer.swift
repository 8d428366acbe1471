import Foundation
import Glibc
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 for the ladder's tests: blocking sockets, one background thread, one
/// connection at a time. It reads a request head, counts it, and answers with a fixed body and `Connection: close`
/// (or, past `stallAfter` requests, holds the connection open without answering).
final class TestHTTPServer: @unchecked Sendable {
    // Safety: `listenFD` and `port` are set in init before the thread starts; `held` is touched only by the serving
    // thread until `stop()` has waited for that thread to end; the counters are atomics.

    struct Behavior: Sendable {
        var status = 200
        var bodyLength = 1000
        var chunked = false
        /// Every `shortEvery`-th response has a body one byte shorter (with a matching Content-Length).
        var shortEvery: Int?
        /// Requests after this many are read and counted but never answered.
        var stallAfter: Int?
    }

    let port: UInt16
    let behavior: Behavior
    private let listenFD: Int32
    private let requestCount = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var held: [Int32] = []

    var baseURL: String { "http://127.0.0.1:\(port)/" }
    /// Request heads received so far.
    var requests: Int { requestCount.load(ordering: .acquiring) }

    init(_ behavior: Behavior = Behavior()) throws {
        self.behavior = behavior
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestServerError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            close(fd)
            throw TestServerError("bind/listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listenFD = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in
            serve()
            finished.signal()
        }
        thread.name = "test-http-server"
        thread.start()
    }

    /// Stops serving, closes every descriptor the server holds, and waits for its thread.
    func stop() {
        stopping.store(true, ordering: .releasing)
        finished.wait()
        for fd in held { close(fd) }
        held.removeAll()
        close(listenFD)
    }

    private func serve() {
        while !stopping.load(ordering: .acquiring) {
            // Poll with a short timeout so `stop()` is noticed: a bounded wait, never a blocked accept.
            var entry = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) == 1 else { continue }
            let connection = accept(listenFD, nil, nil)
            guard connection >= 0 else { continue }
            handle(connection)
        }
    }

    private func handle(_ fd: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard readRequestHead(fd) else {
            close(fd)
            return
        }
        let number = requestCount.add(1, ordering: .acquiringAndReleasing).newValue
        if let stallAfter = behavior.stallAfter, number > stallAfter {
            held.append(fd)
            return
        }
        var length = behavior.bodyLength
        if let every = behavior.shortEvery, number % every == 0 { length -= 1 }
        writeAll(fd, response(bodyLength: length))
        close(fd)
    }

    private func response(bodyLength: Int) -> [UInt8] {
        let body = (0..<bodyLength).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        var head = "HTTP/1.1 \(behavior.status) Test\r\nServer: ladder-test\r\nConnection: close\r\n"
        if behavior.chunked {
            head += "Transfer-Encoding: chunked\r\n\r\n"
            var bytes = Array(head.utf8)
            // Uneven chunks, so a chunk boundary rarely falls on a read boundary.
            var offset = 0
            var size = 1
            while offset < body.count {
                let take = min(size, body.count - offset)
                bytes += Array((String(take, radix: 16) + ";ext=1\r\n").utf8) + body[offset..<offset + take] + [13, 10]
                offset += take
                size = size * 3 + 1
            }
            return bytes + Array("0\r\nX-Trailer: yes\r\n\r\n".utf8)
        }
        head += "Content-Length: \(bodyLength)\r\n\r\n"
        return Array(head.utf8) + body
    }

    private func readRequestHead(_ fd: Int32) -> Bool {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 64 * 1024 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return false }
            received += buffer[0..<count]
            if received.count >= 4, received.suffix(4) == [13, 10, 13, 10] { return true }
        }
        return false
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { return }
            sent += count
        }
    }
}

struct TestServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A loopback port with nothing listening: bound, then closed at once.
func closedLoopbackPort() throws -> UInt16 {
    let server = try TestHTTPServer()
    let port = server.port
    server.stop()
    return port
}
