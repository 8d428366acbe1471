import ArachneEventLoop
import ArachneSystem
import Glibc

/// One accepted connection of the demo site: reads requests, answers them in order, writes what the socket takes
/// and waits for writability for the rest.
///
/// Not `Sendable`: it is created, driven and closed only on its site's loop thread.
final class SiteConnection {
    private enum State {
        /// Reading and answering requests.
        case idle
        /// A response body is being produced as the socket drains; later requests wait.
        case streaming(persistent: Bool)
        /// `/delay/MS`: waiting for the timer.
        case delaying(TimerID)
        /// `/broken/stall`: reading and discarding until the client goes.
        case stalled
        /// The last response is queued; once written, the connection ends this way.
        case closing(CloseMode)
        /// Sent a refusal and shut down the sending side; reading until the client closes or the timer fires, so
        /// unread request bytes do not turn the close into a reset that destroys the refusal.
        case lingering(TimerID)
        case closed
    }

    enum CloseMode {
        case close
        case linger
        case reset
    }

    private static let initialInbound = 4 * 1024
    private static let maxInbound = 32 * 1024
    private static let lowWater = 64 * 1024
    private static let fillBudget = 128 * 1024
    private static let inlineBodyLimit = 256 * 1024
    private static let writeBudgetPerWakeup = 4 * 1024 * 1024
    private static let lingerMilliseconds = 2_000

    let fd: Int32
    private let site: DemoSite
    private var loop: EventLoop { site.loop }
    private var state = State.idle
    private var inbound: InboundBuffer
    private var scanned = 0
    private var bodyToDiscard = 0
    private var outbound: [UInt8] = []
    private var sent = 0
    private var producer: BodyProducer?
    private var peerClosed = false
    private var interest: Interest = .readable

    init(fd: Int32, site: DemoSite) {
        self.fd = fd
        self.site = site
        inbound = InboundBuffer(capacity: Self.initialInbound)
    }

    private var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Whether incoming bytes are thrown away rather than parsed.
    private var discardsInput: Bool {
        switch state {
        case .stalled, .closing, .lingering: return true
        default: return false
        }
    }

    // MARK: Events

    func handle(_ readiness: Readiness) {
        if isClosed { return }
        if readiness.contains(.error) {
            close()
            return
        }
        if readiness.contains(.readable) || readiness.contains(.hangup) {
            let couldRead = readInput()
            if isClosed { return }
            if !couldRead && readiness.contains(.hangup) {
                // The buffer is full of pipelined requests and the client hung up: nothing more can happen.
                close()
                return
            }
        }
        drive()
    }

    /// Reads what the socket has. False when the inbound buffer was full and nothing could be read.
    private func readInput() -> Bool {
        while true {
            if discardsInput {
                inbound.clear()
            } else if !inbound.makeSpace(limit: Self.maxInbound) {
                return false
            }
            let space = inbound.freeSpace
            let result: IOResult<Int>
            do {
                result = try Syscall.read(fd, into: space)
            } catch {
                close()
                return true
            }
            switch result {
            case .wouldBlock:
                return true
            case .processed(0):
                peerClosed = true
                return true
            case .processed(let count):
                inbound.didWrite(count)
                // A short read drained the socket; level-triggered epoll reports anything that arrives later.
                if count < space.count { return true }
            }
        }
    }

    /// Answers what has arrived, writes, and repeats while a finished stream lets waiting requests through.
    private func drive() {
        while true {
            if case .idle = state { processInbound() }
            if isClosed { return }
            let streamFinished = flush()
            if isClosed { return }
            guard streamFinished, case .idle = state, inbound.count > 0 else { break }
        }
        if peerClosed {
            // The client finished sending. Whatever is not written yet cannot wait for it (epoll would report the
            // hang-up on every wake-up), and nothing it asks for later can arrive.
            close()
            return
        }
        updateInterest()
    }

    private func processInbound() {
        while case .idle = state {
            if bodyToDiscard > 0 {
                let count = min(bodyToDiscard, inbound.count)
                inbound.consume(count)
                bodyToDiscard -= count
                if bodyToDiscard > 0 { return }
            }
            if inbound.count == 0 { return }
            let bytes = inbound.bytes
            switch HTTPRequestParser.parse(bytes, scannedFrom: scanned) {
            case .incomplete(let scannedTo):
                scanned = scannedTo
                return
            case .invalid(let error):
                scanned = 0
                refuse(error)
                inbound.clear()
                return
            case .complete(let head, let length):
                scanned = 0
                respond(to: head, in: bytes)
                inbound.consume(length)
                bodyToDiscard = head.contentLength
            }
        }
    }

    // MARK: Responses

    private func respond(to head: RequestHead, in bytes: UnsafeRawBufferPointer) {
        let persistent = head.persistent
        let connection = ConnectionHeader(persistent: persistent, minorVersion: head.minorVersion)
        let includeBody = head.method != .head
        if head.method == .other {
            site.methodNotAllowedResponse.append(to: &outbound, connection: connection, includeBody: true)
            return finish(persistent: persistent)
        }
        let route = SiteRoute(
            path: UnsafeRawBufferPointer(rebasing: bytes[head.targetStart..<head.targetEnd]), pageCount: site.pageCount)
        switch route {
        case .index:
            site.indexResponse.append(to: &outbound, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .robots:
            site.robotsResponse.append(to: &outbound, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .page(let n):
            site.pageResponse(n).append(to: &outbound, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .sitemap:
            site.sitemapResponse().append(to: &outbound, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .trap(let index):
            site.trapResponses[index].append(to: &outbound, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .moved(let n):
            var location: [UInt8] = []
            location.appendLiteral("/page/")
            location.appendDecimal(n)
            var body: [UInt8] = []
            body.appendLiteral("moved to ")
            body.append(contentsOf: location)
            body.appendLiteral("\n")
            outbound.appendHead(
                status: 301, contentType: "text/plain", framing: .length(body.count), connection: connection
            ) { head in
                head.appendLiteral("Location: ")
                head.append(contentsOf: location)
                head.appendLiteral("\r\n")
            }
            if includeBody { outbound.append(contentsOf: body) }
            finish(persistent: persistent)
        case .notFound:
            site.notFoundResponse.append(to: &outbound, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .outOfRange(let message):
            appendText(status: 400, message + "\n", connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .bytes(let count):
            outbound.appendHead(
                status: 200, contentType: "application/octet-stream", framing: .length(count), connection: connection)
            sendBody(includeBody ? .pattern(position: 0, remaining: count) : nil, size: count, persistent: persistent)
        case .chunked(let count):
            if head.minorVersion == 0 {
                // HTTP/1.0 has no chunked encoding: the same bytes, with a length.
                outbound.appendHead(
                    status: 200, contentType: "application/octet-stream", framing: .length(count),
                    connection: connection)
                let body = BodyProducer.pattern(position: 0, remaining: count)
                sendBody(includeBody ? body : nil, size: count, persistent: persistent)
            } else {
                outbound.appendHead(
                    status: 200, contentType: "application/octet-stream", framing: .chunked, connection: connection)
                let body = BodyProducer.chunked(
                    position: 0, remaining: count, chunkSize: DemoSite.chunkSize(forBodyOf: count))
                sendBody(includeBody ? body : nil, size: count, persistent: persistent)
            }
        case .gzip(let count):
            site.gzipResponse(count).append(to: &outbound, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .status(let code):
            if code == 204 || code == 304 {
                outbound.appendHead(status: code, contentType: nil, framing: .noBody, connection: connection)
            } else {
                var body: [UInt8] = []
                body.appendLiteral("status ")
                body.appendDecimal(code)
                body.appendLiteral("\n")
                outbound.appendHead(
                    status: code, contentType: "text/plain", framing: .length(body.count), connection: connection)
                if includeBody { outbound.append(contentsOf: body) }
            }
            finish(persistent: persistent)
        case .delay(let milliseconds):
            let timer = loop.scheduleTimer(afterMilliseconds: milliseconds) { [self] in
                guard case .delaying = state else { return }
                state = .idle
                var body: [UInt8] = []
                body.appendLiteral("delayed ")
                body.appendDecimal(milliseconds)
                body.appendLiteral(" ms\n")
                appendBytes(status: 200, body, connection: connection, includeBody: includeBody)
                finish(persistent: persistent)
                drive()
            }
            state = .delaying(timer)
        case .redirect(let n):
            if n == 0 {
                site.redirectDoneResponse.append(to: &outbound, connection: connection, includeBody: includeBody)
            } else {
                var location: [UInt8] = []
                location.appendLiteral("/redirect/")
                location.appendDecimal(n - 1)
                var body: [UInt8] = []
                body.appendLiteral("redirecting to ")
                body.append(contentsOf: location)
                body.appendLiteral("\n")
                outbound.appendHead(
                    status: 302, contentType: "text/plain", framing: .length(body.count), connection: connection
                ) { head in
                    head.appendLiteral("Location: ")
                    head.append(contentsOf: location)
                    head.appendLiteral("\r\n")
                }
                if includeBody { outbound.append(contentsOf: body) }
            }
            finish(persistent: persistent)
        case .redirectLoop:
            site.redirectLoopResponse.append(to: &outbound, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .headers:
            var body: [UInt8] = []
            var lineStart = head.headersStart
            while lineStart < head.headersEnd {
                let newline = HTTPRequestParser.firstIndex(
                    of: UInt8(ascii: "\n"), in: bytes, from: lineStart, to: head.headersEnd) ?? head.headersEnd
                var lineEnd = newline
                if lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                body.append(contentsOf: bytes[lineStart..<lineEnd])
                body.append(UInt8(ascii: "\n"))
                lineStart = newline + 1
            }
            appendBytes(status: 200, body, connection: connection, includeBody: includeBody)
            finish(persistent: persistent)
        case .brokenGarbage:
            outbound.append(contentsOf: Self.garbage)
            site.responseServed()
            state = .closing(.close)
        case .brokenReset:
            site.responseServed()
            state = .closing(.reset)
        case .brokenStall:
            state = .stalled
        case .brokenTruncated:
            outbound.appendHead(
                status: 200, contentType: "application/octet-stream", framing: .length(1024), connection: .close)
            outbound.appendPattern(position: 0, count: 100)
            site.responseServed()
            state = .closing(.close)
        case .brokenEndless:
            outbound.appendHead(
                status: 200, contentType: "application/octet-stream", framing: .chunked, connection: connection)
            producer = .endless(position: 0)
            state = .streaming(persistent: false)
        case .brokenBadStatus:
            outbound.appendLiteral("HTTP/1.1 abc Broken\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbad\n")
            site.responseServed()
            state = .closing(.close)
        case .brokenHugeHeader:
            outbound.appendHead(status: 200, contentType: "text/plain", framing: .length(3), connection: .close) {
                $0.appendLiteral("X-Huge: ")
                $0.append(contentsOf: repeatElement(UInt8(ascii: "a"), count: 200 * 1024))
                $0.appendLiteral("\r\n")
            }
            outbound.appendLiteral("ok\n")
            site.responseServed()
            state = .closing(.close)
        case .brokenInterim:
            producer = .interim
            state = .streaming(persistent: false)
        }
    }

    private static let garbage: [UInt8] =
        Array("SSH-2.0-NotHTTP\r\n".utf8) + [0x00, 0xFF, 0xFE, 0x80, 0x1B]
        + Array("\u{7}garbage, not HTTP\r\n\r\n".utf8)

    /// Sends a body now if it is small, otherwise streams it as the socket drains.
    private func sendBody(_ body: BodyProducer?, size: Int, persistent: Bool) {
        guard var body else { return finish(persistent: persistent) }
        if size <= Self.inlineBodyLimit {
            _ = body.fill(&outbound, budget: .max)
            finish(persistent: persistent)
        } else {
            producer = body
            state = .streaming(persistent: persistent)
        }
    }

    private func appendText(status: Int, _ text: String, connection: ConnectionHeader, includeBody: Bool) {
        appendBytes(status: status, Array(text.utf8), connection: connection, includeBody: includeBody)
    }

    private func appendBytes(status: Int, _ body: [UInt8], connection: ConnectionHeader, includeBody: Bool) {
        outbound.appendHead(
            status: status, contentType: "text/plain", framing: .length(body.count), connection: connection)
        if includeBody { outbound.append(contentsOf: body) }
    }

    /// The response is queued whole: count it, and close after it unless the connection persists.
    private func finish(persistent: Bool) {
        site.responseServed()
        if !persistent { state = .closing(.close) }
    }

    /// Refuses a request that could not be parsed: the status, a message, and a lingering close.
    private func refuse(_ error: RequestError) {
        appendText(status: error.status, error.message + "\n", connection: .close, includeBody: true)
        site.responseServed()
        state = .closing(.linger)
    }

    // MARK: Writing

    /// Writes queued bytes (producing more from a streaming body as they drain) until the socket would block, the
    /// queue is empty, or this wake-up's budget is spent. True when a streamed body finished.
    private func flush() -> Bool {
        var streamFinished = false
        var written = 0
        while true {
            if var body = producer, outbound.count - sent < Self.lowWater {
                if body.fill(&outbound, budget: Self.fillBudget) {
                    producer = nil
                    if case .streaming(let persistent) = state {
                        state = .idle
                        finish(persistent: persistent)
                    }
                    streamFinished = true
                } else {
                    producer = body
                }
            }
            let pending = outbound.count - sent
            if pending == 0 { break }
            if written >= Self.writeBudgetPerWakeup { return streamFinished }
            let result: IOResult<Int>
            do {
                result = try outbound.withUnsafeBytes { all throws(SystemError) in
                    try Syscall.write(fd, from: UnsafeRawBufferPointer(rebasing: all[sent...]))
                }
            } catch {
                // EPIPE, ECONNRESET: the client has gone.
                close()
                return false
            }
            guard case .processed(let count) = result else { return streamFinished }
            written += count
            sent += count
            if sent == outbound.count {
                if outbound.capacity > 1 << 20 {
                    outbound = []
                } else {
                    outbound.removeAll(keepingCapacity: true)
                }
                sent = 0
            } else if sent >= 256 * 1024 {
                outbound.removeFirst(sent)
                sent = 0
            }
        }
        if producer == nil, case .closing(let mode) = state { endConnection(mode) }
        return streamFinished
    }

    private func endConnection(_ mode: CloseMode) {
        switch mode {
        case .close:
            close()
        case .reset:
            try? Syscall.setLingerZero(fd)
            close()
        case .linger:
            if peerClosed || (try? Syscall.shutdownWrite(fd)) == nil {
                close()
                return
            }
            let timer = loop.scheduleTimer(afterMilliseconds: Self.lingerMilliseconds) { [self] in
                if case .lingering = state { close() }
            }
            state = .lingering(timer)
        }
    }

    private func updateInterest() {
        var wanted: Interest = []
        if discardsInput || inbound.count < Self.maxInbound { wanted.insert(.readable) }
        if outbound.count > sent || producer != nil { wanted.insert(.writable) }
        guard wanted != interest else { return }
        do {
            try loop.modify(fd: fd, interest: wanted)
            interest = wanted
        } catch {
            close()
        }
    }

    // MARK: Closing

    /// Closes the connection now: cancels its timer, forgets it on the loop and in the site, frees its buffers.
    func close() {
        switch state {
        case .closed: return
        case .delaying(let timer), .lingering(let timer): loop.cancelTimer(timer)
        default: break
        }
        state = .closed
        loop.deregister(fd: fd)
        try? Syscall.close(fd)
        inbound.deallocate()
        outbound = []
        producer = nil
        site.connectionClosed(fd)
    }

    /// Closes a connection whose registration failed (it was never in the site's table).
    func discardUnregistered() {
        state = .closed
        try? Syscall.close(fd)
        inbound.deallocate()
    }
}

/// A connection's request bytes: a manually managed buffer so the socket reads straight into it and the parser
/// reads it in place.
struct InboundBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: capacity, alignment: 1)
    }

    var count: Int { end - start }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }
    var freeSpace: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: storage[end...]) }

    mutating func didWrite(_ count: Int) { end += count }

    mutating func consume(_ count: Int) {
        start += count
        if start == end { clear() }
    }

    mutating func clear() {
        start = 0
        end = 0
    }

    /// Makes room at the end: moves the bytes to the front, or grows up to `limit`. False when full at `limit`.
    mutating func makeSpace(limit: Int) -> Bool {
        if end < storage.count { return true }
        if start > 0 {
            storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: count)
            end = count
            start = 0
            return true
        }
        guard storage.count < limit else { return false }
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(limit, storage.count * 2), alignment: 1)
        bigger.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: end)
        storage.deallocate()
        storage = bigger
        return true
    }

    mutating func deallocate() {
        storage.deallocate()
        storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        clear()
    }
}

/// A response body produced as the socket drains, so a large or endless body never sits in memory whole.
enum BodyProducer {
    /// The site's byte pattern.
    case pattern(position: Int, remaining: Int)
    /// The pattern in chunked encoding, then the last chunk.
    case chunked(position: Int, remaining: Int, chunkSize: Int)
    /// Chunks of the pattern, forever.
    case endless(position: Int)
    /// Interim `103 Early Hints` responses, forever: no final response ever comes.
    case interim

    private static let endlessChunk = 16 * 1024
    private static let earlyHints = Array("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n".utf8)

    /// Appends about `budget` body bytes (whole chunks); true when the body is complete.
    mutating func fill(_ out: inout [UInt8], budget: Int) -> Bool {
        switch self {
        case .pattern(let position, let remaining):
            let run = min(remaining, budget)
            out.appendPattern(position: position, count: run)
            if run == remaining { return true }
            self = .pattern(position: position + run, remaining: remaining - run)
            return false
        case .chunked(var position, var remaining, let chunkSize):
            var used = 0
            while remaining > 0 && used < budget {
                let size = min(chunkSize, remaining)
                out.appendHex(size)
                out.appendLiteral("\r\n")
                out.appendPattern(position: position, count: size)
                out.appendLiteral("\r\n")
                position += size
                remaining -= size
                used += size
            }
            if remaining == 0 {
                out.appendLiteral("0\r\n\r\n")
                return true
            }
            self = .chunked(position: position, remaining: remaining, chunkSize: chunkSize)
            return false
        case .endless(var position):
            var used = 0
            while used < budget {
                out.appendHex(Self.endlessChunk)
                out.appendLiteral("\r\n")
                out.appendPattern(position: position, count: Self.endlessChunk)
                out.appendLiteral("\r\n")
                position += Self.endlessChunk
                used += Self.endlessChunk
            }
            self = .endless(position: position)
            return false
        case .interim:
            var used = 0
            while used < budget {
                out.append(contentsOf: Self.earlyHints)
                used += Self.earlyHints.count
            }
            return false
        }
    }
}
