import ArachneCore

extension ReportRenderer {
    /// URLs listed in each of the terminal's URL tables.
    static let urlRows = 5
    /// Longest URL shown in a terminal table; longer ones are cut in the middle.
    static let urlWidth = 64

    /// The five slowest URLs (their slowest response) and the five URLs with the most failures, each a short table
    /// followed by a blank line; nothing for a table the report has no rows for, and one line for a report older
    /// than the tables.
    static func urlLines(_ report: Report) -> [String] {
        guard report.hasURLTables else {
            return ["URL tables    not in this report (written before reports had them)", ""]
        }
        var out: [String] = []
        if !report.slowestURLs.isEmpty {
            out.append("Slowest URLs (ms, each URL's slowest response)")
            var rows = [["url", "index", "rep", "status", "worker", "connect", "ttfb", "total"]]
            for slow in report.slowestURLs.prefix(urlRows) {
                rows.append(
                    [shortURL(slow.url), slow.urlIndex.map(String.init) ?? "-", String(slow.repetition),
                     slow.error.map { "\(slow.status) \($0)" } ?? String(slow.status),
                     slow.worker.isEmpty ? "-" : slow.worker, TextFormat.milliseconds(slow.timings.connect),
                     TextFormat.milliseconds(slow.timings.starttransfer), TextFormat.milliseconds(slow.timings.total)])
            }
            out.append(TextFormat.table(rows, rightAligned: [1, 2, 5, 6, 7]))
            if report.slowestURLs.count > urlRows {
                out.append("  … \(report.slowestURLs.count - urlRows) more in report.json")
            }
            out.append("")
        }
        if !report.failingURLs.isEmpty {
            out.append("Most-failing URLs")
            var rows = [["url", "index", "failures", "errors"]]
            for failing in report.failingURLs.prefix(urlRows) {
                rows.append(
                    [shortURL(failing.url), failing.urlIndex.map(String.init) ?? "-", failureCount(failing),
                     errorKinds(failing.errors)])
            }
            out.append(TextFormat.table(rows, rightAligned: [1, 2]))
            if report.failingURLs.contains(where: { $0.overcount > 0 }) {
                out.append("  ≤: an upper bound (over 1,000 distinct URLs failed; report.json has each overcount)")
            }
            out.append("")
        }
        return out
    }

    /// `12`, or `≤ 12` when the count may include other URLs' failures.
    static func failureCount(_ failing: Report.FailingURL) -> String {
        (failing.overcount > 0 ? "≤ " : "") + TextFormat.count(failing.failures)
    }

    /// `reset × 10  timeout × 2`: most first.
    static func errorKinds(_ errors: [String: Int]) -> String {
        errors.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) × \(TextFormat.count($0.value))" }.joined(separator: "  ")
    }

    /// The URL, or its start and end around `…` when longer than `urlWidth` characters.
    static func shortURL(_ url: String) -> String {
        guard url.count > urlWidth else { return url }
        let tail = urlWidth / 3
        return String(url.prefix(urlWidth - tail - 1)) + "…" + String(url.suffix(tail))
    }
}
