import ArachneArchive
import ArachneCore
import Foundation
import Testing

@testable import ArachneReport

@Suite struct ReportAggregatorCrawlTests {
    @Test func skipsCountAsSkippedNotAsRequestsOrFailures() {
        let report = Fixtures.crawlReport()
        let summary = report.summary
        #expect(summary.requests == 9)
        #expect(summary.succeeded == 8 && summary.failed == 1)
        #expect(summary.skipped == 6)
        #expect(summary.errors == ["connect": 1])
        #expect(report.crawl?.skipped == ["max-depth": 3, "robots": 2, "url-too-long": 1])
        // Rates, latency, workers, hosts and the timeline cover fetched URLs only.
        #expect(summary.requestsPerSecond == 0.9)
        #expect(report.timings.total.count == 8)
        #expect(report.workers.map(\.id) == ["w1", "w2"])
        #expect(report.hosts.reduce(0) { $0 + $1.requests } == 9)
        #expect(report.timeline.reduce(0) { $0 + $1.completed } == 9)
    }

    @Test func pagesByDepthAndContentTypeComeFromTheRecords() throws {
        let crawl = try #require(Fixtures.crawlReport().crawl)
        #expect(crawl.pagesByDepth == ["0": 1, "1": 4, "2": 3, "3": 1])
        #expect(crawl.pages == 9)
        #expect(crawl.depthRows.map(\.depth) == [0, 1, 2, 3])
        #expect(crawl.pagesByContentType == ["text/html": 7, "image/png": 1])
    }

    @Test func hostsAreTheTopTwentyByPagesWithoutOther() throws {
        let crawl = try #require(Fixtures.crawlReport().crawl)
        #expect(crawl.hosts == [
            .init(host: "a.test", pages: 6), .init(host: "b.test:8080", pages: 2), .init(host: "c.test", pages: 1),
        ])
        var aggregator = ReportAggregator(hostLimit: 30)
        for index in 0..<40 {
            for page in 0...(index % 5) {
                aggregator.add(Fixtures.crawlRecord("http://h\(index).test/\(page)", depth: 1, parent: "http://s/"))
            }
        }
        let hosts = try #require(aggregator.makeReport(job: Fixtures.jobInfo()).crawl?.hosts)
        #expect(hosts.count == ReportAggregator.crawlHostRows)
        #expect(!hosts.contains { $0.host == ReportAggregator.otherHosts })
        #expect(hosts.first?.pages == 5 && hosts.map(\.pages) == hosts.map(\.pages).sorted(by: >))

        // Hosts pooled beyond the aggregator's limit are not a host.
        var small = ReportAggregator(hostLimit: 2)
        for index in 0..<5 { small.add(Fixtures.crawlRecord("http://h\(index).test/", depth: 1, parent: "http://s/")) }
        let few = try #require(small.makeReport(job: Fixtures.jobInfo()).crawl?.hosts)
        #expect(few.map(\.host) == ["h0.test", "h1.test"])
    }

    @Test func linkCountsAreWhatTheCallerAdded() throws {
        var aggregator = Fixtures.crawlAggregator()
        aggregator.addLinks(CrawlLinkCounts(found: 4, duplicate: 4))
        let links = try #require(aggregator.makeReport(job: Fixtures.jobInfo()).crawl?.links)
        #expect(links == CrawlLinkCounts(
            found: 20, new: 12, duplicate: 6, outOfScope: 1, nofollow: 2, filtered: ["exclude:/cal/": 1]))
    }

    @Test func frontierSamplesFillTheTimelineAndTheFrontierFigures() throws {
        let report = Fixtures.crawlReport()
        #expect(report.crawl?.frontier == .init(discovered: 15, remaining: 0, peak: 7))
        #expect(report.timeline == [
            .init(second: 0, completed: 1, failed: 0, frontier: 4),
            .init(second: 1, completed: 3, failed: 0, frontier: 7),
            .init(second: 2, completed: 4, failed: 1, frontier: 5),
            .init(second: 3, completed: 1, failed: 0, frontier: 0),
        ])
    }

    @Test func secondsWithoutASampleCarryTheLastOneAndSamplesExtendTheTimeline() {
        var aggregator = ReportAggregator()
        aggregator.add(Fixtures.crawlRecord("http://a.test/", depth: 0, parent: nil, via: .seed, second: 2.5))
        aggregator.noteFrontier(size: 9, at: Fixtures.jobStart + 1.2)
        aggregator.noteFrontier(size: 3, at: Fixtures.jobStart + 1.1)  // earlier, arrives late: not the second's last
        aggregator.noteFrontier(size: 2, at: Fixtures.jobStart + 4.0)
        let report = aggregator.makeReport(job: Fixtures.jobInfo())
        #expect(report.timeline.map(\.second) == [1, 2, 3, 4])
        #expect(report.timeline.map(\.frontier) == [9, 9, 9, 2])
        #expect(report.timeline.map(\.completed) == [0, 1, 0, 0])
        #expect(report.crawl?.frontier == .init(discovered: 0, remaining: 2, peak: 9))
    }

    @Test func mergingEqualsAggregatingEverythingInOnePlace() {
        let records = Fixtures.crawlRecords()
        let single = Fixtures.crawlAggregator(records)
        var parts = [ReportAggregator(), ReportAggregator(), ReportAggregator()]
        for (index, record) in records.enumerated() { parts[index % 3].add(record) }
        parts[1].addLinks(Fixtures.crawlLinks)
        for (index, sample) in Fixtures.frontierSamples.enumerated() {
            parts[index % 2 * 2].noteFrontier(
                size: sample.size, at: Fixtures.jobStart + sample.second, discovered: sample.discovered)
        }
        var merged = ReportAggregator()
        for part in parts.reversed() { merged.merge(part) }
        #expect(merged.makeReport(job: Fixtures.jobInfo()) == single.makeReport(job: Fixtures.jobInfo()))
    }

    @Test func contentTypesBeyondTheLimitArePooled() throws {
        var aggregator = ReportAggregator()
        for index in 0..<(ReportAggregator.contentTypeLimit + 10) {
            aggregator.add(Fixtures.crawlRecord(
                "http://a.test/\(index)", depth: 1, parent: "http://a.test/", contentType: "x/type-\(index)"))
        }
        let types = try #require(aggregator.makeReport(job: Fixtures.jobInfo()).crawl?.pagesByContentType)
        #expect(types.count == ReportAggregator.contentTypeLimit + 1)
        #expect(types[ReportAggregator.otherContentTypes] == 10)
    }

    @Test func aListJobHasNoCrawlFiguresAndItsJSONNoCrawlKeys() throws {
        let report = Fixtures.report(records: Fixtures.records(count: 200))
        #expect(report.crawl == nil && report.summary.skipped == nil)
        #expect(report.timeline.allSatisfy { $0.frontier == nil })
        let json = String(decoding: ReportWriter.encode(report), as: UTF8.self)
        for key in ["\"crawl\"", "\"skipped\"", "\"frontier\""] { #expect(!json.contains(key), "\(key) in a list report") }
    }

    @Test func aMarkedCrawlHasAnEmptyCrawlSectionBeforeAnyRecord() throws {
        var aggregator = ReportAggregator()
        #expect(!aggregator.isCrawl)
        aggregator.markCrawl()
        let report = aggregator.makeReport(job: Fixtures.jobInfo(state: .queued))
        #expect(report.summary.skipped == 0)
        let crawl = try #require(report.crawl)
        #expect(crawl.pages == 0 && crawl.links.isEmpty && crawl.hosts.isEmpty)
        #expect(crawl.frontier == .init(discovered: 0, remaining: 0, peak: 0))
    }
}
