import ArachneCore
import ArachneLinks
import Testing

@testable import ArachneCrawl

@Suite("SitemapParser")
struct SitemapParserTests {
    static let sitemapURL = "http://www.example.com/sitemap.xml"

    func parse(_ text: String, url: String = sitemapURL, limits: SitemapLimits = .sitemapsOrg) -> Sitemap {
        SitemapParser.parse(Array(text.utf8), url: url, limits: limits)
    }

    func urlset(_ locations: [String]) -> String {
        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
            + locations.map { "<url><loc>\($0)</loc></url>\n" }.joined() + "</urlset>"
    }

    @Test("locations become WHATWG-serialized absolute URLs without fragments")
    func serialization() {
        let sitemap = parse(urlset([
            "http://www.example.com/catalog?item=12&amp;desc=vacation_hawaii",
            "http://www.example.com/ümlat.php&amp;q=name",
            "HTTP://WWW.Example.COM:80/a/../b#section",
            "https://bücher.example/x y",
            "  http://www.example.com/trimmed  ",
        ]))
        #expect(sitemap.kind == .urlset)
        #expect(sitemap.entries.map(\.url) == [
            "http://www.example.com/catalog?item=12&desc=vacation_hawaii",
            "http://www.example.com/%C3%BCmlat.php&q=name",
            "http://www.example.com/b",
            "https://xn--bcher-kva.example/x%20y",
            "http://www.example.com/trimmed",
        ])
        #expect(sitemap.entries.map(\.line) == [2, 3, 4, 5, 6])
        #expect(sitemap.drops == Sitemap.Drops())
        #expect(sitemap.url == Self.sitemapURL)
    }

    @Test(
        "invalid, relative and non-http locations are dropped, counted and sampled",
        arguments: [
            ("/relative/page", Sitemap.Drop.relative),
            ("page.html", .relative),
            ("http://", .invalid("missing host: a special URL (http, https, ws, wss, ftp) needs one")),
            ("http://exa mple.com/", .invalid(
                "forbidden code point in host (one of space # % / : < > ? @ [ \\ ] ^ | or a control)")),
            ("http://example.com:99999/", .invalid("port out of range: it must be at most 65535")),
            ("", .invalid("empty")),
            ("ftp://www.example.com/file", .unsupportedScheme("ftp")),
            ("mailto:someone@example.com", .unsupportedScheme("mailto")),
            ("javascript:alert(1)", .unsupportedScheme("javascript")),
        ])
    func drops(location: String, drop: Sitemap.Drop) {
        let sitemap = parse(urlset(["http://www.example.com/ok", location]))
        #expect(sitemap.entries.map(\.url) == ["http://www.example.com/ok"])
        #expect(sitemap.rejections == [Sitemap.Rejection(line: 3, location: location, drop: drop)])
        if case .unsupportedScheme = drop {
            #expect(sitemap.drops.unsupportedScheme == 1 && sitemap.drops.invalidURL == 0)
        } else {
            #expect(sitemap.drops.invalidURL == 1 && sitemap.drops.unsupportedScheme == 0)
        }
        #expect(sitemap.drops.total == 1)
    }

    @Test("every location read ends as an entry or in one drop count; rejections are capped")
    func accounting() {
        var locations: [String] = []
        for index in 0..<60 {
            let kind = ["not a url ", "ftp://a/", "http://a/"][index % 3]
            locations.append(kind + "\(index)")
        }
        let text = urlset(locations).replacingOccurrences(of: "<url><loc>http://a/2</loc></url>", with: "<url></url>")
        let sitemap = parse(text, limits: SitemapLimits(maxEntries: 50))
        #expect(sitemap.drops.missingLocation == 1)
        #expect(sitemap.drops.overEntryCap == 9, "59 locations, 50 kept")
        #expect(sitemap.truncatedAtEntryCap)
        #expect(sitemap.entries.count + sitemap.drops.total == 60)
        #expect(sitemap.rejections.count == Sitemap.maxRejections)
        #expect(sitemap.rejections.first?.location == "not a url 0")
    }

    @Test("a sitemap index lists sitemaps; a text sitemap lists pages")
    func kinds() {
        let index = parse("""
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>http://www.example.com/sitemap1.xml.gz</loc>
            <lastmod>2004-10-01T18:23:17+00:00</lastmod></sitemap>
            </sitemapindex>
            """)
        #expect(index.kind == .sitemapIndex)
        #expect(index.entries == [Sitemap.Entry(
            url: "http://www.example.com/sitemap1.xml.gz", lastmod: "2004-10-01T18:23:17+00:00", line: 2)])
        let text = parse("http://www.example.com/catalog?item=1\nhttp://www.example.com/catalog?item=11\n")
        #expect(text.kind == .text)
        #expect(text.entries.map(\.url) == [
            "http://www.example.com/catalog?item=1", "http://www.example.com/catalog?item=11",
        ])
        let html = parse("<!DOCTYPE html><html><head><title>Not found</title></head></html>")
        #expect(html.kind == .notSitemap && html.rootElement == "html" && html.entries.isEmpty)
    }

    @Test("errors and caps come through from the reader")
    func errors() {
        let malformed = parse("<urlset><url><loc>http://a/1</loc></url><url><loc>http://a/?x&y</loc></url></urlset>")
        #expect(malformed.entries.map(\.url) == ["http://a/1"])
        #expect(malformed.error?.kind == .malformedXML)
        let capped = parse(urlset((0..<10).map { "http://a/\($0)" }), limits: SitemapLimits(maxBytes: 100))
        #expect(capped.truncatedAtByteCap && capped.bytesParsed == 100 && capped.error == nil)
    }

    @Test("links(rules:): in-scope pages via sitemap, one per identity; the rest counted")
    func links() throws {
        let seed = CrawlURL("http://www.example.com/")
        let rules = LinkRules(
            scope: CrawlScope(kind: .host, seeds: [seed]),
            filter: try URLFilter(include: [], exclude: ["/private/"]))
        let sitemap = parse(urlset([
            "http://www.example.com/a",
            "http://www.example.com/a#again",
            "http://other.example/b",
            "http://www.example.com/private/c",
            "http://www.example.com/%7Euser",
            "http://www.example.com/" + (0..<40).map { "d\($0)" }.joined(separator: "/"),
        ]))
        let findings = sitemap.links(rules: rules)
        #expect(findings.links.map(\.url) == [
            "http://www.example.com/a", "http://www.example.com/%7Euser",
            "http://www.example.com/" + (0..<40).map { "d\($0)" }.joined(separator: "/"),
        ])
        #expect(findings.links.allSatisfy { $0.via == .sitemap })
        #expect(findings.links[1].identity == "http://www.example.com/~user")
        #expect(findings.links[0].trap == nil && findings.links[2].trap != nil)
        #expect(findings.counts.found == 6)
        #expect(findings.counts.duplicate == 1)
        #expect(findings.counts.outOfScope == 1)
        #expect(findings.counts.filtered == ["exclude:/private/": 1])
    }
}
