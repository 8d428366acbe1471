import ArachneCore

extension ReportHTML {
    /// The page's two URL tables, as sections: every slowest URL and every most-failing URL the report lists (20
    /// each at most). Plain HTML in `<div id="slowest-urls">` and `<div id="failing-urls">`; URLs are text, escaped.
    static func urlSections(_ report: Report) -> String {
        section("Slowest URLs (ms, each URL's slowest response)", chart: nil, table: slowestTable(report))
            + section("Most-failing URLs", chart: nil, table: failingTable(report))
    }

    /// What an empty table says: nothing happened, or the report is older than the tables.
    static func emptyURLTable(_ id: String, _ report: Report, _ none: String) -> String {
        let text = report.hasURLTables ? none : "not in this report: it was written before reports had URL tables"
        return "<div id=\"\(id)\"><p class=\"muted\">\(escape(text))</p></div>\n"
    }

    static func slowestTable(_ report: Report) -> String {
        guard !report.slowestURLs.isEmpty else {
            return emptyURLTable("slowest-urls", report, "no request got a response")
        }
        let rows = report.slowestURLs.map { slow in
            [slow.url, slow.urlIndex.map(String.init) ?? "-", String(slow.repetition),
             slow.error.map { "\(slow.status) \($0)" } ?? String(slow.status), slow.worker.isEmpty ? "-" : slow.worker,
             TextFormat.milliseconds(slow.timings.queue), TextFormat.milliseconds(slow.timings.connect),
             TextFormat.milliseconds(slow.timings.starttransfer), TextFormat.milliseconds(slow.timings.total)]
        }
        return "<div id=\"slowest-urls\" class=\"urls\">\n"
            + htmlTable(
                ["url", "index", "rep", "status", "worker", "queue", "connect", "ttfb", "total"], rows,
                numeric: [1, 2, 5, 6, 7, 8])
            + "</div>\n"
    }

    static func failingTable(_ report: Report) -> String {
        guard !report.failingURLs.isEmpty else { return emptyURLTable("failing-urls", report, "no failures") }
        let rows = report.failingURLs.map { failing in
            [failing.url, failing.urlIndex.map(String.init) ?? "-", ReportRenderer.failureCount(failing),
             ReportRenderer.errorKinds(failing.errors)]
        }
        let bounded = report.failingURLs.contains { $0.overcount > 0 }
            ? "<p class=\"muted\">≤: an upper bound: more than 1,000 distinct URLs failed, so failures were counted "
                + "with Space-Saving; report.json gives each count's overcount.</p>\n"
            : ""
        return "<div id=\"failing-urls\" class=\"urls\">\n"
            + htmlTable(["url", "index", "failures", "errors"], rows, numeric: [1, 2])
            + bounded + "</div>\n"
    }
}
