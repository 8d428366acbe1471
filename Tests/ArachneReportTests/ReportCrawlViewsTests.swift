import ArachneArchive
import ArachneCore
import Foundation
import Testing

@testable import ArachneReport

@Suite struct ReportCrawlViewsTests {
    @Test func crawlAndListReportsValidateAgainstTheSchema() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var paths: [String] = []
        for (name, report) in [
            ("crawl", Fixtures.crawlReport(outputDir: directory + "/crawl")),
            ("running", Fixtures.crawlReport(state: .running, outputDir: directory + "/running")),
            ("list", Fixtures.report(records: Fixtures.records(count: 100), outputDir: directory + "/list")),
        ] {
            let path = directory + "/" + name
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try ReportWriter.write(report, toDirectory: path)
            paths.append(path + "/report.json")
        }
        #expect(try SchemaValidator.problems(paths) == "")
        // The crawl report reads back as written.
        #expect(try ReportReader.read(directory + "/crawl").report == Fixtures.crawlReport(outputDir: directory + "/crawl"))
    }

    @Test func theSchemaRejectsASkipKindAmongErrorsAndAnUnknownCrawlKey() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var object = try #require(
            try JSONSerialization.jsonObject(with: ReportWriter.encode(Fixtures.crawlReport())) as? [String: Any])
        var summary = try #require(object["summary"] as? [String: Any])
        summary["errors"] = ["max-depth": 1]
        object["summary"] = summary
        var crawl = try #require(object["crawl"] as? [String: Any])
        crawl["pages"] = 9
        crawl["skipped"] = ["timeout": 1]
        object["crawl"] = crawl
        let path = directory + "/broken.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        let problems = try SchemaValidator.problems([path])
        #expect(problems.contains("summary/errors"))
        #expect(problems.contains("crawl"))
        #expect(problems.contains("'pages' was unexpected") || problems.contains("crawl: "), "\(problems)")
    }

    @Test func theTerminalSummaryHasACrawlBlockOnlyForCrawls() {
        let text = ReportRenderer.summaryText(Fixtures.crawlReport())
        #expect(text.contains("\nCrawl\n"))
        #expect(text.contains("  pages by depth  0: 1   1: 4   2: 3   3: 1\n"))
        #expect(text.contains("  content types   text/html × 7   image/png × 1\n"))
        #expect(text.contains(
            "  links           found 16: 12 new, 2 duplicate, 1 out of scope, 1 filtered; 2 nofollow\n"))
        #expect(text.contains("  filtered by     exclude:/cal/ × 1\n"))
        #expect(text.contains("  skipped         6: max-depth × 3   robots × 2   url-too-long × 1\n"))
        #expect(text.contains("  frontier        15 discovered, 0 remaining, peak 7\n"))
        #expect(text.contains("  top hosts       a.test × 6   b.test:8080 × 2   c.test × 1\n"))
        // A crawl's URL count is its seeds: no "of N" progress while running.
        let running = ReportRenderer.summaryText(Fixtures.crawlReport(state: .running))
        #expect(running.contains("  requests     9: 8 succeeded, 1 failed"))

        let list = ReportRenderer.summaryText(KnownReports.b)
        #expect(!list.contains("Crawl") && !list.contains("skipped") && !list.contains("frontier"))
    }

    @Test func diffComparesTheCrawlFigures() {
        let a = Fixtures.crawlReport()
        var bAggregator = Fixtures.crawlAggregator(
            Fixtures.crawlRecords() + [
                Fixtures.crawlRecord("http://a.test/4", depth: 3, parent: "http://a.test/2/"),
                Fixtures.crawlRecord("http://a.test/5", depth: 3, parent: "http://a.test/2/", skip: .maxPages),
            ])
        bAggregator.addLinks(CrawlLinkCounts(found: 4, new: 4))
        bAggregator.noteFrontier(size: 0, at: Fixtures.jobStart + 5, discovered: 20)
        let b = bAggregator.makeReport(job: Fixtures.jobInfo())
        let text = ReportDiff.render(a, b)
        #expect(row(text, "pages") == ["9", "10", "+1", "+11.1%"])
        #expect(row(text, "links found") == ["16", "20", "+4", "+25.0%"])
        #expect(row(text, "links new") == ["12", "16", "+4", "+33.3%"])
        #expect(row(text, "skipped") == ["6", "7", "+1", "+16.7%"])
        #expect(row(text, "skipped max-pages") == ["0", "1", "+1", "n/a"])
        #expect(row(text, "skipped robots") == ["2", "2", "0", "0.0%"])
        #expect(row(text, "frontier discovered") == ["15", "20", "+5", "+33.3%"])
        // A crawl against a list job: the list side counts as zeros. Two list jobs: no crawl rows.
        #expect(row(ReportDiff.render(KnownReports.a, a), "pages") == ["0", "9", "+9", "n/a"])
        let names = ReportDiff.rows(KnownReports.a, KnownReports.b).map(\.name)
        #expect(!names.contains("pages") && !names.contains { $0.hasPrefix("skipped") || $0.hasPrefix("links") })
    }

    @Test func theHTMLPageHasTheCrawlChartsAndTablesOnlyForCrawls() {
        let html = ReportHTML.render(Fixtures.crawlReport())
        for id in ["chart-depth", "chart-frontier"] { #expect(html.contains("id=\"\(id)\"")) }
        #expect(html.contains("bars('chart-depth'") && html.contains("function frontier()"))
        #expect(html.contains("<td>max-depth</td><td class=\"n\">3</td>"))
        #expect(html.contains("<td>b.test:8080</td><td class=\"n\">2</td>"))
        #expect(html.contains("<td>text/html</td><td class=\"n\">7</td>"))
        #expect(html.components(separatedBy: "</script>").count == 4)
        #expect(ReportHTML.chartCount(for: Fixtures.crawlReport()) == ReportHTML.chartCount + 2)

        let list = ReportHTML.render(KnownReports.b)
        #expect(!list.contains("chart-depth") && !list.contains("chart-frontier") && !list.contains("Crawl"))
        #expect(ReportHTML.chartCount(for: KnownReports.b) == ReportHTML.chartCount)
    }
}
