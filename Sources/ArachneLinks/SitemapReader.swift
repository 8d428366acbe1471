/// Reads a sitemap body into its raw entries (sitemaps.org protocol): an XML `<urlset>` or `<sitemapindex>`, with or
/// without the sitemaps.org namespace, or a text file of one URL per line; gzipped or not.
///
/// The body decides, not the server's labels: gzip is recognised by its magic bytes (1f 8b) whatever the media type
/// or file name says, and inflated in 64 KiB steps; after an optional byte order mark and leading whitespace, `<`
/// means XML (parsed with libxml2's SAX push parser, see `SitemapXMLParser`) and `http://` or `https://` means a text
/// sitemap; anything else is `notSitemap`. Work and memory are bounded by `SitemapLimits`: at most `maxBytes` are
/// parsed (after decompression), `maxEntries` entries kept, `maxLocationBytes` per location. Malformed XML and
/// corrupt or truncated gzip end the read with a `SitemapError` and keep the entries read before it.
public enum SitemapReader {
    /// Reads `body`.
    public static func read(_ body: [UInt8], limits: SitemapLimits = .sitemapsOrg) -> SitemapDocument {
        body.withUnsafeBytes { read($0, limits: limits) }
    }

    /// Reads `body`.
    public static func read(_ body: UnsafeRawBufferPointer, limits: SitemapLimits = .sitemapsOrg) -> SitemapDocument {
        let reading = SitemapReading(limits: limits)
        guard GzipFile.hasMagic(body) else {
            // In slices, so a document that turns out not to be a sitemap stops early.
            var offset = 0
            while offset < body.count {
                let end = min(body.count, offset + 1 << 20)
                guard reading.feed(UnsafeRawBufferPointer(rebasing: body[offset..<end])) else { break }
                offset = end
            }
            return reading.finish(complete: true)
        }
        reading.document.compressed = true
        switch GzipFile.inflate(body, into: reading.feed) {
        case .complete:
            return reading.finish(complete: true)
        case .stopped:
            return reading.finish(complete: false)
        case .truncated:
            return reading.finish(complete: false, error: SitemapError(kind: .truncatedGzip, detail: "unexpected end"))
        case .corrupt(let message):
            return reading.finish(complete: false, error: SitemapError(kind: .corruptGzip, detail: message))
        }
    }
}

/// One read: sniffs the (decompressed) body's first bytes, then hands the bytes to the XML parser or the line
/// splitter, counting them against the byte cap.
///
/// Not Sendable: it lives for one `read` call, on the calling thread.
final class SitemapReading {
    private enum Mode {
        /// Skipping a byte order mark and whitespace, then collecting up to 8 bytes to decide.
        case sniffing
        case xml(SitemapXMLParser)
        case text(TextSitemapLines)
        /// Not a sitemap, or parsing ended: the rest is ignored.
        case done
    }

    let limits: SitemapLimits
    var document = SitemapDocument()
    private var mode = Mode.sniffing
    /// Bytes seen so far, for the byte order mark (only at offset 0) and the byte cap.
    private var seen = 0
    /// Line breaks skipped while sniffing: the body's first line for the parser.
    private var skippedLines = 0
    /// The first non-blank bytes, while sniffing.
    private var prefix: [UInt8] = []

    init(limits: SitemapLimits) {
        self.limits = limits
    }

    /// The next decompressed bytes. Returns false when no more are wanted.
    func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var bytes = bytes
        if seen + bytes.count > limits.maxBytes {
            bytes = UnsafeRawBufferPointer(rebasing: bytes[..<max(limits.maxBytes - seen, 0)])
            document.truncatedAtByteCap = true
        }
        let start = seen
        seen += bytes.count
        document.bytesParsed = seen
        let goOn = dispatch(bytes, at: start)
        return goOn && !document.truncatedAtByteCap
    }

    /// The body ended, or was cut off (`complete` false) by the byte cap, a stop or `error`.
    func finish(complete: Bool, error: SitemapError? = nil) -> SitemapDocument {
        if case .sniffing = mode, !prefix.isEmpty {
            // A short body: decide on what there is.
            let rest = prefix
            prefix = []
            decide(rest, final: true)
        }
        switch mode {
        case .xml(let parser):
            let parsed = parser.finish(complete: complete && error == nil && !document.truncatedAtByteCap)
            let read = document
            document = parsed
            document.compressed = read.compressed
            document.bytesParsed = read.bytesParsed
            document.truncatedAtByteCap = read.truncatedAtByteCap
        case .text(var lines):
            lines.finish(into: &document)
        case .sniffing, .done:
            break
        }
        mode = .done
        if document.error == nil { document.error = error }
        return document
    }

    private func dispatch(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        switch mode {
        case .sniffing:
            return sniff(bytes, at: offset)
        case .xml(let parser):
            return parser.feed(bytes)
        case .text(var lines):
            mode = .done  // no second copy of the splitter while it works
            lines.feed(bytes, into: &document)
            mode = .text(lines)
            return true
        case .done:
            return false
        }
    }

    private func sniff(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var index = 0
        if prefix.isEmpty {
            // A UTF-16 byte order mark: XML in UTF-16, which libxml2 decodes. A UTF-8 one is skipped.
            let utf16 = bytes.count >= 2
                && (bytes[0] == 0xFF && bytes[1] == 0xFE || bytes[0] == 0xFE && bytes[1] == 0xFF)
            if offset == 0, utf16 {
                startXML()
                return dispatch(bytes, at: offset)
            }
            if offset == 0, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
            while index < bytes.count, Self.isSpace(bytes[index]) {
                // LF, CR and CRLF each end a line.
                let lone = bytes[index] == 0x0D && (index + 1 == bytes.count || bytes[index + 1] != 0x0A)
                if bytes[index] == 0x0A || lone { skippedLines += 1 }
                index += 1
            }
        }
        let needed = 8 - prefix.count
        let take = min(needed, bytes.count - index)
        prefix.append(contentsOf: bytes[index..<(index + take)])
        guard decide(prefix, final: false) else { return true }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[(index + take)...])
        return rest.isEmpty ? !isDone : dispatch(rest, at: offset + index + take)
    }

    private var isDone: Bool {
        if case .done = mode { return true }
        return false
    }

    /// Chooses the mode from the first non-blank bytes and hands them over; false while undecided.
    @discardableResult
    private func decide(_ head: [UInt8], final: Bool) -> Bool {
        guard let first = head.first else { return false }
        if first == UInt8(ascii: "<") {
            startXML()
        } else if Self.hasPrefix(head, "https://") || Self.hasPrefix(head, "http://") {
            document.kind = .text
            mode = .text(TextSitemapLines(limits: limits, firstLine: 1 + skippedLines))
        } else if head.count < 8, !final, Self.couldBeURLStart(head) {
            return false
        } else {
            mode = .done
            return true
        }
        prefix = []
        head.withUnsafeBytes { _ = dispatch($0, at: 0) }
        return true
    }

    private func startXML() {
        mode = .xml(SitemapXMLParser(limits: limits, lineOffset: skippedLines))
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
    }

    /// `bytes` starts with the lower-case ASCII `literal`, compared ASCII case-insensitively.
    private static func hasPrefix(_ bytes: [UInt8], _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        for index in 0..<count where lowercased(bytes[index]) != literal.utf8Start[index] { return false }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 0x20 : byte
    }

    /// Whether the bytes so far could still become `http://` or `https://`.
    private static func couldBeURLStart(_ bytes: [UInt8]) -> Bool {
        let https = Array("https://".utf8)
        let http = Array("http://".utf8)
        let lower = bytes.map(lowercased)
        return lower.elementsEqual(https.prefix(lower.count)) || lower.elementsEqual(http.prefix(lower.count))
    }
}
