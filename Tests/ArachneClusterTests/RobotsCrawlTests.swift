import ArachneArchive
import ArachneCore
import ArachneReport
import ArachneTestSupport
import Foundation
import Testing

/// robots.txt as a crawl fetches it (RFC 9309 §2.3.1): 4xx, 5xx, a redirect, an oversized file and an unreachable
/// one, one host each, checked against what the site was asked for.
@Suite(.serialized) struct RobotsCrawlTests {
    typealias Site = PoliteSite

    static func pages(_ count: Int = 3) -> Site.Pages { Site.Pages(count: count, linksPerPage: 1) }

    static func fiveHosts() -> Site.Configuration {
        // A rule past the first 512 KiB is never read; one before it is.
        let padding = String(repeating: "# padding line to push the next rule past 512 KiB\n", count: 12_000)
        return Site.Configuration(hosts: [
            Site.Host("missing", address: "127.0.0.2", robots: .status(404), pages: pages()),
            Site.Host("failing", address: "127.0.0.3", robots: .status(503), pages: pages()),
            Site.Host("moved", address: "127.0.0.4", robots: .redirect(to: "{host:moved}/real-robots.txt"),
                      pages: pages(), routes: ["/real-robots.txt": [.text("User-agent: *\nDisallow: /page/2\n")]]),
            Site.Host("huge", address: "127.0.0.5",
                      robots: .text("User-agent: *\nDisallow: /page/1\n" + padding + "Disallow: /page/2\n"),
                      pages: Site.Pages(count: 3, linksPerPage: 2)),
            Site.Host("silent", address: "127.0.0.6", robots: .text("User-agent: *\n", delayMilliseconds: 5_000),
                      pages: pages()),
            Site.Host("sluggish", address: "127.0.0.7", robots: .text("User-agent: *\nCrawl-delay: 60\n"),
                      pages: pages()),
        ])
    }

    @Test func eachShapeOfRobotsTxtIsFollowedAsRFC9309Says() throws {
        let site = try Site.start(Self.fiveHosts())
        defer { site.stop() }
        let out = temporaryDirectory("robots-cases")
        let seeds = ["missing", "failing", "moved", "huge", "silent", "sluggish"].map { site.url($0, "/page/0") }
        let result = try runArachne(
            ["crawl"] + seeds + ["--workers", "2", "--delay", "0", "--timeout", "1", "--robots-retry", "0.2",
                                 "--max-crawl-delay", "10", "--out", out, "--no-bodies"], timeout: 90)
        #expect(result.status == 0, "\(result.stderr)")
        site.stop()
        let log = try site.log()
        let records = try RecordsReader.readAll(path: out + "/records.ndjson")
        func record(_ host: String, _ path: String) -> FetchRecord? { records.first { $0.url == site.url(host, path) } }

        // 404: everything allowed, robots.txt asked once.
        #expect(log.paths(host: "missing").filter { $0 == "/robots.txt" }.count == 1)
        #expect(Set(log.paths(host: "missing")) == ["/robots.txt", "/page/0", "/page/1", "/page/2"])
        // 503 every time: nothing but robots.txt is requested, four times, and the seed ends with a robots record.
        #expect(log.paths(host: "failing") == Array(repeating: "/robots.txt", count: 4), "\(log.paths(host: "failing"))")
        #expect(record("failing", "/page/0")?.error?.kind == .robots)
        #expect(record("failing", "/page/0")?.error?.message.contains("tried 4 times") == true)
        // A redirect is followed; its rules apply to the origin that redirected.
        #expect(log.paths(host: "moved").contains("/real-robots.txt"))
        #expect(!log.paths(host: "moved").contains("/page/2"))
        #expect(record("moved", "/page/2")?.error?.kind == .robots)
        // 600 KB: the first rule holds, the one past 512 KiB is not read.
        #expect(!log.paths(host: "huge").contains("/page/1"))
        #expect(log.paths(host: "huge").contains("/page/2"))
        // No answer within the timeout: unreachable, tried four times, then given up; no page requested.
        #expect(log.paths(host: "silent").allSatisfy { $0 == "/robots.txt" } && log.paths(host: "silent").count == 4,
                "\(log.paths(host: "silent"))")
        #expect(record("silent", "/page/0")?.error?.kind == .robots)
        // A Crawl-delay over --max-crawl-delay: the host is skipped, its seed recorded as such.
        #expect(log.paths(host: "sluggish") == ["/robots.txt"])
        #expect(record("sluggish", "/page/0")?.error?.message.contains("Crawl-delay of 60.0 s") == true,
                "\(record("sluggish", "/page/0")?.error?.message ?? "no record")")
        let report = try ReportReader.read(out + "/report.json").report
        #expect(report.crawl?.skipped["robots"] == 5, "\(report.crawl?.skipped ?? [:])")
        #expect(report.crawl?.politeness?.hostsBreakingLimits.isEmpty == true)
    }
}

/// The private-address guard in a crawl: links, redirects, sitemap entries and a pinned name that lead to another
/// loopback address are refused before any connection, each with a `blocked-address` record.
@Suite(.serialized) struct GuardCrawlTests {
    typealias Site = PoliteSite

    @Test func linksRedirectsSitemapsAndPinnedNamesToAPrivateAddressNeverConnect() throws {
        var configuration = Site.Configuration(hosts: [
            Site.Host("forbidden", address: "127.0.0.9", pages: Site.Pages(count: 2, linksPerPage: 1)),
        ])
        let probe = try Site.start(configuration)
        let forbiddenPort = probe.endpoint("forbidden").port
        probe.stop()
        configuration.hosts[0].port = forbiddenPort
        let pinned = "http://pinned.test:\(forbiddenPort)/pinned"
        configuration.hosts.append(Site.Host(
            "seed", address: "127.0.0.2",
            robots: .text("User-agent: *\nAllow: /\nSitemap: {host:seed}/sitemap.xml\n"),
            sitemaps: [Site.Sitemap("/sitemap.xml", .urls(["{host:forbidden}/from-sitemap"]))],
            routes: [
                "/start": [Site.Response(
                    status: 200,
                    body: """
                        <html><body><a href="{host:forbidden}/linked">x</a> <a href="\(pinned)">y</a>
                        <a href="/go">z</a></body></html>
                        """,
                    contentType: "text/html")],
                "/go": [.redirect(to: "{host:forbidden}/redirected")],
            ]))
        let site = try Site.start(configuration)
        defer { site.stop() }
        let out = temporaryDirectory("guard-crawl")
        let result = try runArachne(
            ["crawl", site.url("seed", "/start"), "--scope", "any", "--workers", "2", "--delay", "0",
             "--resolve", "pinned.test:\(forbiddenPort):127.0.0.9", "--out", out, "--no-bodies"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        site.stop()
        let log = try site.log()
        #expect(log.connectionCount(host: "forbidden") == 0, "\(log.paths(host: "forbidden"))")
        let records = try RecordsReader.readAll(path: out + "/records.ndjson")
        let blocked = Set(records.filter { $0.error?.kind == .blockedAddress }.map(\.url))
        let expected: Set<String> = [
            site.url("forbidden", "/linked"), site.url("forbidden", "/redirected"),
            site.url("forbidden", "/from-sitemap"), pinned,
        ]
        #expect(blocked == expected, "\(records.map { "\($0.url) \($0.error?.kind.rawValue ?? String($0.status))" })")
        #expect(records.first { $0.url == site.url("forbidden", "/from-sitemap") }?.via == .sitemap)
        #expect(records.first { $0.url == site.url("forbidden", "/redirected") }?.via == .redirect)
    }
}
