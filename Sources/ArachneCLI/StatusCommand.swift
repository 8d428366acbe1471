import ArachneCluster
import ArachneProtocol
import ArgumentParser
import Foundation

/// `arachne status [JOB]`: one job's state and progress, or every job's as a table.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a job's state and progress, or every job's.",
        discussion: "Exit status: 0 shown, 1 the coordinator could not be reached or knows no such job, 2 usage error.")

    @Argument(help: ArgumentHelp("A job id (default: every job).", valueName: "job"))
    var job: String?

    @Flag(help: "Print the status as JSON (an object for one job, an array for all).")
    var json = false

    @OptionGroup var connection: ControlOptions

    @Option(name: .customLong("latency-probe"), help: .hidden)
    var latencyProbe: Double?

    func run() async throws {
        let session = try connection.session()
        if let latencyProbe {
            try await probe(session, seconds: latencyProbe)
            return
        }
        let jobs = try await session.statuses(job)
        if json {
            print(job == nil ? StatusText.json(jobs) : StatusText.json(jobs.first))
        } else if job != nil, let status = jobs.first {
            print(StatusText.detail(status), terminator: "")
        } else {
            print(StatusText.table(jobs), terminator: "")
        }
    }
}

extension StatusCommand {
    /// For bench/memory: asks for every job's status every 50 ms for `seconds`, printing one line per answer —
    /// the Unix time it was asked, how long the answer took in milliseconds (-1: no answer), and how long this
    /// process's own threads waited for a CPU meanwhile (from /proc/self/task/*/schedstat; -1 when unreadable), to
    /// tell the coordinator's delay from the probe's on a loaded machine.
    private func probe(_ session: ControlSession, seconds: Double) async throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            let waitedBefore = Self.ownRunQueueWaitNanoseconds()
            let asked = Date()
            let answered = (try? await session.client.send(.status(job: nil))) != nil
            let ms = answered ? Date().timeIntervalSince(asked) * 1000 : -1
            let waitedAfter = Self.ownRunQueueWaitNanoseconds()
            var waited = -1.0
            if let waitedBefore, let waitedAfter { waited = Double(waitedAfter &- waitedBefore) / 1e6 }
            FileHandle.standardOutput.write(Data(String(
                format: "%.3f %.2f %.2f\n", asked.timeIntervalSince1970, ms, waited).utf8))
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The time this process's threads have spent runnable but waiting for a CPU, in all (nanoseconds).
    private static func ownRunQueueWaitNanoseconds() -> UInt64? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        var total: UInt64 = 0
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8) else {
                continue
            }
            let fields = text.split(separator: " ")
            if fields.count >= 2, let wait = UInt64(fields[1]) { total += wait }
        }
        return total
    }
}

/// How statuses are shown: a detail block, a table, or JSON.
enum StatusText {
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    static func detail(_ status: JobStatus) -> String {
        var lines: [(String, String)] = [
            ("job", status.id + (status.name.map { "  (\($0))" } ?? "")),
            ("state", status.state.rawValue),
            ("progress", "\(Terminal.grouped(status.done))/\(Terminal.grouped(status.total))  \(percent(status))"),
            ("failed", Terminal.grouped(status.failed)),
            ("cancelled", Terminal.grouped(status.cancelled)),
            ("rate", "\(Terminal.grouped(Int(status.rate.rounded()))) req/s"),
            ("reassigned", "\(status.reassignedBatches) batches, \(status.retries) retries"),
            ("submitted", timestamp(status.submittedAt)),
            ("started", timestamp(status.startedAt)),
            ("finished", timestamp(status.finishedAt)),
            ("output", status.outputDir),
        ]
        if let error = status.error { lines.append(("error", error)) }
        return lines.map { "\($0.0 + ":")".padding(toLength: 12, withPad: " ", startingAt: 0) + $0.1 + "\n" }
            .joined()
    }

    static func table(_ jobs: [JobStatus]) -> String {
        if jobs.isEmpty { return "no jobs\n" }
        let header = ["JOB", "STATE", "DONE/TOTAL", "%", "FAILED", "REQ/S", "SUBMITTED", "NAME"]
        let rows = jobs.map { status in
            [
                status.id, status.state.rawValue,
                "\(Terminal.grouped(status.done))/\(Terminal.grouped(status.total))", percent(status),
                Terminal.grouped(status.failed), Terminal.grouped(Int(status.rate.rounded())),
                timestamp(status.submittedAt), status.name ?? "",
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }

    static func percent(_ status: JobStatus) -> String {
        let value = status.total > 0 ? Double(status.done) * 100 / Double(status.total) : 100
        return String(format: "%.1f%%", value)
    }

    static func timestamp(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

/// Before `arachne report JOB` reads a job's report.json: when JOB is a job id and a coordinator runs on the
/// data dir (`--data-dir`, else the default) or at `$ARACHNE_CONTROL`, asks it to write a fresh report.json for a
/// running job. Quiet and quick when no coordinator runs: the report on disk is shown, and its `job.state` tells
/// whether it is final.
enum CoordinatorReportRefresh {
    static func refreshIfRunning(_ target: String, dataDirectory given: String? = nil) {
        guard !FileManager.default.fileExists(atPath: target), !target.contains("/"), !target.hasSuffix(".json"),
              !target.hasPrefix(".")
        else { return }
        let environment = ProcessInfo.processInfo.environment
        let dataDirectory = CoordinatorDefaults.absolute(given ?? CoordinatorDefaults.dataDirectory(environment))
        let explicit = !(environment["ARACHNE_CONTROL"] ?? "").isEmpty
        guard explicit || DataDirectoryLock.isHeld(dataDirectory: dataDirectory) == true else { return }
        let endpoint = CoordinatorDefaults.controlEndpoint(dataDirectory: dataDirectory, environment: environment)
        guard let client = try? ControlClient(endpoint: endpoint, timeout: 2) else { return }
        _ = try? client.sendBlocking(.report(job: target))
    }
}
