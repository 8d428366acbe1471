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

    func validate() throws {
        guard (0...256).contains(workers) else { throw ValidationError("--workers must be between 0 and 256") }
        guard workers > 0 || !listen.isEmpty else {
            throw ValidationError("--workers 0 needs --listen, or no worker could ever join")
        }
        try security.check(listen: listen)
    }

    func run() async throws {
        let urls = try input.loadURLs()
        let spec = JobSpec(urls: urls.map(\.string), repeatCount: input.repeatCount,
                           concurrency: input.concurrency, settings: fetch.settings)
        let id = JobNaming.localID(prefix: "run")
        var options = ClusterRun.Options(id: id, spec: spec, outputDirectory: out ?? "arachne-out/\(id)",
                                         workers: workers, listen: listen)
        options.security = try security.load()
        let report = try await ClusterCommandSupport.run(options)
        print(ReportRenderer.summaryText(report), terminator: "")
        print("report: \(report.job.outputDir)/report.json")
    }
}

/// What `run` and `demo` share: signals, progress line, errors.
enum ClusterCommandSupport {
    static func run(_ options: ClusterRun.Options) async throws -> Report {
        let stop = StopSignal()
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
