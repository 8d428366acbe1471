@testable import ArachneSite
import Testing

@Suite struct SiteRouteTests {
    @Test(arguments: [
        ("/", SiteRoute.index),
        ("/robots.txt", .robots),
        ("/page/0", .page(0)),
        ("/page/999", .page(999)),
        ("/page/1000", .notFound),
        ("/page/", .notFound),
        ("/page/1x", .notFound),
        ("/bytes/2048", .bytes(2048)),
        ("/bytes/2048?cache=no", .bytes(2048)),
        ("/status/418", .status(418)),
        ("/delay/25", .delay(milliseconds: 25)),
        ("/redirect/3", .redirect(3)),
        ("/redirect-loop", .redirectLoop),
        ("/chunked/10", .chunked(10)),
        ("/gzip/10", .gzip(10)),
        ("/headers", .headers),
        ("/broken/garbage", .brokenGarbage),
        ("/broken/reset", .brokenReset),
        ("/broken/stall", .brokenStall),
        ("/broken/truncated", .brokenTruncated),
        ("/broken/endless", .brokenEndless),
        ("/broken/bad-status", .brokenBadStatus),
        ("/broken/huge-header", .brokenHugeHeader),
        ("/broken/interim", .brokenInterim),
        ("/broken/other", .notFound),
        ("/nothing", .notFound),
        ("/bytes/12345678901", .notFound),
        ("/sitemap.xml", .sitemap),
        ("/moved/4", .moved(4)),
        ("/moved/1000", .notFound),
        ("/crawl/relative/", .trap(0)),
        ("/crawl/relative/?y=2", .trap(0)),
        ("/crawl/base", .trap(2)),
        ("/crawl/nothing", .notFound),
        ("/page/%35", .notFound),
    ])
    func routes(path: String, route: SiteRoute) {
        #expect(SiteRoute(path: path) == route, "\(path)")
    }

    @Test func thePageCountBoundsPagesAndMoves() {
        #expect(SiteRoute(path: "/page/19", pageCount: 20) == .page(19))
        #expect(SiteRoute(path: "/page/20", pageCount: 20) == .notFound)
        #expect(SiteRoute(path: "/page/9999999999", pageCount: 10_000_000) == .notFound)
        #expect(SiteRoute(path: "/moved/19", pageCount: 20) == .moved(19))
        #expect(SiteRoute(path: "/moved/20", pageCount: 20) == .notFound)
        for (index, trap) in DemoSite.trapPages.enumerated() {
            #expect(SiteRoute(path: trap.path.description) == .trap(index))
        }
    }

    @Test(arguments: ["/status/199", "/status/600", "/bytes/2000000000", "/gzip/9000000", "/delay/600001",
                      "/redirect/10001", "/chunked/1073741825"])
    func numbersOverTheLimitAreOutOfRange(path: String) {
        guard case .outOfRange(let message) = SiteRoute(path: path) else {
            Issue.record("\(path) is \(SiteRoute(path: path))")
            return
        }
        #expect(message.contains("allows"))
    }
}
