import ArachneCore
import Foundation

/// What the ladder keeps of a response: its status and how long its body was. Bodies are counted, not stored.
public struct ResponseSummary: Sendable, Hashable {
    public var status: Int
    /// Body bytes after de-chunking.
    public var bodyLength: Int
    /// The Content-Length header, when the response had one.
    public var declaredLength: Int?

    public init(status: Int, bodyLength: Int, declaredLength: Int?) {
        self.status = status
        self.bodyLength = bodyLength
        self.declaredLength = declaredLength
    }
}

/// An incremental HTTP/1.1 response parser for a `Connection: close` exchange: feed it every byte read, then tell it
/// the connection ended. The body is framed by Content-Length, by chunked transfer coding, or by the end of the
/// connection; a response cut short of its framing is a failure, not a shorter body.
struct ResponseReader {
    private enum Framing {
        case contentLength(Int)
        case chunked(ChunkedDecoder)
        case untilClose
    }

    /// The largest response head accepted, so a server that never ends its headers cannot grow memory unbounded.
    static let maximumHeadLength = 64 * 1024

    private var head: [UInt8] = []
    private var framing: Framing?
    private var status = 0
    private var declaredLength: Int?
    private(set) var bodyLength = 0
    /// Total bytes consumed, head included.
    private(set) var bytesReceived = 0

    init() {}

    /// Consumes the next bytes of the response.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(FetchFailure) {
        bytesReceived += bytes.count
        var rest = bytes[...]
        while !rest.isEmpty {
            guard let framing else {
                rest = try consumeHead(rest)
                continue
            }
            switch framing {
            case .contentLength(let length):
                guard bodyLength + rest.count <= length else {
                    throw FetchFailure(
                        kind: .protocol,
                        message: "more body than its Content-Length of \(length) bytes")
                }
                bodyLength += rest.count
                rest = rest[rest.endIndex...]
            case .chunked(var decoder):
                let data = try decoder.consume(&rest)
                bodyLength += data
                self.framing = .chunked(decoder)
            case .untilClose:
                bodyLength += rest.count
                rest = rest[rest.endIndex...]
            }
        }
    }

    /// The connection ended: returns the response, or why it is incomplete.
    func finish() throws(FetchFailure) -> ResponseSummary {
        guard let framing else {
            let message = head.isEmpty
                ? "the server closed the connection without responding"
                : "the connection closed inside the response head (\(head.count) bytes)"
            throw FetchFailure(kind: .reset, message: message)
        }
        switch framing {
        case .contentLength(let length) where bodyLength < length:
            throw FetchFailure(
                kind: .reset, message: "the connection closed after \(bodyLength) of \(length) body bytes")
        case .chunked(let decoder) where !decoder.isDone:
            throw FetchFailure(kind: .reset, message: "the connection closed inside a chunked body")
        default:
            return ResponseSummary(status: status, bodyLength: bodyLength, declaredLength: declaredLength)
        }
    }

    // MARK: The head

    /// Buffers head bytes until the blank line, parses the head, and returns the bytes after it.
    private mutating func consumeHead(_ bytes: Slice<UnsafeRawBufferPointer>) throws(FetchFailure)
        -> Slice<UnsafeRawBufferPointer>
    {
        // Resume the search for CRLF CRLF a few bytes back, in case it straddles two reads.
        let searchStart = max(0, head.count - 3)
        head.append(contentsOf: bytes)
        guard let end = Self.endOfHead(head, from: searchStart) else {
            if head.count > Self.maximumHeadLength {
                throw FetchFailure(
                    kind: .protocol, message: "response head longer than \(Self.maximumHeadLength) bytes")
            }
            return bytes[bytes.endIndex...]
        }
        let usedFromThisRead = end - (head.count - bytes.count)
        let headBytes = head[..<end]
        try parseHead(headBytes)
        head.removeAll()
        return bytes[(bytes.startIndex + usedFromThisRead)...]
    }

    /// The index just past the first CRLF CRLF at or after `start`.
    private static func endOfHead(_ bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    private mutating func parseHead(_ bytes: ArraySlice<UInt8>) throws(FetchFailure) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)[...]
        guard let statusLine = lines.popFirst() else {
            throw FetchFailure(kind: .protocol, message: "empty response head")
        }
        // "HTTP/1.1 200 OK": the reason phrase is optional.
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let code = Int(parts[1]),
              (100...599).contains(code)
        else {
            throw FetchFailure(kind: .protocol, message: "not an HTTP/1.x status line: \(statusLine.prefix(80))")
        }
        if (100..<200).contains(code) {
            // An interim response (100 Continue, 103 Early Hints): the real head follows it.
            return
        }
        var contentLength: Int?
        var chunked = false
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                throw FetchFailure(kind: .protocol, message: "header line without a colon: \(line.prefix(80))")
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch name {
            case "content-length":
                guard let length = Int(value), length >= 0, value.allSatisfy(\.isASCII) else {
                    throw FetchFailure(kind: .protocol, message: "invalid Content-Length: \(value.prefix(40))")
                }
                if let contentLength, contentLength != length {
                    throw FetchFailure(kind: .protocol, message: "conflicting Content-Length headers")
                }
                contentLength = length
            case "transfer-encoding":
                // The last coding decides the framing: "gzip, chunked" is chunked.
                let last = value.split(separator: ",").last?.trimmingCharacters(in: .whitespaces).lowercased()
                chunked = last == "chunked"
            default:
                break
            }
        }
        status = code
        declaredLength = contentLength
        if chunked {
            framing = .chunked(ChunkedDecoder())
        } else if let contentLength {
            framing = .contentLength(contentLength)
        } else if code == 204 || code == 304 {
            framing = .contentLength(0)
        } else {
            framing = .untilClose
        }
    }
}

/// Decodes chunked transfer coding incrementally, counting data bytes; extensions and trailers are skipped.
struct ChunkedDecoder {
    private enum State {
        case size(value: Int, digits: Int)
        case sizeExtension(value: Int)
        case sizeLineFeed(value: Int)
        case data(remaining: Int)
        case dataCarriageReturn
        case dataLineFeed
        case trailerLineStart
        case trailerLine
        case finalLineFeed
        case done
    }

    private var state = State.size(value: 0, digits: 0)

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes bytes from the front of `bytes` (all of them unless the body ends), returning how many data bytes
    /// they held.
    mutating func consume(_ bytes: inout Slice<UnsafeRawBufferPointer>) throws(FetchFailure) -> Int {
        var data = 0
        while let byte = bytes.first {
            if case .data(let remaining) = state {
                let take = min(remaining, bytes.count)
                data += take
                bytes = bytes[(bytes.startIndex + take)...]
                state = remaining == take ? .dataCarriageReturn : .data(remaining: remaining - take)
                continue
            }
            bytes = bytes[(bytes.startIndex + 1)...]
            switch state {
            case .size(let value, let digits):
                if let digit = Self.hexValue(byte) {
                    guard digits < 15 else { throw Self.failure("chunk size too large") }
                    state = .size(value: value * 16 + digit, digits: digits + 1)
                } else if digits > 0 && (byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ")
                    || byte == UInt8(ascii: "\t"))
                {
                    state = .sizeExtension(value: value)
                } else if digits > 0 && byte == 13 {
                    state = .sizeLineFeed(value: value)
                } else {
                    throw Self.failure("invalid chunk size line")
                }
            case .sizeExtension(let value):
                if byte == 13 { state = .sizeLineFeed(value: value) }
            case .sizeLineFeed(let value):
                guard byte == 10 else { throw Self.failure("chunk size line not ended by CRLF") }
                state = value == 0 ? .trailerLineStart : .data(remaining: value)
            case .dataCarriageReturn:
                guard byte == 13 else { throw Self.failure("chunk data longer than its size") }
                state = .dataLineFeed
            case .dataLineFeed:
                guard byte == 10 else { throw Self.failure("chunk data not ended by CRLF") }
                state = .size(value: 0, digits: 0)
            case .trailerLineStart:
                state = byte == 13 ? .finalLineFeed : .trailerLine
            case .trailerLine:
                if byte == 10 { state = .trailerLineStart }
            case .finalLineFeed:
                guard byte == 10 else { throw Self.failure("chunked body not ended by CRLF") }
                state = .done
            case .done:
                throw Self.failure("bytes after the end of a chunked body")
            case .data:
                preconditionFailure("handled above")
            }
        }
        return data
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private static func failure(_ message: String) -> FetchFailure {
        FetchFailure(kind: .protocol, message: "bad chunked body: \(message)")
    }
}
