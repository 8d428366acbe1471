import ArachneCluster
import ArachneProtocol
import ArgumentParser
import Foundation

/// `arachne cancel JOB`: stops a job; requests never fetched end as `cancelled` records.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job: nothing more is fetched, and requests never fetched end as cancelled records.",
        discussion: """
            Requests already in flight still finish, and their results are kept in the report. `arachne status JOB` \
            shows `cancelling`, then `cancelled`. Cancelling a job that already ended changes nothing. Exit status: 0 \
            cancelled (or already ended), 1 the coordinator could not be reached or knows no such job, 2 usage error.
            """)

    @Argument(help: ArgumentHelp("The job to cancel.", valueName: "job"))
    var job: String

    @OptionGroup var connection: ControlOptions

    func run() async throws {
        let session = try connection.session()
        let reply = try await session.expect(.cancel(job: job))
        guard case .cancelled(let id) = reply else { throw session.unexpected(reply, for: "cancel") }
        let state = (try? await session.statuses(id))?.first?.state
        switch state {
        case .completed?, .failed?:
            print("job \(id) had already ended (\(state!.rawValue)); nothing to cancel")
        default:
            print("job \(id) cancelled")
        }
    }
}
