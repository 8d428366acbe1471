import ArachneCore
import ArachneFetch

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

/// Reads one response of a `Connection: close` exchange for the ladder's raw-socket models: feed it every byte read,
/// then tell it the connection ended. Framing is the fetch path's `HTTP1ResponseParser` (Content-Length, chunked,
/// or the end of the connection); a response cut short of its framing is a failure, not a shorter body.
struct ResponseReader {
    private var parser = HTTP1ResponseParser()
    private(set) var bodyLength = 0

    init() {}

    /// Consumes the next bytes of the response.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(FetchFailure) {
        var length = 0
        let used: Int
        do {
            used = try parser.feed(bytes) { chunk, _ in length += chunk.count }
        } catch {
            throw FetchFailure(kind: .protocol, message: error.message)
        }
        bodyLength += length
        guard used == bytes.count else {
            throw FetchFailure(kind: .protocol, message: "\(bytes.count - used) bytes after the end of the response")
        }
    }

    /// The connection ended: returns the response, or why it is incomplete.
    func finish() throws(FetchFailure) -> ResponseSummary {
        var parser = parser
        do {
            try parser.finishAtEndOfStream()
        } catch {
            throw FetchFailure(kind: error.kind == .incomplete ? .reset : .protocol, message: error.message)
        }
        let head = parser.head!
        return ResponseSummary(status: head.status, bodyLength: bodyLength, declaredLength: head.contentLength)
    }
}
