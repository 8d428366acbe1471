import ArachneCore
import ArachneReport
import Foundation
import Testing

/// Loads pages in headless Chromium and returns the DOM after the scripts ran.
enum Browser {
    static let executable = "/usr/bin/chromium"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    static func dumpDOM(html: String) throws -> String {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let page = directory + "/report.html"
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))
        let result = try Program.run(executable, [
            "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(directory)/profile", "--dump-dom", "file://\(page)",
        ], timeout: 90)
        #expect(result.status == 0, "chromium failed: \(result.stderr.suffix(2000))")
        return result.stdout
    }

    /// The opening tag of the element with `id`.
    static func openingTag(_ dom: String, id: String) -> String? {
        guard let idRange = dom.range(of: "id=\"\(id)\"") else { return nil }
        let start = dom[..<idRange.lowerBound].lastIndex(of: "<")!
        let end = dom[idRange.upperBound...].firstIndex(of: ">")!
        return String(dom[start...end])
    }

    /// The markup between the element with `id` and the next section.
    static func content(_ dom: String, id: String) -> String {
        guard let idRange = dom.range(of: "id=\"\(id)\"") else { return "" }
        let rest = dom[idRange.upperBound...]
        return String(rest[..<(rest.range(of: "</section>")?.lowerBound ?? rest.endIndex)])
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }
}

@Suite(.enabled(if: Browser.available, "chromium is not installed at /usr/bin/chromium"), .serialized)
struct ReportHTMLBrowserTests {
    @Test func chromiumDrawsEveryChartWithoutScriptErrors() throws {
        let report = Fixtures.report(records: Fixtures.records(count: 3_000))
        let dom = try Browser.dumpDOM(html: ReportHTML.render(report))
        let body = try #require(Browser.openingTag(dom, id: "script-errors").map { _ in dom })
        #expect(body.contains("data-charts-drawn=\"\(ReportHTML.chartCount)\""))
        #expect(!dom.contains("data-script-errors=\""), "script errors: \(Browser.content(dom, id: "script-errors"))")
        for chart in ["chart-latency", "chart-timeline", "chart-status", "chart-errors", "chart-workers"] {
            #expect(Browser.openingTag(dom, id: chart)?.contains("data-drawn=\"true\"") == true, "\(chart) drawn")
            #expect(Browser.content(dom, id: chart).contains("<svg"), "\(chart) has an SVG")
        }
        // One curve per phase with responses, one area and two lines over time, one bar per code, kind and worker.
        #expect(Browser.count("class=\"series\"", in: Browser.content(dom, id: "chart-latency")) == 7)
        #expect(Browser.count("class=\"series\"", in: Browser.content(dom, id: "chart-timeline")) == 2)
        let statusBars = Browser.count("<rect", in: Browser.content(dom, id: "chart-status"))
        #expect(statusBars == report.summary.statusCodes.count)
        #expect(Browser.count("<rect", in: Browser.content(dom, id: "chart-errors")) == report.summary.errors.count)
        #expect(Browser.count("<rect", in: Browser.content(dom, id: "chart-workers")) == 2 * report.workers.count)
        #expect(Browser.content(dom, id: "chart-status").contains(">404<"))
    }

    @Test func chromiumDrawsTheCrawlCharts() throws {
        let report = Fixtures.crawlReport()
        let dom = try Browser.dumpDOM(html: ReportHTML.render(report))
        #expect(dom.contains("data-charts-drawn=\"\(ReportHTML.chartCount(for: report))\""))
        #expect(!dom.contains("data-script-errors=\""), "script errors: \(Browser.content(dom, id: "script-errors"))")
        for chart in ["chart-depth", "chart-frontier"] {
            #expect(Browser.openingTag(dom, id: chart)?.contains("data-drawn=\"true\"") == true, "\(chart) drawn")
        }
        // One bar per depth; one frontier curve.
        #expect(Browser.count("<rect", in: Browser.content(dom, id: "chart-depth")) == 4)
        #expect(Browser.content(dom, id: "chart-depth").contains(">depth 3<"))
        #expect(Browser.count("class=\"series\"", in: Browser.content(dom, id: "chart-frontier")) == 1)
    }

    @Test func anEmptyReportStillRendersWithoutErrors() throws {
        let report = ReportAggregator().makeReport(job: Fixtures.jobInfo(state: .queued))
        let dom = try Browser.dumpDOM(html: ReportHTML.render(report))
        #expect(dom.contains("data-charts-drawn=\"\(ReportHTML.chartCount)\""))
        #expect(!dom.contains("data-script-errors=\""))
        #expect(Browser.content(dom, id: "chart-timeline").contains("no records yet"))
    }

    @Test func aScriptErrorIsReportedOnThePage() throws {
        let html = ReportHTML.render(Fixtures.report(records: Fixtures.records(count: 10)))
            .replacingOccurrences(of: "latency();\n", with: "latency();\nnoSuchFunction();\n")
        let dom = try Browser.dumpDOM(html: html)
        #expect(dom.contains("data-script-errors=\"1\""))
        #expect(dom.contains("noSuchFunction"))
        #expect(!dom.contains("data-charts-drawn=\""))
    }
}
