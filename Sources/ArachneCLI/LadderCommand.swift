import ArachneCore
import ArachneLadder
import ArgumentParser
import Foundation

/// `arachne ladder`: the tutorial's experiment. The same job under each IO model, timed side by side in one table.
public struct LadderCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ladder",
        abstract: "Fetch one URL N times under each IO model and compare the times.",
        discussion: """
            Models, in ladder order:
            \(registry.models.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))

            Every response is checked: a 2xx status and the body length of the first response. A model that runs \
            past its budget is stopped and marked "over budget" with how many requests it completed. Exit codes: 0 \
            the ladder ran (failures are in the table), 1 the URL could not be reached, 2 usage error.
            """)

    /// The models the command offers, in ladder order. The production rungs (async, cluster) are appended here.
    public static let registry = ModelRegistry.tutorial.appending([AsyncModel(), ClusterModel()])

    @Argument(help: "The URL to fetch, e.g. http://127.0.0.1:8080/.")
    var url: String

    @Option(help: "Requests per run (N): a number or a comma-separated list; repeatable, e.g. 10,20,300,10000.")
    var requests: [String] = ["10"]

    @Option(help: "The most requests in flight at once.")
    var concurrency: Int = 64

    @Option(name: .customLong("model"), help: "A model to run (repeatable or comma-separated); all by default.")
    var models: [String] = []

    @Option(help: ArgumentHelp(
        "Worker processes for the cluster model (default: one per core but one, which the coordinator and the "
            + "server need; at least 1).",
        valueName: "n"))
    var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)

    @Option(help: "Seconds each model may run for each N before it is stopped.")
    var budget: Double = 30

    @Flag(help: "Print the results as JSON instead of a table.")
    var json = false

    public init() {}

    /// The validated options: what `run()` works from.
    private struct Plan {
        var url: TargetURL
        var counts: [Int]
        var models: [any IOModel]
        var budget: Duration
    }

    private func plan() throws(LadderUsageError) -> Plan {
        guard (1...10_000).contains(concurrency) else {
            throw LadderUsageError("--concurrency must be from 1 to 10000, not \(concurrency)")
        }
        guard (1...256).contains(workers) else { throw LadderUsageError("--workers must be from 1 to 256") }
        guard budget > 0 && budget <= 86_400 else {
            throw LadderUsageError("--budget must be more than 0 and at most 86400 seconds")
        }
        let chosen = try Self.registry.select(models)
        return Plan(
            url: try Ladder.target(url, models: chosen), counts: try Ladder.requestCounts(requests),
            models: chosen, budget: .milliseconds(Int64((budget * 1000).rounded(.up))))
    }

    /// Usage errors are `ValidationError`s, which `arachne` exits with as code 2.
    public func validate() throws {
        do {
            _ = try plan()
        } catch {
            throw ValidationError(error.message)
        }
    }

    public func run() async throws {
        let plan: Plan
        do {
            plan = try self.plan()
        } catch {
            throw ValidationError(error.message)
        }
        let job: LadderJob
        do {
            let prepared = try await Ladder.prepare(url: plan.url, concurrency: concurrency, workers: workers)
            job = prepared.job
            if let warning = prepared.warning { Self.printError("warning: \(warning)") }
        } catch {
            Self.printError("Error: \(error)")
            throw ExitCode(1)
        }
        let runs = await Ladder.run(job, counts: plan.counts, models: plan.models, budget: plan.budget) { run in
            let status = run.overBudget ? " (over budget: \(run.completed) done)" : ""
            Self.printError(
                "\(run.model) N=\(run.requests): \(String(format: "%.3f", run.wallSeconds)) s, \(run.failed) failed"
                    + status)
        }
        let table = LadderTable(runs: runs)
        if json {
            print(try table.json(job: job, budget: plan.budget), terminator: "")
        } else {
            let body = job.expectedBodyLength.map { ", body \($0) bytes" } ?? ""
            print("GET \(job.url) (\(job.address)\(body)), concurrency \(job.concurrency), "
                + "budget \(budget) s per model and N\n")
            print(table.render(), terminator: "")
            if let note = table.sharedCoresNote(server: job.address) { print("\n" + note) }
        }
    }

    private static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
