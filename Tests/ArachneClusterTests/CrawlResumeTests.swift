import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneProtocol
import ArachneTestSupport
import Foundation
import Testing

/// A crawl on the long-running coordinator survives a SIGKILL: the restarted coordinator resumes it from its store,
/// every discovered URL ends with exactly one record, and robots.txt is not fetched again (it was kept with the
/// crawl, good for 24 hours).
@Suite(.serialized) struct CrawlResumeTests {
    @Test func aCrawlKilledMidwayResumesWithOneRecordPerURLAndItsRobotsTxtKept() async throws {
        let site = try PoliteSite.start(PoliteSite.Configuration(hosts: [
            PoliteSite.Host("a", address: "127.0.0.2", robots: .text("User-agent: *\nDisallow: /page/7$\n"),
                            pages: PoliteSite.Pages(count: 200, linksPerPage: 2)),
        ]))
        defer { site.stop() }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let seed = site.url("a", "/page/0")
        var settings = FetchSettings(totalTimeoutMs: 5_000)
        settings.maxRedirects = 0
        settings.addressPolicy = AddressPolicy(allowedHosts: ["127.0.0.2"])
        // 10 ms between requests: 200 pages take two seconds or more, time enough to kill the coordinator midway.
        let spec = JobSpec(urls: [seed], repeatCount: 1, concurrency: 4, settings: settings,
                           crawl: CrawlOptionsSpec(maxDepth: 1_000, delayMs: 10))
        let first = try await CoordinatorProcess(dataDirectory: data)
        let job: String
        do {
            job = try await first.submit(spec)
            try await first.waitFor(job) { $0.done >= 40 }
            first.signal(SIGKILL)
        } catch {
            await first.stop()
            throw error
        }
        #expect(await first.waitForExit(timeout: 5) != nil)
        let second = try await CoordinatorProcess(dataDirectory: data)
        do {
            let done = try await second.waitFor(job, timeout: 60) { $0.state == .completed }
            #expect(done.done == 200, "\(done)")
            second.signal(SIGTERM)
            #expect(await second.waitForExit(timeout: 10) == 0)
        } catch {
            await second.stop()
            throw error
        }
        site.stop()
        let log = try site.log()
        #expect(log.paths(host: "a").filter { $0 == "/robots.txt" }.count == 1, "robots.txt fetched again after the restart")
        #expect(!log.paths(host: "a").contains("/page/7"))
        let records = try RecordsReader.readAll(path: "\(data)/jobs/\(job)/records.ndjson")
        #expect(records.count == 200)
        #expect(Set(records.map(\.url)).count == 200, "a URL with two records")
        #expect(records.filter { $0.error?.kind == .robots }.map(\.url) == [site.url("a", "/page/7")])
    }
}
