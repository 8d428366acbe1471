import ArachneArchive
import ArachneCore
import ArachneReport
import ArgumentParser
import Foundation

/// `arachne report JOB|DIR`: a terminal summary of a report, the raw JSON, or a self-contained HTML page.
public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show a job's report: a terminal summary, the raw JSON, or an HTML page with charts.",
        discussion: """
            TARGET is a report directory (holding report.json), a report.json file, or a job id, looked up in \
            DATA_DIR/jobs/JOB (DATA_DIR: --data-dir, else $ARACHNE_DATA_DIR, else ~/.arachne). Exit status: 0 \
            shown, 1 the report could not be read, 2 usage error.
            """)

    @Argument(help: ArgumentHelp("A job id, a report directory, or a report.json file.", valueName: "job|dir"))
    var target: String

    @Flag(help: "Print report.json exactly as written.")
    var json = false

    @Option(help: ArgumentHelp("Write a self-contained HTML page with charts to this file.", valueName: "file"))
    var html: String?

    @Option(name: .customLong("data-dir"), help: ReportTarget.dataDirHelp)
    var dataDir: String?

    public init() {}

    public func validate() throws {
        guard !target.isEmpty else { throw ValidationError("Name a job id, a report directory or a report.json file.") }
        var isDirectory: ObjCBool = false
        if let html, FileManager.default.fileExists(atPath: html, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("--html \(html) is a directory: name the page's file, e.g. \(html)/report.html")
        }
    }

    public func run() throws {
        CoordinatorReportRefresh.refreshIfRunning(target, dataDirectory: dataDir)
        let loaded = try ReportTarget.load(target, command: "report", dataDirectory: dataDir)
        if json {
            FileHandle.standardOutput.write(loaded.json)
        }
        if let html {
            do {
                // A job shorter than a second gets sub-second buckets from its records (a small file then).
                var records: [FetchRecord]?
                if loaded.report.summary.wallSeconds < 1 {
                    let directory = (loaded.path as NSString).deletingLastPathComponent
                    records = try? RecordsReader.readAll(path: directory + "/" + loaded.report.records)
                }
                try Data(ReportHTML.render(loaded.report, records: records).utf8)
                    .write(to: URL(fileURLWithPath: html), options: .atomic)
            } catch {
                ReportTarget.fail("report", "\(html): cannot write the HTML page: \(error.localizedDescription)")
            }
            let note = "wrote \(html)\n"
            (json ? FileHandle.standardError : FileHandle.standardOutput).write(Data(note.utf8))
        }
        if !json && html == nil {
            FileHandle.standardOutput.write(Data(ReportRenderer.summaryText(loaded.report).utf8))
        }
    }
}

/// Finds and reads the report a command-line argument names.
enum ReportTarget {
    static let dataDirHelp = ArgumentHelp(
        "Where job ids are looked up: DATA_DIR/jobs/JOB (default: $ARACHNE_DATA_DIR or ~/.arachne).",
        valueName: "dir")

    /// Where job directories live: `--data-dir`, `$ARACHNE_DATA_DIR`, or `~/.arachne`.
    static func dataDirectory(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, given: String? = nil
    ) -> String {
        if let given, !given.isEmpty { return given }
        if let directory = environment["ARACHNE_DATA_DIR"], !directory.isEmpty { return directory }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.arachne"
    }

    /// The path to read for `argument`: the file or directory itself when it exists, else the job's directory.
    static func resolve(
        _ argument: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        dataDirectory given: String? = nil
    ) -> Result<String, ReportTargetError> {
        if FileManager.default.fileExists(atPath: argument) { return .success(argument) }
        let looksLikePath = argument.contains("/") || argument.hasSuffix(".json") || argument.hasPrefix(".")
        if looksLikePath {
            return .failure(ReportTargetError(message: "\(argument): no such file or directory"))
        }
        let jobDirectory = dataDirectory(environment, given: given) + "/jobs/" + argument
        if FileManager.default.fileExists(atPath: jobDirectory) { return .success(jobDirectory) }
        return .failure(ReportTargetError(
            message: "\(argument): not a report directory or file, and no job directory \(jobDirectory)"))
    }

    /// Resolves and reads, or exits with status 1 and a message naming the path.
    static func load(_ argument: String, command: String, dataDirectory: String? = nil) throws -> ReportReader.Loaded {
        switch resolve(argument, dataDirectory: dataDirectory) {
        case .failure(let error):
            fail(command, error.message)
        case .success(let path):
            do {
                return try ReportReader.read(path)
            } catch {
                fail(command, error.description)
            }
        }
    }

    static func fail(_ command: String, _ message: String) -> Never {
        FileHandle.standardError.write(Data("arachne \(command): \(message)\n".utf8))
        // ExitCode travels through ArgumentParser as a clean exit status.
        ReportCommand.exit(withError: ExitCode(1))
    }
}

/// Why a report argument could not be resolved.
struct ReportTargetError: Error {
    var message: String
}
