import ArachneCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes kept response bodies as WARC 1.1 files (`bodies-00000.warc.gz`, `bodies-00001.warc.gz`, …) in a report's
/// directory. Each file starts with a `warcinfo` record; each body becomes a `request` and a `response` record
/// (linked by `WARC-Concurrent-To`), each record its own gzip member, so a `BodyReference`'s offset and length cut
/// the response out of the file on its own. A file is closed and the next one started once it passes
/// `maxFileSize`. Existing files are never overwritten: numbering continues after the highest one present.
///
/// Bodies are stored decoded (as the fetcher delivers them), so `Content-Encoding`, `Transfer-Encoding` and
/// `Content-Length` are dropped from the stored headers and a `Content-Length` of the stored payload is written.
/// Not thread-safe: one owner appends.
public final class WARCWriter {
    public static let defaultMaxFileSize: Int64 = 1 << 30
    /// File name prefix and suffix: `bodies-NNNNN.warc.gz`.
    public static let filePrefix = "bodies-"
    public static let fileSuffix = ".warc.gz"

    public let directory: String
    public let maxFileSize: Int64
    /// Names of the files this writer created, in order.
    public private(set) var files: [String] = []

    private let info: [(String, String)]
    private let builder = WARCRecordBuilder()
    private var file: PosixFile?
    private var fileName = ""
    /// Bytes in the current file, buffered ones included.
    private var fileLength: Int64 = 0
    private var nextIndex: Int
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 20

    /// Prepares to write into `directory` (which must exist). `info` adds fields to each file's `warcinfo` record
    /// (for example the job id). Response records are compressed with igzip's fastest level and request records
    /// are stored (`GzipMemberWriter`): the writer runs once per kept body, so CPU counts more than a few bytes.
    public init(
        directory: String, maxFileSize: Int64 = WARCWriter.defaultMaxFileSize, info: [(String, String)] = []
    ) throws(ArchiveError) {
        self.directory = directory
        self.maxFileSize = max(maxFileSize, 1)
        self.info = info
        nextIndex = try Self.firstFreeIndex(in: directory)
        buffer.reserveCapacity(Self.bufferSize + 64 * 1024)
    }

    deinit {
        try? close()
    }

    /// Stores one response. `url` is the URL the response came from (the final URL after redirects); `headers` the
    /// response headers as received; `body` the stored payload (already cut at the cap when `truncated`).
    /// Returns where the response record is, for the terminal record's `body`.
    public func append(
        url: String, status: Int, headers: [(name: String, value: String)], body: [UInt8], truncated: Bool,
        date: Date, httpVersion: String = "1.1"
    ) throws(ArchiveError) -> BodyReference {
        let httpHead = Array(Self.responseHead(status: status, headers: headers, bodyLength: body.count,
                                               httpVersion: httpVersion).utf8)
        return try append(url: url, httpHead: httpHead, body: body, truncated: truncated, date: date,
                          httpVersion: httpVersion)
    }

    /// Stores one response from its raw header block as received (`FetchOutcome.rawHeader`: status line and header
    /// lines). The head is rebuilt byte by byte, without parsing headers into strings: this runs for every kept body.
    public func append(
        url: String, status: Int, rawHeader: [UInt8], body: [UInt8], truncated: Bool, date: Date,
        httpVersion: String = "1.1"
    ) throws(ArchiveError) -> BodyReference {
        if file == nil || fileLength >= maxFileSize { try startFile(date: date) }
        let start = buffer.count
        let members = builder.appendMembers(
            url: url, status: status, rawHeader: rawHeader, body: body, truncated: truncated, date: date,
            httpVersion: httpVersion, to: &buffer)
        return try appended(from: start, members, truncated: truncated)
    }

    private func append(
        url: String, httpHead: [UInt8], body: [UInt8], truncated: Bool, date: Date, httpVersion: String
    ) throws(ArchiveError) -> BodyReference {
        if file == nil || fileLength >= maxFileSize { try startFile(date: date) }
        let start = buffer.count
        let members = builder.appendMembers(
            url: url, httpHead: httpHead, body: body, truncated: truncated, date: date, httpVersion: httpVersion,
            to: &buffer)
        return try appended(from: start, members, truncated: truncated)
    }

    /// Stores a response whose two members (request, then response) were built elsewhere by a
    /// `WARCRecordBuilder`, typically in the worker that fetched it: only the bytes are appended. `date` is used
    /// only if a new file has to be started (its `warcinfo` record).
    public func appendMembers(
        _ members: ArraySlice<UInt8>, _ built: WARCRecordBuilder.Members, truncated: Bool, date: Date
    ) throws(ArchiveError) -> BodyReference {
        precondition(built.requestLength > 0 && built.requestLength < members.count, "two members: request, response")
        if file == nil || fileLength >= maxFileSize { try startFile(date: date) }
        let start = buffer.count
        buffer.append(contentsOf: members)
        return try appended(from: start, built, truncated: truncated)
    }

    /// Accounts for the members appended to the buffer since `start` and returns the response's reference.
    private func appended(from start: Int, _ members: WARCRecordBuilder.Members, truncated: Bool)
        throws(ArchiveError) -> BodyReference
    {
        let responseOffset = fileLength + Int64(members.requestLength)
        fileLength += Int64(buffer.count - start)
        let reference = BodyReference(
            file: fileName, offset: responseOffset, length: fileLength - responseOffset, digest: members.digest,
            truncated: truncated)
        if buffer.count >= Self.bufferSize { try flush() }
        return reference
    }

    /// Writes buffered members to the current file. Every `writebackBytes` written are handed to the kernel to
    /// write out now (`PosixFile.releaseWritten`): the `fsync` at close then waits for the last stretch only, not
    /// for the whole file (49 MB of a 20,000-page crawl took 14–18 ms at the end of the run otherwise).
    public func flush() throws(ArchiveError) {
        guard let file, !buffer.isEmpty else { return }
        try file.writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
        let written = fileLength
        if written - writebackStart >= Self.writebackBytes {
            file.releaseWritten(offset: writebackStart, length: written - writebackStart)
            writebackStart = written
        }
    }

    /// Bytes of the current file handed to `releaseWritten` so far.
    private var writebackStart: Int64 = 0
    static let writebackBytes: Int64 = 8 << 20

    /// Flushes and closes the current file. Closing twice is harmless; a later `append` starts a new file.
    public func close() throws(ArchiveError) {
        guard file != nil else { return }
        defer {
            try? file?.close()
            file = nil
        }
        try flush()
        try file?.sync()
        try file?.close()
    }

    // MARK: Records

    private func startFile(date: Date) throws(ArchiveError) {
        try close()
        let name = Self.filePrefix + String(format: "%05ld", nextIndex) + Self.fileSuffix
        file = try PosixFile.open(directory + "/" + name, flags: O_WRONLY | O_CREAT | O_EXCL)
        nextIndex += 1
        fileName = name
        fileLength = 0
        writebackStart = 0
        files.append(name)
        var fields = "software: arachne\r\nformat: WARC File Format 1.1\r\n"
            + "conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        for (name, value) in info { fields += "\(Self.clean(name)): \(Self.clean(value))\r\n" }
        let block = Array(fields.utf8)
        let header = Self.header([
            ("WARC-Type", "warcinfo"), ("WARC-Record-ID", builder.nextRecordID()), ("WARC-Date", Self.timestamp(date)),
            ("WARC-Filename", name), ("Content-Type", "application/warc-fields"),
            ("Content-Length", String(block.count)),
        ])
        let before = buffer.count
        builder.appendRecord(header: header, block: block, to: &buffer)
        fileLength += Int64(buffer.count - before)
    }

    static func header(_ fields: [(String, String)]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        bytes.append(contentsOf: "WARC/1.1\r\n".utf8)
        for (name, value) in fields {
            bytes.append(contentsOf: name.utf8)
            bytes.append(contentsOf: ": ".utf8)
            bytes.append(contentsOf: clean(value).utf8)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        bytes.append(contentsOf: "\r\n".utf8)
        return bytes
    }

    /// The request as far as the report knows it: method, target (path and query) and host (without user info).
    static func requestBlock(url: String) -> String {
        var bytes: [UInt8] = []
        appendRequestBlock(url: url, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `requestBlock(url:)`, appended to `out` straight from the URL's UTF-8 bytes.
    static func appendRequestBlock(url: String, to out: inout [UInt8]) {
        var url = url
        url.withUTF8 { bytes in
            var start = 0
            if bytes.count >= 3 {
                for index in 0..<(bytes.count - 2)
                where bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: "/")
                    && bytes[index + 2] == UInt8(ascii: "/")
                {
                    start = index + 3
                    break
                }
            }
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
            let rest = UnsafeBufferPointer(rebasing: bytes[start..<end])
            let targetStart = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.count
            var hostStart = 0
            if let at = rest[0..<targetStart].lastIndex(of: UInt8(ascii: "@")) { hostStart = at + 1 }
            out.append(contentsOf: "GET ".utf8)
            if targetStart == rest.count || rest[targetStart] == UInt8(ascii: "?") { out.append(UInt8(ascii: "/")) }
            appendClean(UnsafeBufferPointer(rebasing: rest[targetStart...]), to: &out)
            out.append(contentsOf: " HTTP/1.1\r\nHost: ".utf8)
            appendClean(UnsafeBufferPointer(rebasing: rest[hostStart..<targetStart]), to: &out)
            out.append(contentsOf: "\r\n\r\n".utf8)
        }
    }

    /// Header text on one line, appended as bytes: CR, LF and CRLF each become one space.
    static func appendClean(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendClean($0, to: &out) }
    }

    static func appendClean(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard bytes.contains(where: { $0 == 0x0D || $0 == 0x0A }) else {
            out.append(contentsOf: bytes)
            return
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D || byte == 0x0A {
                out.append(UInt8(ascii: " "))
                if byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A { index += 1 }
            } else {
                out.append(byte)
            }
            index += 1
        }
    }

    /// A non-negative decimal integer.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }

    /// The IIPC `WARC-Protocol` name of an HTTP version ("2" → "h2"), nil when unknown.
    static func protocolName(_ httpVersion: String) -> String? {
        switch httpVersion {
        case "1.0": "http/1.0"
        case "1.1": "http/1.1"
        case "2", "2.0": "h2"
        case "3", "3.0": "h3"
        default: nil
        }
    }

    /// Status line and headers of the stored response, describing the stored (decoded) payload. WARC stores HTTP
    /// messages in HTTP/1.x form, so HTTP/2 and /3 responses are written as HTTP/1.1 (with `WARC-Protocol` telling
    /// the truth).
    static func responseHead(
        status: Int, headers: [(name: String, value: String)], bodyLength: Int, httpVersion: String
    ) -> String {
        let version = httpVersion == "1.0" ? "1.0" : "1.1"
        var text = "HTTP/\(version) \(status) \(reasonPhrase(status))\r\n"
        for (name, value) in headers {
            switch name.lowercased() {
            case "content-encoding", "transfer-encoding", "content-length": continue
            default: text += "\(clean(name)): \(clean(value))\r\n"
            }
        }
        return text + "Content-Length: \(bodyLength)\r\n\r\n"
    }

    /// The response head stored in the record, from the raw block: our status line, the header lines as received
    /// except the framing ones (the payload is stored decoded and whole), and the stored payload's length.
    static func responseHead(status: Int, rawHeader: [UInt8], bodyLength: Int, httpVersion: String) -> [UInt8] {
        var head: [UInt8] = []
        head.reserveCapacity(rawHeader.count + 64)
        appendResponseHead(status: status, rawHeader: rawHeader, bodyLength: bodyLength, httpVersion: httpVersion,
                           to: &head)
        return head
    }

    /// `responseHead(status:rawHeader:bodyLength:httpVersion:)`, appended to `head`.
    static func appendResponseHead(
        status: Int, rawHeader: [UInt8], bodyLength: Int, httpVersion: String, to head: inout [UInt8]
    ) {
        head.append(contentsOf: httpVersion == "1.0" ? "HTTP/1.0 ".utf8 : "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &head)
        head.append(UInt8(ascii: " "))
        let reason = ReasonPhrase.for(status)
        head.append(contentsOf: UnsafeBufferPointer(start: reason.utf8Start, count: reason.utf8CodeUnitCount))
        head.append(contentsOf: [0x0D, 0x0A])
        rawHeader.withUnsafeBufferPointer { raw in
            var lineStart = 0
            var first = true
            var index = 0
            while index <= raw.count {
                defer { index += 1 }
                guard index == raw.count || raw[index] == 0x0A else { continue }
                var end = index
                if end > lineStart && raw[end - 1] == 0x0D { end -= 1 }
                let line = UnsafeBufferPointer(rebasing: raw[lineStart..<end])
                lineStart = index + 1
                if first {
                    first = false  // the status line as received: ours replaces it
                    continue
                }
                guard !line.isEmpty, !isFramingHeader(line) else { continue }
                head.append(contentsOf: line)
                head.append(contentsOf: [0x0D, 0x0A])
            }
        }
        head.append(contentsOf: "Content-Length: ".utf8)
        appendDecimal(bodyLength, to: &head)
        head.append(contentsOf: "\r\n\r\n".utf8)
    }

    private static let framingHeaders: [[UInt8]] = ["content-encoding", "transfer-encoding", "content-length"]
        .map { Array($0.utf8) }

    /// True for Content-Encoding, Transfer-Encoding and Content-Length lines (ASCII case-insensitive).
    private static func isFramingHeader(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return false }
        // The three names are 14, 17 and 16 bytes long: most lines are rejected on length alone.
        guard colon == 14 || colon == 16 || colon == 17 else { return false }
        let name = UnsafeBufferPointer(rebasing: line[0..<colon])
        return framingHeaders.contains { candidate in
            candidate.count == name.count
                && zip(candidate, name).allSatisfy { $0 == ($1 >= 0x41 && $1 <= 0x5A ? $1 | 0x20 : $1) }
        }
    }

    /// Header text on one line: CR and LF would end the header early.
    static func clean(_ text: String) -> String {
        var text = text
        // withUTF8 scans contiguous bytes: this runs for every field of every record.
        guard text.withUTF8({ $0.contains { $0 == 0x0D || $0 == 0x0A } }) else { return text }
        return String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }

    /// WARC-Date: UTC, ISO 8601, microseconds (WARC 1.1 allows fractions of a second).
    static func timestamp(_ date: Date) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(27)
        appendTimestamp(date, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `timestamp(_:)`, appended as bytes.
    static func appendTimestamp(_ date: Date, to text: inout [UInt8]) {
        let micros = Int64((date.timeIntervalSince1970 * 1e6).rounded())
        var seconds = time_t(micros / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int, then separator: UInt8) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
            text.append(separator)
        }
        digits(Int(parts.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2, then: UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2, then: UInt8(ascii: "."))
        digits(Int(micros % 1_000_000), 6, then: UInt8(ascii: "Z"))
    }

    /// The highest `bodies-NNNNN.warc.gz` index in `directory`, plus one (0 when there is none).
    static func firstFreeIndex(in directory: String) throws(ArchiveError) -> Int {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ArchiveError(path: directory, operation: "list directory", reason: "\(error.localizedDescription)")
        }
        var next = 0
        for name in names where name.hasPrefix(filePrefix) && name.hasSuffix(fileSuffix) {
            let number = name.dropFirst(filePrefix.count).dropLast(fileSuffix.count)
            if let index = Int(number) { next = max(next, index + 1) }
        }
        return next
    }

    static func reasonPhrase(_ status: Int) -> String {
        "\(ReasonPhrase.for(status))"
    }
}

@available(*, unavailable, message: "WARCWriter has one owner")
extension WARCWriter: Sendable {}

/// WARC-Record-IDs: version 4 UUIDs from a xoshiro256** generator seeded once from the system. Record ids must be
/// unique, not secret; Foundation's `UUID()` opens /dev/urandom on every call here, which dominated the writer.
struct RecordIDGenerator {
    private var s0, s1, s2, s3: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        (s0, s1, s2, s3) = (system.next(), system.next(), system.next(), system.next())
    }

    private mutating func next64() -> UInt64 {
        let result = (s1 &* 5).rotatedLeft(7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3.rotatedLeft(45)
        return result
    }

    /// `<urn:uuid:xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx>`.
    mutating func next() -> String {
        var text: [UInt8] = []
        append(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// The next id, appended as bytes.
    mutating func append(to text: inout [UInt8]) {
        let high = next64() & ~0xF000 | 0x4000
        let low = next64() & ~(0xC << 60) | (0x8 << 60)
        text.append(contentsOf: "<urn:uuid:".utf8)
        for index in 0..<2 {
            let word = index == 0 ? high : low
            for nibble in 0..<16 {
                let position = index * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 {
                    text.append(UInt8(ascii: "-"))
                }
                let value = UInt8(truncatingIfNeeded: word >> UInt64(60 - nibble * 4) & 0xF)
                text.append(value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10)
            }
        }
        text.append(UInt8(ascii: ">"))
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 { self << count | self >> (64 - count) }
}
