@testable import ArachneSite
import Foundation
import Testing

/// The crawl test set as data: the expectation against a walk over the link data, the link data against URL
/// resolution, and the page rule at other page counts. No sockets (the served bytes are checked in
/// `SiteSocketTests`).
@Suite struct DemoSiteCrawlTests {
    /// A breadth-first crawl over `crawlResource(at:)`, applying the crawl rules here rather than in the library:
    /// anchors are followed unless their rel has a `nofollow` token; nothing on a meta-nofollow page is followed;
    /// a redirect's Location is a link; only this site's URLs are queued. Returns each URL's depth.
    private func walk(pageCount: Int, maxDepth: Int = .max) -> [String: Int] {
        var depths = ["/": 0]
        var frontier = ["/"]
        var depth = 0
        while !frontier.isEmpty && depth < maxDepth {
            var next: [String] = []
            for path in frontier {
                guard let resource = DemoSite.crawlResource(at: path, pageCount: pageCount) else { continue }
                var targets: [String] = []
                if let location = resource.location { targets.append(location) }
                if !resource.metaRobotsNofollow {
                    for link in resource.links {
                        let followed: Bool
                        switch link.placement {
                        case .anchor: followed = true
                        case .anchorRel(let rel): followed = !rel.split(separator: " ").contains("nofollow")
                        default: followed = false
                        }
                        if followed, case .path(let target) = link.target { targets.append(target) }
                    }
                }
                for target in targets where depths[target] == nil {
                    depths[target] = depth + 1
                    next.append(target)
                }
            }
            frontier = next
            depth += 1
        }
        return depths
    }

    @Test(arguments: [10, 11, 1000, 5000])
    func aWalkOverTheLinkDataFindsExactlyTheExpectedURLs(pageCount: Int) {
        let expectation = DemoSite.crawlExpectation(pageCount: pageCount, sitemaps: false)
        let walked = walk(pageCount: pageCount)
        #expect(walked == expectation.depths)
        // Every page once, `/`, and the twelve trap URLs.
        #expect(expectation.depths.count == 1 + pageCount + 12)
        #expect((0..<pageCount).allSatisfy { expectation.depths["/page/\($0)"] != nil })
        #expect(expectation.fetched.isDisjoint(with: expectation.neverFetched))
        #expect(expectation.fetched.isDisjoint(with: expectation.sitemapOnly))
        #expect(expectation.fetched.allSatisfy { !$0.contains("#") && !$0.contains("%") })
    }

    @Test(arguments: [0, 1, 2, 3, 6])
    func depthLimitedExpectationsMatchADepthLimitedWalk(maxDepth: Int) {
        let expectation = DemoSite.crawlExpectation(maxDepth: maxDepth, sitemaps: false)
        #expect(expectation.depths == walk(pageCount: DemoSite.defaultPageCount, maxDepth: maxDepth))
        #expect(expectation.depths.values.allSatisfy { $0 <= maxDepth })
    }

    @Test func theHandWrittenTrapListIsWhatTheDefaultCrawlFetchesBesidesPages() {
        let fetched = DemoSite.crawlExpectation(sitemaps: false).fetched.filter { !$0.hasPrefix("/page/") || $0.contains("?") }
        #expect(fetched == [
            "/", "/crawl/relative/", "/crawl/base", "/crawl/meta-nofollow", "/crawl/hidden", "/moved/4",
            "/files/data.csv", "/crawl/relative/deeper", "/crawl/relative/deeper?x=1", "/crawl/relative/?y=2",
            "/page/9?x=1", "/crawl/visible", "/crawl/rel-noopener",
        ])
    }

    @Test func pagesThatMustNeverBeFetchedExistAndWrongSpellingsDoNot() {
        let expectation = DemoSite.crawlExpectation(sitemaps: false)
        for path in expectation.neverFetched.union(expectation.sitemapOnly) {
            let exists = DemoSite.crawlResource(at: path) != nil
            // Targets of non-links are real pages (so fetching one shows); other spellings and base-less
            // resolutions are not found.
            let isSpelling = path.contains("%") || path.hasPrefix("/crawl/7") || path.hasPrefix("/crawl/8")
                || path.hasPrefix("/crawl/9")
            #expect(exists != isSpelling, "\(path)")
        }
        // Every target of a link that is not followed is listed as never fetched or fetched through another link.
        for resource in allResources() {
            for link in resource.links {
                guard case .path(let target) = link.target else { continue }
                if !(link.placement.isFollowed && !resource.metaRobotsNofollow) {
                    #expect(expectation.neverFetched.contains(target) || expectation.fetched.contains(target),
                            "\(link.href) on \(resource.path)")
                }
            }
        }
    }

    /// Every resource of the crawl set: the fetched ones and the never-fetched pages.
    private func allResources() -> [DemoSiteResource] {
        let expectation = DemoSite.crawlExpectation(sitemaps: false)
        return expectation.fetched.union(expectation.neverFetched).union(expectation.sitemapOnly).sorted()
            .compactMap { DemoSite.crawlResource(at: $0) }
    }

    /// Where `href` leads from `page`, by Foundation's RFC 3986 resolution, then canonical: fragment dropped,
    /// percent-encoded unreserved characters decoded.
    private func resolve(_ href: String, on page: DemoSiteResource) throws -> DemoSiteLink.Target {
        let origin = "http://127.0.0.1:8080"
        var base = try #require(URL(string: origin + page.path))
        if let baseHref = page.baseHref { base = try #require(URL(string: baseHref, relativeTo: base)).absoluteURL }
        let url = try #require(URL(string: href, relativeTo: base)).absoluteURL
        guard let scheme = url.scheme, scheme == "http" || scheme == "https" else { return .notHTTP }
        var absolute = url.absoluteString
        if let hash = absolute.firstIndex(of: "#") { absolute = String(absolute[..<hash]) }
        absolute = decodingUnreserved(absolute)
        guard absolute.hasPrefix(origin + "/") else { return .otherHost(absolute) }
        return .path(String(absolute.dropFirst(origin.count)))
    }

    private func decodingUnreserved(_ text: String) -> String {
        var bytes = Array(text.utf8)
        var index = 0
        while index + 2 < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)],
                                                                             as: UTF8.self), radix: 16),
               value < 128, Character(UnicodeScalar(value)).isLetter || Character(UnicodeScalar(value)).isNumber
                   || "-._~".utf8.contains(value) {
                bytes.replaceSubrange(index...(index + 2), with: [value])
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func everyLinkTargetIsWhatURLResolutionGives() throws {
        let resources = allResources() + [DemoSite.crawlResource(at: "/page/9?x=1")!]
        #expect(resources.count > 20)
        for resource in resources {
            for link in resource.links {
                #expect(try resolve(link.href, on: resource) == link.target, "\(link.href) on \(resource.path)")
            }
        }
        // Ignoring <base href> leads elsewhere: those are the never-fetched /crawl/N paths.
        let base = try #require(DemoSite.crawlResource(at: "/crawl/base"))
        let withoutBase = DemoSiteResource(
            path: base.path, status: 200, contentType: nil, location: nil, baseHref: nil, metaRobotsNofollow: false,
            links: [])
        for href in ["7", "./8", "9?x=1#frag"] {
            guard case .path(let path) = try resolve(href, on: withoutBase) else {
                Issue.record("\(href)")
                continue
            }
            #expect(DemoSite.crawlExpectation(sitemaps: false).neverFetched.contains(path), "\(path)")
        }
    }

    @Test func redirectsAndNonHTMLAreDescribed() throws {
        let moved = try #require(DemoSite.crawlResource(at: "/moved/4"))
        #expect(moved.status == 301)
        #expect(moved.location == "/page/4")
        let csv = try #require(DemoSite.crawlResource(at: "/files/data.csv"))
        #expect(csv.contentType == "text/csv")
        #expect(csv.links.allSatisfy { $0.placement == .text })
        #expect(DemoSite.crawlResource(at: "/page/1000") == nil)
        #expect(DemoSite.crawlResource(at: "/page/1000", pageCount: 1001) != nil)
        #expect(DemoSite.crawlResource(at: "/bytes/10") == nil)
    }

    // MARK: Page count

    @Test(arguments: [10, 11, 999, 1000, 12_345, 10_000_000])
    func thePageRuleGeneralisesToAnyPageCount(pageCount: Int) {
        for n in [0, 1, 7, pageCount / 2, pageCount - 2, pageCount - 1] {
            let links = DemoSite.pageLinks(n, pageCount: pageCount)
            #expect(links.count == 5)
            #expect(Set(links).count == 5)
            #expect(!links.contains(n))
            #expect(links[0] == (n + 1) % pageCount)
            #expect(links.allSatisfy { (0..<pageCount).contains($0) })
            let html = DemoSite.pageHTML(n, pageCount: pageCount)
            for link in links { #expect(html.contains("<li><a href=\"/page/\(link)\">page \(link)</a></li>")) }
        }
    }

    @Test func theDefaultSitesPagesAreByteForByteWhatTheyWere() {
        for n in 0..<DemoSite.defaultPageCount {
            #expect(DemoSite.pageHTML(n) == Self.previousPageHTML(n), "page \(n)")
        }
    }

    /// The `String` renderer the site used before pages were rendered as bytes, kept to show nothing changed.
    private static func previousPageHTML(_ n: Int) -> String {
        let words = [
            "spider", "thread", "silk", "web", "crawl", "fetch", "page", "link", "loop", "event", "socket", "actor",
            "worker", "batch", "lease", "report", "latency", "request", "response", "header", "body", "chunk",
            "redirect", "status", "timer", "epoll", "curl", "queue", "credit", "heartbeat", "histogram", "record",
        ]
        var state = UInt32(truncatingIfNeeded: n &* 40_503 &+ 7)
        func nextWord() -> String {
            state = state &* 1_103_515_245 &+ 12_345
            return words[Int(state >> 16) % words.count]
        }
        var text = ""
        for sentence in 0..<4 {
            var words: [String] = []
            for _ in 0..<(8 + sentence) { words.append(nextWord()) }
            let first = words[0]
            words[0] = first.prefix(1).uppercased() + first.dropFirst()
            text += words.joined(separator: " ") + ". "
        }
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Arachne demo page \(n)</title></head>
            <body>
            <h1>Page \(n)</h1>
            <p>\(text)</p>
            <ul>

            """
        for link in DemoSite.pageLinks(n) {
            html += "<li><a href=\"/page/\(link)\">page \(link)</a></li>\n"
        }
        html += "</ul>\n<p><a href=\"/\">home</a></p>\n</body></html>\n"
        return html
    }

    @Test func theSitemapListsAbsoluteURLsIncludingOneLinkedFromNowhere() {
        let xml = DemoSite.sitemapXML(baseURL: "http://127.0.0.1:9", pageCount: 20)
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset "))
        #expect(xml.contains("<url><loc>http://127.0.0.1:9/</loc></url>"))
        #expect(xml.contains("<loc>http://127.0.0.1:9/page/19</loc>"))
        #expect(!xml.contains("/page/20<"))
        #expect(xml.contains("<loc>http://127.0.0.1:9/crawl/sitemap-only</loc>"))
        #expect(DemoSite.robotsTxt(baseURL: "http://127.0.0.1:9")
                .hasSuffix("Disallow: /redirect-loop\nSitemap: http://127.0.0.1:9/sitemap.xml\n"))
    }
}

@Suite struct DemoSiteSitemapExpectationTests {
    @Test func aCrawlThatReadsSitemapsAlsoFetchesTheSitemapAndWhatOnlyItListsAtDepthOne() {
        let withSitemaps = DemoSite.crawlExpectation()
        let without = DemoSite.crawlExpectation(sitemaps: false)
        #expect(withSitemaps.fetched.subtracting(without.fetched) == ["/sitemap.xml", "/crawl/sitemap-only"])
        #expect(withSitemaps.depths["/sitemap.xml"] == 1 && withSitemaps.depths["/crawl/sitemap-only"] == 1)
        #expect(DemoSite.crawlExpectation(maxDepth: 0).depths == ["/": 0])
        #expect(withSitemaps.sitemapOnly.isSubset(of: withSitemaps.fetched))
    }
}
