import ArachneArchive
import ArachneCore
import Foundation
import Testing

@testable import ArachneReport

/// A job whose slowest and failing URLs are known: 30 URLs (index 0…29, `/dup` listed twice at 28 and 29), URL i's
/// slowest response taking (i + 1) ms, four URLs failing (`/broken/3` most), and cancelled requests that are not
/// failures.
enum URLTableJob {
    static let base = "http://u.test"

    static func records() -> [FetchRecord] {
        var records: [FetchRecord] = []
        for index in 0..<30 {
            let url = index >= 28 ? "\(base)/dup" : "\(base)/page/\(index)"
            for repetition in 0..<3 {
                let total = Int64(index + 1) * 1_000 - Int64(repetition) * 100
                records.append(Fixtures.record(
                    url: url, urlIndex: index, repetition: repetition, worker: "w\(repetition % 2 + 1)",
                    timings: PhaseTimings(connect: 50, starttransfer: total / 2, total: total),
                    finishedAt: Fixtures.jobStart + Double(records.count) / 100))
            }
        }
        let failures: [(Int, [FetchErrorKind])] = [
            (3, [.reset, .reset, .reset, .timeout]), (1, [.dns]), (2, [.connect, .connect]),
        ]
        for (number, kinds) in failures {
            for (repetition, kind) in kinds.enumerated() {
                records.append(Fixtures.record(
                    url: "\(base)/broken/\(number)", urlIndex: 30 + number, repetition: repetition, status: 0,
                    error: FetchFailure(kind: kind, message: "\(kind.rawValue)")))
            }
        }
        // Cancelled with the job: not failures, so /cancelled never shows up among the failing URLs.
        for repetition in 0..<10 {
            records.append(Fixtures.record(
                url: "\(base)/cancelled", urlIndex: 40, repetition: repetition, worker: "", status: 0,
                error: FetchFailure(kind: .cancelled, message: "job cancelled")))
        }
        // A response that still failed: ranked among the slowest with its failure kind, and counted as failing.
        records.append(Fixtures.record(
            url: "\(base)/huge", urlIndex: 41, status: 200, timings: PhaseTimings(starttransfer: 5_000, total: 50_000),
            error: FetchFailure(kind: .tooLarge, message: "too large")))
        return records
    }

    static func report() -> Report {
        var perWorker: [String: ReportAggregator] = [:]
        for record in records() { perWorker[record.worker, default: ReportAggregator()].add(record) }
        var total = ReportAggregator()
        for (_, aggregator) in perWorker.sorted(by: { $0.key < $1.key }) { total.merge(aggregator) }
        return total.makeReport(job: Fixtures.jobInfo())
    }
}

@Suite struct ReportURLViewsTests {
    @Test func theReportListsTheSlowestAndTheMostFailingURLs() throws {
        let report = URLTableJob.report()
        let slow = report.slowestURLs
        #expect(slow.count == 20)
        #expect(slow.first?.url == "\(URLTableJob.base)/huge" && slow.first?.error == "too-large")
        #expect(slow.first?.timings.total == report.timings.total.max)
        // /dup is listed once, with its slowest response: index 29's first repetition.
        #expect(slow[1].url == "\(URLTableJob.base)/dup" && slow[1].urlIndex == 29 && slow[1].repetition == 0)
        #expect(slow[1].timings.total == 30_000)
        #expect(slow.filter { $0.url.hasSuffix("/dup") }.count == 1)
        #expect(slow[2].url == "\(URLTableJob.base)/page/27" && slow[2].worker == "w1")
        #expect(slow.last?.url == "\(URLTableJob.base)/page/10")

        let failing = report.failingURLs
        #expect(failing.map(\.url) == ["/broken/3", "/broken/2", "/broken/1", "/huge"].map { URLTableJob.base + $0 })
        #expect(failing[0].failures == 4 && failing[0].overcount == 0 && failing[0].urlIndex == 33)
        #expect(failing[0].errors == ["reset": 3, "timeout": 1])
        #expect(!failing.contains { $0.url.hasSuffix("/cancelled") })

        let json = String(decoding: ReportWriter.encode(report), as: UTF8.self)
        #expect(json.contains("\"slowest_urls\" : [") && json.contains("\"failing_urls\" : ["))
        #expect(json.contains("\"url_index\" : 29") && json.contains("\"overcount\" : 0"))
        #expect(try JSONDecoder().decode(Report.self, from: Data(json.utf8)) == report)
    }

    @Test func theReportValidatesAgainstTheSchema() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ReportWriter.write(URLTableJob.report(), toDirectory: directory)
        #expect(try SchemaValidator.problems([directory + "/report.json"]) == "")
    }

    @Test func theSummaryShowsTheTopFiveOfEach() {
        let text = ReportRenderer.summaryText(URLTableJob.report())
        #expect(text.contains("Slowest URLs (ms, each URL's slowest response)"))
        #expect(row(text, "\(URLTableJob.base)/huge") == ["41", "0", "200 too-large", "w1", "0.000", "5.00", "50.0"])
        #expect(row(text, "\(URLTableJob.base)/dup") == ["29", "0", "200", "w1", "0.050", "15.0", "30.0"])
        #expect(row(text, "\(URLTableJob.base)/page/25").count == 7)
        #expect(row(text, "\(URLTableJob.base)/page/24").isEmpty, "only five rows")
        #expect(text.contains("  … 15 more in report.json"))
        #expect(text.contains("Most-failing URLs"))
        #expect(row(text, "\(URLTableJob.base)/broken/3") == ["33", "4", "reset × 3", "timeout × 1"])
        #expect(row(text, "\(URLTableJob.base)/broken/2") == ["32", "2", "connect × 2"])
        #expect(!text.contains("/cancelled"))
        #expect(!text.contains("≤"), "exact counts carry no bound mark")
    }

    @Test func upperBoundsAreMarkedAndLongURLsCut() {
        var report = URLTableJob.report()
        report.failingURLs[0].overcount = 2
        report.failingURLs[1].url = URLTableJob.base + "/" + String(repeating: "x", count: 200) + "/end"
        let text = ReportRenderer.summaryText(report)
        #expect(row(text, "\(URLTableJob.base)/broken/3").prefix(2) == ["33", "≤ 4"])
        #expect(text.contains("≤: an upper bound"))
        let cut = text.split(separator: "\n").first { $0.contains("xxx") }.map(String.init) ?? ""
        #expect(cut.contains("…") && cut.contains("x/end") && !cut.contains(String(repeating: "x", count: 100)))
    }

    @Test func diffShowsBothReportsURLTables() {
        let a = URLTableJob.report()
        var bRecords = URLTableJob.records().filter { !$0.url.hasSuffix("/broken/2") }
        bRecords += (0..<6).map { repetition in
            Fixtures.record(
                url: "\(URLTableJob.base)/broken/new", urlIndex: 50, repetition: repetition, status: 0,
                error: FetchFailure(kind: .timeout, message: "t"))
        }
        let b = Fixtures.report(records: bRecords)
        let text = ReportDiff.render(a, b)
        #expect(text.contains("Most-failing URLs (failures; – not among that report's 20)"))
        #expect(row(text, "\(URLTableJob.base)/broken/new") == ["–", "6"])
        #expect(row(text, "\(URLTableJob.base)/broken/3") == ["4", "4", "0", "0.0%"])
        #expect(row(text, "\(URLTableJob.base)/broken/2") == ["2", "–"])
        #expect(text.contains("Slowest URLs (total ms; – not among that report's 20)"))
        #expect(row(text, "\(URLTableJob.base)/huge") == ["50.0", "50.0", "0.000", "0.0%"])
    }

    /// A report written before the URL tables (`arachne.report/1`): it reads with empty tables, and every view and
    /// the diff against a new report still work.
    @Test func anOlderReportReadsWithEmptyTables() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let current = URLTableJob.report()
        var object = try #require(
            try JSONSerialization.jsonObject(with: ReportWriter.encode(current)) as? [String: Any])
        object["schema"] = "arachne.report/1"
        object["slowest_urls"] = nil
        object["failing_urls"] = nil
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: directory + "/report.json"))

        let old = try ReportReader.read(directory).report
        #expect(old.schema == "arachne.report/1" && old.slowestURLs.isEmpty && old.failingURLs.isEmpty)
        #expect(old.summary == current.summary)
        let text = ReportRenderer.summaryText(old)
        #expect(!text.contains("Slowest URLs") && !text.contains("Most-failing URLs"))
        #expect(text.contains("URL tables    not in this report"))
        #expect(ReportHTML.render(old).contains("not in this report: it was written before reports had URL tables"))
        let diff = ReportDiff.render(old, current)
        #expect(diff.contains("URL tables: A predates them (arachne.report/1)"))
        #expect(row(diff, "\(URLTableJob.base)/broken/3") == ["–", "4"])
    }
}
