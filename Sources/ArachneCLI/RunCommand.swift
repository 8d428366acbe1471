import ArachneCluster
import ArachneCore
import ArachneReport
import ArgumentParser
import Foundation

/// `arachne run`: a one-shot cluster.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one job on a coordinator with local worker processes, write its report, and exit.")

    @OptionGroup var input: JobInputOptions
    @OptionGroup var fetch: FetchSettingsOptions

    @Option(help: "Local worker processes.")
    var workers: Int = 2

    @Option(help: ArgumentHelp("Also accept workers from other machines here, e.g. tcp://0.0.0.0:5555.",
                               valueName: "endpoint"))
    var listen: [String] = []

    @OptionGroup var security: ClusterSecurityOptions

    @Option(help: "The report directory (default: ./arachne-out/run-TIMESTAMP).")
    var out: String?

    @Flag(help: "Replace a report already in --out DIR (its report.json, records.ndjson and WARC files).")
    var force = false

    func validate() throws {
        try OutputDirectory.check(out, force: force)
        guard (0...256).contains(workers) else { throw ValidationError("--workers must be between 0 and 256") }
        guard workers > 0 || !listen.isEmpty else {
            throw ValidationError("--workers 0 needs --listen, or no worker could ever join")
        }
        try security.check(listen: listen)
    }

    func run() async throws {
        let urls = try input.jobURLs()
        let spec = urls.spec(repeatCount: input.repeatCount, concurrency: input.concurrency, settings: fetch.settings)
        let id = JobNaming.localID(prefix: "run")
        let directory = out ?? "arachne-out/\(id)"
        try OutputDirectory.prepare(directory, force: force)
        var options = ClusterRun.Options(id: id, spec: spec, outputDirectory: directory, workers: workers,
                                         listen: listen)
        options.security = try security.load()
        options.urlList = urls.list
        let stop = StopSignal()
        let report = try await ClusterCommandSupport.run(options, stop: stop)
        print(ReportRenderer.summaryText(report), terminator: "")
        print("report: \(report.job.outputDir)/report.json")
        try Interruption.check(stop, report: report)
    }
}

/// What `run` and `demo` share: signals, progress line, errors.
enum ClusterCommandSupport {
    static func run(_ options: ClusterRun.Options, stop: StopSignal = StopSignal()) async throws -> Report {
        let signals = stop.installProcessSignalHandlers()
        defer { _ = signals }
        do {
            let report = try await ClusterRun.run(options, stop: stop, log: { message in
                Terminal.endProgress()
                Terminal.warn(message)
            }) { progress in
                if progress.isCrawl {
                    let growing = CrawlGrowth.shared.observe(progress.total, at: progress.elapsedSeconds)
                    Terminal.progress(Terminal.crawlProgressLine(
                        done: progress.done, discovered: progress.total, failed: progress.failed,
                        elapsed: progress.elapsedSeconds, growing: growing))
                } else {
                    Terminal.progress(Terminal.progressLine(
                        done: progress.done, total: progress.total, failed: progress.failed,
                        elapsed: progress.elapsedSeconds))
                }
            }
            Terminal.endProgress()
            return report
        } catch {
            Terminal.endProgress()
            throw JobCannotRun("\(error)")
        }
    }
}

/// A job that Ctrl-C (or SIGTERM) cut short is not a completed job: after its summary, a line on standard error
/// says it was interrupted and where its partial report is, and the exit status is 128 + the signal (130 for
/// SIGINT, 143 for SIGTERM), as shells expect.
enum Interruption {
    static func check(_ stop: StopSignal, report: Report) throws {
        guard let number = stop.receivedSignal else { return }
        let name = number == SIGINT ? "Ctrl-C" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
        Terminal.warn(
            "interrupted by \(name): the job did not complete (state \(report.job.state.rawValue)); its partial "
                + "report is in \(report.job.outputDir)/report.json")
        throw ExitCode(128 + number)
    }
}

/// Whether a crawl's discovered count is still growing: it grew within the last 2 seconds.
final class CrawlGrowth: @unchecked Sendable {
    // Safety: progress callbacks come one at a time from one task; the lock makes that a guarantee.
    static let shared = CrawlGrowth()
    private let lock = NSLock()
    private var last = -1
    private var changedAt = 0.0

    func observe(_ discovered: Int, at elapsed: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if discovered != last {
            last = discovered
            changedAt = elapsed
        }
        return elapsed - changedAt < 2
    }
}
