import ArachneCluster
import ArachneCore
import ArachneReport
import ArgumentParser
import Foundation

/// `arachne fetch`: one process, no cluster.
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch URLs in this process (no cluster) and write a report.")

    @OptionGroup var input: JobInputOptions
    @OptionGroup var fetch: FetchSettingsOptions

    @Option(help: "The report directory (default: ./arachne-out/fetch-TIMESTAMP).")
    var out: String?

    @Flag(help: "Replace a report already in --out DIR (its report.json, records.ndjson and WARC files).")
    var force = false

    func validate() throws {
        try OutputDirectory.check(out, force: force)
    }

    func run() async throws {
        let urls = try input.jobURLs()
        let spec = urls.spec(repeatCount: input.repeatCount, concurrency: input.concurrency, settings: fetch.settings)
        let id = JobNaming.localID(prefix: "fetch")
        let directory = out ?? "arachne-out/\(id)"
        try OutputDirectory.prepare(directory, force: force)
        let stop = StopSignal()
        let signals = stop.installProcessSignalHandlers()
        defer { _ = signals }
        let report: Report
        do {
            report = try await LocalJob.run(id: id, spec: spec, urlList: urls.list, outputDirectory: directory,
                                            stop: stop) { progress in
                Terminal.progress(Terminal.progressLine(
                    done: progress.done, total: progress.total, failed: progress.failed,
                    elapsed: progress.elapsedSeconds))
            }
        } catch {
            Terminal.endProgress()
            throw JobCannotRun("fetch failed: \(error)")
        }
        Terminal.endProgress()
        print(ReportRenderer.summaryText(report), terminator: "")
        print("report: \(directory)/report.json")
        try Interruption.check(stop, report: report)
    }
}

/// Names for jobs run without a coordinator.
enum JobNaming {
    /// `PREFIX-yyyyMMdd-HHmmss-PID`, the time in UTC. Formatted by hand: a `DateFormatter` loads ICU's calendar data,
    /// a few milliseconds of CPU on every start of a command that may run for less than a second.
    static func localID(prefix: String, now: Date = Date()) -> String {
        var seconds = time_t(now.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let date = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))"
        let time = "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
        return "\(prefix)-\(date)-\(time)-\(getpid())"
    }
}
