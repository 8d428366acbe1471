import ArachneCore

/// Renders a report for a terminal: the headline figures (the "spend time" first), an aligned table of phases ×
/// percentiles in milliseconds, status codes, the most frequent errors, the slowest hosts, the slowest and the
/// most-failing URLs (ReportRenderer+URLs.swift) and one line per worker; for a crawl, also a crawl block after the
/// headline figures (ReportRenderer+Crawl.swift).
public enum ReportRenderer {
    /// Rows listed in the error, host and worker sections before the rest is summarised in one line.
    static let topErrors = 5
    static let slowestHosts = 5
    static let workerLines = 20

    /// The whole summary, ending with a newline.
    public static func summaryText(_ report: Report) -> String {
        var out: [String] = []
        let job = report.job
        let summary = report.summary
        let options = job.options
        let name = options.name.map { " \"\($0)\"" } ?? ""
        out.append("Arachne report: job \(job.id)\(name) (\(job.state.rawValue))")
        if let crawl = options.crawl {
            var limits = "scope \(crawl.scope.rawValue), max depth \(crawl.maxDepth)"
            if let maxPages = crawl.maxPages { limits += ", max pages \(TextFormat.count(maxPages))" }
            if let perHost = crawl.maxPagesPerHost { limits += ", max pages per host \(TextFormat.count(perHost))" }
            out.append(
                "  a crawl from \(TextFormat.count(options.urlCount)) seed(s), \(limits), "
                    + "concurrency \(options.concurrency), output \(job.outputDir)")
        } else {
            out.append(
                "  \(TextFormat.count(options.urlCount)) URL(s) × \(TextFormat.count(options.repeatCount)) "
                    + "repetition(s), concurrency \(options.concurrency), output \(job.outputDir)")
        }
        out.append("")
        out.append("  spend time   \(TextFormat.seconds(summary.wallSeconds)) s")
        let expected = options.urlCount * options.repeatCount
        // A crawl's URL count is its seeds: no expected total.
        let progress = job.state == .completed || expected == 0 || report.crawl != nil
            ? "" : " of \(TextFormat.count(expected))"
        // The failure rate is over fetched requests: cancelled ones are counted apart.
        let cancelled = summary.cancelled > 0 ? ", \(TextFormat.count(summary.cancelled)) cancelled" : ""
        out.append(
            "  requests     \(TextFormat.count(summary.requests))\(progress): "
                + "\(TextFormat.count(summary.succeeded)) succeeded, \(TextFormat.count(summary.failed)) failed "
                + "(\(TextFormat.percent(summary.failed, of: summary.requests - summary.cancelled)))\(cancelled)")
        out.append(
            "  throughput   \(TextFormat.decimal(summary.requestsPerSecond)) req/s, "
                + "\(TextFormat.bytes(summary.bytesReceived)) received")
        out.append("  retries      \(summary.retries), reassigned batches \(summary.reassignedBatches)")
        out.append("")
        if let crawl = report.crawl {
            out += crawlLines(crawl)
            out.append("")
        }

        if report.timings.total.count == 0 {
            // No response, no latency: a table of zeros would read as measured zeros.
            out.append("Latency (ms)  none: no request got a response")
        } else {
            out.append("Latency (ms)")
            var rows = [["phase", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"]]
            for phase in Phase.allCases {
                let p = report.timings[phase]
                rows.append(
                    [phase.rawValue, TextFormat.count(p.count), TextFormat.milliseconds(p.min),
                     TextFormat.milliseconds(p.mean)] + p.percentiles.map { TextFormat.milliseconds($0.value) })
            }
            out.append(TextFormat.table(rows, rightAligned: Set(1..<10)))
        }
        out.append("")

        let codes = summary.statusCodes.sorted { Int($0.key) ?? 0 < Int($1.key) ?? 0 }
        let codeText = codes.map { "\($0.key) × \(TextFormat.count($0.value))" }.joined(separator: "   ")
        out.append("Status codes  " + (codes.isEmpty ? "none" : codeText))
        let errors = summary.errors.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var errorText = errors.prefix(topErrors).map { "\($0.key) × \(TextFormat.count($0.value))" }
            .joined(separator: "   ")
        if errors.count > topErrors { errorText += "   (\(errors.count - topErrors) more kinds)" }
        out.append("Errors        " + (errors.isEmpty ? "none" : errorText))
        out.append("")

        let timedHosts = report.hosts.filter { $0.total.count > 0 || $0.failed > 0 }
        if !timedHosts.isEmpty {
            let slowest = timedHosts.sorted { a, b in
                a.total.p99 != b.total.p99 ? a.total.p99 > b.total.p99 : a.host < b.host
            }
            out.append("Slowest hosts (total ms)")
            var hostRows = [["host", "requests", "failed", "p50", "p99", "max"]]
            for host in slowest.prefix(slowestHosts) {
                hostRows.append(
                    [host.host, TextFormat.count(host.requests), TextFormat.count(host.failed),
                     TextFormat.milliseconds(host.total.p50), TextFormat.milliseconds(host.total.p99),
                     TextFormat.milliseconds(host.total.max)])
            }
            out.append(TextFormat.table(hostRows, rightAligned: [1, 2, 3, 4, 5]))
            if slowest.count > slowestHosts { out.append("  … \(slowest.count - slowestHosts) more hosts") }
            out.append("")
        }

        out += urlLines(report)

        if !report.workers.isEmpty {
            out.append("Workers")
            // The key column appears when a worker joined with a CURVE key (a secured remote endpoint).
            let keyed = report.workers.contains { $0.key != nil }
            var workerRows = [["worker", "host", "pid"] + (keyed ? ["key"] : [])
                + ["requests", "failed", "busy s", "p50 ms", "p99 ms"]]
            for worker in report.workers.prefix(workerLines) {
                workerRows.append(
                    [worker.id, worker.host.isEmpty ? "-" : worker.host, worker.pid == 0 ? "-" : String(worker.pid)]
                    + (keyed ? [worker.key ?? "-"] : [])
                    + [TextFormat.count(worker.requests), TextFormat.count(worker.failed),
                       TextFormat.seconds(worker.busySeconds), TextFormat.milliseconds(worker.total.p50),
                       TextFormat.milliseconds(worker.total.p99)])
            }
            let shift = keyed ? 1 : 0
            out.append(TextFormat.table(workerRows, rightAligned: Set([2] + [3, 4, 5, 6, 7].map { $0 + shift })))
            if report.workers.count > workerLines {
                out.append("  … \(report.workers.count - workerLines) more workers")
            }
            out.append("")
        }

        var files = "Records: \(report.records)"
        if let first = report.bodies.first, let last = report.bodies.last {
            files += report.bodies.count <= 3
                ? "; bodies: " + report.bodies.joined(separator: ", ")
                : "; bodies: \(report.bodies.count) WARC files, \(first) … \(last)"
        }
        out.append(files)
        return out.joined(separator: "\n") + "\n"
    }
}
