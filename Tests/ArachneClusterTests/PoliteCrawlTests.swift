import ArachneArchive
import ArachneCore
import ArachneReport
import ArachneTestSupport
import Foundation
import Testing

/// Polite crawling end to end: `arachne crawl` with worker processes against `PoliteSite`, a multi-host site on
/// several loopback addresses that logs every connection and request. The assertions read the site's log, not
/// Arachne's own account: connections and gaps as the server saw them.
@Suite(.serialized) struct PoliteCrawlTests {
    typealias Site = PoliteSite

    /// What one crawl left.
    struct Crawl {
        var records: [FetchRecord]
        var report: Report
        var stderr: String
        var status: Int32
        var out: String
    }

    static func crawl(_ arguments: [String], label: String, timeout: Double = 90) throws -> Crawl {
        let out = temporaryDirectory("polite-\(label)")
        let result = try runArachne(["crawl"] + arguments + ["--out", out, "--no-bodies"], timeout: timeout)
        let records = (try? RecordsReader.readAll(path: out + "/records.ndjson")) ?? []
        let report = try ReportReader.read(out + "/report.json").report
        return Crawl(records: records, report: report, stderr: result.stderr, status: result.status, out: out)
    }

    /// The configured host name of a URL (by its address and port).
    static func hostName(of url: String, in site: Site) -> String? {
        site.baseURLs.first { url.hasPrefix($0.value + "/") }?.key
    }

    /// The two consecutive requests whose starts are closest, for failure messages.
    static func closestStarts(_ requests: [Site.LoggedRequest]) -> String {
        guard requests.count >= 2 else { return "" }
        let pairs = zip(requests, requests.dropFirst())
        guard let closest = pairs.min(by: { $0.1.start - $0.0.start < $1.1.start - $1.0.start }) else { return "" }
        return "\(closest.0.path) (conn \(closest.0.connection), \(closest.0.status)) then \(closest.1.path) "
            + "(conn \(closest.1.connection)) \(closest.1.start - closest.0.start) µs later"
    }

    /// Four hosts linking to each other: `a` disallows `/page/1*`, `b` asks for a Crawl-delay of 0.3 s, `c` answers
    /// its `/page/5` with 429 and `Retry-After: 1` once, `d` has no robots.txt and answers slowly.
    static func fourHosts() -> Site.Configuration {
        Site.Configuration(hosts: [
            Site.Host("a", address: "127.0.0.2",
                      robots: .text("User-agent: *\nDisallow: /page/1\n"),
                      pages: Site.Pages(count: 12, linksPerPage: 3, linkHosts: ["b", "c"])),
            Site.Host("b", address: "127.0.0.3",
                      robots: .text("User-agent: *\nCrawl-delay: 0.3\n"),
                      pages: Site.Pages(count: 12, linksPerPage: 3, linkHosts: ["c", "d"])),
            Site.Host("c", address: "127.0.0.4",
                      pages: Site.Pages(count: 12, linksPerPage: 3, linkHosts: ["d", "a"]),
                      routes: ["/page/5": [.status(429, retryAfter: "1"), .generated]]),
            Site.Host("d", address: "127.0.0.5", latencyMilliseconds: 20,
                      pages: Site.Pages(count: 12, linksPerPage: 3, linkHosts: ["a", "b"])),
        ])
    }

    @Test func fourWorkersKeepEveryHostsLimitsObeyRobotsAndBackOffOnA429() throws {
        let site = try Site.start(Self.fourHosts())
        defer { site.stop() }
        let seeds = ["a", "b", "c", "d"].map { site.url($0, "/page/0") }
        let crawl = try Self.crawl(
            seeds + ["--workers", "4", "--per-host", "2", "--delay", "0.1", "--concurrency", "8"], label: "four")
        #expect(crawl.status == 0, "\(crawl.stderr)")
        site.stop()
        let log = try site.log()

        // Every page of every host ends once; a's /page/1, /page/10, /page/11 with a robots record, never requested.
        #expect(crawl.records.count == 48, "\(crawl.records.count) records")
        #expect(Set(crawl.records.map(\.url)).count == crawl.records.count)
        let refused = crawl.records.filter { $0.error?.kind == .robots }
        #expect(Set(refused.map(\.url)) == Set(["/page/1", "/page/10", "/page/11"].map { site.url("a", $0) }))
        for record in refused {
            #expect(record.error?.message.contains("line 2: Disallow: /page/1") == true, "\(record.error?.message ?? "")")
        }
        #expect(crawl.records.filter { $0.error == nil }.allSatisfy { $0.status == 200 })
        let aPaths = log.paths(host: "a")
        #expect(!aPaths.contains { $0.hasPrefix("/page/1") }, "disallowed paths requested: \(aPaths)")

        for host in ["a", "b", "c", "d"] {
            // robots.txt once per host, before any page.
            let paths = log.paths(host: host)
            #expect(paths.filter { $0 == "/robots.txt" }.count == 1, "\(host): \(paths)")
            #expect(paths.first == "/robots.txt", "\(host): \(paths.prefix(3))")
            // Never more than --per-host requests open at once, never two starts closer than the delay (by the
            // kernel's arrival times, so this site's own lag does not count), less 10 ms (10%) of slack for the
            // worker's loop on a busy machine. A second worker on the host, or no pacing, gives gaps of a few ms.
            #expect(log.maxConcurrency(host: host) <= 2, "\(host)")
            #expect((log.smallestStartGap(host: host) ?? .max) >= 90_000,
                    "\(host): \(log.smallestStartGap(host: host) ?? -1) µs: \(Self.closestStarts(log.requests(host: host)))")
        }
        // Crawl-delay 0.3 s is a floor over --delay 0.1.
        #expect((log.smallestStartGap(host: "b") ?? 0) >= 290_000,
                "\(log.smallestStartGap(host: "b") ?? -1) µs: \(Self.closestStarts(log.requests(host: "b")))")
        // After the 429 with Retry-After: 1, c waits a second, then the page is fetched again and kept.
        let cRequests = log.requests(host: "c")
        if let slowed = cRequests.firstIndex(where: { $0.status == 429 }), slowed + 1 < cRequests.count {
            let wait = cRequests[slowed + 1].start - cRequests[slowed].end
            #expect(wait >= 950_000, "c's next request came \(wait) µs after its 429")
        } else {
            Issue.record("c never answered 429, or nothing followed it: \(cRequests.map(\.path))")
        }
        #expect(crawl.records.first { $0.url == site.url("c", "/page/5") }?.status == 200)

        // One worker per host.
        for host in ["a", "b", "c", "d"] {
            let workers = Set(crawl.records.filter { Self.hostName(of: $0.url, in: site) == host && $0.error == nil }
                .map(\.worker))
            #expect(workers.count == 1, "\(host) fetched by \(workers.sorted())")
        }

        // The audit agrees with the server: requests per host, limits kept, where each delay came from.
        let politeness = try #require(crawl.report.crawl?.politeness)
        #expect(politeness.hostsBreakingLimits.isEmpty)
        let audits = Dictionary(uniqueKeysWithValues: politeness.hosts.map { ($0.host, $0) })
        for host in ["a", "b", "c", "d"] {
            let address = site.endpoint(host).address
            let audit = try #require(audits[address], "no audit row for \(host) (\(address)): \(audits.keys.sorted())")
            #expect(audit.requests == log.requests(host: host).count, "\(host)")
            #expect(audit.maxInFlight <= 2 && audit.perHost == 2, "\(host)")
        }
        #expect(audits[site.endpoint("a").address]?.robotsBlocked == 3)
        #expect(audits[site.endpoint("b").address]?.delaySource == .crawlDelay)
        #expect(audits[site.endpoint("b").address]?.delayMs == 300)
        #expect(audits[site.endpoint("c").address]?.tooManyRequests == 1)
        #expect(audits[site.endpoint("c").address]?.retries == 1)
        #expect(audits[site.endpoint("c").address]?.delaySource == .backOff)
        #expect(audits[site.endpoint("d").address]?.delaySource == .flag)
        #expect(audits[site.endpoint("d").address]?.robots.contains("404") == true)

        // The busiest hosts' timelines, from the records: never more bars at once than --per-host; in the HTML page.
        #expect(!politeness.timelines.isEmpty)
        for timeline in politeness.timelines {
            let events = timeline.spansMs.flatMap { [($0[0], 1), ($0[1], -1)] }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            var open = 0
            var most = 0
            for (_, change) in events {
                open += change
                most = max(most, open)
            }
            #expect(most <= 2, "\(timeline.host): \(most) responses at once")
        }
        try expectValidReport(crawl.out + "/report.json")
        let html = ReportHTML.render(crawl.report)
        #expect(html.contains("request timelines of the busiest hosts") && html.contains("<svg"))
        #expect(html.contains("politeness audit") && html.contains("figures kept its limits."))
    }

    /// Two names for one address: with `--per-ip` they share one budget, so the one listener behind them never sees two
    /// requests at once nor two starts closer than the delay. (Without `--per-ip`, two workers fetch them side by side.)
    @Test func perIPHostsOfOneAddressShareOneBudget() throws {
        var routes: [String: [Site.Response]] = [:]
        for n in 0..<6 {
            let links = [(n + 1) % 6, (n + 2) % 6].map { "<a href=\"/r/\($0)\">next</a>" }.joined(separator: " ")
            routes["/r/\(n)"] = [Site.Response(status: 200, body: "<html><body>\(links)</body></html>",
                                              contentType: "text/html")]
        }
        let site = try Site.start(Site.Configuration(hosts: [Site.Host("shared", address: "127.0.0.2", routes: routes)]))
        defer { site.stop() }
        let port = site.endpoint("shared").port
        let crawl = try Self.crawl(
            ["http://one.test:\(port)/r/0", "http://two.test:\(port)/r/0", "--per-ip", "--per-host", "1", "--delay",
             "0.1", "--workers", "2", "--resolve", "one.test:\(port):127.0.0.2", "--resolve",
             "two.test:\(port):127.0.0.2"], label: "per-ip")
        #expect(crawl.status == 0, "\(crawl.stderr)")
        site.stop()
        let log = try site.log()
        #expect(log.requests(host: "shared").count == 14, "robots.txt and six pages under each name")
        #expect(log.maxConcurrency(host: "shared") == 1)
        // Gaps by the kernel's arrival times (PoliteSite): without --per-ip the two names' requests start side by
        // side (gaps of 0–2 ms).
        #expect((log.smallestStartGap(host: "shared") ?? .max) >= 90_000,
                "\(Self.closestStarts(log.requests(host: "shared")))")
        let audits = crawl.report.crawl?.politeness?.hosts ?? []
        #expect(audits.map(\.host) == ["127.0.0.2"], "one budget, kept by address: \(audits.map(\.host))")
        #expect(audits.first?.requests == 14)
    }
}
