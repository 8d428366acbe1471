import ArachneCluster
import ArgumentParser
import Foundation

/// `arachne flood-worker`: a worker that fetches nothing and answers every leased key at once with a canned result,
/// for `bench/coordinator-flood`. Hidden from `arachne --help`: it is a benchmark tool, not a user's command.
struct FloodWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood-worker",
        abstract: "Flood a coordinator with canned results (for bench/coordinator-flood).",
        shouldDisplay: false)

    @Option(help: ArgumentHelp("The coordinator's worker endpoint.", valueName: "endpoint"))
    var connect: String

    @Option(help: "The capacity announced to the coordinator (leases are a quarter of it, credit four times it).")
    var concurrency: Int = 64

    @Option(help: "This worker's name (default: flood-PID).")
    var id: String?

    @Option(name: .customLong("body-bytes"), help: "The canned body's size, archived when the job keeps bodies.")
    var bodyBytes: Int = 2048

    func validate() throws {
        guard (1...100_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1…100000") }
        guard (0...(1 << 20)).contains(bodyBytes) else { throw ValidationError("--body-bytes must be 0…1048576") }
        if let problem = CoordinatorDefaults.validate(endpoint: connect) { throw ValidationError("--connect \(problem)") }
    }

    func run() async throws {
        let stop = StopSignal()
        let sources = stop.installProcessSignalHandlers()
        defer { withExtendedLifetime(sources) {} }
        let sent = try await FloodWorker.run(
            FloodWorkerConfiguration(endpoint: connect, workerID: id ?? "flood-\(getpid())", capacity: concurrency,
                                     bodyBytes: bodyBytes), stop: stop)
        FileHandle.standardError.write(Data("flood-worker: \(sent) results sent\n".utf8))
    }
}
