@testable import ArachneSite
import ArachneEventLoop
import Foundation
import Testing

/// The crawl test set and `--pages` over real sockets: what is served is what the link data says.
extension SiteSocketTests {
    /// GETs `paths` in order on one keep-alive connection.
    private func fetchAll(_ port: UInt16, _ paths: [String]) async throws -> [HTTPResponse] {
        try await onThread {
            let client = try BlockingClient(port: port)
            return try paths.map { path in
                try client.request(path)
                return try client.readResponse()
            }
        }
    }

    /// How often `needle` occurs in `text` (a substring count, not parsing).
    private func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test func everyCrawlResourceIsServedWithTheLinksItsDataLists() async throws {
        try await withSite { fixture in
            let expectation = DemoSite.crawlExpectation(sitemaps: false)
            let paths = expectation.fetched.union(expectation.neverFetched).union(expectation.sitemapOnly).sorted()
            let responses = try await fetchAll(fixture.port, paths)
            for (path, response) in zip(paths, responses) {
                guard let resource = DemoSite.crawlResource(at: path) else {
                    #expect(response.status == 404, "\(path)")
                    continue
                }
                #expect(response.status == resource.status, "\(path)")
                #expect(response.header("Content-Type") == (resource.contentType ?? "text/plain"), "\(path)")
                #expect(response.header("Location") == resource.location, "\(path)")
                let body = response.text
                // Every reference in the data is in the body, in its placement; and the body has no other href.
                for link in resource.links {
                    let snippet: String
                    switch link.placement {
                    case .anchor: snippet = "<a href=\"\(link.href)\">"
                    case .anchorRel(let rel): snippet = "<a rel=\"\(rel)\" href=\"\(link.href)\">"
                    case .comment: snippet = "<!-- an old link: <a href=\"\(link.href)\">gone</a> -->"
                    case .script: snippet = "<script>document.write('<a href=\"\(link.href)\">"
                    case .style: snippet = "<style>/* <a href=\"\(link.href)\"> */"
                    case .template: snippet = "<template><a href=\"\(link.href)\">inert</a></template>"
                    case .text: snippet = "href=\"\"\(link.href)\"\""
                    }
                    #expect(body.contains(snippet), "\(snippet) in \(path)")
                }
                let hrefs = occurrences(of: "href=\"", in: body)
                #expect(hrefs == resource.links.count + (resource.baseHref == nil ? 0 : 1), "\(path)")
                #expect(body.contains("<meta name=\"robots\" content=\"nofollow\">") == resource.metaRobotsNofollow)
                if let base = resource.baseHref {
                    #expect(body.contains("<head><meta charset=\"utf-8\"><base href=\"\(base)\">"))
                }
            }
        }
    }

    @Test func pagesWithAQueryAreTheSamePage() async throws {
        try await withSite { fixture in
            let responses = try await fetchAll(
                fixture.port, ["/page/9?x=1", "/crawl/relative/?y=2", "/crawl/relative/"])
            #expect(responses[0].text == DemoSite.pageHTML(9))
            #expect(responses[1].text == responses[2].text)
        }
    }

    @Test func robotsNamesTheSitemapAndTheSitemapIsServed() async throws {
        try await withSite { fixture in
            let responses = try await fetchAll(fixture.port, ["/robots.txt", "/sitemap.xml", "/sitemap.xml"])
            #expect(responses[0].text == DemoSite.robotsTxt(baseURL: fixture.site.baseURL))
            #expect(responses[0].text.contains("Sitemap: http://127.0.0.1:\(fixture.port)/sitemap.xml\n"))
            #expect(responses[1].status == 200)
            #expect(responses[1].header("Content-Type") == "application/xml")
            #expect(responses[1].text == DemoSite.sitemapXML(baseURL: fixture.site.baseURL))
            #expect(responses[2].text == responses[1].text)
        }
    }

    @Test func aPageCountMakesThoseThePages() async throws {
        try await withSite(pageCount: 20) { fixture in
            #expect(fixture.site.pageCount == 20)
            let responses = try await fetchAll(
                fixture.port, ["/page/19", "/page/20", "/moved/19", "/moved/20", "/", "/page/0"])
            #expect(responses.map(\.status) == [200, 404, 301, 404, 200, 200])
            #expect(responses[0].text == DemoSite.pageHTML(19, pageCount: 20))
            #expect(responses[2].header("Location") == "/page/19")
            #expect(responses[4].text == DemoSite.indexHTML(pageCount: 20))
            #expect(responses[4].text.contains("site of 20 pages"))
            #expect(responses[5].text == DemoSite.pageHTML(0, pageCount: 20))
        }
    }

    @Test func tenMillionPagesAreServedFromABoundedCache() async throws {
        try await withSite(pageCount: 10_000_000) { fixture in
            // 12,345 and 12,345 + 16,384 share a cache slot: each evicts the other.
            let paths = ["/page/9999999", "/page/12345", "/page/28729", "/page/12345", "/page/10000000"]
            let responses = try await fetchAll(fixture.port, paths)
            #expect(responses.map(\.status) == [200, 200, 200, 200, 404])
            #expect(responses[0].text == DemoSite.pageHTML(9_999_999, pageCount: 10_000_000))
            #expect(responses[1].text == DemoSite.pageHTML(12_345, pageCount: 10_000_000))
            #expect(responses[2].text == DemoSite.pageHTML(28_729, pageCount: 10_000_000))
            #expect(responses[3].text == responses[1].text)
        }
    }

    @Test func pageCountsOutsideTheRangeAreRefused() throws {
        let loop = try EventLoop(name: "site-test")
        defer { loop.shutdown() }
        for count in [0, 9, 10_000_001] {
            #expect(throws: DemoSiteError.self) { try DemoSite.start(on: loop, pageCount: count) }
        }
    }
}
