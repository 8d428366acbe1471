import ArachneCore
import Foundation
import Testing

@testable import ArachneReport

/// Two reports with known figures: B is twice as fast in throughput, twice as slow per request, with timeouts.
enum KnownReports {
    static func make(total: Int64, wall: Double, timeouts: Int) -> Report {
        var aggregator = ReportAggregator()
        for index in 0..<100 {
            aggregator.add(Fixtures.record(
                url: "http://k.test/\(index)", repetition: index, bytes: 1024,
                timings: PhaseTimings(
                    queue: 5, namelookup: 10, connect: 100, pretransfer: 120, starttransfer: total / 2, total: total)))
        }
        for index in 0..<timeouts {
            aggregator.add(Fixtures.record(
                url: "http://slow.test/\(index)", status: 0, bytes: 0,
                error: FetchFailure(kind: .timeout, message: "timed out")))
        }
        aggregator.setWorkerInfo(id: "w1", host: "box-a", pid: 4242, busySeconds: 9.5)
        var job = Fixtures.jobInfo()
        job.finishedAt = Date(timeIntervalSince1970: Fixtures.jobStart + wall)
        return aggregator.makeReport(job: job)
    }

    static let a = make(total: 10_000, wall: 10, timeouts: 0)
    static let b = make(total: 20_000, wall: 5, timeouts: 5)
}

/// The cells of the line that starts with `name` in a rendered table.
func row(_ text: String, _ name: String) -> [String] {
    let line = text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + "  ") }
    guard let line else { return [] }
    return line.dropFirst(2 + name.count).split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
}

@Suite struct ReportRenderingTests {
    @Test func summaryShowsSpendTimeLatencyTableStatusErrorsHostsAndWorkers() {
        let text = ReportRenderer.summaryText(KnownReports.b)
        #expect(text.contains("Arachne report: job job-1 \"fixture\" (completed)"))
        #expect(text.contains("\n  spend time   5.000 s\n"))
        #expect(text.contains("requests     105: 100 succeeded, 5 failed (4.8%)"))
        #expect(text.contains("throughput   21.0 req/s, 100.0 KiB received"))
        #expect(row(text, "total") == ["100", "20.0", "20.0", "20.0", "20.0", "20.0", "20.0", "20.0", "20.0"])
        #expect(row(text, "starttransfer") == ["100", "10.0", "10.0", "10.0", "10.0", "10.0", "10.0", "10.0", "10.0"])
        #expect(row(text, "namelookup") == ["100"] + Array(repeating: "0.010", count: 8))
        #expect(text.contains("Status codes  200 × 100"))
        #expect(text.contains("Errors        timeout × 5"))
        #expect(row(text, "k.test") == ["100", "0", "20.0", "20.0", "20.0"])
        #expect(row(text, "slow.test") == ["5", "5", "0.000", "0.000", "0.000"])
        #expect(row(text, "w1") == ["box-a", "4242", "105", "5", "9.500", "20.0", "20.0"])
        // Every line of the phase table has the same width: columns are aligned.
        let table = text.split(separator: "\n").drop { !$0.hasPrefix("Latency") }.dropFirst().prefix(8)
        #expect(Set(table.map(\.count)).count == 1)
    }

    @Test func diffShowsEachFigureWithItsChange() {
        let text = ReportDiff.render(KnownReports.a, KnownReports.b)
        #expect(row(text, "req/s") == ["10.0", "21.0", "+11.0", "+110.0%"])
        #expect(row(text, "wall seconds") == ["10.000", "5.000", "-5.000", "-50.0%"])
        #expect(row(text, "total p50 ms") == ["10.0", "20.0", "+10.0", "+100.0%"])
        #expect(row(text, "total p99 ms") == ["10.0", "20.0", "+10.0", "+100.0%"])
        #expect(row(text, "total max ms") == ["10.0", "20.0", "+10.0", "+100.0%"])
        #expect(row(text, "failed") == ["0", "5", "+5", "n/a"])
        #expect(row(text, "failure rate") == ["0.00%", "4.76%", "+4.76 pp"])
        #expect(row(text, "error timeout") == ["0", "5", "+5", "n/a"])
        #expect(row(text, "bytes received") == ["100.0 KiB", "100.0 KiB", "0 B", "0.0%"])
        #expect(row(text, "status 200") == ["100", "100", "0", "0.0%"])
    }

    @Test func formatting() {
        #expect(TextFormat.milliseconds(Int64(42)) == "0.042")
        #expect(TextFormat.milliseconds(Int64(1_250)) == "1.25")
        #expect(TextFormat.milliseconds(Int64(12_500)) == "12.5")
        #expect(TextFormat.milliseconds(1_234_567.0) == "1235")
        #expect(TextFormat.count(1_234_567) == "1,234,567")
        #expect(TextFormat.decimal(50_000.4) == "50,000" && TextFormat.decimal(512.25) == "512.2")
        #expect(TextFormat.count(-1_000) == "-1,000")
        #expect(TextFormat.bytes(512) == "512 B")
        #expect(TextFormat.bytes(1_572_864) == "1.5 MiB")
        #expect(TextFormat.change(from: 0, to: 0) == "0.0%")
        #expect(TextFormat.change(from: 200, to: 150) == "-25.0%")
    }

    @Test func htmlIsSelfContainedAndEscapesText() {
        var report = KnownReports.b
        report.job.id = "<script>alert(1)</script>"
        report.hosts[0].host = "</script><b>"
        let html = ReportHTML.render(report)
        #expect(!html.contains("<script>alert(1)"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        // The embedded JSON cannot close its script element early.
        #expect(html.components(separatedBy: "</script>").count == 4)
        #expect(!html.contains("<link") && !html.contains(" src="))
    }
}
