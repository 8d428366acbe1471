import ArachneCluster
import ArachneProtocol
import ArgumentParser
import Foundation

/// `arachne worker`: a worker process, local or on another machine.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker that fetches batches leased by a coordinator.")

    @Option(help: ArgumentHelp("The coordinator's worker endpoint, e.g. tcp://10.0.0.5:5555.", valueName: "endpoint"))
    var connect: String

    @Option(help: "Requests this worker keeps in flight.")
    var concurrency: Int = 64

    @Option(help: "This worker's name (default: HOST-PID).")
    var id: String?

    @Option(help: ArgumentHelp(
        "CURVE keys for a tcp:// coordinator: this worker's key pair and the coordinator's public key.",
        valueName: "dir"))
    var keys: String?

    @Option(name: .customLong("parent-pid"), help: .hidden)
    var parentPID: Int32?

    @Option(name: .customLong("protocol-version"), help: .hidden)
    var protocolVersion: UInt16?

    @Flag(name: .customLong("quiet-lifecycle"), help: .hidden)
    var quietLifecycle = false

    func validate() throws {
        guard (1...100_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1…100000") }
        if let problem = CoordinatorDefaults.validate(endpoint: connect) { throw ValidationError("--connect \(problem)") }
        if keys != nil && !connect.hasPrefix("tcp://") {
            throw ValidationError("--keys is for tcp:// endpoints; an ipc:// endpoint is guarded by its data dir's "
                + "file permissions")
        }
    }

    func run() async throws {
        var peerKeys: PeerKeys?
        if let keys {
            do {
                peerKeys = try PeerKeys(directory: keys)
            } catch {
                throw JobCannotRun("--keys: \(error)")
            }
        }
        var configuration = WorkerConfiguration(
            endpoint: connect, workerID: id ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())",
            capacity: concurrency, parentPID: parentPID,
            announcedVersion: protocolVersion.map { ProtocolVersion($0) } ?? .current, keys: peerKeys)
        configuration.logsLifecycle = !quietLifecycle
        let stop = StopSignal()
        let sources = stop.installProcessSignalHandlers()
        defer { withExtendedLifetime(sources) {} }
        switch try await Worker.run(configuration, stop: stop) {
        case .finished:
            return
        case .refused(let reason):
            throw JobCannotRun("the coordinator at \(connect) refused this worker: \(reason)")
        case .failed(let reason):
            throw JobCannotRun(reason)
        }
    }
}
