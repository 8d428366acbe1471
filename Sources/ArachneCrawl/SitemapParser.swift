import ArachneCore
import ArachneLinks
import ArachneURL

/// A fetched sitemap as a crawl uses it: its kind, its locations as absolute http(s) URLs, and what was dropped and
/// why. `SitemapParser.parse` makes one.
public struct Sitemap: Sendable, Hashable {
    public typealias Kind = SitemapDocument.Kind

    /// One listed URL: a page (urlset, text) or another sitemap (index).
    public struct Entry: Sendable, Hashable {
        /// The URL parsed by the WHATWG URL Standard, serialized, without its fragment: what gets fetched.
        public var url: String
        /// The `<lastmod>` text as written (W3C Datetime, not checked), if any.
        public var lastmod: String?
        /// The line it is on (1-based, in the decompressed body).
        public var line: Int

        public init(url: String, lastmod: String? = nil, line: Int) {
            self.url = url
            self.lastmod = lastmod
            self.line = line
        }
    }

    /// Why a location is not an entry.
    public enum Drop: Sendable, Hashable, CustomStringConvertible {
        /// It does not parse as a URL (the parser's message).
        case invalid(String)
        /// A relative URL: the protocol asks for absolute ones, and they are not resolved (against what the sitemap's
        /// own URL is, a listed URL could point anywhere the file's author likes).
        case relative
        /// Another scheme than http and https.
        case unsupportedScheme(String)

        public var description: String {
            switch self {
            case .invalid(let message): "not a URL: \(message)"
            case .relative: "a relative URL (sitemaps list absolute URLs)"
            case .unsupportedScheme(let scheme): "scheme '\(scheme)' is not crawled (only http and https)"
            }
        }
    }

    /// A dropped location, kept for diagnostics (the first `maxRejections`).
    public struct Rejection: Sendable, Hashable {
        public var line: Int
        /// The location as written, cut to 200 characters.
        public var location: String
        public var drop: Drop

        public init(line: Int, location: String, drop: Drop) {
            self.line = line
            self.location = location
            self.drop = drop
        }
    }

    /// How many locations were dropped, by reason. Every `<loc>` (or text line) read ends as an entry or in exactly
    /// one of these.
    public struct Drops: Sendable, Hashable {
        /// Did not parse, or were relative.
        public var invalidURL = 0
        /// Parsed, but not http or https.
        public var unsupportedScheme = 0
        /// Longer than the location limit.
        public var overlong = 0
        /// After the entry cap (50,000): counted, never parsed.
        public var overEntryCap = 0
        /// `<url>` or `<sitemap>` elements without a `<loc>`.
        public var missingLocation = 0

        public init() {}

        public var total: Int { invalidURL + unsupportedScheme + overlong + overEntryCap + missingLocation }
    }

    /// The sitemap's own URL, as given to the parser.
    public var url: String
    public var kind: Kind
    /// The XML root element's local name, when the body is XML: it says what a `notSitemap` body was instead.
    public var rootElement: String?
    /// The valid entries, in file order: pages for `urlset` and `text`, sitemaps for `sitemapIndex`.
    public var entries: [Entry]
    public var drops: Drops
    /// The first dropped invalid or non-http locations.
    public var rejections: [Rejection]
    /// The body was a gzip file.
    public var compressed: Bool
    /// Bytes parsed, after decompression.
    public var bytesParsed: Int
    /// The (decompressed) body was over the byte limit (50 MiB): the rest was not read.
    public var truncatedAtByteCap: Bool
    /// Why reading stopped early (malformed XML, corrupt or truncated gzip), if it did; `entries` holds what came
    /// before.
    public var error: SitemapError?

    /// Rejections kept: a hostile file could make one per line.
    public static let maxRejections = 20

    /// The file listed more entries than the cap (50,000): the rest were counted, not read.
    public var truncatedAtEntryCap: Bool { drops.overEntryCap > 0 }
}

/// Parses a fetched sitemap (sitemaps.org protocol; see `SitemapReader` for the formats, the gzip handling and the
/// limits) and validates each location as an absolute http(s) URL with the WHATWG URL parser.
///
/// A crawl reads the `Sitemap:` lines of robots.txt, fetches each, and parses it here: an index's entries are more
/// sitemaps to fetch (the protocol allows one level; refusing an index listed in an index is the caller's rule), a
/// urlset's or text file's entries are pages, which enter the frontier with `via: sitemap` if the crawl's rules let
/// them (`Sitemap.links(rules:)`). The protocol's location rule (a sitemap lists URLs under its own directory) is not
/// applied: robots.txt may name sitemaps anywhere, and the crawl's scope decides.
public enum SitemapParser {
    /// Parses `body`, fetched from `url`. There is no media type parameter on purpose: servers label gzipped sitemaps
    /// `application/octet-stream` or `application/x-gzip` and XML ones `text/html` or `text/plain`, so the bytes
    /// decide (gzip magic, then `<` or `http(s)://`).
    public static func parse(_ body: [UInt8], url: String, limits: SitemapLimits = .sitemapsOrg) -> Sitemap {
        let document = SitemapReader.read(body, limits: limits)
        return validate(document, url: url)
    }

    /// Validates the raw entries of `document`, read from `url`.
    public static func validate(_ document: SitemapDocument, url: String) -> Sitemap {
        var sitemap = Sitemap(
            url: url, kind: document.kind, rootElement: document.rootElement, entries: [], drops: Sitemap.Drops(),
            rejections: [], compressed: document.compressed, bytesParsed: document.bytesParsed,
            truncatedAtByteCap: document.truncatedAtByteCap, error: document.error)
        sitemap.drops.overlong = document.overlong
        sitemap.drops.overEntryCap = document.overEntryCap
        sitemap.drops.missingLocation = document.missingLocation
        let base = try? WebURL.parse(url)
        sitemap.entries.reserveCapacity(document.entries.count)
        for entry in document.entries {
            switch check(entry.location, base: base) {
            case .url(let parsed):
                sitemap.entries.append(Sitemap.Entry(url: parsed.hrefWithoutFragment, lastmod: entry.lastmod,
                                                     line: entry.line))
            case .dropped(let drop):
                if case .unsupportedScheme = drop {
                    sitemap.drops.unsupportedScheme += 1
                } else {
                    sitemap.drops.invalidURL += 1
                }
                if sitemap.rejections.count < Sitemap.maxRejections {
                    sitemap.rejections.append(Sitemap.Rejection(
                        line: entry.line, location: String(entry.location.prefix(200)), drop: drop))
                }
            }
        }
        return sitemap
    }

    private enum Checked {
        case url(WebURL)
        case dropped(Sitemap.Drop)
    }

    /// `location` as an absolute http(s) URL, or why not. A relative location is told apart from garbage by parsing
    /// it again against the sitemap's URL; the result of that is never used.
    private static func check(_ location: String, base: WebURL?) -> Checked {
        let parsed: WebURL
        do {
            parsed = try WebURL.parse(location)
        } catch {
            if let base, !location.isEmpty, WebURL.canParse(location, base: base) { return .dropped(.relative) }
            return .dropped(.invalid(location.isEmpty ? "empty" : error.description))
        }
        guard parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
            return .dropped(.unsupportedScheme(parsed.scheme))
        }
        return .url(parsed)
    }
}

extension Sitemap {
    /// The pages of this sitemap that a crawl with `rules` follows, as links found `via: sitemap`, one per identity,
    /// in file order; out-of-scope and filtered ones are counted in the findings' `counts`, trapped ones travel
    /// marked, as on a page. Meant for a urlset or text sitemap (an index lists sitemaps, not pages).
    public func links(rules: LinkRules) -> CrawlFindings {
        var findings = CrawlFindings(contentType: "")
        var seen: Set<String> = []
        for entry in entries {
            guard let parsed = try? WebURL.parse(entry.url), let crawlURL = CrawlURL(parsed) else { continue }
            findings.counts.addFound()
            guard seen.insert(crawlURL.absolute).inserted else {
                findings.counts.addDuplicate()
                continue
            }
            let identity = crawlURL.absolute == entry.url ? "" : crawlURL.absolute
            switch rules.judge(crawlURL) {
            case .follow:
                findings.links.append(DiscoveredLink(url: entry.url, identity: identity, via: .sitemap))
            case .outOfScope:
                findings.counts.addOutOfScope()
            case .filtered(let pattern, let include):
                findings.counts.addFiltered(by: include ? "include" : "exclude:\(pattern)")
            case .trap(let kind):
                findings.links.append(DiscoveredLink(
                    url: entry.url, identity: identity, via: .sitemap, trap: FetchErrorKind(rawValue: kind.rawValue)))
            }
        }
        return findings
    }
}
