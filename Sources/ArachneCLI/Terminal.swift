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

    /// "12,345/20,000  61.7%  23,456 req/s  3 failed  ETA 0.3s"
    static func progressLine(done: Int, total: Int, failed: Int, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let percent = total > 0 ? Double(done) * 100 / Double(total) : 100
        let eta = rate > 0 ? Double(total - done) / rate : 0
        return "  \(grouped(done))/\(grouped(total))  \(String(format: "%.1f", percent))%  "
            + "\(grouped(Int(rate))) req/s  \(failed) failed  ETA \(String(format: "%.1f", eta))s"
    }

    /// "1,234 pages  frontier 567  890 discovered  321 pages/s  2 failed": a crawl's total grows, so no ETA
    /// until the frontier has stopped growing (`growing` false), and then an estimate from the current rate.
    static func crawlProgressLine(done: Int, discovered: Int, failed: Int, elapsed: Double, growing: Bool) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let frontier = max(0, discovered - done)
        var line = "  \(grouped(done)) pages  frontier \(grouped(frontier))  \(grouped(discovered)) discovered  "
            + "\(grouped(Int(rate))) pages/s  \(failed) failed"
        if !growing && rate > 0 { line += "  ETA \(String(format: "%.1f", Double(frontier) / rate))s" }
        return line
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
