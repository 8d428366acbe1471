import ArachneCore
import ArachneReport
import Foundation
import Testing

extension ReportHTMLBrowserTests {
    /// Measures, in the browser, how wide each URL table is against the page's body, and how many rows it shows.
    static let urlTableProbe = """
        <script>
        (function () {
          const body = document.body.getBoundingClientRect().width;
          for (const id of ['slowest-urls', 'failing-urls']) {
            const table = document.querySelector('#' + id + ' table');
            document.body.setAttribute('data-' + id + '-rows', String(table ? table.tBodies[0].rows.length : -1));
            document.body.setAttribute('data-' + id + '-overflow',
              String(table ? Math.round(table.getBoundingClientRect().width - body) : -1));
          }
        })();
        </script>
        """

    @Test func chromiumShowsTheURLTablesWithURLsAsTextWithinThePage() throws {
        var records = URLTableJob.records()
        // A URL with markup in it stays text; a very long one wraps inside the page.
        let hostile = "http://u.test/a?q=<img src=x onerror=alert(1)>&b=\"c\""
        let long = "http://u.test/" + String(repeating: "segment-without-a-break-", count: 20)
        records += (0..<5).map { repetition in
            Fixtures.record(url: hostile, urlIndex: 60, repetition: repetition, status: 0,
                            error: FetchFailure(kind: .reset, message: "reset"))
        }
        records.append(Fixtures.record(url: long, urlIndex: 61, timings: PhaseTimings(total: 90_000)))
        let html = ReportHTML.render(Fixtures.report(records: records))
            .replacingOccurrences(of: "</body>", with: Self.urlTableProbe + "</body>")
        let dom = try Browser.dumpDOM(html: html)
        #expect(!dom.contains("data-script-errors=\""), "script errors: \(Browser.content(dom, id: "script-errors"))")
        #expect(Self.attribute("data-slowest-urls-rows", in: dom) == "20")
        #expect(Self.attribute("data-failing-urls-rows", in: dom) == "5")
        #expect(Int(Self.attribute("data-slowest-urls-overflow", in: dom) ?? "") ?? 99 <= 0,
                "the slowest URLs' table is wider than the page")
        #expect(Int(Self.attribute("data-failing-urls-overflow", in: dom) ?? "") ?? 99 <= 0)

        let failing = Browser.content(dom, id: "failing-urls")
        #expect(failing.contains("&lt;img src=x onerror=alert(1)&gt;"), "\(failing.prefix(1500))")
        #expect(!dom.contains("<img"), "a URL became markup")
        // Most failures first: the hostile URL's five resets, then /broken/3's four.
        let rows = failing.components(separatedBy: "<tr>").dropFirst(2)
        #expect(rows.first?.contains("reset × 5") == true)
        #expect(rows.dropFirst().first?.contains("/broken/3") == true)
        let slowest = Browser.content(dom, id: "slowest-urls")
        #expect(slowest.components(separatedBy: "<tr>").dropFirst(2).first?.contains("segment-without") == true)
    }
}
