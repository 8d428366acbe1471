import ArachneCluster
import ArachneProtocol
import ArgumentParser
import Foundation

/// `arachne workers`: the workers connected to the coordinator.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List the workers connected to the coordinator.",
        discussion: "Exit status: 0 listed, 1 the coordinator could not be reached, 2 usage error.")

    @Flag(help: "Print the list as a JSON array.")
    var json = false

    @OptionGroup var connection: ControlOptions

    func run() async throws {
        let session = try connection.session()
        let reply = try await session.expect(.workers)
        guard case .workers(let workers) = reply else { throw session.unexpected(reply, for: "workers") }
        print(json ? StatusText.json(workers) : Self.table(workers, now: Date()), terminator: json ? "\n" : "")
    }

    static func table(_ workers: [WorkerStatus], now: Date) -> String {
        if workers.isEmpty { return "no workers connected\n" }
        let header = ["ID", "HOST", "PID", "CAPACITY", "IN FLIGHT", "DONE", "LAST HEARD", "STATE", "ENDPOINT"]
        let rows = workers.map { worker in
            [
                worker.id, worker.host, String(worker.pid), String(worker.capacity), Terminal.grouped(worker.inFlight),
                Terminal.grouped(worker.done),
                String(format: "%.1fs ago", max(0, now.timeIntervalSince1970 - worker.lastHeartbeat)),
                worker.state.rawValue, worker.endpoint,
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }
}
