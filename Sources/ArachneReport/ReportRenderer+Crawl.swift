import ArachneCore

extension ReportRenderer {
    /// Items shown in one line of the crawl block before the rest is summarised.
    static let crawlLineItems = 5
    /// Depths shown in the pages-by-depth row.
    static let depthItems = 12

    /// The crawl block of the terminal summary: pages by depth in one row, the top content types, what became of
    /// links, skips by kind, the frontier and the top hosts. Lines without a trailing blank line.
    static func crawlLines(_ crawl: Report.Crawl) -> [String] {
        var out = ["Crawl"]
        let depths = crawl.depthRows
        var depthText = depths.prefix(depthItems).map { "\($0.depth): \(TextFormat.count($0.pages))" }
            .joined(separator: "   ")
        if depths.count > depthItems { depthText += "   … \(depths.count - depthItems) more depths" }
        out.append("  pages by depth  " + (depths.isEmpty ? "none" : depthText))
        out.append("  content types   " + topItems(crawl.pagesByContentType))
        let links = crawl.links
        out.append(
            "  links           found \(TextFormat.count(links.found)): \(TextFormat.count(links.new)) new, "
                + "\(TextFormat.count(links.duplicate)) duplicate, \(TextFormat.count(links.outOfScope)) out of "
                + "scope, \(TextFormat.count(links.filteredTotal)) filtered; \(TextFormat.count(links.nofollow)) "
                + "nofollow")
        if !links.filtered.isEmpty { out.append("  filtered by     " + topItems(links.filtered)) }
        let skipped = crawl.skippedTotal
        out.append(
            "  skipped         " + (skipped == 0 ? "none" : "\(TextFormat.count(skipped)): " + topItems(crawl.skipped)))
        let frontier = crawl.frontier
        out.append(
            "  frontier        \(TextFormat.count(frontier.discovered)) discovered, "
                + "\(TextFormat.count(frontier.remaining)) remaining, peak \(TextFormat.count(frontier.peak))")
        var hostText = crawl.hosts.prefix(crawlLineItems).map { "\($0.host) × \(TextFormat.count($0.pages))" }
            .joined(separator: "   ")
        if crawl.hosts.count > crawlLineItems { hostText += "   … \(crawl.hosts.count - crawlLineItems) more" }
        out.append("  top hosts       " + (crawl.hosts.isEmpty ? "none" : hostText))
        if let politeness = crawl.politeness { out += politenessLines(politeness) }
        return out
    }

    /// The politeness audit: the busiest hosts' figures, and a warning naming any host that broke its own limits.
    static func politenessLines(_ politeness: Report.Politeness) -> [String] {
        var out: [String] = []
        for (index, audit) in politeness.hosts.prefix(crawlLineItems).enumerated() {
            let gap = audit.minGapMs.map { "\(TextFormat.count($0)) ms" } ?? "–"
            var text = "\(audit.host): \(TextFormat.count(audit.requests)) requests, at most \(audit.maxInFlight) "
                + "in flight (limit \(audit.perHost)), smallest gap \(gap) (delay \(TextFormat.count(audit.delayMs)) ms, "
                + "\(audit.delaySource.rawValue))"
            if audit.tooManyRequests + audit.unavailable > 0 {
                text += ", 429 × \(audit.tooManyRequests), 503 × \(audit.unavailable), \(audit.retries) retried"
            }
            if !audit.robots.isEmpty { text += "; robots.txt \(audit.robots)" }
            out.append((index == 0 ? "  politeness      " : "                  ") + text)
        }
        if politeness.hostCount > crawlLineItems {
            out.append("                  … \(politeness.hostCount - crawlLineItems) more hosts")
        }
        if !politeness.hostsBreakingLimits.isEmpty {
            out.append("  !! hosts that broke their own limits: " + politeness.hostsBreakingLimits.joined(separator: ", "))
        }
        return out
    }

    /// The largest counts as `key × n`, most first, at most `crawlLineItems`, then how many more; "none" if empty.
    static func topItems(_ counts: [String: Int]) -> String {
        guard !counts.isEmpty else { return "none" }
        let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var text = sorted.prefix(crawlLineItems).map { "\($0.key) × \(TextFormat.count($0.value))" }
            .joined(separator: "   ")
        if sorted.count > crawlLineItems { text += "   … \(sorted.count - crawlLineItems) more" }
        return text
    }
}
