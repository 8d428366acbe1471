import ArachneCore
import ArachneReport
import ArachneTestSupport
import Foundation

enum Fixtures {
    static let jobStart = 1_700_000_000.0

    static func record(
        url: String = "http://a.test/", urlIndex: Int? = 0, repetition: Int = 0, worker: String = "w1",
        attempts: Int = 1, status: Int = 200, bytes: Int64 = 100, timings: PhaseTimings = PhaseTimings(total: 1000),
        error: FetchFailure? = nil, body: BodyReference? = nil, finishedAt: Double = jobStart + 0.5
    ) -> FetchRecord {
        FetchRecord(
            url: url, urlIndex: urlIndex, repetition: repetition, worker: worker, attempts: attempts, status: status,
            bytes: bytes, finalURL: url, redirects: 0, timings: timings, error: error, body: body,
            finishedAt: finishedAt)
    }

    /// Timings spread over six orders of magnitude (log-uniform), cumulative as curl reports them.
    static func timings(_ random: inout SeededGenerator) -> PhaseTimings {
        func spread(_ low: Double, _ high: Double) -> Int64 {
            Int64(exp(Double.random(in: log(low)...log(high), using: &random)))
        }
        let namelookup = spread(1, 2_000)
        let connect = namelookup + spread(5, 5_000)
        let appconnect = Bool.random(using: &random) ? connect + spread(100, 50_000) : 0
        let pretransfer = max(connect, appconnect) + spread(1, 100)
        let starttransfer = pretransfer + spread(50, 3_000_000)
        let total = starttransfer + spread(1, 1_000_000)
        return PhaseTimings(
            queue: spread(1, 100_000), namelookup: namelookup, connect: connect, appconnect: appconnect,
            pretransfer: pretransfer, starttransfer: starttransfer, total: total)
    }

    /// A mixed workload: several workers and hosts, some 404/500s, some failures without a response.
    static func records(count: Int, seed: UInt64 = 42, workers: Int = 3, hosts: Int = 4) -> [FetchRecord] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let host = "host\(index % hosts).test"
            let worker = "w\(index % workers + 1)"
            let roll = Int.random(in: 0..<100, using: &random)
            let finishedAt = jobStart + Double(index) / Double(max(count, 1)) * 10 + 0.25
            let timings = timings(&random)
            switch roll {
            case 0..<3:
                return record(
                    url: "http://\(host)/item/\(index)", urlIndex: index, repetition: index % 2, worker: worker,
                    status: 0, bytes: 0,
                    timings: PhaseTimings(queue: timings.queue, total: timings.connect),
                    error: FetchFailure(kind: .connect, message: "Connection refused"), finishedAt: finishedAt)
            case 3..<5:
                return record(
                    url: "http://\(host)/item/\(index)", urlIndex: index, repetition: index % 2, worker: worker,
                    attempts: 2, status: 0, bytes: 0, timings: PhaseTimings(queue: timings.queue, total: 5_000_000),
                    error: FetchFailure(kind: .timeout, message: "Operation timed out after 5000 ms"),
                    finishedAt: finishedAt)
            default:
                let status = roll < 10 ? 404 : roll < 12 ? 500 : 200
                return record(
                    url: "http://\(host)/item/\(index)", urlIndex: index, repetition: index % 2, worker: worker,
                    status: status, bytes: Int64(Int.random(in: 0..<20_000, using: &random)), timings: timings,
                    finishedAt: finishedAt)
            }
        }
    }

    static func jobInfo(state: ReportJobState = .completed, outputDir: String = "/tmp/arachne-test") -> ReportJobInfo {
        ReportJobInfo(
            id: "job-1", state: state, submittedAt: Date(timeIntervalSince1970: jobStart - 1),
            startedAt: Date(timeIntervalSince1970: jobStart),
            finishedAt: state == .running ? nil : Date(timeIntervalSince1970: jobStart + 10),
            spec: JobSpec(
                urls: ["http://host0.test/", "http://host1.test/"], repeatCount: 3, concurrency: 16,
                settings: FetchSettings(headers: ["Authorization: Bearer secret", "X-Test: 1"]), name: "fixture"),
            outputDir: outputDir)
    }

    static func report(records: [FetchRecord], state: ReportJobState = .completed, outputDir: String = "/tmp/x")
        -> Report
    {
        var aggregator = ReportAggregator()
        for record in records { aggregator.add(record) }
        aggregator.setWorkerInfo(id: "w1", host: "box-a", pid: 4242, busySeconds: 9.5)
        aggregator.reassignedBatches = 1
        return aggregator.makeReport(job: jobInfo(state: state, outputDir: outputDir))
    }

    /// A fresh directory under the system's temporary directory.
    static func temporaryDirectory(_ name: String = #function) throws -> String {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "arachne-report-tests-\(safe)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The repository root (for docs/report.schema.json), found from this file's location.
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("docs/report.schema.json").path) {
                return url.path
            }
        }
        return "/work/main"
    }()
}

/// Runs a program to completion (at most `timeout` seconds; then it is terminated) and collects its output.
struct ProgramResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Program {
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60) throws -> ProgramResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        // Read both pipes while the program runs, so a chatty one cannot block on a full pipe.
        let outData = LockedData()
        let errData = LockedData()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { outData.set(output.fileHandleForReading.readDataToEndOfFile()) }
        DispatchQueue.global().async(group: readers) { errData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            finished.wait()
        }
        readers.wait()
        return ProgramResult(
            status: process.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    static func python(_ script: String, _ arguments: [String] = []) throws -> ProgramResult {
        try run("/usr/bin/env", ["python3", "-c", script] + arguments)
    }
}

/// Data filled in by another thread.
final class LockedData: @unchecked Sendable {
    // Safe: every access holds `lock`.
    private let lock = NSLock()
    private var data = Data()

    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
