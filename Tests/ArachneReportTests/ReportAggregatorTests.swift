import ArachneCore
import ArachneArchive
import ArachneTestSupport
import Foundation
import Testing

@testable import ArachneReport

/// The percentile HdrHistogram reports for `values`: the value at rank ceil(p% × n), as HdrHistogram computes it.
func rawPercentile(_ sorted: [Int64], _ percentile: Double) -> Int64 {
    if percentile >= 100 { return sorted.last ?? 0 }
    let requested = Swift.min(Swift.max(percentile.nextDown, 0), 100)
    let rank = Swift.max(1, Int((requested * Double(sorted.count) / 100).rounded(.up)))
    return sorted[rank - 1]
}

@Suite struct ReportAggregatorTests {
    @Test func countsStatusCodesErrorsAndBytes() {
        var aggregator = ReportAggregator()
        aggregator.add(Fixtures.record(status: 200, bytes: 10))
        aggregator.add(Fixtures.record(status: 200, bytes: 20))
        aggregator.add(Fixtures.record(status: 404, bytes: 5))
        aggregator.add(Fixtures.record(
            status: 0, bytes: 0, error: FetchFailure(kind: .timeout, message: "slow")))
        aggregator.add(Fixtures.record(
            attempts: 3, status: 200, bytes: 1, error: FetchFailure(kind: .tooLarge, message: "big")))
        let report = aggregator.makeReport(job: Fixtures.jobInfo())
        #expect(report.schema == "arachne.report/2")
        #expect(report.summary.requests == 5)
        #expect(report.summary.succeeded == 3)
        #expect(report.summary.failed == 2)
        #expect(report.summary.bytesReceived == 36)
        #expect(report.summary.statusCodes == ["200": 3, "404": 1])
        #expect(report.summary.errors == ["timeout": 1, "too-large": 1])
        #expect(report.summary.retries == 2)
        // Latency covers the four records that got a response, not the timeout.
        #expect(report.timings.total.count == 4)
        #expect(report.timings.queue.count == 4)
    }

    @Test func wallTimeAndRateComeFromTheJobTimes() {
        var aggregator = ReportAggregator()
        for index in 0..<50 { aggregator.add(Fixtures.record(repetition: index)) }
        let finished = aggregator.makeReport(job: Fixtures.jobInfo())
        #expect(finished.summary.wallSeconds == 10)
        #expect(finished.summary.requestsPerSecond == 5)
        #expect(finished.job.startedAt == "2023-11-14T22:13:20.000Z")
        #expect(finished.job.finishedAt == "2023-11-14T22:13:30.000Z")

        let running = aggregator.makeReport(
            job: Fixtures.jobInfo(state: .running), now: Date(timeIntervalSince1970: Fixtures.jobStart + 25))
        #expect(running.job.finishedAt == nil)
        #expect(running.summary.wallSeconds == 25)
        #expect(running.summary.requestsPerSecond == 2)
    }

    @Test func optionsLeaveOutURLsAndRedactCredentials() {
        let report = ReportAggregator().makeReport(job: Fixtures.jobInfo())
        #expect(report.job.options.urlCount == 2)
        #expect(report.job.options.repeatCount == 3)
        #expect(report.job.options.headers == ["Authorization: <redacted>", "X-Test: 1"])
        #expect(report.timings.total == .empty)
        #expect(report.timeline.isEmpty)
    }

    @Test func timelineCountsPerSecondFromJobStartAndFillsGaps() {
        var aggregator = ReportAggregator()
        aggregator.add(Fixtures.record(finishedAt: Fixtures.jobStart + 0.1))
        aggregator.add(Fixtures.record(finishedAt: Fixtures.jobStart + 0.9))
        aggregator.add(Fixtures.record(
            status: 0, error: FetchFailure(kind: .dns, message: "no such host"), finishedAt: Fixtures.jobStart + 3.5))
        let timeline = aggregator.makeReport(job: Fixtures.jobInfo()).timeline
        #expect(timeline == [
            .init(second: 0, completed: 2, failed: 0), .init(second: 1, completed: 0, failed: 0),
            .init(second: 2, completed: 0, failed: 0), .init(second: 3, completed: 1, failed: 1),
        ])
    }

    @Test func workersAndHostsAreBrokenDown() {
        var aggregator = ReportAggregator()
        aggregator.add(Fixtures.record(url: "http://A.test:8080/x", worker: "w2", bytes: 7))
        aggregator.add(Fixtures.record(url: "https://user@a.test:8080/y?q", worker: "w10", bytes: 3))
        aggregator.add(Fixtures.record(
            url: "http://b.test", worker: "w2", status: 0, error: FetchFailure(kind: .connect, message: "refused")))
        aggregator.setWorkerInfo(id: "w1", host: "box", pid: 12, busySeconds: 1.5)
        let report = aggregator.makeReport(job: Fixtures.jobInfo())
        #expect(report.workers.map(\.id) == ["w1", "w2", "w10"])
        #expect(report.workers[0].requests == 0 && report.workers[0].host == "box" && report.workers[0].pid == 12)
        #expect(report.workers[1].requests == 2 && report.workers[1].failed == 1 && report.workers[1].bytes == 107)
        #expect(report.hosts.map(\.host) == ["a.test:8080", "b.test"])
        #expect(report.hosts[0].requests == 2 && report.hosts[0].total.count == 2)
        #expect(report.hosts[1].failed == 1 && report.hosts[1].total.count == 0)
    }

    @Test func hostKeys() {
        #expect(ReportAggregator.hostKey(of: "http://Example.COM/path") == "example.com")
        #expect(ReportAggregator.hostKey(of: "https://u:p@h.test:8443?x") == "h.test:8443")
        #expect(ReportAggregator.hostKey(of: "http://[::1]:8080/") == "[::1]:8080")
        #expect(ReportAggregator.hostKey(of: "not a url") == "(none)")
        #expect(ReportAggregator.hostKey(of: "http:///nohost") == "(none)")
    }

    @Test func hostsBeyondTheLimitAreFoldedIntoOther() {
        var aggregator = ReportAggregator(hostLimit: 3)
        for index in 0..<10 { aggregator.add(Fixtures.record(url: "http://h\(index).test/")) }
        let hosts = aggregator.makeReport(job: Fixtures.jobInfo()).hosts
        #expect(hosts.count == 4)
        #expect(hosts.last?.host == ReportAggregator.otherHosts)
        #expect(hosts.last?.requests == 7)
        #expect(hosts.reduce(0) { $0 + $1.requests } == 10)
    }

    @Test func mergedPercentilesMatchRawValuesWithinPrecision() {
        let records = Fixtures.records(count: 20_000, workers: 4)
        var perWorker: [String: ReportAggregator] = [:]
        for record in records { perWorker[record.worker, default: ReportAggregator()].add(record) }
        var merged = ReportAggregator()
        for id in perWorker.keys.sorted() { merged.merge(perWorker[id]!) }
        let report = merged.makeReport(job: Fixtures.jobInfo())

        let responded = records.filter { $0.status > 0 }
        #expect(report.summary.requests == records.count)
        for phase in Phase.allCases {
            let raw = responded.map { $0.timings[phase] }.sorted()
            let summary = report.timings[phase]
            #expect(summary.count == raw.count)
            #expect(summary.min == raw.first && summary.max == raw.last, "\(phase) min/max are exact")
            let exactMean = Double(raw.reduce(0, +)) / Double(raw.count)
            #expect(abs(summary.mean - exactMean) < 0.001, "\(phase) mean is exact")
            for (label, percentile, value) in [
                ("p50", 50.0, summary.p50), ("p90", 90, summary.p90), ("p95", 95, summary.p95),
                ("p99", 99, summary.p99), ("p999", 99.9, summary.p999),
            ] {
                let expected = rawPercentile(raw, percentile)
                // Three significant digits: never below the raw value, at most 0.1% above it.
                #expect(
                    value >= expected && value - expected <= expected / 1000,
                    "\(phase) \(label): histogram \(value) vs raw \(expected)")
            }
        }
        // Per-host and per-worker histograms are coarse (two digits): within 1%.
        for host in report.hosts {
            let raw = responded.filter { ReportAggregator.hostKey(of: $0.url) == host.host }.map(\.timings.total)
                .sorted()
            let expected = rawPercentile(raw, 99)
            #expect(host.total.p99 >= expected && host.total.p99 - expected <= expected / 100)
        }
    }

    @Test func mergingEqualsAggregatingEverythingInOnePlace() {
        let records = Fixtures.records(count: 3_000, workers: 3)
        var single = ReportAggregator()
        var parts = [ReportAggregator(), ReportAggregator(), ReportAggregator()]
        for (index, record) in records.enumerated() {
            single.add(record)
            parts[index % 3].add(record)
        }
        var merged = ReportAggregator()
        for part in parts.reversed() { merged.merge(part) }
        #expect(merged.makeReport(job: Fixtures.jobInfo()) == single.makeReport(job: Fixtures.jobInfo()))
    }

    @Test func valuesBeyondTheTrackableRangeKeepExactMinMaxAndMean() {
        var histogram = LatencyHistogram()
        histogram.record(10)
        histogram.record(-5)
        histogram.record(Int64(LatencyHistogram.highestTrackable) * 2)
        let summary = histogram.summary
        #expect(summary.count == 3)
        #expect(summary.min == 0)
        #expect(summary.max == Int64(LatencyHistogram.highestTrackable) * 2)
        #expect(summary.p999 == Int64(LatencyHistogram.highestTrackable))
    }

    /// A histogram holds no counts until its first value; merging into an empty one takes the other's values whole,
    /// and the two stay independent afterwards (the counts are copied when either is written).
    @Test func anEmptyHistogramHoldsNoCountsAndMergesIntoOneLosingNothing() {
        var empty = LatencyHistogram()
        #expect(empty.footprintBytes == 0)
        #expect(empty.summary.count == 0 && empty.value(atPercentile: 99) == 0)
        var filled = LatencyHistogram()
        for value in [100, 200, 300, 4_000] as [Int64] { filled.record(value) }
        #expect(filled.footprintBytes > 0)
        empty.merge(LatencyHistogram())
        #expect(empty.footprintBytes == 0)
        empty.merge(filled)
        #expect(empty.summary == filled.summary)
        empty.record(9_000)
        #expect(empty.summary.count == 5 && empty.summary.max == 9_000)
        #expect(filled.summary.count == 4 && filled.summary.max == 4_000)
        #expect(filled.value(atPercentile: 100) == 4_000)
        // Made late, a histogram still has the precision it was declared with.
        var coarse = LatencyHistogram(precision: .coarse)
        coarse.record(12_345)
        #expect(coarse.footprintBytes > 0 && coarse.footprintBytes < filled.footprintBytes / 4)
    }

    @Test func memoryDoesNotGrowWithTheNumberOfRecords() {
        var aggregator = ReportAggregator()
        var random = SeededGenerator(seed: 7)
        func addBatch(_ count: Int) {
            for index in 0..<count {
                aggregator.add(Fixtures.record(
                    url: "http://h\(index % 50).test/\(index)", worker: "w\(index % 8)",
                    timings: Fixtures.timings(&random), finishedAt: Fixtures.jobStart + Double(index % 10)))
            }
        }
        addBatch(10_000)
        let early = aggregator.footprintBytes
        addBatch(90_000)
        #expect(aggregator.requests == 100_000)
        #expect(aggregator.footprintBytes == early)
        #expect(early < 4 << 20, "footprint \(early) bytes")
    }
}

@Suite struct CancelledRecordsTests {
    /// 10 fetched records (one failed) in the job's first second and 90 cancelled ones (no worker, no response)
    /// ending a few seconds later, as `arachne cancel` leaves them.
    static func cancelledJob() -> Report {
        var records = (0..<10).map { index in
            Fixtures.record(
                url: "http://a.test/\(index)", worker: "w1", status: index == 0 ? 0 : 200,
                error: index == 0 ? FetchFailure(kind: .timeout, message: "slow") : nil,
                finishedAt: Fixtures.jobStart + 0.5)
        }
        records += (0..<90).map { index in
            Fixtures.record(
                url: "http://a.test/c\(index)", worker: "", attempts: 0, status: 0, bytes: 0,
                timings: PhaseTimings(), error: FetchFailure(kind: .cancelled, message: "job cancelled"),
                finishedAt: Fixtures.jobStart + 8.5)
        }
        var aggregator = ReportAggregator()
        for record in records { aggregator.add(record) }
        aggregator.setWorkerInfo(id: "w1", host: "box-a", pid: 4242, busySeconds: 1)
        return aggregator.makeReport(job: Fixtures.jobInfo(state: .cancelled))
    }

    @Test func cancelledRequestsAreNotFailuresAndNotInRatesWorkersHostsOrTimeline() throws {
        let report = Self.cancelledJob()
        let summary = report.summary
        #expect(summary.requests == 100)
        #expect(summary.succeeded == 9 && summary.failed == 1 && summary.cancelled == 90)
        #expect(summary.errors == ["timeout": 1])
        // 10 fetched requests over the job's 10 wall seconds.
        #expect(summary.requestsPerSecond == 1)
        #expect(report.workers.map(\.id) == ["w1"])
        #expect(report.workers.first?.requests == 10)
        #expect(report.hosts.map(\.requests) == [10])
        #expect(report.timeline.map(\.completed).reduce(0, +) == 10)
        #expect(report.timeline.allSatisfy { $0.completed <= 10 })

        let text = ReportRenderer.summaryText(report)
        #expect(text.contains("100 of 6: 9 succeeded, 1 failed (10.0%), 90 cancelled"), "\(text)")
        let html = ReportHTML.render(report)
        #expect(html.contains(">cancelled<") && html.contains("1 (10.0%)"))
        let diff = ReportDiff.rows(report, Fixtures.report(records: Fixtures.records(count: 10)))
        let cancelledRow = try #require(diff.first { $0.name == "cancelled" })
        #expect(cancelledRow.a == 90 && cancelledRow.b == 0)
        #expect(diff.first { $0.name == "failure rate" }?.a == 10)
    }

    @Test func theReportJSONCarriesCancelledAndValidates() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/report.json"
        try ReportWriter.encode(Self.cancelledJob()).write(to: URL(fileURLWithPath: path))
        try expectValidReport(path)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let summary = (object as? [String: Any])?["summary"] as? [String: Any]
        #expect(summary?["cancelled"] as? Int == 90 && summary?["failed"] as? Int == 1)
    }
}
