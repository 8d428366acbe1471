import ArachneCore

extension ReportHTML {
    /// Charts a crawl's page draws beyond a list job's: pages by depth and the frontier over time.
    public static let crawlChartCount = 2

    /// Charts the page for `report` draws.
    public static func chartCount(for report: Report) -> Int {
        chartCount + (report.crawl == nil ? 0 : crawlChartCount)
    }

    /// The cards a crawl adds to the headline row.
    static func crawlCards(_ crawl: Report.Crawl) -> String {
        [
            card("pages", TextFormat.count(crawl.pages)),
            card("skipped", TextFormat.count(crawl.skippedTotal)),
            card("discovered", TextFormat.count(crawl.frontier.discovered)),
        ].joined(separator: "\n") + "\n"
    }

    /// The crawl's sections: pages by depth (chart and table), the frontier over time (chart), then tables of
    /// content types, links, skips and the top hosts.
    static func crawlSections(_ crawl: Report.Crawl) -> String {
        var html = section(
            "Crawl: pages by depth", chart: "chart-depth",
            table: htmlTable(
                ["depth", "pages"], crawl.depthRows.map { [String($0.depth), TextFormat.count($0.pages)] },
                numeric: [0, 1]))
        let frontier = crawl.frontier
        html += section(
            "Crawl: frontier over time", chart: "chart-frontier",
            table: htmlTable(
                ["discovered", "remaining", "peak"],
                [[TextFormat.count(frontier.discovered), TextFormat.count(frontier.remaining),
                  TextFormat.count(frontier.peak)]], numeric: [0, 1, 2]))
        let links = crawl.links
        var linkRows = [
            ["found (followable links extracted)", TextFormat.count(links.found)],
            ["new (first seen, queued)", TextFormat.count(links.new)],
            ["duplicate (already seen)", TextFormat.count(links.duplicate)],
            ["out of scope", TextFormat.count(links.outOfScope)],
            ["nofollow", TextFormat.count(links.nofollow)],
        ]
        linkRows += byCount(links.filtered).map { ["filtered: \($0.key)", TextFormat.count($0.value)] }
        html += section(
            "Crawl: content types, links, skips, hosts", chart: nil,
            table: htmlTable(
                ["content type", "pages"], byCount(crawl.pagesByContentType).map { [$0.key, TextFormat.count($0.value)] },
                numeric: [1])
                + htmlTable(["links", "count"], linkRows, numeric: [1])
                + htmlTable(
                    ["skipped because", "records"], byCount(crawl.skipped).map { [$0.key, TextFormat.count($0.value)] },
                    numeric: [1])
                + htmlTable(
                    ["host", "pages"], crawl.hosts.map { [$0.host, TextFormat.count($0.pages)] }, numeric: [1]))
        if let politeness = crawl.politeness {
            let rows = politeness.hosts.map { audit -> [String] in
                [(audit.brokeLimits ? "⚠ " : "") + audit.host, TextFormat.count(audit.requests),
                 "\(audit.maxInFlight) / \(audit.perHost)", audit.minGapMs.map { TextFormat.count($0) } ?? "–",
                 "\(TextFormat.count(audit.delayMs)) (\(audit.delaySource.rawValue))", TextFormat.count(audit.backOffMs),
                 "\(audit.tooManyRequests) / \(audit.unavailable)", TextFormat.count(audit.retries), audit.robots,
                 TextFormat.count(audit.robotsBlocked)]
            }
            let verdict = politeness.hostsBreakingLimits.isEmpty
                ? "Every host's figures kept its limits."
                : "Hosts that broke their own limits: " + politeness.hostsBreakingLimits.joined(separator: ", ")
            html += section(
                "Crawl: politeness audit (\(TextFormat.count(politeness.hostCount)) hosts). \(verdict)", chart: nil,
                table: htmlTable(
                    ["host", "requests", "in flight / limit", "smallest gap ms", "delay ms", "back-off ms",
                     "429 / 503", "retries", "robots.txt", "robots-blocked"], rows, numeric: [1, 3, 5, 7, 9]))
            if !politeness.timelines.isEmpty {
                html += "<section>\n<h2>Crawl: request timelines of the busiest hosts</h2>\n"
                    + "<p>Each bar is one response's transfer, from the records; bars that overlap in time are drawn "
                    + "on separate rows, so the rows a host needs are its requests in flight at once.</p>\n"
                for timeline in politeness.timelines { html += timelineSVG(timeline) }
                html += "</section>\n"
            }
        }
        return html
    }

    /// One host's requests as bars on rows: each span goes on the first row free at its start.
    static func timelineSVG(_ timeline: Report.HostTimeline) -> String {
        var rowEnds: [Int] = []
        var placed: [(row: Int, start: Int, end: Int)] = []
        for span in timeline.spansMs where span.count == 2 {
            let (start, end) = (span[0], max(span[0], span[1]))
            if let row = rowEnds.firstIndex(where: { $0 <= start }) {
                rowEnds[row] = end
                placed.append((row, start, end))
            } else {
                rowEnds.append(end)
                placed.append((rowEnds.count - 1, start, end))
            }
        }
        let total = max(1, placed.map(\.end).max() ?? 1)
        let width = 900.0, rowHeight = 12.0, left = 4.0
        let height = Double(max(1, rowEnds.count)) * rowHeight + 18
        var svg = "<figure class=\"timeline\"><figcaption>\(escape(timeline.host)): \(placed.count) responses over "
            + "\(TextFormat.count(total)) ms, at most \(rowEnds.count) at once</figcaption>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width + 8))\" height=\"\(Int(height))\" "
            + "role=\"img\" aria-label=\"request timeline of \(escape(timeline.host))\">\n"
        for bar in placed {
            let x = left + Double(bar.start) / Double(total) * width
            let w = max(1, Double(bar.end - bar.start) / Double(total) * width)
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3b7dd8\">", x,
                          Double(bar.row) * rowHeight, w, rowHeight - 3)
                + "<title>\(bar.start)–\(bar.end) ms</title></rect>\n"
        }
        svg += "<text x=\"\(Int(left))\" y=\"\(Int(height - 4))\" font-size=\"11\">0 ms</text>"
            + "<text x=\"\(Int(width))\" y=\"\(Int(height - 4))\" font-size=\"11\" text-anchor=\"end\">"
            + "\(TextFormat.count(total)) ms</text>\n</svg></figure>\n"
        return svg
    }

    /// Counts, largest first (ties by key).
    static func byCount(_ counts: [String: Int]) -> [(key: String, value: Int)] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    }

    /// Where the crawl charts' script goes in `chartScript`: before the drawn charts are counted.
    static let crawlScriptAnchor = "  document.body.setAttribute('data-charts-drawn'"

    /// Draws pages by depth (bars) and the frontier's size per second (a line); runs inside `chartScript`.
    static let crawlChartScript = """
          function frontier() {
            const id = 'chart-frontier', H = 240, root = svg(id, H);
            const points = report.timeline.filter(p => p.frontier !== undefined && p.frontier !== null);
            if (!points.length) { empty(root, H, 'no frontier samples'); return done(id); }
            const {x, y} = timeAxes(root, H, points, p => p.frontier);
            el('path', {d: path(points.map(p => [x(p.second), y(p.frontier)])), fill: 'none', stroke: '#76b7b2',
                        'stroke-width': 2, class: 'series'}, root);
            el('text', {x: W - R + 8, y: T + 10, fill: '#76b7b2'}, root, 'frontier size');
            done(id);
          }
          const depths = report.crawl.pages_by_depth;
          bars('chart-depth', Object.keys(depths).map(Number).sort((a, b) => a - b).map(d => ({
            label: 'depth ' + d, value: depths[String(d)], color: '#4e79a7', text: n(depths[String(d)])})),
            'no pages');
          frontier();

        """

    /// `chartScript` with the crawl charts added.
    static var crawlPageScript: String {
        precondition(chartScript.contains(crawlScriptAnchor), "chartScript lost the crawl charts' anchor")
        return chartScript.replacingOccurrences(of: crawlScriptAnchor, with: crawlChartScript + crawlScriptAnchor)
    }
}
