import ArachneCore

extension ReportDiff {
    /// URLs taken from the top of each report's table.
    static let urlRows = 5

    /// The URL tables side by side: the five slowest (and five most-failing) URLs of either report, with each one's
    /// figure in A and in B. A report's tables are bounded (20 URLs), so `–` means "not among that report's 20", not
    /// "never slow" or "never failed". Lines without a trailing blank line; none when neither report has the table.
    static func urlLines(_ a: Report, _ b: Report) -> [String] {
        var out: [String] = []
        let older = [("A", a), ("B", b)].filter { !$0.1.hasURLTables }.map(\.0)
        if !older.isEmpty {
            // An arachne.report/1 report has no tables: its – means "not recorded", not "not among its 20".
            let which = older.joined(separator: " and ")
            out.append("")
            out.append("URL tables: \(which) predate\(older.count == 1 ? "s" : "") them (arachne.report/1), – there "
                + "says nothing")
        }
        let slowA = byURL(a.slowestURLs.map { ($0.url, Double($0.timings.total)) })
        let slowB = byURL(b.slowestURLs.map { ($0.url, Double($0.timings.total)) })
        let slowURLs = union(b.slowestURLs.prefix(urlRows).map(\.url), a.slowestURLs.prefix(urlRows).map(\.url))
        if !slowURLs.isEmpty {
            out.append("")
            out.append("Slowest URLs (total ms; – not among that report's 20)")
            out.append(table(slowURLs, slowA, slowB, unit: .micros))
        }
        let failA = byURL(a.failingURLs.map { ($0.url, Double($0.failures)) })
        let failB = byURL(b.failingURLs.map { ($0.url, Double($0.failures)) })
        let failURLs = union(b.failingURLs.prefix(urlRows).map(\.url), a.failingURLs.prefix(urlRows).map(\.url))
        if !failURLs.isEmpty {
            out.append("")
            out.append("Most-failing URLs (failures; – not among that report's 20)")
            out.append(table(failURLs, failA, failB, unit: .count))
        }
        return out
    }

    /// Figures by URL (a table lists each URL once; the first wins if a hand-edited one does not).
    private static func byURL(_ pairs: [(String, Double)]) -> [String: Double] {
        Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    /// `first` then the URLs of `second` not in it, in order.
    private static func union(_ first: [String], _ second: [String]) -> [String] {
        var seen = Set<String>()
        return (first + second).filter { seen.insert($0).inserted }
    }

    private static func table(_ urls: [String], _ a: [String: Double], _ b: [String: Double], unit: Unit) -> String {
        var rows = [["url", "A", "B", "change", "%"]]
        for url in urls {
            let valueA = a[url]
            let valueB = b[url]
            var row = [ReportRenderer.shortURL(url), valueA.map { format($0, unit) } ?? "–",
                       valueB.map { format($0, unit) } ?? "–"]
            if let valueA, let valueB {
                let compared = Row(name: url, a: valueA, b: valueB, unit: unit)
                row += [delta(compared), TextFormat.change(from: valueA, to: valueB)]
            } else {
                row += ["", ""]
            }
            rows.append(row)
        }
        return TextFormat.table(rows, rightAligned: [1, 2, 3, 4])
    }
}
