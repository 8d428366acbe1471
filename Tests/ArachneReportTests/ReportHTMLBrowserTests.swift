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

    /// Measures, in the browser, each latency label: its computed fill against its curve's colour, and how far it
    /// sits from its curve's end; the findings are left on `body` for the DOM dump.
    static let labelProbe = """
        <script>
        (function () {
          const labels = Array.from(document.querySelectorAll('#chart-latency text.series-label'));
          const curves = Array.from(document.querySelectorAll('#chart-latency path.series'));
          const rgb = hex => 'rgb(' + [1, 3, 5].map(i => parseInt(hex.substr(i, 2), 16)).join(', ') + ')';
          const wrong = labels.filter(l => getComputedStyle(l).fill !== rgb(l.getAttribute('data-color')));
          const farthest = labels.reduce((m, l) =>
            Math.max(m, Math.abs(Number(l.getAttribute('y')) - 4 - Number(l.getAttribute('data-end-y')))), 0);
          document.body.setAttribute('data-labels', String(labels.length));
          document.body.setAttribute('data-curves', String(curves.length));
          document.body.setAttribute('data-wrong-colours', String(wrong.length));
          document.body.setAttribute('data-farthest', String(Math.round(farthest)));
          document.body.setAttribute('data-label-text', labels.map(l => l.textContent).join('|'));
        })();
        </script>
        """

    static func attribute(_ name: String, in dom: String) -> String? {
        guard let range = dom.range(of: name + "=\"") else { return nil }
        let rest = dom[range.upperBound...]
        return String(rest[..<(rest.firstIndex(of: "\"") ?? rest.endIndex)])
    }

    @Test func latencyLabelsAreColouredLikeTheirCurvesNearTheirEndsAndIdenticalCurvesShareOne() throws {
        // Plain HTTP on loopback: namelookup, connect and pretransfer are the same; appconnect is 0 throughout.
        let records = (0..<200).map { index in
            let base = Int64(100 + index * 10)
            return Fixtures.record(
                url: "http://a.test/\(index)",
                timings: PhaseTimings(queue: base / 2, namelookup: base, connect: base, appconnect: 0,
                                      pretransfer: base, starttransfer: base * 20, total: base * 21))
        }
        let html = ReportHTML.render(Fixtures.report(records: records))
            .replacingOccurrences(of: "</body>", with: Self.labelProbe + "</body>")
        let dom = try Browser.dumpDOM(html: html)
        #expect(!dom.contains("data-script-errors=\""), "script errors: \(Browser.content(dom, id: "script-errors"))")
        // queue, the merged three, appconnect, starttransfer, total: five curves, five labels.
        #expect(Self.attribute("data-curves", in: dom) == "5")
        #expect(Self.attribute("data-labels", in: dom) == "5")
        #expect(Self.attribute("data-label-text", in: dom)?.contains("namelookupconnectpretransfer") == true,
                "\(Self.attribute("data-label-text", in: dom) ?? "")")
        #expect(Self.attribute("data-wrong-colours", in: dom) == "0")
        // Five labels of at most three lines: none needs to sit more than a few lines from its curve's end.
        #expect(Int(Self.attribute("data-farthest", in: dom) ?? "999") ?? 999 <= 40)
    }

    @Test func aJobShorterThanASecondGetsSubSecondBuckets() throws {
        // 60 records over 0.6 s of a job that ran 0.6 s: the per-second timeline has one point.
        let records = (0..<60).map { index in
            Fixtures.record(url: "http://a.test/\(index)", finishedAt: Fixtures.jobStart + Double(index) / 100)
        }
        var aggregator = ReportAggregator()
        for record in records { aggregator.add(record) }
        var info = Fixtures.jobInfo()
        info.finishedAt = Date(timeIntervalSince1970: Fixtures.jobStart + 0.6)
        let report = aggregator.makeReport(job: info)
        #expect(report.timeline.count == 1)
        let dom = try Browser.dumpDOM(html: ReportHTML.render(report, records: records))
        #expect(!dom.contains("data-script-errors=\""), "script errors: \(Browser.content(dom, id: "script-errors"))")
        let chart = Browser.content(dom, id: "chart-timeline")
        #expect(Browser.openingTag(dom, id: "chart-timeline")?.contains("data-bucket=\"0.05\"") == true)
        #expect(chart.contains(">0.30 s<") || chart.contains(">0.33 s<"), "\(chart.prefix(2000))")
        // The completed curve has a point per bucket: 0.6 s / 50 ms + 1.
        let completed = try #require(chart.components(separatedBy: "class=\"series\"").first?
            .components(separatedBy: "<path").last)
        #expect(Browser.count("L", in: completed) >= 12, "\(completed)")
        // Without records (or for a longer job) the page keeps the per-second timeline.
        #expect(!ReportHTML.render(report).contains("id=\"timeline-fine\""))
        #expect(!ReportHTML.render(Fixtures.report(records: Fixtures.records(count: 50)),
                                   records: Fixtures.records(count: 50)).contains("id=\"timeline-fine\""))
    }

    @Test func aJobWithNoResponseHasNoLatencyTableOfZeros() throws {
        let records = (0..<5).map {
            Fixtures.record(url: "http://a.test/\($0)", status: 0, bytes: 0,
                            error: FetchFailure(kind: .connect, message: "refused"))
        }
        let report = Fixtures.report(records: records)
        let text = ReportRenderer.summaryText(report)
        #expect(text.contains("Latency (ms)  none: no request got a response"), "\(text)")
        #expect(!text.contains("namelookup"))
        let html = ReportHTML.render(report)
        #expect(html.contains("no request got a response") && !html.contains("<td>namelookup</td>"))
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
