import Foundation

/// Number and table formatting shared by the terminal summary and the diff. Locale-independent on purpose:
/// reports are read by scripts as well as people.
enum TextFormat {
    /// Microseconds as milliseconds, with more decimals for smaller values: 0.042, 1.25, 12.5, 125.
    static func milliseconds(_ micros: Int64) -> String {
        milliseconds(Double(micros))
    }

    static func milliseconds(_ micros: Double) -> String {
        let ms = micros / 1000
        switch abs(ms) {
        case ..<1: return String(format: "%.3f", ms)
        case ..<10: return String(format: "%.2f", ms)
        case ..<100: return String(format: "%.1f", ms)
        default: return String(format: "%.0f", ms)
        }
    }

    /// Seconds with three decimals below 100 s, fewer above.
    static func seconds(_ value: Double) -> String {
        abs(value) < 100 ? String(format: "%.3f", value) : String(format: "%.1f", value)
    }

    /// A rate or other real figure: two decimals below 10, one below 1000, whole and grouped above (50,000).
    static func decimal(_ value: Double) -> String {
        switch abs(value) {
        case ..<10: String(format: "%.2f", value)
        case ..<1000: String(format: "%.1f", value)
        default: count(Int64(value.rounded()))
        }
    }

    /// An integer with thousands separators: 1,234,567.
    static func count<Number: BinaryInteger>(_ value: Number) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// Bytes in binary units: 512 B, 1.5 KiB, 20.0 MiB.
    static func bytes(_ value: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scaled = Double(value)
        var unit = 0
        while abs(scaled) >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f", scaled) + " " + units[unit]
    }

    /// A percentage of a whole, one decimal.
    static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "0.0%" : String(format: "%.1f%%", Double(part) / Double(whole) * 100)
    }

    /// Relative change from `a` to `b`: "+12.5%", "-3.0%", "0.0%", or "n/a" when `a` is zero and `b` is not.
    static func change(from a: Double, to b: Double) -> String {
        if a == b { return "0.0%" }
        if a == 0 { return "n/a" }
        return String(format: "%+.1f%%", (b - a) / abs(a) * 100)
    }

    /// Lays out rows as columns separated by two spaces; `rightAligned` columns are padded on the left.
    static func table(_ rows: [[String]], rightAligned: Set<Int>, indent: String = "  ") -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        return rows.map { row in
            let cells = row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }
            var line = indent + cells.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}
