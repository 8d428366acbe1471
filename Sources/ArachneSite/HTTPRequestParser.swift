/// The parts of an HTTP/1.x request head the site acts on. Offsets are relative to the start of the bytes that were
/// parsed, so the caller can read the target and header lines without copying them first.
struct RequestHead: Equatable {
    enum Method: Equatable {
        case get
        case head
        case other
    }

    var method: Method
    /// The path (origin form, query included), as offsets into the parsed bytes.
    var targetStart: Int
    var targetEnd: Int
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    var minorVersion: Int
    var connectionClose = false
    var connectionKeepAlive = false
    var contentLength = 0
    /// The header lines (without the blank line that ends them), as offsets into the parsed bytes.
    var headersStart: Int
    var headersEnd: Int

    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
    /// with `Connection: keep-alive`.
    var persistent: Bool {
        if connectionClose { return false }
        return minorVersion >= 1 || connectionKeepAlive
    }
}

/// Why a request was refused before routing: the status to answer with and a message for the body.
struct RequestError: Error, Equatable {
    var status: Int
    var message: String
}

/// What parsing the bytes received so far gave.
enum ParseOutcome: Equatable {
    /// No complete head yet; bytes before `scanned` hold no end of head, so the next attempt may start there.
    case incomplete(scanned: Int)
    /// A complete head of `length` bytes (leading blank lines included); a body, if any, follows.
    case complete(RequestHead, length: Int)
    case invalid(RequestError)
}

/// A strict, allocation-free HTTP/1.x request head parser with limits. Pure: it reads bytes, it does no I/O.
///
/// Refused with 400: a malformed request line or header line, obsolete line folding, a bare CR, conflicting or
/// non-numeric `Content-Length`. 414: a request line over `maxRequestLine`. 431: a head over `maxHeadBytes` or more
/// than `maxHeaderCount` header lines. 413: a body over `maxBodyBytes`. 501: any `Transfer-Encoding` (request bodies
/// must use `Content-Length`). 505: an HTTP version other than 1.0 and 1.1.
enum HTTPRequestParser {
    static let maxHeadBytes = 16 * 1024
    static let maxRequestLine = 8 * 1024
    static let maxHeaderCount = 100
    static let maxBodyBytes = 16 * 1024 * 1024

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":")

    /// Parses one request head at the start of `bytes`. `scannedFrom` is a hint from a previous `.incomplete`.
    static func parse(_ bytes: UnsafeRawBufferPointer, scannedFrom: Int = 0) -> ParseOutcome {
        let count = bytes.count
        // Blank lines before a request line are ignored (RFC 9112 §2.2).
        var start = 0
        while start < count, bytes[start] == cr || bytes[start] == lf { start += 1 }
        if start == count { return .incomplete(scanned: 0) }

        // Find the blank line that ends the head, scanning only bytes not scanned before.
        var index = max(start, scannedFrom)
        var headEnd = -1  // index just past the blank line's LF
        var blankLineStart = -1
        while index < count {
            guard bytes[index] == lf else {
                index += 1
                continue
            }
            // A line ending at `index`: is the line before it empty?
            if index >= 1, bytes[index - 1] == lf {
                blankLineStart = index
            } else if index >= 2, bytes[index - 1] == cr, bytes[index - 2] == lf {
                blankLineStart = index - 1
            }
            if blankLineStart >= 0 {
                headEnd = index + 1
                break
            }
            index += 1
        }
        if headEnd < 0 {
            if count - start > maxHeadBytes {
                if firstIndex(of: lf, in: bytes, from: start, to: count) == nil {
                    let message = "request line longer than \(maxRequestLine) bytes"
                    return .invalid(RequestError(status: 414, message: message))
                }
                return .invalid(RequestError(status: 431, message: "request head longer than \(maxHeadBytes) bytes"))
            }
            // Back up so a CRLF CRLF split across reads is still found.
            return .incomplete(scanned: max(start, count - 3))
        }
        if headEnd - start > maxHeadBytes {
            return .invalid(RequestError(status: 431, message: "request head longer than \(maxHeadBytes) bytes"))
        }

        // The request line.
        let firstLF = firstIndex(of: lf, in: bytes, from: start, to: headEnd)!
        let lineEnd = firstLF > start && bytes[firstLF - 1] == cr ? firstLF - 1 : firstLF
        if lineEnd - start > maxRequestLine {
            return .invalid(RequestError(status: 414, message: "request line longer than \(maxRequestLine) bytes"))
        }
        guard var head = parseRequestLine(bytes, from: start, to: lineEnd) else {
            return .invalid(RequestError(status: 400, message: "malformed request line"))
        }
        if head.minorVersion < 0 {
            return .invalid(RequestError(status: 505, message: "only HTTP/1.0 and HTTP/1.1 are supported"))
        }

        // The header lines.
        head.headersStart = firstLF + 1
        head.headersEnd = blankLineStart
        var lineStart = firstLF + 1
        var headerCount = 0
        var sawContentLength = false
        while lineStart < blankLineStart {
            let newline = firstIndex(of: lf, in: bytes, from: lineStart, to: headEnd)!
            var end = newline
            if end > lineStart, bytes[end - 1] == cr { end -= 1 }
            headerCount += 1
            if headerCount > maxHeaderCount {
                return .invalid(RequestError(status: 431, message: "more than \(maxHeaderCount) header lines"))
            }
            if let error = parseHeaderLine(bytes, from: lineStart, to: end, into: &head, sawLength: &sawContentLength) {
                return .invalid(error)
            }
            lineStart = newline + 1
        }
        return .complete(head, length: headEnd)
    }

    /// "METHOD SP target SP HTTP/1.x"; nil when malformed; `minorVersion` -1 for an unsupported version.
    private static func parseRequestLine(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int)
        -> RequestHead?
    {
        guard let firstSpace = firstIndex(of: space, in: bytes, from: start, to: end), firstSpace > start else {
            return nil
        }
        for index in start..<firstSpace where !isTokenByte(bytes[index]) { return nil }
        let targetStart = firstSpace + 1
        guard let secondSpace = firstIndex(of: space, in: bytes, from: targetStart, to: end),
              secondSpace > targetStart
        else { return nil }
        for index in targetStart..<secondSpace where bytes[index] <= space || bytes[index] == 0x7F { return nil }

        // The version: exactly "HTTP/d.d".
        let versionStart = secondSpace + 1
        guard end - versionStart == 8, matches(bytes, at: versionStart, "HTTP/"),
              isDigit(bytes[versionStart + 5]), bytes[versionStart + 6] == UInt8(ascii: "."),
              isDigit(bytes[versionStart + 7])
        else { return nil }
        let major = bytes[versionStart + 5] - UInt8(ascii: "0")
        let minor = bytes[versionStart + 7] - UInt8(ascii: "0")
        let minorVersion = major == 1 && minor <= 1 ? Int(minor) : -1

        let method: RequestHead.Method
        if firstSpace - start == 3 && matches(bytes, at: start, "GET") {
            method = .get
        } else if firstSpace - start == 4 && matches(bytes, at: start, "HEAD") {
            method = .head
        } else {
            method = .other
        }

        // Origin form ("/path"), or absolute form ("http://host/path") reduced to its path.
        var pathStart = targetStart
        if bytes[targetStart] != UInt8(ascii: "/") {
            guard matchesIgnoringCase(bytes, at: targetStart, "http://", end: secondSpace) else { return nil }
            let authorityStart = targetStart + 7
            guard let slash = firstIndex(of: UInt8(ascii: "/"), in: bytes, from: authorityStart, to: secondSpace)
            else { return nil }
            pathStart = slash
        }
        return RequestHead(
            method: method, targetStart: pathStart, targetEnd: secondSpace, minorVersion: minorVersion,
            headersStart: 0, headersEnd: 0)
    }

    /// One "name: value" line; records the headers that change framing or persistence.
    private static func parseHeaderLine(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, into head: inout RequestHead,
        sawLength: inout Bool
    ) -> RequestError? {
        if bytes[start] == space || bytes[start] == tab {
            return RequestError(status: 400, message: "obsolete header line folding")
        }
        guard let colonIndex = firstIndex(of: colon, in: bytes, from: start, to: end), colonIndex > start else {
            return RequestError(status: 400, message: "malformed header line")
        }
        for index in start..<colonIndex where !isTokenByte(bytes[index]) {
            return RequestError(status: 400, message: "malformed header name")
        }
        var valueStart = colonIndex + 1
        var valueEnd = end
        while valueStart < valueEnd, bytes[valueStart] == space || bytes[valueStart] == tab { valueStart += 1 }
        while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
        for index in valueStart..<valueEnd {
            let byte = bytes[index]
            if (byte < space && byte != tab) || byte == 0x7F {
                return RequestError(status: 400, message: "control character in a header value")
            }
        }

        let nameLength = colonIndex - start
        if nameLength == 14 && matchesIgnoringCase(bytes, at: start, "content-length", end: colonIndex) {
            guard valueEnd > valueStart, valueEnd - valueStart <= 18 else {
                return RequestError(status: 400, message: "invalid Content-Length")
            }
            var value = 0
            for index in valueStart..<valueEnd {
                guard isDigit(bytes[index]) else { return RequestError(status: 400, message: "invalid Content-Length") }
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            }
            if sawLength && value != head.contentLength {
                return RequestError(status: 400, message: "conflicting Content-Length headers")
            }
            if value > maxBodyBytes {
                return RequestError(status: 413, message: "request body longer than \(maxBodyBytes) bytes")
            }
            sawLength = true
            head.contentLength = value
        } else if nameLength == 17 && matchesIgnoringCase(bytes, at: start, "transfer-encoding", end: colonIndex) {
            return RequestError(status: 501, message: "request bodies must use Content-Length, not Transfer-Encoding")
        } else if nameLength == 10 && matchesIgnoringCase(bytes, at: start, "connection", end: colonIndex) {
            // A comma-separated list of tokens.
            var tokenStart = valueStart
            while tokenStart < valueEnd {
                var tokenEnd = firstIndex(of: UInt8(ascii: ","), in: bytes, from: tokenStart, to: valueEnd) ?? valueEnd
                let next = tokenEnd + 1
                var trimmedStart = tokenStart
                while trimmedStart < tokenEnd, bytes[trimmedStart] == space || bytes[trimmedStart] == tab {
                    trimmedStart += 1
                }
                while tokenEnd > trimmedStart, bytes[tokenEnd - 1] == space || bytes[tokenEnd - 1] == tab {
                    tokenEnd -= 1
                }
                let length = tokenEnd - trimmedStart
                if length == 5 && matchesIgnoringCase(bytes, at: trimmedStart, "close", end: tokenEnd) {
                    head.connectionClose = true
                } else if length == 10 && matchesIgnoringCase(bytes, at: trimmedStart, "keep-alive", end: tokenEnd) {
                    head.connectionKeepAlive = true
                }
                tokenStart = next
            }
        }
        return nil
    }

    // MARK: Byte helpers

    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        var index = start
        while index < end {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// True when `literal` (ASCII) appears at `offset`, exactly.
    private static func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for index in 0..<count where bytes[offset + index] != pointer[index] { return false }
        return true
    }

    /// True when lowercase `literal` appears at `offset` ignoring ASCII case, within `end`.
    private static func matchesIgnoringCase(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, _ literal: StaticString, end: Int
    ) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= end else { return false }
        let pointer = literal.utf8Start
        for index in 0..<count {
            var byte = bytes[offset + index]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
            if byte != pointer[index] { return false }
        }
        return true
    }
}
