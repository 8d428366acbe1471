import ArachneCore
import ArachneLinks
import ArachneURL

/// One link of a page as a crawl judges it: where it resolves, its identity, and whether it is followed or why not.
/// `arachne links --json` prints these; a worker keeps only the verdicts.
public struct JudgedLink: Sendable, Hashable {
    /// Why a link is not followed.
    public enum Drop: Sendable, Hashable {
        /// The href does not parse against the base (the parser's message).
        case invalid(String)
        /// It resolves to a scheme a crawl does not fetch (`mailto`, `javascript`, `ftp`...).
        case unsupportedScheme(String)
        /// `rel="nofollow"`, or the page says nofollow (meta robots, X-Robots-Tag).
        case nofollow
        /// Outside the crawl's scope.
        case outOfScope
        /// Dropped by an include or exclude pattern (`include`, or `exclude:PATTERN`).
        case filtered(String)
        /// Same identity as an earlier link of the page.
        case duplicateOnPage

        /// A short name for output: `invalid-url`, `unsupported-scheme`, `nofollow`, `out-of-scope`, `filtered`,
        /// `duplicate`.
        public var name: String {
            switch self {
            case .invalid: "invalid-url"
            case .unsupportedScheme: "unsupported-scheme"
            case .nofollow: "nofollow"
            case .outOfScope: "out-of-scope"
            case .filtered: "filtered"
            case .duplicateOnPage: "duplicate"
            }
        }

        /// What a person reads.
        public var detail: String {
            switch self {
            case .invalid(let message): "does not parse: \(message)"
            case .unsupportedScheme(let scheme): "scheme '\(scheme)' is not crawled (only http and https)"
            case .nofollow: "nofollow"
            case .outOfScope: "outside the crawl's scope"
            case .filtered(let rule): "filtered by \(rule)"
            case .duplicateOnPage: "the same URL as an earlier link on this page"
            }
        }
    }

    /// The link as the page has it.
    public var link: PageLinks.Link
    /// The resolved URL without its fragment; nil when it did not parse.
    public var url: String?
    /// The canonical identity; nil when it did not parse.
    public var canonical: String?
    /// nil when followed.
    public var drop: Drop?
    /// Set when followed but caught by a trap rule: it will end as a skip record of this kind.
    public var trap: TrapKind?
}

/// Turns a fetched page into the links a crawl follows: extracts them with libxml2, resolves each by the WHATWG URL
/// Standard against the page's `<base>` (or the page's URL), drops the nofollow ones, computes each identity, and
/// judges scope, filters and traps. Workers run one per crawl job; `arachne links` runs the same code.
public struct PageHarvester: Sendable {
    public let rules: LinkRules
    public let followNofollow: Bool
    /// The product token X-Robots-Tag directives are matched against (from the user agent).
    public let agent: String

    /// Whether sitemaps are read: a fetched sitemap's locations come back as links `via: sitemap`.
    public var readsSitemaps = false

    public init(rules: LinkRules, followNofollow: Bool, agent: String, readsSitemaps: Bool = false) {
        self.rules = rules
        self.followNofollow = followNofollow
        self.agent = agent
        self.readsSitemaps = readsSitemaps
    }

    /// The harvester a crawl job's options describe; `seeds` are its URLs (unparsable seeds are ignored: the
    /// coordinator already refused them).
    public init(options: CrawlOptionsSpec, seeds: [String], userAgent: String) throws(CrawlOptionsError) {
        let seedURLs = seeds.compactMap { try? WebURL.parse($0) }.compactMap(CrawlURL.init)
        self.init(rules: try LinkRules(options: options, seeds: seedURLs), followNofollow: options.followNofollow,
                  agent: Self.productToken(userAgent), readsSitemaps: options.sitemaps)
    }

    /// The product token of a User-Agent: its first word up to `/` ("arachne/0.1 (+url)" → "arachne").
    public static func productToken(_ userAgent: String) -> String {
        let first = userAgent.split(whereSeparator: { $0 == " " || $0 == "/" }).first.map(String.init) ?? userAgent
        return first.isEmpty ? "arachne" : first
    }

    /// What a crawl learns from one response of `url`.
    public func harvest(url: String, status: Int, rawHeader: [UInt8], body: [UInt8]) -> CrawlFindings {
        let contentTypeHeader = ResponseHead.value(of: "content-type", in: rawHeader)
        var findings = CrawlFindings(contentType: ResponseHead.mediaType(contentTypeHeader))
        guard status > 0 else { return findings }
        guard (200...299).contains(status) && LinkExtractor.isHTML(contentType: contentTypeHeader) else {
            return harvestOther(url: url, status: status, rawHeader: rawHeader, body: body, findings: findings)
        }
        let page = LinkExtractor.extract(from: body, charset: LinkExtractor.charset(contentType: contentTypeHeader))
        let headerRobots = RobotsDirectives(
            xRobotsTag: ResponseHead.values(of: "x-robots-tag", in: rawHeader), agent: agent)
        guard let judgedLinks = judge(page, document: url, headerRobots: headerRobots) else { return findings }
        for judged in judgedLinks {
            switch judged.drop {
            case .nofollow:
                findings.counts.addNofollow()
                continue
            case .invalid, .unsupportedScheme: continue
            default: findings.counts.addFound()
            }
            switch judged.drop {
            case .outOfScope: findings.counts.addOutOfScope()
            case .filtered(let rule): findings.counts.addFiltered(by: rule)
            case .duplicateOnPage: findings.counts.addDuplicate()
            default:
                // `judge` marked later links of the same identity `duplicateOnPage`.
                guard let url = judged.url, let canonical = judged.canonical else { continue }
                findings.links.append(DiscoveredLink(
                    url: url, identity: canonical == url ? "" : canonical, via: .link,
                    trap: judged.trap.flatMap { FetchErrorKind(rawValue: $0.rawValue) }))
            }
        }
        return findings
    }

    /// A response that is not a 2xx HTML page: a redirect's `Location`, or a sitemap.
    private func harvestOther(url: String, status: Int, rawHeader: [UInt8], body: [UInt8], findings: CrawlFindings)
        -> CrawlFindings
    {
        var findings = findings
        guard let document = try? WebURL.parse(url) else { return findings }
        if (300...399).contains(status), let location = ResponseHead.value(of: "location", in: rawHeader) {
            findings.location = location
            if let target = try? WebURL.parse(location, base: document), let crawlURL = CrawlURL(target) {
                findings.counts.addFound()
                consider(crawlURL, href: target.hrefWithoutFragment, via: .redirect, into: &findings)
            }
            return findings
        }
        guard (200...299).contains(status), readsSitemaps,
            Self.mayBeSitemap(url: document, mediaType: findings.contentType, body: body)
        else { return findings }
        let sitemap = SitemapParser.parse(body, url: url)
        guard sitemap.kind != .notSitemap else { return findings }
        var listed = sitemap.links(rules: rules)
        listed.contentType = findings.contentType
        return listed
    }

    /// Whether a response that is not HTML is worth reading as a sitemap: gzip bytes, an XML media type, or a path
    /// that names a sitemap (`.xml`, `.xml.gz`, `.gz`, or a `.txt` with "sitemap" in it, for text sitemaps). Any
    /// other body is left alone; `SitemapParser` then decides by the root element.
    static func mayBeSitemap(url: WebURL, mediaType: String, body: [UInt8]) -> Bool {
        if body.count >= 2 && body[0] == 0x1f && body[1] == 0x8b { return true }
        if mediaType.hasSuffix("xml") { return true }
        let path = url.pathname.lowercased()
        if path.hasSuffix(".xml") || path.hasSuffix(".gz") { return true }
        return path.hasSuffix(".txt") && path.contains("sitemap")
    }

    /// The URLs a sitemap (or robots.txt's `Sitemap:` lines) lists, resolved against `base` and judged like links;
    /// those to follow travel `via: sitemap`. De-duplicated by identity.
    public func sitemapLinks(_ urls: [String], base: String) -> CrawlFindings {
        var findings = CrawlFindings()
        let baseURL = try? WebURL.parse(base)
        var seen: Set<String> = []
        for text in urls {
            guard let target = try? WebURL.parse(text, base: baseURL), let crawlURL = CrawlURL(target) else { continue }
            findings.counts.addFound()
            guard seen.insert(crawlURL.absolute).inserted else {
                findings.counts.addDuplicate()
                continue
            }
            consider(crawlURL, href: target.hrefWithoutFragment, via: .sitemap, into: &findings)
        }
        return findings
    }

    /// Every link of `page`, resolved and judged, in document order.
    public func judge(_ page: PageLinks, documentURL: WebURL, headerRobots: RobotsDirectives = RobotsDirectives())
        -> [JudgedLink]
    {
        // The document base URL: the first <base href> resolved against the document's URL, if it parses.
        var base = documentURL
        if let baseHref = page.baseHref, let parsed = try? WebURL.parse(baseHref, base: documentURL) { base = parsed }
        return judge(page, plainBase: PlainLink.Base(base), base: { base }, headerRobots: headerRobots)
    }

    /// The same for the page at `document`; nil when that does not parse. A page without `<base>` whose URL is in
    /// serialized form (most are: the crawl fetches the URLs it resolved) is resolved against without the WHATWG
    /// parser, which runs only if a link needs it.
    func judge(_ page: PageLinks, document: String, headerRobots: RobotsDirectives) -> [JudgedLink]? {
        guard page.baseHref == nil, let plain = PlainLink.resolve(document, base: nil) else {
            guard let documentURL = try? WebURL.parse(document) else { return nil }
            return judge(page, documentURL: documentURL, headerRobots: headerRobots)
        }
        var parsed: WebURL?
        return judge(page, plainBase: PlainLink.Base(plain), base: {
            if parsed == nil { parsed = try? WebURL.parse(document) }
            return parsed
        }, headerRobots: headerRobots)
    }

    /// The loop of both: `base()` gives the base URL for the links `PlainLink` cannot resolve against `plainBase`.
    private func judge(
        _ page: PageLinks, plainBase: PlainLink.Base?, base: () -> WebURL?, headerRobots: RobotsDirectives
    ) -> [JudgedLink] {
        let pageNofollow = !followNofollow && (page.robots.nofollow || headerRobots.nofollow)
        // Most links are already in the form the parser would give them: PlainLink reads those off their bytes.
        var seen = SmallStringSet()
        var judged: [JudgedLink] = []
        judged.reserveCapacity(page.links.count)
        for link in page.links {
            var entry = JudgedLink(link: link, url: nil, canonical: nil, drop: nil, trap: nil)
            let crawlURL: CrawlURL
            if let plain = PlainLink.resolve(link.href, base: plainBase) {
                entry.url = plain.href
                entry.canonical = plain.href
                crawlURL = CrawlURL(plain)
            } else {
                let resolved: WebURL
                do {
                    resolved = try WebURL.parse(link.href, base: base())
                } catch {
                    entry.drop = .invalid(error.description)
                    judged.append(entry)
                    continue
                }
                entry.url = resolved.hrefWithoutFragment
                let canonical = URLIdentity.canonical(resolved)
                entry.canonical = canonical
                guard let parsed = CrawlURL(resolved, canonical: canonical) else {
                    entry.drop = .unsupportedScheme(resolved.scheme)
                    judged.append(entry)
                    continue
                }
                crawlURL = parsed
            }
            if pageNofollow || (link.nofollow && !followNofollow) {
                entry.drop = .nofollow
            } else if !seen.insert(crawlURL.absolute) {
                entry.drop = .duplicateOnPage
            } else {
                switch rules.judge(crawlURL) {
                case .follow: break
                case .outOfScope: entry.drop = .outOfScope
                case .filtered(let pattern, let include): entry.drop = .filtered(include ? "include" : "exclude:\(pattern)")
                case .trap(let kind): entry.trap = kind
                }
            }
            judged.append(entry)
        }
        return judged
    }

    private func consider(_ url: CrawlURL, href: String, via: CrawlVia, into findings: inout CrawlFindings) {
        switch rules.judge(url) {
        case .follow:
            findings.links.append(DiscoveredLink(url: href, identity: url.absolute == href ? "" : url.absolute, via: via))
        case .outOfScope: findings.counts.addOutOfScope()
        case .filtered(let pattern, let include): findings.counts.addFiltered(by: include ? "include" : "exclude:\(pattern)")
        case .trap(let kind):
            findings.links.append(DiscoveredLink(
                url: href, identity: url.absolute == href ? "" : url.absolute, via: via,
                trap: FetchErrorKind(rawValue: kind.rawValue)))
        }
    }
}

extension CrawlURL {
    /// The crawl's view of a parsed URL, identity-canonicalised; nil unless it is http or https with a host.
    public init?(_ url: WebURL) {
        self.init(url, canonical: nil)
    }

    /// The crawl's view of a link the shortcut resolved (its href is its identity).
    init(_ link: PlainLink) {
        self.init(absolute: link.href, scheme: link.scheme, host: link.host, port: link.port, path: link.path)
    }

    /// The same, with the URL's canonical identity when the caller has already computed it.
    init?(_ url: WebURL, canonical: String?) {
        guard url.isSpecial, url.scheme == "http" || url.scheme == "https", let host = url.host,
            let port = url.effectivePort
        else { return nil }
        self.init(absolute: canonical ?? URLIdentity.canonical(url), scheme: url.scheme, host: host, port: port,
                  path: url.pathname)
    }
}

/// The identities met on one page: compared one by one while there are few (a page has ~10 links; hashing each
/// cost more than comparing it with the others), hashed past `linearLimit`.
struct SmallStringSet {
    static let linearLimit = 32
    private var few: [String] = []
    private var many: Set<String>?

    /// Adds `value`; false when it was already there.
    mutating func insert(_ value: String) -> Bool {
        if many != nil { return many!.insert(value).inserted }
        if few.contains(value) { return false }
        few.append(value)
        if few.count > Self.linearLimit {
            many = Set(few)
            few = []
        }
        return true
    }
}
