import ArachneCore

extension ReportDiff {
    /// The crawl figures compared when either report is a crawl's: pages, links found and new, skipped (in all and
    /// by every kind present in either), and URLs discovered. A report without a crawl section counts as zeros.
    static func crawlRows(_ a: Report, _ b: Report) -> [Row] {
        guard a.crawl != nil || b.crawl != nil else { return [] }
        let empty = Report.Crawl(
            pagesByDepth: [:], pagesByContentType: [:], links: CrawlLinkCounts(), skipped: [:],
            frontier: .init(discovered: 0, remaining: 0, peak: 0), hosts: [])
        let ca = a.crawl ?? empty
        let cb = b.crawl ?? empty
        var rows = [
            Row(name: "pages", a: Double(ca.pages), b: Double(cb.pages), unit: .count),
            Row(name: "links found", a: Double(ca.links.found), b: Double(cb.links.found), unit: .count),
            Row(name: "links new", a: Double(ca.links.new), b: Double(cb.links.new), unit: .count),
            Row(name: "skipped", a: Double(ca.skippedTotal), b: Double(cb.skippedTotal), unit: .count),
        ]
        for kind in Set(ca.skipped.keys).union(cb.skipped.keys).sorted() {
            rows.append(
                Row(name: "skipped \(kind)", a: Double(ca.skipped[kind] ?? 0), b: Double(cb.skipped[kind] ?? 0),
                    unit: .count))
        }
        rows.append(
            Row(name: "frontier discovered", a: Double(ca.frontier.discovered), b: Double(cb.frontier.discovered),
                unit: .count))
        return rows
    }
}
