import ArachneTestSupport
import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneProtocol
import ArachneReport
import Foundation
import Testing

/// The report of a job that spans a coordinator restart: its URL tables must be what the whole job's records say,
/// although the restarted coordinator rebuilt its figures from the store and only then went on.
@Suite("Long-running coordinator: the report's URL tables across a restart", .serialized)
struct CoordinatorServiceReportTests {
    @Test("a job stopped and resumed lists the slowest and the most-failing URLs of all its records")
    func urlTablesSpanARestart() async throws {
        let site = try ServiceSite()
        defer { site.stop() }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        // Pages of 40 different delays, 8 URLs whose connection is reset, and the first page listed again: about
        // four seconds of work for 2 workers × 4, so the stop lands mid-job even on a loaded machine.
        let slow = (0..<40).map { "\(site.site.baseURL)/delay/\(200 + $0)?t=\($0)" }
        let broken = site.urls(8, path: "/broken/reset", tag: "t")
        let urls = slow + broken + [slow[0]]
        let total = urls.count * 3

        let first = try await CoordinatorProcess(dataDirectory: data)
        let job: String
        do {
            job = try await first.submit(JobSpec(urls: urls, repeatCount: 3, concurrency: 4))
            try await first.waitFor(job) { $0.done >= 30 }
            first.signal(SIGTERM)
        } catch {
            await first.stop()
            throw error
        }
        #expect(await first.waitForExit(timeout: 10) == 0, "\(first.log)")
        let before = try RecordsReader.readAll(path: "\(data)/jobs/\(job)/records.ndjson").count
        try #require(before >= 30 && before < total, "the stop must land mid-job: \(before) of \(total) done")

        let second = try await CoordinatorProcess(dataDirectory: data)
        do {
            try await second.waitFor(job, timeout: 30) { $0.state == .completed }
        } catch {
            await second.stop()
            throw error
        }
        await second.stop()

        let records = try expectOneRecordPerKey("\(data)/jobs/\(job)", urls: urls, repeatCount: 3)
        let report = try ReportReader.read("\(data)/jobs/\(job)").report
        #expect(report.summary.requests == total)
        let slowest = URLTableOracle.slowestURLs(records)
        #expect(report.slowestURLs == slowest, "\(report.slowestURLs.map(\.url)) vs \(slowest.map(\.url))")
        #expect(report.slowestURLs.count == 20 && report.slowestURLs.allSatisfy { $0.url.contains("/delay/") })
        let failing = Self.failingURLs(records)
        #expect(report.failingURLs == failing, "\(report.failingURLs) vs \(failing)")
        // Every reset URL failed once per repetition, before and after the restart alike.
        #expect(report.failingURLs.count == 8 && report.failingURLs.allSatisfy { $0.failures == 3 })
    }

    /// Failed requests per URL (exact: far fewer URLs than counters), most first.
    static func failingURLs(_ records: [FetchRecord]) -> [Report.FailingURL] {
        var byURL: [String: Report.FailingURL] = [:]
        for record in records {
            guard let kind = record.error?.kind, !kind.isSkip, !record.isCancelled else { continue }
            var entry = byURL[record.url]
                ?? Report.FailingURL(url: record.url, urlIndex: nil, failures: 0, overcount: 0, errors: [:])
            entry.failures += 1
            entry.errors[kind.rawValue, default: 0] += 1
            if let index = record.urlIndex { entry.urlIndex = min(entry.urlIndex ?? index, index) }
            byURL[record.url] = entry
        }
        return byURL.values.sorted { a, b in a.failures != b.failures ? a.failures > b.failures : a.url < b.url }
            .prefix(20).map { $0 }
    }
}
