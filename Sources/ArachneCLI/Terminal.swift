import Foundation

/// Writing to the terminal: warnings on standard error, and a progress line that redraws in place on a TTY.
enum Terminal {
    static let isTTY = isatty(STDERR_FILENO) != 0

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("arachne: \(message)\n".utf8))
    }

    static func progress(_ line: String) {
        guard isTTY else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
    }

    static func endProgress() {
        guard isTTY else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// "12,345/20,000  61.7%  23,456 req/s  3 failed  ETA 0.3s". ETA is "--" until something was fetched, and while
    /// `workers` (connected to the coordinator, when known) is 0 the line says it is waiting for one. The line is cut
    /// to `width` columns (the terminal's), dropping the least useful figures first, so it never wraps.
    static func progressLine(
        done: Int, total: Int, failed: Int, elapsed: Double, workers: Int? = nil, width: Int = columns
    ) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let percent = total > 0 ? Double(done) * 100 / Double(total) : 100
        let eta = rate > 0 && workers != 0 ? String(format: "%.1fs", Double(total - done) / rate) : "--"
        // In display order, with the priority of each part (kept longest: lowest number).
        var parts: [LinePart] = [
            LinePart("\(grouped(done))/\(grouped(total))", 0), LinePart("\(String(format: "%.1f", percent))%", 3),
            LinePart("\(grouped(Int(rate))) req/s", 4), LinePart("\(failed) failed", 5), LinePart("ETA \(eta)", 2),
        ]
        if workers == 0 { parts.append(LinePart("waiting: no workers connected", 1, short: "no workers")) }
        return fitted(parts, width: width)
    }

    /// One figure of a progress line; `priority` 0 is kept longest; `short` replaces `text` before it is dropped.
    struct LinePart {
        var text: String
        var priority: Int
        var short: String?

        init(_ text: String, _ priority: Int, short: String? = nil) {
            self.text = text
            self.priority = priority
            self.short = short
        }
    }

    /// Joins `parts` two spaces apart after a two-space indent, shortening then dropping the lowest-priority parts
    /// (highest number) until the line is shorter than `width`; a part that alone is too long is cut.
    static func fitted(_ parts: [LinePart], width: Int) -> String {
        var kept = parts
        func line() -> String { "  " + kept.map(\.text).joined(separator: "  ") }
        while line().count >= width, kept.count > 1 {
            let last = kept.indices.max { kept[$0].priority < kept[$1].priority }!
            if let short = kept[last].short {
                kept[last].text = short
                kept[last].short = nil
            } else {
                kept.remove(at: last)
            }
        }
        let text = line()
        return text.count < width ? text : String(text.prefix(max(0, width - 1)))
    }

    /// The terminal's width in columns (standard error's), or $COLUMNS, or 80.
    static var columns: Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let value = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(value), columns > 0 {
            return columns
        }
        return 80
    }

    /// "1,234 pages  frontier 567  890 discovered  321 pages/s  2 failed": a crawl's total grows, so no ETA
    /// until the frontier has stopped growing (`growing` false), and then an estimate from the current rate.
    static func crawlProgressLine(
        done: Int, discovered: Int, failed: Int, elapsed: Double, growing: Bool, width: Int = columns
    ) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let frontier = max(0, discovered - done)
        var parts: [LinePart] = [
            LinePart("\(grouped(done)) pages", 0), LinePart("frontier \(grouped(frontier))", 2),
            LinePart("\(grouped(discovered)) discovered", 4), LinePart("\(grouped(Int(rate))) pages/s", 3),
            LinePart("\(failed) failed", 5),
        ]
        if !growing && rate > 0 { parts.append(LinePart("ETA \(String(format: "%.1f", Double(frontier) / rate))s", 1)) }
        return fitted(parts, width: width)
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var result = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + String(result.reversed())
    }
}
