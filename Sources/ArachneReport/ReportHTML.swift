import ArachneCore
import Foundation

/// Renders a report as one self-contained HTML page: inline CSS, the report's JSON and a small script that draws
/// SVG charts (latency per phase, throughput and failures over time, status codes, errors, per-worker load). The
/// page needs no network access. The tables (latency, workers, hosts, the slowest and the most-failing URLs) are
/// plain HTML, readable with scripts off.
///
/// The script marks each drawn chart with `data-drawn` and the body with `data-charts-drawn="N"`; script errors are
/// listed on the page and counted in the body's `data-script-errors` attribute (tests check both).
///
/// A crawl's page adds cards, a pages-by-depth chart, a frontier-over-time chart and crawl tables
/// (ReportHTML+Crawl.swift); a list job's page has none of them.
public enum ReportHTML {
    /// Charts a list job's page draws (`chartCount(for:)` counts a crawl's too).
    public static let chartCount = 5

    /// The page. With `records` (records.ndjson) of a job shorter than a second, the throughput chart uses
    /// sub-second buckets: report.json's timeline is per second, a single point for such a job.
    public static func render(_ report: Report, records: [FetchRecord]? = nil) -> String {
        let job = report.job
        let summary = report.summary
        let fetched = summary.requests - summary.cancelled
        let failed = "\(TextFormat.count(summary.failed)) (\(TextFormat.percent(summary.failed, of: fetched)))"
        let totals = TextFormat.milliseconds(report.timings.total.p50) + " / "
            + TextFormat.milliseconds(report.timings.total.p99) + " ms"
        var page = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Arachne report: job \(escape(job.id))</title>
            <style>\(css)</style>
            </head>
            <body>
            <ul id="script-errors" hidden></ul>
            <script>\(errorHook)</script>
            <header>
            <h1>Arachne report</h1>
            <p>job <strong>\(escape(job.id))</strong>\(job.options.name.map { " “\(escape($0))”" } ?? "") ·
            \(escape(job.state.rawValue)) · \(jobShape(job.options)) ·
            concurrency \(job.options.concurrency) · started \(escape(job.startedAt ?? "-")) ·
            output <code>\(escape(job.outputDir))</code></p>
            </header>
            <section class="cards">
            \(card("spend time", TextFormat.seconds(summary.wallSeconds) + " s", lead: true))
            \(card("requests", TextFormat.count(summary.requests)))
            \(card("req/s", TextFormat.decimal(summary.requestsPerSecond)))
            \(card("failed", failed))
            \(summary.cancelled > 0 ? card("cancelled", TextFormat.count(summary.cancelled)) : "")
            \(card("p50 / p99 total", totals))
            \(card("received", TextFormat.bytes(summary.bytesReceived)))

            """
        if let crawl = report.crawl { page += crawlCards(crawl) }
        page += """
            </section>

            """
        if let crawl = report.crawl { page += crawlSections(crawl) }
        page += section("Latency by phase (ms, log scale)", chart: "chart-latency", table: latencyTable(report))
        page += section("Throughput and failures per second", chart: "chart-timeline", table: "")
        page += section("Status codes", chart: "chart-status", table: "")
        page += section("Failures by kind", chart: "chart-errors", table: "")
        page += section("Per-worker load", chart: "chart-workers", table: workerTable(report))
        page += section("Hosts", chart: nil, table: hostTable(report))
        page += urlSections(report)
        page += """
            <footer>retries \(summary.retries) · reassigned batches \(summary.reassignedBatches) ·
            records <code>\(escape(report.records))</code> · bodies \(report.bodies.count) WARC file(s) ·
            schema \(escape(report.schema))</footer>
            <script type="application/json" id="report-data">\(embeddedJSON(report))</script>
            \(records.flatMap { fineTimeline(report, $0) } ?? "")
            <script>\(report.crawl == nil ? chartScript : crawlPageScript)</script>
            </body>
            </html>

            """
        return page
    }

    /// Completions and failures per second in buckets of 10–100 ms, for a job whose wall time is under a second:
    /// a `<script type="application/json" id="timeline-fine">` element the timeline chart draws instead of
    /// `timeline`, or nil. Cancelled and skip records are left out, as in the report's timeline.
    static func fineTimeline(_ report: Report, _ records: [FetchRecord]) -> String? {
        let wall = report.summary.wallSeconds
        guard wall > 0, wall < 1, let startText = report.job.startedAt,
            let start = try? Date(startText, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        else { return nil }
        let bucket = [0.01, 0.02, 0.05, 0.1].first { wall / $0 <= 25 } ?? 0.1
        let count = Int((wall / bucket).rounded(.up)) + 1
        var completed = [Int](repeating: 0, count: count)
        var failed = [Int](repeating: 0, count: count)
        for record in records where !record.isCancelled && !record.skipped {
            let offset = record.finishedAt - start.timeIntervalSince1970
            let index = Swift.min(count - 1, Swift.max(0, Int((offset / bucket).rounded(.down))))
            completed[index] += 1
            if !record.succeeded { failed[index] += 1 }
        }
        let points = (0..<count).map { index in
            let second = (Double(index) * bucket * 1000).rounded() / 1000
            return "{\"second\":\(second),\"completed\":\(Double(completed[index]) / bucket),"
                + "\"failed\":\(Double(failed[index]) / bucket)}"
        }
        return "<script type=\"application/json\" id=\"timeline-fine\">{\"bucket\":\(bucket),\"points\":["
            + points.joined(separator: ",") + "]}</script>"
    }

    /// Escapes text for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// The report as JSON safe inside a `<script>` element: `<` only appears escaped, so no `</script>` can end it.
    static func embeddedJSON(_ report: Report) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
    }

    /// "1,000 URL(s) × 3" for a list job, "a crawl from 2 seed(s), scope host, max depth 20" for a crawl.
    static func jobShape(_ options: ReportJobOptions) -> String {
        if let crawl = options.crawl {
            return "a crawl from \(TextFormat.count(options.urlCount)) seed(s), scope \(crawl.scope.rawValue), "
                + "max depth \(crawl.maxDepth)"
        }
        return "\(TextFormat.count(options.urlCount)) URL(s) × \(TextFormat.count(options.repeatCount))"
    }

    static func card(_ label: String, _ value: String, lead: Bool = false) -> String {
        "<div class=\"card\(lead ? " lead" : "")\"><span>\(escape(label))</span><b>\(escape(value))</b></div>"
    }

    static func section(_ title: String, chart: String?, table: String) -> String {
        let chartDiv = chart.map { "<div class=\"chart\" id=\"\($0)\"></div>\n" } ?? ""
        return "<section>\n<h2>\(escape(title))</h2>\n\(chartDiv)\(table)</section>\n"
    }

    static func htmlTable(_ header: [String], _ rows: [[String]], numeric: Set<Int>) -> String {
        func cells(_ row: [String], _ tag: String) -> String {
            row.enumerated().map { column, cell in
                "<\(tag)\(numeric.contains(column) ? " class=\"n\"" : "")>\(escape(cell))</\(tag)>"
            }.joined()
        }
        let body = rows.map { "<tr>\(cells($0, "td"))</tr>" }.joined(separator: "\n")
        return "<table>\n<thead><tr>\(cells(header, "th"))</tr></thead>\n<tbody>\n\(body)\n</tbody>\n</table>\n"
    }

    static func latencyTable(_ report: Report) -> String {
        // No response, no latency: a table of zeros would read as measured zeros.
        guard report.timings.total.count > 0 else { return "<p class=\"muted\">no request got a response</p>\n" }
        let rows = Phase.allCases.map { phase -> [String] in
            let p = report.timings[phase]
            return [phase.rawValue, TextFormat.count(p.count), TextFormat.milliseconds(p.min),
                    TextFormat.milliseconds(p.mean)] + p.percentiles.map { TextFormat.milliseconds($0.value) }
        }
        return htmlTable(
            ["phase", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"], rows,
            numeric: Set(1..<10))
    }

    static func workerTable(_ report: Report) -> String {
        guard !report.workers.isEmpty else { return "" }
        let keyed = report.workers.contains { $0.key != nil }
        let rows = report.workers.map {
            [$0.id, $0.host, $0.pid == 0 ? "-" : String($0.pid)] + (keyed ? [$0.key ?? "-"] : [])
                + [TextFormat.count($0.requests), TextFormat.count($0.failed), TextFormat.seconds($0.busySeconds),
                   TextFormat.milliseconds($0.total.p50), TextFormat.milliseconds($0.total.p99)]
        }
        let shift = keyed ? 1 : 0
        return htmlTable(
            ["worker", "host", "pid"] + (keyed ? ["key"] : [])
                + ["requests", "failed", "busy s", "p50 ms", "p99 ms"], rows,
            numeric: Set([2] + [3, 4, 5, 6, 7].map { $0 + shift }))
    }

    static func hostTable(_ report: Report) -> String {
        guard !report.hosts.isEmpty else { return "<p class=\"muted\">no hosts</p>\n" }
        let rows = report.hosts.prefix(100).map {
            [$0.host, TextFormat.count($0.requests), TextFormat.count($0.failed), TextFormat.bytes($0.bytes),
             TextFormat.milliseconds($0.total.p50), TextFormat.milliseconds($0.total.p99),
             TextFormat.milliseconds($0.total.max)]
        }
        let more = report.hosts.count > 100 ? "<p class=\"muted\">… \(report.hosts.count - 100) more</p>\n" : ""
        return htmlTable(
            ["host", "requests", "failed", "bytes", "p50 ms", "p99 ms", "max ms"], rows, numeric: [1, 2, 3, 4, 5, 6])
            + more
    }

    static let css = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:16px;color:#222}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px;margin-top:12px}
        .card{border:1px solid #ddd;border-radius:6px;padding:8px}.card span{display:block;color:#666;font-size:12px}
        .card b{font-size:18px}.card.lead{border-color:#4e79a7;background:#eef3f9}.card.lead b{font-size:24px}
        table{border-collapse:collapse;width:100%;margin-top:8px;font-variant-numeric:tabular-nums}
        th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}.n{text-align:right}
        .chart svg{width:100%;height:auto;display:block}.muted{color:#888}
        .urls td:first-child{word-break:break-all;font-family:ui-monospace,monospace;font-size:12px}
        svg text{font:11px system-ui,sans-serif;fill:#444}svg .grid{stroke:#eee}svg .axis{stroke:#999}
        #script-errors{color:#b00;border:1px solid #b00;padding:8px 24px}
        footer{margin-top:24px;color:#666;font-size:12px}
        """

    static let errorHook = """
        window.onerror = function (message, source, line) {
          var list = document.getElementById('script-errors');
          var item = document.createElement('li');
          item.textContent = 'script error: ' + message + ' (line ' + line + ')';
          list.appendChild(item);
          list.hidden = false;
          document.body.setAttribute('data-script-errors', String(list.children.length));
        };
        """

    static let chartScript = """
        (function () {
          'use strict';
          const report = JSON.parse(document.getElementById('report-data').textContent);
          const NS = 'http://www.w3.org/2000/svg', W = 760, L = 70, R = 130, T = 12, B = 34;
          const colors = ['#9c755f', '#4e79a7', '#f28e2b', '#76b7b2', '#59a14f', '#edc948', '#e15759'];
          let drawn = 0;
          function el(tag, attrs, parent, text) {
            const node = document.createElementNS(NS, tag);
            for (const key in attrs) node.setAttribute(key, attrs[key]);
            if (text !== undefined) node.textContent = text;
            if (parent) parent.appendChild(node);
            return node;
          }
          function svg(id, height) {
            return el('svg', {viewBox: '0 0 ' + W + ' ' + height, role: 'img'}, document.getElementById(id));
          }
          function done(id) { document.getElementById(id).setAttribute('data-drawn', 'true'); drawn += 1; }
          function empty(root, height, text) {
            el('text', {x: W / 2, y: height / 2, 'text-anchor': 'middle', class: 'muted'}, root, text);
          }
          function ms(us) {
            const v = us / 1000;
            return v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
          }
          function line(root, x1, y1, x2, y2, cls) {
            el('line', {x1: x1, y1: y1, x2: x2, y2: y2, class: cls}, root);
          }
          function path(points) {
            return points.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('');
          }
          function largest(values) { return values.reduce((a, b) => Math.max(a, b), 1); }

          function latency() {
            const id = 'chart-latency', H = 300, root = svg(id, H);
            const keys = ['p50', 'p90', 'p95', 'p99', 'p999', 'max'];
            const labels = ['p50', 'p90', 'p95', 'p99', 'p99.9', 'max'];
            const phases = ['queue', 'namelookup', 'connect', 'appconnect', 'pretransfer', 'starttransfer', 'total'];
            const shown = phases.filter(p => report.timings[p].count > 0);
            if (!shown.length) { empty(root, H, 'no responses'); return done(id); }
            const most = largest([].concat(...shown.map(p => keys.map(k => report.timings[p][k]))));
            const decades = Math.max(1, Math.ceil(Math.log10(most)));
            const x = i => L + i * (W - L - R) / (keys.length - 1);
            const y = v => H - B - Math.log10(Math.max(v, 1)) / decades * (H - T - B);
            for (let d = 0; d <= decades; d++) {
              line(root, L, y(Math.pow(10, d)), W - R, y(Math.pow(10, d)), 'grid');
              const label = (d === 0 ? '≤' : '') + ms(Math.pow(10, d));
              el('text', {x: L - 6, y: y(Math.pow(10, d)) + 4, 'text-anchor': 'end'}, root, label);
            }
            labels.forEach((label, i) => el('text', {x: x(i), y: H - B + 18, 'text-anchor': 'middle'}, root, label));
            // Phases with identical percentiles draw one curve, named once with every phase it stands for.
            const groups = [];
            shown.forEach(p => {
              const values = keys.map(k => report.timings[p][k]).join(',');
              const same = groups.find(g => g.values === values);
              if (same) same.names.push(p); else groups.push({values: values, names: [p], phase: p});
            });
            const names = [];
            groups.forEach(g => {
              const color = colors[phases.indexOf(g.phase)];
              const points = keys.map((k, i) => [x(i), y(report.timings[g.phase][k])]);
              el('path', {d: path(points), fill: 'none', stroke: color, 'stroke-width': 2, class: 'series'}, root);
              points.forEach(pt => el('circle', {cx: pt[0], cy: pt[1], r: 3, fill: color}, root));
              const end = points[points.length - 1][1];
              names.push({names: g.names, color: color, end: end, y: end, height: 13 * g.names.length});
            });
            // Names beside their curves' ends: pushed apart where curves end close together, then moved back up as a
            // block if that pushed them below the plot, so each stays as near its curve's end as the others allow.
            names.sort((a, b) => a.end - b.end);
            names.forEach((n, i) => {
              const above = names[i - 1];
              if (above && n.y - above.y < above.height) n.y = above.y + above.height;
            });
            for (let i = names.length - 1; i >= 0; i--) {
              const limit = i === names.length - 1 ? H - B - names[i].height + 9 : names[i + 1].y - names[i].height;
              names[i].y = Math.max(T + 4, Math.min(names[i].y, limit));
            }
            names.forEach(n => {
              if (Math.abs(n.y - n.end) > 3) {
                el('line', {x1: W - R + 1, y1: n.end, x2: W - R + 6, y2: n.y, stroke: n.color, class: 'leader'}, root);
              }
              // An inline style: the stylesheet's `svg text` fill would override a fill attribute.
              const label = el('text', {x: W - R + 8, y: n.y + 4, style: 'fill:' + n.color, class: 'series-label',
                                        'data-end-y': n.end.toFixed(1), 'data-color': n.color}, root);
              n.names.forEach((name, i) => el('tspan', {x: W - R + 8, dy: i ? 13 : 0}, label, name));
            });
            done(id);
          }

          // Axes of a chart over the timeline's seconds: a grid at 0, half and the largest value, five time labels.
          function timeAxes(root, H, points, value, bucket) {
            const first = points[0].second;
            const span = Math.max(bucket || 1, points[points.length - 1].second - first);
            const most = largest(points.map(value));
            const x = s => L + (s - first) / span * (W - L - R);
            const y = v => H - B - v / most * (H - T - B);
            [0, most / 2, most].forEach(v => {
              line(root, L, y(v), W - R, y(v), 'grid');
              el('text', {x: L - 6, y: y(v) + 4, 'text-anchor': 'end'}, root, String(Math.round(v)));
            });
            for (let i = 0; i <= 4; i++) {
              const s = first + span * i / 4;
              el('text', {x: x(s), y: H - B + 18, 'text-anchor': 'middle'}, root,
                 (bucket ? s.toFixed(2) : Math.round(s)) + ' s');
            }
            return {x, y};
          }

          function timeline() {
            // A job shorter than a second: sub-second buckets (rates per second), when the page has them.
            const fineData = document.getElementById('timeline-fine');
            const fine = fineData ? JSON.parse(fineData.textContent) : null;
            const id = 'chart-timeline', H = 240, root = svg(id, H), points = fine ? fine.points : report.timeline;
            if (!points.length) { empty(root, H, 'no records yet'); return done(id); }
            if (fine) document.getElementById(id).setAttribute('data-bucket', String(fine.bucket));
            const {x, y} = timeAxes(root, H, points, p => p.completed, fine ? fine.bucket : 0);
            const curve = points.map(p => [x(p.second), y(p.completed)]);
            const area = curve.concat([[x(points[points.length - 1].second), y(0)], [x(points[0].second), y(0)]]);
            el('path', {d: path(area) + 'Z', fill: '#4e79a733', stroke: 'none'}, root);
            el('path', {d: path(curve), fill: 'none', stroke: '#4e79a7', 'stroke-width': 2, class: 'series'}, root);
            el('path', {d: path(points.map(p => [x(p.second), y(p.failed)])), fill: 'none', stroke: '#e15759',
                        'stroke-width': 2, class: 'series'}, root);
            el('text', {x: W - R + 8, y: T + 10, style: 'fill:#4e79a7'}, root, 'completed/s');
            el('text', {x: W - R + 8, y: T + 26, style: 'fill:#e15759'}, root, 'failed/s');
            done(id);
          }

          function bars(id, items, note) {
            const H = T + Math.max(1, items.length) * 24 + 10, root = svg(id, H);
            if (!items.length) { empty(root, H, note); return done(id); }
            const most = largest(items.map(i => i.value));
            const x = v => v / most * (W - L - 60 - 200);
            items.forEach((item, i) => {
              const top = T + i * 24;
              el('text', {x: L + 54, y: top + 15, 'text-anchor': 'end'}, root, item.label);
              el('rect', {x: L + 60, y: top, width: Math.max(1, x(item.value)), height: 18, fill: item.color,
                          class: 'bar'}, root);
              if (item.part) el('rect', {x: L + 60, y: top, width: x(item.part), height: 18, fill: '#e15759',
                                         class: 'bar'}, root);
              el('text', {x: L + 66 + x(item.value), y: top + 14}, root, item.text);
            });
            done(id);
          }

          function n(value) { return Number(value).toLocaleString('en-US'); }
          function statusColor(code) {
            return code < 300 ? '#59a14f' : code < 400 ? '#4e79a7' : code < 500 ? '#f28e2b' : '#e15759';
          }

          latency();
          timeline();
          bars('chart-status', Object.keys(report.summary.status_codes).sort((a, b) => a - b).map(code => ({
            label: code, value: report.summary.status_codes[code], color: statusColor(Number(code)),
            text: n(report.summary.status_codes[code])})), 'no responses');
          bars('chart-errors', Object.entries(report.summary.errors).sort((a, b) => b[1] - a[1]).map(e => ({
            label: e[0], value: e[1], color: '#e15759', text: n(e[1])})), 'no failures');
          bars('chart-workers', report.workers.map(w => ({
            label: w.id, value: w.requests, part: w.failed, color: '#4e79a7',
            text: n(w.requests) + ' requests, ' + n(w.failed) + ' failed'})),
            'no workers');
          document.body.setAttribute('data-charts-drawn', String(drawn));
        })();
        """
}
