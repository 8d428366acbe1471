import ArachneCluster
import ArachneCore
import ArachneReport
import Foundation
import Testing

/// The recorder's entry points for a crawl's figures that do not come from records.
@Suite struct JobRecorderCrawlTests {
    static func info(_ directory: String) -> ReportJobInfo {
        ReportJobInfo(
            id: "crawl-1", state: .completed, startedAt: Date(timeIntervalSince1970: 1_700_000_000),
            finishedAt: Date(timeIntervalSince1970: 1_700_000_004), spec: JobSpec(urls: ["http://a.test/"]),
            outputDir: directory)
    }

    static func record(_ url: String, depth: Int, skip: FetchErrorKind? = nil) -> FetchRecord {
        FetchRecord(
            url: url, repetition: 0, worker: "w1", attempts: 1, status: skip == nil ? 200 : 0, bytes: 10,
            finalURL: url, redirects: 0, timings: PhaseTimings(total: 100),
            error: skip.map { FetchFailure(kind: $0, message: "skipped") }, body: nil, finishedAt: 1_700_000_001.5,
            depth: depth, parent: depth == 0 ? nil : "http://a.test/", via: depth == 0 ? .seed : .link, links: 2,
            contentType: "text/html")
    }

    @Test func linkCountsAndFrontierSamplesReachTheReport() async throws {
        let directory = NSTemporaryDirectory() + "arachne-recorder-crawl-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let recorder = try JobRecorder(directory: directory, keepBodies: false)
        recorder.replay([
            Self.record("http://a.test/", depth: 0), Self.record("http://a.test/1", depth: 1),
            Self.record("http://a.test/2", depth: 2, skip: .maxDepth),
        ])
        recorder.addLinks(CrawlLinkCounts(found: 2, new: 2))
        recorder.addLinks(CrawlLinkCounts(found: 2, duplicate: 1, outOfScope: 1))
        recorder.noteFrontier(size: 2, at: 1_700_000_000.5, discovered: 3)
        recorder.noteFrontier(size: 0, at: 1_700_000_002.5, discovered: 3)
        let report = try await recorder.writeReport(info: Self.info(directory), workers: [], reassignedBatches: 0,
                                                    retries: 0)
        try await recorder.close()
        #expect(report.summary.requests == 2 && report.summary.skipped == 1)
        let crawl = try #require(report.crawl)
        #expect(crawl.pagesByDepth == ["0": 1, "1": 1] && crawl.skipped == ["max-depth": 1])
        #expect(crawl.links == CrawlLinkCounts(found: 4, new: 2, duplicate: 1, outOfScope: 1))
        #expect(crawl.frontier == .init(discovered: 3, remaining: 0, peak: 2))
        #expect(report.timeline.map(\.frontier) == [2, 2, 0])
        let written = try String(contentsOfFile: directory + "/report.json", encoding: .utf8)
        #expect(written.contains("\"pages_by_depth\""))
    }

    @Test func aListJobsRecorderWritesNoCrawlSectionAndAMarkedCrawlDoes() async throws {
        let directory = NSTemporaryDirectory() + "arachne-recorder-list-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let recorder = try JobRecorder(directory: directory, keepBodies: false)
        let list = try await recorder.writeReport(info: Self.info(directory), workers: [], reassignedBatches: 0,
                                                  retries: 0)
        #expect(list.crawl == nil && list.summary.skipped == nil)
        recorder.markCrawl()
        let crawl = try await recorder.writeReport(info: Self.info(directory), workers: [], reassignedBatches: 0,
                                                   retries: 0)
        try await recorder.close()
        #expect(crawl.crawl?.pages == 0 && crawl.summary.skipped == 0)
    }
}
