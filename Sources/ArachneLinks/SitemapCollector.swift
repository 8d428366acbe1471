/// The elements that matter in a sitemap, in a sitemaps.org (or no) namespace; everything else is `other`.
enum SitemapElement: Equatable {
    case urlset, sitemapindex, url, sitemap, loc, lastmod, other
}

/// The rules for which elements yield entries, applied to a stream of start tags, end tags and text, apart from
/// libxml2's callbacks.
///
/// An entry is a `<url>` child of a `<urlset>` root, or a `<sitemap>` child of a `<sitemapindex>` root; its location
/// is the text of its first `<loc>` child, its lastmod that of a `<lastmod>` child. Elements of other namespaces
/// (`image:loc`, `xhtml:link`, news and video extensions) are `other` and ignored with their content. An entry is
/// kept at its end tag; `finish` keeps one whose `<loc>` was complete when the body was cut off.
struct SitemapCollector {
    let limits: SitemapLimits
    private(set) var document = SitemapDocument()
    /// Open elements: 1 inside the root.
    private var depth = 0
    /// The entry being read (depth ≥ 2).
    private var entryOpen = false
    private var location: String?
    private var locationLine = 0
    private var lastmod: String?
    /// The field whose text is being collected (depth 3), and its text so far.
    private var field: SitemapElement?
    private var text: [UInt8] = []
    private var textOverflowed = false

    /// The longest `<lastmod>` kept.
    static let maxLastmodBytes = 64
    /// The deepest nesting read. A sitemap needs 3 levels, extensions a few more; libxml2's push parser checks no
    /// depth of its own, and each open element costs it about 40 bytes, so 50 MiB of `<x>` would cost it ~600 MB.
    static let maxDepth = 100

    /// What a start tag means for parsing.
    enum Verdict: Equatable {
        case goOn
        /// The root element is not `urlset` or `sitemapindex`.
        case notSitemap
        /// More than `maxDepth` elements are open.
        case tooDeep
    }

    init(limits: SitemapLimits) {
        self.limits = limits
    }

    /// A start tag; parsing stops unless the verdict is `goOn`.
    mutating func start(_ element: SitemapElement, line: Int, name: () -> String) -> Verdict {
        depth += 1
        if depth > Self.maxDepth { return .tooDeep }
        switch depth {
        case 1:
            document.rootElement = name()
            switch element {
            case .urlset: document.kind = .urlset
            case .sitemapindex: document.kind = .sitemapIndex
            default:
                document.kind = .notSitemap
                return .notSitemap
            }
        case 2:
            let entryElement: SitemapElement = document.kind == .urlset ? .url : .sitemap
            if element == entryElement {
                entryOpen = true
                location = nil
                lastmod = nil
            }
        case 3 where entryOpen && (element == .loc || element == .lastmod):
            field = element
            text.removeAll(keepingCapacity: true)
            textOverflowed = false
            if element == .loc { locationLine = line }
        default:
            break
        }
        return .goOn
    }

    /// Text (character data, CDATA) at the current position.
    mutating func characters(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let field, depth == 3 else { return }
        let cap = field == .loc ? limits.maxLocationBytes : Self.maxLastmodBytes
        // Room for the cap plus surrounding whitespace, which is trimmed before the length counts.
        let room = cap + 256 - text.count
        if bytes.count > room {
            text.append(contentsOf: bytes.prefix(max(room, 0)))
            textOverflowed = true
        } else {
            text.append(contentsOf: bytes)
        }
    }

    /// An end tag.
    mutating func end() {
        switch depth {
        case 3:
            if let done = field {
                let value = Self.trimmed(text)
                let cap = done == .loc ? limits.maxLocationBytes : Self.maxLastmodBytes
                let fits = !textOverflowed && value.count <= cap
                if done == .loc, location == nil {
                    if fits {
                        location = String(decoding: value, as: UTF8.self)
                    } else {
                        document.overlong += 1
                        location = ""  // this entry's location was seen: the entry is not counted as missing one
                        locationLine = -1
                    }
                } else if done == .lastmod, fits, !value.isEmpty {
                    lastmod = String(decoding: value, as: UTF8.self)
                }
                field = nil
            }
        case 2:
            if entryOpen { commitEntry() }
            entryOpen = false
        default:
            break
        }
        depth -= 1
    }

    /// The body ended (or was cut off, or parsing failed): keeps the open entry if its `<loc>` was complete.
    mutating func finish() {
        if entryOpen, location != nil { commitEntry() }
        entryOpen = false
    }

    private mutating func commitEntry() {
        guard let location else {
            document.missingLocation += 1
            return
        }
        // An overlong location was counted at its end tag.
        if locationLine >= 0 {
            let entry = SitemapDocument.Entry(location: location, lastmod: lastmod, line: locationLine)
            document.add(entry, limits: limits)
        }
        self.location = nil
    }

    /// Without leading and trailing XML whitespace (space, tab, CR, LF) and form feeds.
    static func trimmed<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> C.SubSequence {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C }
        var lower = bytes.startIndex
        var upper = bytes.endIndex
        while lower < upper, isSpace(bytes[lower]) { lower = bytes.index(after: lower) }
        while upper > lower, isSpace(bytes[bytes.index(before: upper)]) { upper = bytes.index(before: upper) }
        return bytes[lower..<upper]
    }
}

/// Splits a text sitemap into entries: one URL per line (LF, CR or CRLF), surrounding whitespace trimmed, blank lines
/// skipped. Lines arrive in chunks; a line longer than `maxLocationBytes` is counted and dropped without being held.
struct TextSitemapLines {
    let limits: SitemapLimits
    /// The number of the line being read.
    private var line: Int
    private var current: [UInt8] = []
    private var currentOverflowed = false
    private var afterCR = false

    init(limits: SitemapLimits, firstLine: Int) {
        self.limits = limits
        self.line = firstLine
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, into document: inout SitemapDocument) {
        var start = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte == 0x0A || byte == 0x0D else { continue }
            if byte == 0x0A, afterCR, index == start, current.isEmpty {
                // The LF of a CRLF whose CR ended the previous line.
                afterCR = false
                start = index + 1
                continue
            }
            append(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            endLine(into: &document)
            afterCR = byte == 0x0D
            start = index + 1
        }
        if start < bytes.count {
            afterCR = false
            append(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        }
    }

    /// The body ended: the last line needs no line break.
    mutating func finish(into document: inout SitemapDocument) {
        if !current.isEmpty || currentOverflowed { endLine(into: &document) }
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, !currentOverflowed else { return }
        let room = limits.maxLocationBytes + 256 - current.count
        if bytes.count > room {
            currentOverflowed = true
            current.removeAll()
        } else {
            current.append(contentsOf: bytes)
        }
    }

    private mutating func endLine(into document: inout SitemapDocument) {
        defer {
            current.removeAll(keepingCapacity: true)
            currentOverflowed = false
            line += 1
        }
        if currentOverflowed {
            document.overlong += 1
            return
        }
        let value = SitemapCollector.trimmed(current)
        if value.isEmpty { return }
        if value.count > limits.maxLocationBytes {
            document.overlong += 1
            return
        }
        document.add(SitemapDocument.Entry(location: String(decoding: value, as: UTF8.self), line: line),
                     limits: limits)
    }
}
