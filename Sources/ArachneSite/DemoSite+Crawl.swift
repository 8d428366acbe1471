/// A reference in a demo-site response that looks like a link, as data: where it sits and what it resolves to.
///
/// The site's HTML is rendered from these values, so a test can walk the site's links without parsing HTML, and a
/// crawler's test can compare what the crawler found with what is there.
public struct DemoSiteLink: Sendable, Hashable {
    /// Where the reference sits in the response.
    public enum Placement: Sendable, Hashable {
        /// `<a href="…">`: a link.
        case anchor
        /// `<a rel="VALUE" href="…">`: a link unless VALUE's space-separated tokens include `nofollow`.
        case anchorRel(String)
        /// Inside an HTML comment: not a link.
        case comment
        /// Inside `<script>`: not a link.
        case script
        /// Inside `<style>`: not a link.
        case style
        /// Inside `<template>`: not a link (its content is inert).
        case template
        /// In the body of a response that is not HTML (`text/csv`): not a link.
        case text

        /// Whether a crawler follows it from a page without `<meta name="robots" content="nofollow">`.
        public var isFollowed: Bool {
            switch self {
            case .anchor: return true
            case .anchorRel(let rel): return !rel.split(separator: " ").contains("nofollow")
            case .comment, .script, .style, .template, .text: return false
            }
        }
    }

    /// What the reference resolves to.
    public enum Target: Sendable, Hashable {
        /// A URL on the demo site itself: its canonical path and query (dot segments removed, percent-encoded
        /// unreserved characters decoded, the fragment dropped).
        case path(String)
        /// An http(s) URL on another host: out of a host-scoped crawl.
        case otherHost(String)
        /// A scheme a crawler does not fetch (`mailto:`, `javascript:`, `ftp:`).
        case notHTTP
    }

    /// The reference exactly as written in the response.
    public let href: String
    public let placement: Placement
    public let target: Target

    public init(_ href: String, _ placement: Placement = .anchor, _ target: Target) {
        self.href = href
        self.placement = placement
        self.target = target
    }
}

/// One crawlable response of the demo site as data: the links it holds and what a crawler must make of them.
public struct DemoSiteResource: Sendable, Equatable {
    /// The path (and query) it was asked for.
    public let path: String
    /// The response status: 200, or 301 for `/moved/N`.
    public let status: Int
    /// The `Content-Type` (nil for a redirect).
    public let contentType: String?
    /// The `Location` of a redirect, relative to the site.
    public let location: String?
    /// The `<base href>` the page declares: relative links resolve against it, not against `path`.
    public let baseHref: String?
    /// Whether the page carries `<meta name="robots" content="nofollow">`: none of its links are followed.
    public let metaRobotsNofollow: Bool
    /// Every link-like reference in the body, in document order.
    public let links: [DemoSiteLink]
}

/// What a correct host-scoped crawl of the demo site from `/` does (see `DemoSite.crawlExpectation`).
public struct DemoSiteCrawlExpectation: Sendable, Equatable {
    /// Every URL a correct crawl fetches, exactly once, as path and query, with its depth: the number of links
    /// followed from `/` (a redirect's `Location` keeps the depth of the response that sent it). `/robots.txt` is fetched too but is not a page
    /// and is not listed.
    public let depths: [String: Int]
    /// Paths (with query) a correct crawl never requests: targets of links that are not links (nofollow, comments,
    /// scripts, styles, templates, a CSV body), links of a nofollow page, and wrong spellings of fetched URLs.
    public let neverFetched: Set<String>
    /// Absolute URLs on other hosts that the site links to: a host-scoped crawl never fetches them.
    public let otherHosts: Set<String>
    /// Paths listed in `/sitemap.xml` and linked from nowhere: a crawl that only follows links never fetches them.
    public let sitemapOnly: Set<String>

    /// The paths of `depths`.
    public var fetched: Set<String> { Set(depths.keys) }
}

extension DemoSite {
    // MARK: The expectation

    /// What a correct host-scoped crawl from `/` with default options fetches on a site of `pageCount` pages, and
    /// with `maxDepth` only the URLs at that depth or less (`/` is depth 0). Computing it for millions of pages takes
    /// a while and the memory of a set of that many paths.
    ///
    /// With `sitemaps` (a crawl's default), `/sitemap.xml`, which robots.txt names, and the pages only it lists are
    /// fetched too, at depth 1; pages the sitemap lists may then be found through it first, at depth 1.
    public static func crawlExpectation(
        pageCount: Int = defaultPageCount, maxDepth: Int? = nil, sitemaps: Bool = true
    ) -> DemoSiteCrawlExpectation {
        precondition(pageCountRange.contains(pageCount), "page count \(pageCount) is outside \(pageCountRange)")
        let limit = maxDepth ?? Int.max
        var depths: [String: Int] = [:]
        // Pages: breadth-first over `pageLinks`, from the ten the index links. No trap page gives a page a lower
        // depth: they link only to pages 3…9, which are depth 1 already.
        var pageDepth = [Int32](repeating: -1, count: pageCount)
        var frontier = Array(0..<indexLinkCount)
        var depth = 1
        for page in frontier { pageDepth[page] = 1 }
        while !frontier.isEmpty && depth < limit {
            var next: [Int] = []
            for page in frontier {
                for link in pageLinks(page, pageCount: pageCount) where pageDepth[link] < 0 {
                    pageDepth[link] = Int32(depth + 1)
                    next.append(link)
                }
            }
            frontier = next
            depth += 1
        }
        depths.reserveCapacity(pageCount + expectedTrapDepths.count + 1)
        depths["/"] = 0
        for page in 0..<pageCount where pageDepth[page] >= 0 && Int(pageDepth[page]) <= limit {
            depths["/page/\(page)"] = Int(pageDepth[page])
        }
        for (path, depth) in expectedTrapDepths where depth <= limit { depths[path] = depth }
        if sitemaps && limit >= 1 {
            depths["/sitemap.xml"] = 1
            depths["/crawl/sitemap-only"] = 1
        }
        return DemoSiteCrawlExpectation(
            depths: depths, neverFetched: Set(neverFetchedPaths), otherHosts: ["http://example.invalid/"],
            sitemapOnly: ["/crawl/sitemap-only"])
    }

    /// The trap URLs a correct crawl fetches, with their depths, written out by hand: the tests check them against
    /// a walk over the link data.
    static let expectedTrapDepths: [(String, Int)] = [
        ("/crawl/relative/", 1), ("/crawl/base", 1), ("/crawl/meta-nofollow", 1), ("/crawl/hidden", 1),
        ("/moved/4", 1), ("/files/data.csv", 1),
        ("/crawl/relative/deeper", 2), ("/crawl/relative/deeper?x=1", 2), ("/crawl/relative/?y=2", 2),
        ("/page/9?x=1", 2), ("/crawl/visible", 2), ("/crawl/rel-noopener", 2),
    ]

    static let neverFetchedPaths = [
        // Pages that exist and are linked only where a link is not a link.
        "/crawl/rel-nofollow", "/crawl/rel-nofollow-2", "/crawl/meta-target", "/crawl/in-comment", "/crawl/in-script",
        "/crawl/in-style", "/crawl/in-template", "/crawl/in-csv",
        // Spellings of fetched URLs that a canonical URL identity merges (and the site answers 404).
        "/page/%35", "/crawl/relative/%64eeper",
        // Where /crawl/base's links lead when its <base href="/page/"> is ignored.
        "/crawl/7", "/crawl/8", "/crawl/9?x=1",
    ]

    // MARK: The link data

    /// The crawl-relevant content of `path` (with or without a query) on a site of `pageCount` pages: `/`,
    /// `/page/N`, the `/crawl/` pages, `/moved/N`, `/files/data.csv`. Nil for paths that are not found and for the
    /// other routes (bytes, status, delays, redirect chains, robots.txt, the sitemap).
    public static func crawlResource(at path: String, pageCount: Int = defaultPageCount) -> DemoSiteResource? {
        switch SiteRoute(path: path, pageCount: pageCount) {
        case .index:
            return DemoSiteResource(
                path: path, status: 200, contentType: htmlType, location: nil, baseHref: nil,
                metaRobotsNofollow: false,
                links: (0..<indexLinkCount).map { DemoSiteLink("/page/\($0)", .anchor, .path("/page/\($0)")) }
                    + indexTrapLinks)
        case .page(let n):
            return DemoSiteResource(
                path: path, status: 200, contentType: htmlType, location: nil, baseHref: nil,
                metaRobotsNofollow: false,
                links: pageLinks(n, pageCount: pageCount).map {
                    DemoSiteLink("/page/\($0)", .anchor, .path("/page/\($0)"))
                } + [DemoSiteLink("/", .anchor, .path("/"))])
        case .moved(let n):
            return DemoSiteResource(
                path: path, status: 301, contentType: nil, location: "/page/\(n)", baseHref: nil,
                metaRobotsNofollow: false, links: [])
        case .trap(let index):
            let trap = trapPages[index]
            return DemoSiteResource(
                path: path, status: 200, contentType: trap.contentType.description, location: nil,
                baseHref: trap.baseHref, metaRobotsNofollow: trap.metaRobotsNofollow, links: trap.links)
        default:
            return nil
        }
    }

    private static let htmlType = "text/html; charset=utf-8"

    /// The crawler test links of the index, after its ten page links.
    static let indexTrapLinks: [DemoSiteLink] = [
        DemoSiteLink("crawl/relative/", .anchor, .path("/crawl/relative/")),
        DemoSiteLink("/crawl/base", .anchor, .path("/crawl/base")),
        DemoSiteLink("/crawl/meta-nofollow", .anchor, .path("/crawl/meta-nofollow")),
        DemoSiteLink("/crawl/hidden", .anchor, .path("/crawl/hidden")),
        DemoSiteLink("/moved/4", .anchor, .path("/moved/4")),
        DemoSiteLink("/files/data.csv", .anchor, .path("/files/data.csv")),
        DemoSiteLink("/page/5#top", .anchor, .path("/page/5")),
        DemoSiteLink("/page/%35", .anchor, .path("/page/5")),
        DemoSiteLink("http://example.invalid/", .anchor, .otherHost("http://example.invalid/")),
        DemoSiteLink("mailto:spider@example.invalid", .anchor, .notHTTP),
        DemoSiteLink("javascript:void(0)", .anchor, .notHTTP),
        DemoSiteLink("ftp://example.invalid/file.txt", .anchor, .notHTTP),
    ]

    /// A fixed page of the crawl test set.
    struct TrapPage {
        let path: StaticString
        let title: String
        let contentType: StaticString
        var baseHref: String? = nil
        var metaRobotsNofollow = false
        let links: [DemoSiteLink]
    }

    /// The `/crawl/` pages and `/files/data.csv`; `SiteRoute.trap(i)` is `trapPages[i]`.
    static let trapPages: [TrapPage] = {
        let home = DemoSiteLink("/", .anchor, .path("/"))
        func hidden(_ path: StaticString, _ title: String) -> TrapPage {
            TrapPage(path: path, title: title + " (a correct crawl never fetches this page)",
                     contentType: "text/html; charset=utf-8", links: [home])
        }
        let relativeLinks = [
            DemoSiteLink("../../page/3", .anchor, .path("/page/3")),
            DemoSiteLink("../../page/1/../6", .anchor, .path("/page/6")),
            DemoSiteLink("./deeper", .anchor, .path("/crawl/relative/deeper")),
            DemoSiteLink("deeper?x=1#frag", .anchor, .path("/crawl/relative/deeper?x=1")),
            DemoSiteLink("deeper#frag", .anchor, .path("/crawl/relative/deeper")),
            DemoSiteLink("../relative/./deeper", .anchor, .path("/crawl/relative/deeper")),
            DemoSiteLink("/crawl/relative/%64eeper", .anchor, .path("/crawl/relative/deeper")),
            DemoSiteLink("?y=2", .anchor, .path("/crawl/relative/?y=2")),
            DemoSiteLink(".", .anchor, .path("/crawl/relative/")),
        ]
        return [
            TrapPage(path: "/crawl/relative/", title: "Relative links", contentType: "text/html; charset=utf-8",
                     links: relativeLinks),
            TrapPage(path: "/crawl/relative/deeper", title: "Relative links, one level down",
                     contentType: "text/html; charset=utf-8", links: [
                        DemoSiteLink("../../page/8", .anchor, .path("/page/8")),
                        DemoSiteLink("./", .anchor, .path("/crawl/relative/")),
                        DemoSiteLink("../../", .anchor, .path("/")),
                     ]),
            TrapPage(path: "/crawl/base", title: "Links relative to <base href=\"/page/\">",
                     contentType: "text/html; charset=utf-8", baseHref: "/page/", links: [
                        DemoSiteLink("7", .anchor, .path("/page/7")),
                        DemoSiteLink("./8", .anchor, .path("/page/8")),
                        DemoSiteLink("9?x=1#frag", .anchor, .path("/page/9?x=1")),
                        DemoSiteLink("../page/%35", .anchor, .path("/page/5")),
                        DemoSiteLink("../crawl/relative/", .anchor, .path("/crawl/relative/")),
                     ]),
            TrapPage(path: "/crawl/meta-nofollow", title: "A page whose links are not followed",
                     contentType: "text/html; charset=utf-8", metaRobotsNofollow: true, links: [
                        DemoSiteLink("/crawl/meta-target", .anchor, .path("/crawl/meta-target")),
                        DemoSiteLink("/page/2", .anchor, .path("/page/2")),
                     ]),
            TrapPage(path: "/crawl/hidden", title: "Links that are not links",
                     contentType: "text/html; charset=utf-8", links: [
                        DemoSiteLink("/crawl/visible", .anchor, .path("/crawl/visible")),
                        DemoSiteLink("/crawl/rel-noopener", .anchorRel("noopener"), .path("/crawl/rel-noopener")),
                        DemoSiteLink("/crawl/rel-nofollow", .anchorRel("nofollow"), .path("/crawl/rel-nofollow")),
                        DemoSiteLink("/crawl/rel-nofollow-2", .anchorRel("noopener nofollow"),
                                     .path("/crawl/rel-nofollow-2")),
                        DemoSiteLink("/crawl/in-comment", .comment, .path("/crawl/in-comment")),
                        DemoSiteLink("/crawl/in-script", .script, .path("/crawl/in-script")),
                        DemoSiteLink("/crawl/in-style", .style, .path("/crawl/in-style")),
                        DemoSiteLink("/crawl/in-template", .template, .path("/crawl/in-template")),
                     ]),
            TrapPage(path: "/crawl/visible", title: "A real link's target", contentType: "text/html; charset=utf-8",
                     links: [home]),
            TrapPage(path: "/crawl/rel-noopener", title: "The target of a rel=\"noopener\" link (followed)",
                     contentType: "text/html; charset=utf-8", links: [home]),
            TrapPage(path: "/files/data.csv", title: "data.csv", contentType: "text/csv",
                     links: [DemoSiteLink("/crawl/in-csv", .text, .path("/crawl/in-csv"))]),
            hidden("/crawl/rel-nofollow", "Linked with rel=\"nofollow\""),
            hidden("/crawl/rel-nofollow-2", "Linked with rel=\"noopener nofollow\""),
            hidden("/crawl/meta-target", "Linked from a meta robots nofollow page"),
            hidden("/crawl/in-comment", "Linked inside an HTML comment"),
            hidden("/crawl/in-script", "Linked inside a script"),
            hidden("/crawl/in-style", "Linked inside a style sheet"),
            hidden("/crawl/in-template", "Linked inside a template"),
            hidden("/crawl/in-csv", "Named in a CSV file"),
            TrapPage(path: "/crawl/sitemap-only", title: "Listed in /sitemap.xml, linked from nowhere",
                     contentType: "text/html; charset=utf-8", links: [home]),
        ]
    }()

    /// The bytes of each trap path, for the router.
    static let trapPathBytes: [[UInt8]] = trapPages.map {
        Array(UnsafeBufferPointer(start: $0.path.utf8Start, count: $0.path.utf8CodeUnitCount))
    }

    // MARK: Rendering

    /// The body of trap page `index`.
    static func trapBody(_ index: Int) -> String {
        let page = trapPages[index]
        if page.path.description == "/files/data.csv" {
            // Looks like markup to a crawler that parses every body as HTML.
            return """
                id,name,link
                1,spider,"<a href=""/crawl/in-csv"">in-csv</a>"
                2,thread,/crawl/in-csv

                """
        }
        var html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        if page.metaRobotsNofollow { html += "<meta name=\"robots\" content=\"nofollow\">" }
        if let base = page.baseHref { html += "<base href=\"\(base)\">" }
        html += "<title>Arachne demo: \(escape(page.title))</title></head>\n<body>\n"
        html += "<h1>\(escape(page.title))</h1>\n<ul>\n"
        html += renderLinks(page.links)
        html += "</body></html>\n"
        return html
    }

    /// A list of anchors (`<ul>` already open), closed, then the references that are not links.
    static func renderLinks(_ links: [DemoSiteLink]) -> String {
        var html = ""
        for link in links {
            switch link.placement {
            case .anchor: html += "<li><a href=\"\(link.href)\">\(escape(link.href))</a></li>\n"
            case .anchorRel(let rel):
                html += "<li><a rel=\"\(rel)\" href=\"\(link.href)\">\(escape(link.href))</a></li>\n"
            default: break
            }
        }
        html += "</ul>\n"
        for link in links {
            switch link.placement {
            case .comment: html += "<!-- an old link: <a href=\"\(link.href)\">gone</a> -->\n"
            case .script: html += "<script>document.write('<a href=\"\(link.href)\">scripted</a>');</script>\n"
            case .style:
                html += "<style>/* <a href=\"\(link.href)\"> */ body { background: url(\"\(link.href)\") }</style>\n"
            case .template: html += "<template><a href=\"\(link.href)\">inert</a></template>\n"
            default: break
            }
        }
        return html
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `/sitemap.xml` of the site at `baseURL`: `/`, the fetched HTML trap pages, the first 1,000 pages (or all of
    /// them on a smaller site) and `/crawl/sitemap-only`, which nothing links to.
    public static func sitemapXML(baseURL: String, pageCount: Int = defaultPageCount) -> String {
        var paths = ["/"]
        paths += expectedTrapDepths.map(\.0).filter {
            !$0.contains("?") && $0 != "/moved/4" && $0 != "/files/data.csv"
        }
        paths += (0..<min(pageCount, 1000)).map { "/page/\($0)" }
        paths.append("/crawl/sitemap-only")
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        for path in paths { xml += "<url><loc>\(baseURL)\(path)</loc></url>\n" }
        xml += "</urlset>\n"
        return xml
    }
}
