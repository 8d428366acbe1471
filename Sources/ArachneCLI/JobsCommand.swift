import ArachneCluster
import ArgumentParser
import Foundation

/// `arachne jobs`: every job the coordinator knows, newest first.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the coordinator's jobs, newest first.",
        discussion: "Exit status: 0 listed, 1 the coordinator could not be reached, 2 usage error.")

    @Flag(help: "Print the list as a JSON array.")
    var json = false

    @OptionGroup var connection: ControlOptions

    func run() async throws {
        let session = try connection.session()
        let jobs = try await session.statuses(nil)
        print(json ? StatusText.json(jobs) : StatusText.table(jobs), terminator: json ? "\n" : "")
    }
}
