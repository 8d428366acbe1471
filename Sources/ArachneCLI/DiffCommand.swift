import ArachneArchive
import ArachneReport
import ArgumentParser
import Foundation

/// `arachne diff A B`: two reports side by side, with the change of each key figure.
public struct DiffCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two reports: throughput, latency percentiles, failures and bytes, with their change.",
        discussion: """
            A and B are report directories, report.json files or job ids (as for `arachne report`). Changes are \
            B relative to A. Exit status: 0 compared, 1 a report could not be read, 2 usage error.
            """)

    @Argument(help: ArgumentHelp("The baseline report.", valueName: "a"))
    var a: String

    @Argument(help: ArgumentHelp("The report compared with it.", valueName: "b"))
    var b: String

    @Option(name: .customLong("data-dir"), help: ReportTarget.dataDirHelp)
    var dataDir: String?

    public init() {}

    public func validate() throws {
        guard !a.isEmpty && !b.isEmpty else {
            throw ValidationError("Name two reports: directories, files or job ids.")
        }
    }

    public func run() throws {
        let first = try ReportTarget.load(a, command: "diff", dataDirectory: dataDir)
        let second = try ReportTarget.load(b, command: "diff", dataDirectory: dataDir)
        FileHandle.standardOutput.write(Data(ReportDiff.render(first.report, second.report).utf8))
    }
}
