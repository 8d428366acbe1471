import ArachneCore
import Foundation

/// Two reports side by side: each key figure of A and B with its absolute and relative change.
public enum ReportDiff {
    /// How a figure is shown.
    public enum Unit: Sendable, Hashable {
        case count
        case seconds
        /// Microseconds, shown as milliseconds.
        case micros
        case rate
        case bytes
        /// A percentage (0–100); its change is shown in percentage points.
        case percent
    }

    /// One compared figure.
    public struct Row: Sendable, Hashable {
        public var name: String
        public var a: Double
        public var b: Double
        public var unit: Unit

        public init(name: String, a: Double, b: Double, unit: Unit) {
            self.name = name
            self.a = a
            self.b = b
            self.unit = unit
        }
    }

    /// The compared figures, in display order: throughput, wall time, total-time percentiles, time to first byte,
    /// failures, bytes, then every status code and error kind present in either report; then, when either report is
    /// a crawl's, the crawl figures (ReportDiff+Crawl.swift).
    public static func rows(_ a: Report, _ b: Report) -> [Row] {
        let sa = a.summary
        let sb = b.summary
        var rows = [
            Row(name: "requests", a: Double(sa.requests), b: Double(sb.requests), unit: .count),
            Row(name: "req/s", a: sa.requestsPerSecond, b: sb.requestsPerSecond, unit: .rate),
            Row(name: "wall seconds", a: sa.wallSeconds, b: sb.wallSeconds, unit: .seconds),
        ]
        for (label, pick) in [("p50", \PhaseSummary.p50), ("p90", \.p90), ("p99", \.p99), ("max", \.max)] {
            rows.append(
                Row(name: "total \(label) ms", a: Double(a.timings.total[keyPath: pick]),
                    b: Double(b.timings.total[keyPath: pick]), unit: .micros))
        }
        rows.append(Row(name: "total mean ms", a: a.timings.total.mean, b: b.timings.total.mean, unit: .micros))
        for (label, pick) in [("p50", \PhaseSummary.p50), ("p99", \.p99)] {
            rows.append(
                Row(name: "starttransfer \(label) ms", a: Double(a.timings.starttransfer[keyPath: pick]),
                    b: Double(b.timings.starttransfer[keyPath: pick]), unit: .micros))
        }
        rows.append(Row(name: "failed", a: Double(sa.failed), b: Double(sb.failed), unit: .count))
        // Over fetched requests: cancelled ones are not failures.
        rows.append(Row(name: "failure rate", a: rate(sa.failed, sa.requests - sa.cancelled),
                        b: rate(sb.failed, sb.requests - sb.cancelled), unit: .percent))
        rows.append(Row(name: "cancelled", a: Double(sa.cancelled), b: Double(sb.cancelled), unit: .count))
        rows.append(Row(name: "bytes received", a: Double(sa.bytesReceived), b: Double(sb.bytesReceived), unit: .bytes))
        rows.append(Row(name: "retries", a: Double(sa.retries), b: Double(sb.retries), unit: .count))
        rows.append(
            Row(name: "reassigned batches", a: Double(sa.reassignedBatches), b: Double(sb.reassignedBatches),
                unit: .count))
        let codes = Set(sa.statusCodes.keys).union(sb.statusCodes.keys).sorted { Int($0) ?? 0 < Int($1) ?? 0 }
        for code in codes {
            rows.append(
                Row(name: "status \(code)", a: Double(sa.statusCodes[code] ?? 0), b: Double(sb.statusCodes[code] ?? 0),
                    unit: .count))
        }
        for kind in Set(sa.errors.keys).union(sb.errors.keys).sorted() {
            rows.append(
                Row(name: "error \(kind)", a: Double(sa.errors[kind] ?? 0), b: Double(sb.errors[kind] ?? 0),
                    unit: .count))
        }
        return rows + crawlRows(a, b)
    }

    /// The comparison as an aligned table, then the URL tables side by side (ReportDiff+URLs.swift), ending with a
    /// newline.
    public static func render(_ a: Report, _ b: Report) -> String {
        var out = [
            "Arachne diff",
            "  A: job \(a.job.id) (\(a.job.state.rawValue)), \(a.job.outputDir)",
            "  B: job \(b.job.id) (\(b.job.state.rawValue)), \(b.job.outputDir)",
            "",
        ]
        var table = [["figure", "A", "B", "change", "%"]]
        for row in rows(a, b) {
            let relative = row.unit == .percent ? "" : TextFormat.change(from: row.a, to: row.b)
            table.append([row.name, format(row.a, row.unit), format(row.b, row.unit), delta(row), relative])
        }
        out.append(TextFormat.table(table, rightAligned: [1, 2, 3, 4]))
        out += urlLines(a, b)
        return out.joined(separator: "\n") + "\n"
    }

    static func rate(_ part: Int, _ whole: Int) -> Double {
        whole == 0 ? 0 : Double(part) / Double(whole) * 100
    }

    static func format(_ value: Double, _ unit: Unit) -> String {
        switch unit {
        case .count: TextFormat.count(Int64(value))
        case .seconds: TextFormat.seconds(value)
        case .micros: TextFormat.milliseconds(value)
        case .rate: TextFormat.decimal(value)
        case .bytes: TextFormat.bytes(Int64(value))
        case .percent: String(format: "%.2f%%", value)
        }
    }

    static func delta(_ row: Row) -> String {
        let difference = row.b - row.a
        let sign = difference > 0 ? "+" : difference < 0 ? "-" : ""
        let magnitude = abs(difference)
        switch row.unit {
        case .percent: return sign + String(format: "%.2f pp", magnitude)
        case .bytes: return sign + TextFormat.bytes(Int64(magnitude))
        default: return sign + format(magnitude, row.unit)
        }
    }
}
