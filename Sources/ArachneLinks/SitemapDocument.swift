/// What `SitemapReader` found in one sitemap body: its kind and the raw `<loc>` values (or text lines), with what was
/// cut, counted or went wrong on the way. Values are as the file has them (entity references decoded, surrounding
/// whitespace trimmed), not yet parsed as URLs: that is the WHATWG parser's job, in ArachneCrawl's `SitemapParser`.
public struct SitemapDocument: Sendable, Hashable {
    /// What kind of file the body is.
    public enum Kind: String, Sendable, Hashable {
        /// An XML `<urlset>`: its entries are pages.
        case urlset
        /// An XML `<sitemapindex>`: its entries are more sitemaps.
        case sitemapIndex = "sitemapindex"
        /// A text sitemap: one URL per line (sitemaps.org "Other Sitemap formats").
        case text
        /// Anything else: XML with another root element (`rootElement` names it), or text whose first line is not an
        /// http(s) URL, or nothing at all.
        case notSitemap = "not-a-sitemap"
    }

    /// One `<url>` (urlset), `<sitemap>` (index) or line (text).
    public struct Entry: Sendable, Hashable {
        /// The `<loc>` text or the line: entity and character references decoded, ASCII whitespace trimmed.
        public var location: String
        /// The `<lastmod>` text, trimmed (W3C Datetime, not checked); nil when absent, empty or over 64 bytes.
        public var lastmod: String?
        /// The line of the `<loc>` start tag, or of the text line (1-based, in the decompressed body).
        public var line: Int

        public init(location: String, lastmod: String? = nil, line: Int) {
            self.location = location
            self.lastmod = lastmod
            self.line = line
        }
    }

    public var kind: Kind = .notSitemap
    /// The root element's local name when the body is XML (`urlset`, `sitemapindex`, or what it was instead).
    public var rootElement: String?
    /// The first `maxEntries` entries, in file order.
    public var entries: [Entry] = []
    /// The body was gzip (magic bytes 1f 8b), and was inflated before parsing.
    public var compressed = false
    /// Bytes parsed: after decompression, at most `maxBytes`.
    public var bytesParsed = 0
    /// Entries after the first `maxEntries`: counted, not kept.
    public var overEntryCap = 0
    /// Locations longer than `maxLocationBytes`: dropped.
    public var overlong = 0
    /// `<url>` or `<sitemap>` elements without a `<loc>`.
    public var missingLocation = 0
    /// The body (decompressed) was longer than `maxBytes`: the rest was not parsed.
    public var truncatedAtByteCap = false
    /// Why parsing stopped early, when it did for a reason other than the caps: the entries before it are kept.
    public var error: SitemapError?

    public init() {}

    /// More entries than `maxEntries`: the ones after the cap were counted, not kept.
    public var truncatedAtEntryCap: Bool { overEntryCap > 0 }

    /// Keeps an entry, or counts it when the entry cap is reached.
    mutating func add(_ entry: Entry, limits: SitemapLimits) {
        if entries.count < limits.maxEntries {
            entries.append(entry)
        } else {
            overEntryCap += 1
        }
    }
}

/// The bounds a sitemap is read within. The defaults are the sitemaps.org protocol's own limits, so a conforming file
/// is never cut.
public struct SitemapLimits: Sendable, Hashable {
    /// The most bytes parsed, after decompression: 50 MiB (52,428,800 bytes), the protocol's limit. A gzip bomb is cut
    /// here, never inflated in full: the body is inflated and parsed in 64 KiB steps.
    public var maxBytes: Int
    /// The most entries kept: 50,000, the protocol's limit. Later ones are counted (`overEntryCap`).
    public var maxEntries: Int
    /// The longest location kept, in bytes. The protocol asks for fewer than 2,048 characters; 8 KiB leaves room for
    /// non-ASCII characters and sloppy generators, and still bounds what one entry costs.
    public var maxLocationBytes: Int

    public init(maxBytes: Int = 52_428_800, maxEntries: Int = 50_000, maxLocationBytes: Int = 8_192) {
        precondition(maxBytes >= 0 && maxEntries >= 0 && maxLocationBytes >= 0, "sitemap limits must not be negative")
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
        self.maxLocationBytes = maxLocationBytes
    }

    /// The protocol's limits: 50 MiB, 50,000 entries.
    public static let sitemapsOrg = SitemapLimits()
}

/// Why a sitemap was not read to its end: malformed or too deeply nested XML, or a gzip stream that is corrupt or cut
/// short. The entries read before the problem are kept.
public struct SitemapError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Not well-formed XML (libxml2's fatal error): parsing stopped at `line`.
        case malformedXML
        /// Elements nested deeper than any sitemap needs (`SitemapCollector.maxDepth`): parsing stopped at `line`.
        case tooDeep
        /// The gzip data is corrupt (zlib's message).
        case corruptGzip
        /// The gzip stream ends before its end: the file was cut short (a size cap on the fetch, a broken transfer).
        case truncatedGzip
    }

    public var kind: Kind
    /// Where, for malformed XML (1-based, in the decompressed body).
    public var line: Int?
    /// libxml2's or zlib's message, trimmed.
    public var detail: String

    public init(kind: Kind, line: Int? = nil, detail: String) {
        self.kind = kind
        self.line = line
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .malformedXML: "malformed XML at line \(line ?? 0): \(detail)"
        case .tooDeep: "nested too deep at line \(line ?? 0): \(detail)"
        case .corruptGzip: "corrupt gzip data: \(detail)"
        case .truncatedGzip: "the gzip data ends early (the file was cut short)"
        }
    }
}
