import ArachneCore
/// How a response tells the client whether the connection stays open.
enum ConnectionHeader {
    /// HTTP/1.1, staying open: no header needed.
    case none
    /// HTTP/1.0 that asked for keep-alive: `Connection: keep-alive`.
    case keepAlive
    /// `Connection: close`, and the server closes after the response.
    case close

    init(persistent: Bool, minorVersion: Int) {
        if !persistent {
            self = .close
        } else {
            self = minorVersion == 0 ? .keepAlive : .none
        }
    }
}

/// How a response body is delimited.
enum Framing {
    case length(Int)
    case chunked
    /// No length: for 204 and 304, which have no body.
    case noBody
}

/// Appending HTTP response bytes without Foundation formatting: the hot path builds heads from literals and digits.
extension Array where Element == UInt8 {
    mutating func appendLiteral(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    mutating func appendDecimal(_ value: Int) {
        precondition(value >= 0)
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let start = count
        append(contentsOf: repeatElement(0, count: digits))
        var remaining = value
        var index = start + digits - 1
        repeat {
            self[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            index -= 1
        } while remaining > 0
    }

    mutating func appendHex(_ value: Int) {
        precondition(value >= 0)
        let hex: StaticString = "0123456789abcdef"
        var digits = 1
        var rest = value >> 4
        while rest > 0 {
            digits += 1
            rest >>= 4
        }
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            append(hex.utf8Start[(value >> shift) & 15])
        }
    }

    /// Appends `count` bytes of the site's body pattern, starting at pattern index `position`.
    mutating func appendPattern(position: Int, count: Int) {
        var position = position
        var remaining = count
        let block = DemoSite.patternBlock
        let usable = block.count - 64
        while remaining > 0 {
            let run = Swift.min(remaining, usable)
            let start = position & 63
            block.withUnsafeBufferPointer {
                append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<(start + run)]))
            }
            position += run
            remaining -= run
        }
    }

    /// Appends a status line and headers, up to and including the blank line.
    mutating func appendHead(
        status: Int, contentType: StaticString?, framing: Framing, connection: ConnectionHeader,
        extraHeaders: (inout [UInt8]) -> Void = { _ in }
    ) {
        appendLiteral("HTTP/1.1 ")
        appendDecimal(status)
        append(UInt8(ascii: " "))
        appendLiteral(ReasonPhrase.for(status))
        appendLiteral("\r\nServer: arachne-site\r\n")
        if let contentType {
            appendLiteral("Content-Type: ")
            appendLiteral(contentType)
            appendLiteral("\r\n")
        }
        switch framing {
        case .length(let length):
            appendLiteral("Content-Length: ")
            appendDecimal(length)
            appendLiteral("\r\n")
        case .chunked:
            appendLiteral("Transfer-Encoding: chunked\r\n")
        case .noBody:
            break
        }
        extraHeaders(&self)
        appendConnection(connection)
        appendLiteral("\r\n")
    }

    mutating func appendConnection(_ connection: ConnectionHeader) {
        switch connection {
        case .none: break
        case .keepAlive: appendLiteral("Connection: keep-alive\r\n")
        case .close: appendLiteral("Connection: close\r\n")
        }
    }
}

/// A complete response computed once (head for HTTP/1.1 keep-alive, then the body) and copied per request.
struct FixedResponse {
    /// The whole response as sent to an HTTP/1.1 keep-alive request.
    let bytes: [UInt8]
    /// Where the blank line ending the head starts: other `Connection` headers are inserted here.
    let headEnd: Int

    init(status: Int, contentType: StaticString, body: [UInt8], extraHeaders: (inout [UInt8]) -> Void = { _ in }) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + 160)
        bytes.appendHead(
            status: status, contentType: contentType, framing: .length(body.count), connection: .none,
            extraHeaders: extraHeaders)
        headEnd = bytes.count - 2
        bytes.append(contentsOf: body)
        self.bytes = bytes
    }

    init(status: Int, contentType: StaticString, text: String) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8))
    }

    /// Appends this response to `out`, with the connection header asked for, and without the body for HEAD.
    func append(to out: inout [UInt8], connection: ConnectionHeader, includeBody: Bool) {
        bytes.withUnsafeBufferPointer { all in
            let end = includeBody ? all.count : headEnd + 2
            if case .none = connection {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: all[0..<end]))
            } else {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: all[0..<headEnd]))
                out.appendConnection(connection)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: all[headEnd..<end]))
            }
        }
    }
}

