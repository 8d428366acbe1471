import ArachneCore
import Foundation

/// The two gzip members WARC stores for one kept body: a `request` record (stored, it is a few hundred bytes) and a
/// `response` record (compressed), linked by `WARC-Concurrent-To`. Neither depends on where it lands in a file, so
/// they can be built anywhere: by `WARCWriter` itself, or by the worker that fetched the body, which then ships a
/// few hundred compressed bytes instead of the body and its header block, and leaves the coordinator only bytes to
/// append (docs/protocol.md, `results`).
///
/// Everything is built as bytes in buffers reused from record to record: this runs for every kept body.
/// Not thread-safe: one owner.
public final class WARCRecordBuilder {
    /// What `appendMembers` produced: the request member's length (the response member follows it) and the
    /// payload digest as written in `WARC-Payload-Digest` (`sha1:BASE32`).
    public struct Members: Sendable, Hashable {
        public var requestLength: Int
        public var digest: String

        public init(requestLength: Int, digest: String) {
            self.requestLength = requestLength
            self.digest = digest
        }
    }

    private let gzip = GzipMemberWriter()
    private var ids = RecordIDGenerator()
    private var digester = SHA1()
    private var record: [UInt8] = []
    private var scratch: [UInt8] = []
    private var head: [UInt8] = []
    private var requestID: [UInt8] = []
    private var warcDate: [UInt8] = []

    public init() {
        record.reserveCapacity(64 * 1024)
        scratch.reserveCapacity(1024)
        head.reserveCapacity(4096)
    }

    /// Appends the request member and then the response member of one response to `out`. `url` is the URL the
    /// response came from (after redirects), `rawHeader` its status line and header lines as received
    /// (`FetchOutcome.rawHeader`), `body` the stored payload (already cut at the cap when `truncated`).
    public func appendMembers(
        url: String, status: Int, rawHeader: [UInt8], body: [UInt8], truncated: Bool, date: Date,
        httpVersion: String, to out: inout [UInt8]
    ) -> Members {
        head.removeAll(keepingCapacity: true)
        WARCWriter.appendResponseHead(status: status, rawHeader: rawHeader, bodyLength: body.count,
                                      httpVersion: httpVersion, to: &head)
        return appendMembers(url: url, httpHead: head, body: body, truncated: truncated, date: date,
                             httpVersion: httpVersion, to: &out)
    }

    /// The same from an HTTP head already built (status line, headers, blank line).
    func appendMembers(
        url: String, httpHead: [UInt8], body: [UInt8], truncated: Bool, date: Date, httpVersion: String,
        to out: inout [UInt8]
    ) -> Members {
        warcDate.removeAll(keepingCapacity: true)
        WARCWriter.appendTimestamp(date, to: &warcDate)
        requestID.removeAll(keepingCapacity: true)
        ids.append(to: &requestID)
        let digest = digester.warcDigest(body)

        scratch.removeAll(keepingCapacity: true)
        WARCWriter.appendRequestBlock(url: url, to: &scratch)
        record.removeAll(keepingCapacity: true)
        record.append(contentsOf: "WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: ".utf8)
        record.append(contentsOf: requestID)
        record.append(contentsOf: "\r\nWARC-Date: ".utf8)
        record.append(contentsOf: warcDate)
        record.append(contentsOf: "\r\nWARC-Target-URI: ".utf8)
        WARCWriter.appendClean(url, to: &record)
        record.append(contentsOf: "\r\nContent-Type: application/http;msgtype=request\r\nContent-Length: ".utf8)
        WARCWriter.appendDecimal(scratch.count, to: &record)
        record.append(contentsOf: "\r\n\r\n".utf8)
        record.append(contentsOf: scratch)
        record.append(contentsOf: Self.recordEnd)
        let start = out.count
        // A request record is a few hundred bytes: compressing it would save ~100 bytes, so it is stored.
        record.withUnsafeBytes { gzip.appendMember($0, compressed: false, to: &out) }
        let requestLength = out.count - start

        record.removeAll(keepingCapacity: true)
        record.append(contentsOf: "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: ".utf8)
        ids.append(to: &record)
        record.append(contentsOf: "\r\nWARC-Date: ".utf8)
        record.append(contentsOf: warcDate)
        record.append(contentsOf: "\r\nWARC-Target-URI: ".utf8)
        WARCWriter.appendClean(url, to: &record)
        record.append(contentsOf: "\r\nWARC-Concurrent-To: ".utf8)
        record.append(contentsOf: requestID)
        record.append(contentsOf: "\r\nWARC-Payload-Digest: ".utf8)
        record.append(contentsOf: digest.utf8)
        if truncated { record.append(contentsOf: "\r\nWARC-Truncated: length".utf8) }
        if let protocolName = WARCWriter.protocolName(httpVersion) {
            record.append(contentsOf: "\r\nWARC-Protocol: ".utf8)
            record.append(contentsOf: protocolName.utf8)
        }
        record.append(contentsOf: "\r\nContent-Type: application/http;msgtype=response\r\nContent-Length: ".utf8)
        WARCWriter.appendDecimal(httpHead.count + body.count, to: &record)
        record.append(contentsOf: "\r\n\r\n".utf8)
        record.append(contentsOf: httpHead)
        record.append(contentsOf: body)
        record.append(contentsOf: Self.recordEnd)
        record.withUnsafeBytes { gzip.appendMember($0, compressed: true, to: &out) }
        return Members(requestLength: requestLength, digest: digest)
    }

    /// One record of the given WARC header and block as one compressed gzip member (the `warcinfo` record).
    func appendRecord(header: [UInt8], block: [UInt8], to out: inout [UInt8]) {
        record.removeAll(keepingCapacity: true)
        record.append(contentsOf: header)
        record.append(contentsOf: block)
        record.append(contentsOf: Self.recordEnd)
        record.withUnsafeBytes { gzip.appendMember($0, compressed: true, to: &out) }
    }

    /// A new `WARC-Record-ID`.
    func nextRecordID() -> String { ids.next() }

    private static let recordEnd: [UInt8] = Array("\r\n\r\n".utf8)
}

@available(*, unavailable, message: "WARCRecordBuilder has one owner")
extension WARCRecordBuilder: Sendable {}
