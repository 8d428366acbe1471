import Glibc

/// What a response head said that the client acts on. Everything else stays in the raw head bytes.
public struct HTTP1ResponseHead: Sendable, Hashable {
    public var status: Int
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// The Content-Length header, when the response has one.
    public var contentLength: Int?
    /// The last transfer coding is `chunked`.
    public var chunked: Bool
    /// The Content-Encoding, lowercased, or nil for none / identity.
    public var contentEncoding: String?
    /// The connection may carry another request after this response.
    public var keepAlive: Bool
    /// The Location header, kept for redirects (3xx) only.
    public var location: String?

    /// A redirect a client follows: 301, 302, 303, 307 or 308.
    public var isRedirect: Bool {
        switch status {
        case 301, 302, 303, 307, 308: true
        default: false
        }
    }

    /// "1.0" or "1.1".
    public var version: String { minorVersion == 0 ? "1.0" : "1.1" }
}

/// Why a response could not be parsed, or ended before its framing said it would.
public struct HTTP1ParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Not valid HTTP/1.x.
        case malformed
        /// The connection ended inside the response.
        case incomplete
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// An incremental parser of HTTP/1.x responses on a persistent connection: feed it the bytes as they are read, get
/// body bytes back through a callback (de-chunked, not decoded), and learn where the response ended so the
/// connection can carry the next one. Interim (1xx) responses are skipped. No I/O: the fetch path and the tests drive
/// it with plain buffers.
public struct HTTP1ResponseParser: Sendable {
    private enum State: Sendable {
        case head
        case fixed(remaining: Int)
        case chunked(ChunkState)
        case untilClose
        case done
    }

    private enum ChunkState: Sendable {
        case size(value: Int, digits: Int)
        case sizeExtension(value: Int)
        case sizeLineFeed(value: Int)
        case data(remaining: Int)
        case dataCarriageReturn
        case dataLineFeed
        case trailerLineStart
        case trailerLine
        case finalLineFeed
    }

    /// The largest response head accepted, so a server that never ends its headers cannot grow memory unbounded.
    public static let maximumHeadLength = 64 * 1024
    /// The most interim (1xx) responses accepted before the final one, so a server that streams them without end
    /// fails the request at once instead of holding it until the total timeout. Real servers send one or two.
    public static let maximumInterimResponses = 16

    private var state = State.head
    /// The head of the response being parsed (after `head` is set: the final, non-interim head), CRLF CRLF included.
    public private(set) var headBytes: [UInt8] = []
    /// Set once the final head has been parsed.
    public private(set) var head: HTTP1ResponseHead?
    /// Bytes consumed since the start of this response, heads included.
    public private(set) var bytesConsumed = 0
    /// Where the unparsed part of `headBytes` begins: the search for CRLF CRLF resumes there.
    private var headSearchFrom = 0
    /// Interim responses skipped so far in this response.
    private var interimResponses = 0

    public init() {
        headBytes.reserveCapacity(512)
    }

    /// True once the whole response has been consumed.
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// True once any byte of a response arrived.
    public var hasStarted: Bool { bytesConsumed > 0 }

    /// Prepares for the next response on the same connection.
    public mutating func reset() {
        state = .head
        headBytes.removeAll(keepingCapacity: true)
        head = nil
        bytesConsumed = 0
        headSearchFrom = 0
        interimResponses = 0
    }

    /// Consumes bytes; body bytes are handed to `body` with the head as they are found. Returns how many bytes were used: all of
    /// them, or fewer when the response ended inside `bytes` (the rest belongs to no request: the caller decides).
    @discardableResult
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, body: (UnsafeRawBufferPointer, HTTP1ResponseHead) -> Void
    ) throws(HTTP1ParseError) -> Int {
        var index = 0
        let count = bytes.count
        while index < count {
            switch state {
            case .head:
                index = try consumeHead(bytes, from: index)
            case .fixed(let remaining):
                let take = min(remaining, count - index)
                body(UnsafeRawBufferPointer(rebasing: bytes[index..<index + take]), head!)
                index += take
                state = take == remaining ? .done : .fixed(remaining: remaining - take)
            case .chunked(let chunk):
                index = try consumeChunked(bytes, from: index, chunk, body: body)
            case .untilClose:
                body(UnsafeRawBufferPointer(rebasing: bytes[index...]), head!)
                index = count
            case .done:
                bytesConsumed += index
                return index
            }
        }
        bytesConsumed += index
        return index
    }

    /// The connection ended. Returns normally when that completes the response (it is framed by the end of the
    /// connection, or already complete); throws when the response was cut short.
    public mutating func finishAtEndOfStream() throws(HTTP1ParseError) {
        switch state {
        case .done:
            return
        case .untilClose:
            state = .done
        case .head:
            throw HTTP1ParseError(
                .incomplete,
                bytesConsumed == 0 ? "the server closed the connection without responding"
                    : "the connection closed inside the response head (\(headBytes.count) bytes)")
        case .fixed(let remaining):
            let length = head?.contentLength ?? 0
            throw HTTP1ParseError(
                .incomplete, "the connection closed after \(length - remaining) of \(length) body bytes")
        case .chunked:
            throw HTTP1ParseError(.incomplete, "the connection closed inside a chunked body")
        }
    }

    // MARK: The head

    /// Gathers head bytes until CRLF CRLF, then parses the head. Returns the index after the bytes it used.
    private mutating func consumeHead(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError)
        -> Int
    {
        let used: Int
        if headBytes.isEmpty, let end = Self.endOfHead(UnsafeRawBufferPointer(rebasing: bytes[start...]), from: 0) {
            // The usual case: the whole head is in this read. Copy the head only, not the body after it.
            headBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<start + end]))
            used = start + end
        } else {
            let before = headBytes.count
            headBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
            let found = headBytes.withUnsafeBytes { Self.endOfHead($0, from: headSearchFrom) }
            guard let end = found else {
                headSearchFrom = max(0, headBytes.count - 3)
                if headBytes.count > Self.maximumHeadLength {
                    throw HTTP1ParseError(.malformed, "response head longer than \(Self.maximumHeadLength) bytes")
                }
                return bytes.count
            }
            // Give back what followed the head.
            headBytes.removeLast(headBytes.count - end)
            used = start + (end - before)
        }
        if headBytes.count > Self.maximumHeadLength {
            throw HTTP1ParseError(.malformed, "response head longer than \(Self.maximumHeadLength) bytes")
        }
        let parsed = try Self.parseHead(headBytes)
        if (100..<200).contains(parsed.status) {
            guard parsed.status != 101 else {
                throw HTTP1ParseError(.malformed, "unexpected 101 Switching Protocols")
            }
            // An interim response (100 Continue, 103 Early Hints): the real head follows.
            interimResponses += 1
            guard interimResponses <= Self.maximumInterimResponses else {
                throw HTTP1ParseError(
                    .malformed, "more than \(Self.maximumInterimResponses) interim (1xx) responses before the final one")
            }
            headBytes.removeAll(keepingCapacity: true)
            headSearchFrom = 0
            return used
        }
        head = parsed
        if parsed.chunked {
            state = .chunked(.size(value: 0, digits: 0))
        } else if let length = parsed.contentLength {
            state = length == 0 ? .done : .fixed(remaining: length)
        } else if parsed.status == 204 || parsed.status == 304 {
            state = .done
        } else {
            state = .untilClose
            head?.keepAlive = false
        }
        return used
    }

    /// The offset just past the first CRLF CRLF at or after `start`.
    private static func endOfHead(_ buffer: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        let last = buffer.count - 3
        while index < last {
            let fourth = buffer[index + 3]
            if fourth != 10 {
                // No match starts at index..index+3 unless the fourth byte is a CR (then one may start at index+1).
                index += fourth == 13 ? 1 : 4
                continue
            }
            if buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    /// Parses a complete head (status line and header lines, ending in CRLF CRLF) from bytes.
    static func parseHead(_ bytes: [UInt8]) throws(HTTP1ParseError) -> HTTP1ResponseHead {
        try bytes.withUnsafeBufferPointer { (buffer) throws(HTTP1ParseError) -> HTTP1ResponseHead in
            var lines = LineCursor(buffer: buffer)
            guard let statusLine = lines.next() else { throw HTTP1ParseError(.malformed, "empty response head") }
            var head = try parseStatusLine(buffer, statusLine)
            var connectionClose = false
            var connectionKeepAlive = false
            while let line = lines.next() {
                if line.isEmpty { break }
                guard let colon = index(of: UInt8(ascii: ":"), in: buffer, line), colon > line.lowerBound else {
                    throw HTTP1ParseError(.malformed, "header line without a name and colon: \(text(buffer, line))")
                }
                let name = line.lowerBound..<colon
                let value = trimmed(buffer, colon + 1..<line.upperBound)
                switch name.count {
                case 14 where equalsLowercased(buffer, name, "content-length"):
                    guard let length = parseLength(buffer, value) else {
                        throw HTTP1ParseError(.malformed, "invalid Content-Length: \(text(buffer, value))")
                    }
                    if let existing = head.contentLength, existing != length {
                        throw HTTP1ParseError(.malformed, "conflicting Content-Length headers")
                    }
                    head.contentLength = length
                case 17 where equalsLowercased(buffer, name, "transfer-encoding"):
                    // The last coding decides the framing: "gzip, chunked" is chunked.
                    var last: Range<Int>?
                    forEachToken(buffer, value) { last = $0 }
                    head.chunked = last.map { equalsLowercased(buffer, $0, "chunked") } ?? false
                case 16 where equalsLowercased(buffer, name, "content-encoding"):
                    let coding = text(buffer, value).lowercased()
                    head.contentEncoding = coding == "identity" || coding.isEmpty ? nil : coding
                case 10 where equalsLowercased(buffer, name, "connection"):
                    forEachToken(buffer, value) { token in
                        if equalsLowercased(buffer, token, "close") { connectionClose = true }
                        if equalsLowercased(buffer, token, "keep-alive") { connectionKeepAlive = true }
                    }
                case 8 where equalsLowercased(buffer, name, "location"):
                    if (300..<400).contains(head.status) { head.location = text(buffer, value) }
                default:
                    break
                }
            }
            if head.chunked { head.contentLength = nil }
            head.keepAlive = !connectionClose && (head.minorVersion >= 1 || connectionKeepAlive)
            return head
        }
    }

    /// "HTTP/1.1 200 OK": the reason phrase may be empty.
    private static func parseStatusLine(_ buffer: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) throws(HTTP1ParseError)
        -> HTTP1ResponseHead
    {
        let b = line.lowerBound
        guard line.count >= 12, buffer[b] == UInt8(ascii: "H"), buffer[b + 1] == UInt8(ascii: "T"),
              buffer[b + 2] == UInt8(ascii: "T"), buffer[b + 3] == UInt8(ascii: "P"),
              buffer[b + 4] == UInt8(ascii: "/"), buffer[b + 5] == UInt8(ascii: "1"),
              buffer[b + 6] == UInt8(ascii: "."), buffer[b + 8] == UInt8(ascii: " "),
              let minor = digit(buffer[b + 7]), minor <= 1,
              let d0 = digit(buffer[b + 9]), let d1 = digit(buffer[b + 10]), let d2 = digit(buffer[b + 11]),
              line.count == 12 || buffer[b + 12] == UInt8(ascii: " ")
        else {
            throw HTTP1ParseError(.malformed, "not an HTTP/1.x status line: \(text(buffer, line.prefix(80)))")
        }
        let status = d0 * 100 + d1 * 10 + d2
        guard (100...599).contains(status) else {
            throw HTTP1ParseError(.malformed, "status code \(status) out of range")
        }
        return HTTP1ResponseHead(
            status: status, minorVersion: minor, contentLength: nil, chunked: false, contentEncoding: nil,
            keepAlive: true, location: nil)
    }

    // MARK: Chunked bodies

    private mutating func consumeChunked(
        _ bytes: UnsafeRawBufferPointer, from start: Int, _ initial: ChunkState,
        body: (UnsafeRawBufferPointer, HTTP1ResponseHead) -> Void
    ) throws(HTTP1ParseError) -> Int {
        var chunk = initial
        var index = start
        while index < bytes.count {
            if case .data(let remaining) = chunk {
                let take = min(remaining, bytes.count - index)
                body(UnsafeRawBufferPointer(rebasing: bytes[index..<index + take]), head!)
                index += take
                chunk = take == remaining ? .dataCarriageReturn : .data(remaining: remaining - take)
                continue
            }
            let byte = bytes[index]
            index += 1
            switch chunk {
            case .size(let value, let digits):
                if let digit = Self.hexDigit(byte) {
                    guard digits < 15 else { throw Self.chunkError("chunk size too large") }
                    chunk = .size(value: value * 16 + digit, digits: digits + 1)
                } else if digits > 0 && (byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ")
                    || byte == UInt8(ascii: "\t"))
                {
                    chunk = .sizeExtension(value: value)
                } else if digits > 0 && byte == 13 {
                    chunk = .sizeLineFeed(value: value)
                } else {
                    throw Self.chunkError("invalid chunk size line")
                }
            case .sizeExtension(let value):
                if byte == 13 { chunk = .sizeLineFeed(value: value) }
            case .sizeLineFeed(let value):
                guard byte == 10 else { throw Self.chunkError("chunk size line not ended by CRLF") }
                chunk = value == 0 ? .trailerLineStart : .data(remaining: value)
            case .dataCarriageReturn:
                guard byte == 13 else { throw Self.chunkError("chunk data longer than its size") }
                chunk = .dataLineFeed
            case .dataLineFeed:
                guard byte == 10 else { throw Self.chunkError("chunk data not ended by CRLF") }
                chunk = .size(value: 0, digits: 0)
            case .trailerLineStart:
                chunk = byte == 13 ? .finalLineFeed : .trailerLine
            case .trailerLine:
                if byte == 10 { chunk = .trailerLineStart }
            case .finalLineFeed:
                guard byte == 10 else { throw Self.chunkError("chunked body not ended by CRLF") }
                state = .done
                return index
            case .data:
                preconditionFailure("handled above")
            }
        }
        state = .chunked(chunk)
        return index
    }

    // MARK: Bytes

    private static func chunkError(_ message: String) -> HTTP1ParseError {
        HTTP1ParseError(.malformed, "bad chunked body: \(message)")
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte &- UInt8(ascii: "0")) : nil
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// A decimal length of at most 18 digits, nothing else.
    private static func parseLength(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for index in range {
            guard let d = digit(buffer[index]) else { return nil }
            value = value * 10 + d
        }
        return value
    }

    /// Compares ASCII bytes case-insensitively with a lowercase literal of the same length.
    private static func equalsLowercased(
        _ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ lowercase: StaticString
    ) -> Bool {
        lowercase.withUTF8Buffer { expected in
            guard expected.count == range.count else { return false }
            for (offset, index) in range.enumerated() {
                let byte = buffer[index]
                let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                if lowered != expected[offset] { return false }
            }
            return true
        }
    }

    /// `range` without leading and trailing spaces and tabs.
    private static func trimmed(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && (buffer[lower] == 32 || buffer[lower] == 9) { lower += 1 }
        while upper > lower && (buffer[upper - 1] == 32 || buffer[upper - 1] == 9) { upper -= 1 }
        return lower..<upper
    }

    /// The first index of `byte` in `range` of `buffer` (memchr: the head's lines are scanned a word at a time).
    static func index(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, let base = buffer.baseAddress,
              let found = memchr(base + range.lowerBound, Int32(byte), range.count)
        else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// Calls `body` with each comma-separated token of `range`, trimmed.
    private static func forEachToken(
        _ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Range<Int>) -> Void
    ) {
        var start = range.lowerBound
        for index in range where buffer[index] == UInt8(ascii: ",") {
            body(trimmed(buffer, start..<index))
            start = index + 1
        }
        body(trimmed(buffer, start..<range.upperBound))
    }

    private static func text(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
    }
}

/// Walks the lines of a head, each without its CRLF (a bare LF also ends a line).
private struct LineCursor {
    let buffer: UnsafeBufferPointer<UInt8>
    var position = 0

    init(buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    mutating func next() -> Range<Int>? {
        guard position < buffer.count else { return nil }
        let start = position
        let end = HTTP1ResponseParser.index(of: 10, in: buffer, start..<buffer.count) ?? buffer.count
        position = end + 1
        let lineEnd = end > start && buffer[end - 1] == 13 ? end - 1 : end
        return start..<lineEnd
    }
}
