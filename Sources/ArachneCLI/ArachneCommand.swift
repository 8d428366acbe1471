import ArgumentParser
import Foundation

/// The `arachne` command: a crawling cluster of a coordinator and worker processes, and the tools around it.
public struct ArachneCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "arachne",
        abstract: "Crawl and load-test HTTP sites with a coordinator and worker processes over ZeroMQ.",
        discussion: """
            Exit codes: 0 the job completed (failed fetches are in the report), 1 the job could not run, \
            2 usage error, 130 interrupted by Ctrl-C (the partial report is kept).
            """,
        version: "0.1.0",
        subcommands: [
            CrawlCommand.self, FetchCommand.self, RunCommand.self, DemoCommand.self, LinksCommand.self,
            RobotsCommand.self, WorkerCommand.self, CoordinatorCommand.self, SubmitCommand.self, JobsCommand.self,
            WorkersCommand.self,
            StatusCommand.self, CancelCommand.self,
            ReportCommand.self, DiffCommand.self, LadderCommand.self, SiteCommand.self, KeysCommand.self,
            FloodWorkerCommand.self,
        ]
    )

    public init() {}

    /// Parses the command line, runs the command, and exits with Arachne's documented codes
    /// (argument-parser's usage errors become 2, not 64).
    public static func runAndExit(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        // `arachne help NAME` for a command that does not exist is a usage error, not the root help and exit 0.
        if arguments.first == "help", let name = arguments.dropFirst().first,
            !configuration.subcommands.contains(where: { $0._commandName == name })
        {
            FileHandle.standardError.write(Data("Error: no command '\(name)'; 'arachne --help' lists them\n".utf8))
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty {
                FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
            }
            if code == .validationFailure { Foundation.exit(2) }
            Foundation.exit(code.rawValue)
        }
    }
}
