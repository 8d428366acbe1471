import Testing

@testable import ArachneCLI

/// The progress line of `fetch`, `run` and `submit --wait`: honest when nothing can run, never wider than the
/// terminal (a wrapped line scrolls instead of redrawing in place).
@Suite struct ProgressLineTests {
    @Test func withNoWorkerConnectedTheLineSaysSoAndHasNoETA() {
        let line = Terminal.progressLine(done: 0, total: 1_000, failed: 0, elapsed: 12, workers: 0, width: 200)
        #expect(line.contains("ETA --") && line.contains("waiting: no workers connected"), "\(line)")
        #expect(!line.contains("0.0s"))
        let running = Terminal.progressLine(done: 500, total: 1_000, failed: 2, elapsed: 5, workers: 2, width: 200)
        #expect(running == "  500/1,000  50.0%  100 req/s  2 failed  ETA 5.0s", "\(running)")
        let nothingYet = Terminal.progressLine(done: 0, total: 1_000, failed: 0, elapsed: 1, width: 200)
        #expect(nothingYet.hasSuffix("ETA --"), "\(nothingYet)")
    }

    @Test(arguments: [20, 40, 60, 80])
    func theLineFitsTheTerminalWidth(width: Int) {
        let lines = [
            Terminal.progressLine(done: 123_456, total: 10_000_000, failed: 12_345, elapsed: 9, workers: 0,
                                  width: width),
            Terminal.progressLine(done: 123_456, total: 10_000_000, failed: 12_345, elapsed: 9, workers: 3,
                                  width: width),
            Terminal.crawlProgressLine(done: 123_456, discovered: 9_999_999, failed: 77, elapsed: 9, growing: false,
                                       width: width),
        ]
        for line in lines {
            #expect(line.count < width, "\(width): '\(line)'")
            #expect(line.contains("123,456"), "the count of done requests is kept: '\(line)'")
        }
        // From 40 columns the waiting notice (shortened if need be) outranks the rate and the failures.
        if width >= 40 {
            #expect(lines[0].contains("no workers"), "\(lines[0])")
        }
    }
}
