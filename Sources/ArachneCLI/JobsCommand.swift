import ArachneCluster
import ArachneProtocol
import ArgumentParser
import Foundation

/// `arachne jobs`: every job the coordinator knows, newest first; `jobs rm` and `jobs prune` remove finished ones.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the coordinator's jobs, newest first.",
        discussion: "Exit status: 0 listed, 1 the coordinator could not be reached, 2 usage error.",
        subcommands: [JobsListCommand.self, JobsRemoveCommand.self, JobsPruneCommand.self],
        defaultSubcommand: JobsListCommand.self)
}

/// `arachne jobs [list]`.
struct JobsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
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

/// `arachne jobs rm JOB…`.
struct JobsRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove finished jobs from the store, with their directories.",
        discussion: """
            A running or queued job is refused (cancel it first); the others are still removed. Exit status: 0 all \
            removed, 1 some refused or the coordinator could not be reached, 2 usage error.
            """)

    @Argument(help: ArgumentHelp("The jobs to remove.", valueName: "job"))
    var jobs: [String]

    @OptionGroup var connection: ControlOptions

    func validate() throws {
        if jobs.isEmpty { throw ValidationError("name at least one job to remove") }
    }

    func run() async throws {
        let session = try connection.session()
        let reply = try await session.expect(.removeJobs(jobs))
        guard case .removed(let removed) = reply else { throw session.unexpected(reply, for: "removeJobs") }
        try JobsRemoval.show(removed)
    }
}

/// `arachne jobs prune --older-than DURATION`.
struct JobsPruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the finished jobs that finished longer ago than a duration, with their directories.",
        discussion: "Exit status: 0 pruned (perhaps nothing), 1 the coordinator could not be reached, 2 usage error.")

    @Option(name: .customLong("older-than"), help: ArgumentHelp(
        "How long ago a job must have finished: a number with s, m, h or d (30d, 12h, 90m, 0s).",
        valueName: "duration"))
    var olderThan: String

    @OptionGroup var connection: ControlOptions

    func validate() throws {
        if JobsRemoval.seconds(olderThan) == nil {
            throw ValidationError("--older-than '\(olderThan)' is not a duration like 30d, 12h, 90m or 45s")
        }
    }

    func run() async throws {
        let session = try connection.session()
        let reply = try await session.expect(.pruneJobs(olderThan: JobsRemoval.seconds(olderThan) ?? 0))
        guard case .removed(let removed) = reply else { throw session.unexpected(reply, for: "pruneJobs") }
        if removed.removed.isEmpty && removed.refused.isEmpty { print("no finished job older than \(olderThan)") }
        try JobsRemoval.show(removed)
    }
}

enum JobsRemoval {
    /// Seconds in a duration such as `30d`, `12h`, `90m`, `45s` (a bare number is seconds); nil if it is not one.
    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        var number = Substring(text)
        var scale = 1.0
        if let last = text.last, let unit = units[last] {
            number = text.dropLast()
            scale = unit
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        return value * scale
    }

    /// Prints what was removed; throws (exit 1) when some job was refused, naming each.
    static func show(_ removed: RemovedJobs) throws {
        for job in removed.removed { print("removed \(job)") }
        guard !removed.refused.isEmpty else { return }
        throw JobCannotRun(removed.refused.map { "not removed: \($0.reason)" }.joined(separator: "\n"))
    }
}
