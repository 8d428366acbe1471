import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneProtocol
import ArachneReport
import ArgumentParser
import Foundation

/// `arachne submit`: hands a job to the running coordinator and prints its id; `--wait` follows it to the end.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a job to the running coordinator and print its id.",
        discussion: """
            The job id goes to standard output (JOB=$(arachne submit …) captures it). With --wait, progress is \
            shown on a terminal (done/total, rate, failures, ETA) and the report's summary is printed at the end. \
            The job's report is in DATA_DIR/jobs/JOB/ (arachne report JOB). Workers run with the coordinator's \
            --concurrency; a job's --concurrency below it caps the job's requests on each worker (queued ones \
            included), for a polite crawl beside others. Exit status: \
            0 submitted (with --wait: the job ended, completed or cancelled), 1 the coordinator could not be \
            reached, refused the job, or the job failed, 2 usage error, 130 Ctrl-C stopped --wait (the job goes \
            on).
            """)

    @OptionGroup var input: JobInputOptions
    @OptionGroup var fetch: FetchSettingsOptions
    @OptionGroup var connection: ControlOptions

    @Option(help: "A label for the job, shown by `arachne jobs`.")
    var name: String?

    @Flag(help: "Wait for the job to end: live progress on a terminal, then the summary.")
    var wait = false

    @Flag(help: "Crawl: the URLs are seeds, and links are followed by the crawl options.")
    var crawl = false

    @Option(name: .customLong("submission-id"), help: ArgumentHelp(
        "An id for this submission (default: a new one). Run again with the same id and URLs, submit resumes an "
            + "interrupted submission or prints the job it already made: never a second job.", valueName: "id"))
    var submissionID: String?

    @OptionGroup(title: "Crawl options (with --crawl)") var crawlOptions: CrawlOptions

    func validate() throws {
        if crawl && input.repeatCount != 1 { throw ValidationError("--repeat cannot be used with --crawl") }
        if crawl && submissionID != nil { throw ValidationError("--submission-id cannot be used with --crawl") }
        if let submissionID, submissionID.isEmpty || submissionID.utf8.count > ControlRequest.maxSubmissionIDLength
            || !submissionID.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            throw ValidationError("--submission-id must be 1–\(ControlRequest.maxSubmissionIDLength) printable ASCII "
                + "characters without spaces")
        }
    }

    func run() async throws {
        let session = try connection.session()
        let job: String
        if crawl {
            let urls = try input.loadURLs()
            let spec = crawlOptions.jobSpec(seeds: CrawlOptions.uniqueSeeds(urls), concurrency: input.concurrency,
                                            settings: fetch.settings, name: name)
            let reply = try await session.expect(.submit(spec))
            guard case .submitted(let id) = reply else { throw session.unexpected(reply, for: "submit") }
            job = id
        } else {
            job = try await stream(session)
        }
        // Unbuffered, so a script or a person sees the id at once, even while --wait follows the job.
        FileHandle.standardOutput.write(Data("\(job)\n".utf8))
        if wait {
            let interrupt = Self.onInterrupt(job)
            defer { interrupt.cancel() }
            try await JobFollower.follow(job, session: session)
        }
    }

    /// Ctrl-C during `--wait` stops waiting, not the job: say so, and how to follow or cancel it, then exit 130.
    private static func onInterrupt(_ job: String) -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            Terminal.endProgress()
            Terminal.warn(
                "stopped waiting; job \(job) continues on the coordinator (arachne status \(job) shows it, "
                    + "arachne cancel \(job) stops it)")
            Foundation.exit(128 + SIGINT)
        }
        source.resume()
        return source
    }
}

extension SubmitCommand {
    /// Streams the URLs as a chunked submission: arguments first, then the file (or standard input) read as it
    /// goes; bad lines are reported with their numbers and skipped; a progress line on a terminal.
    private func stream(_ session: ControlSession) async throws -> String {
        let spec = JobSpec(urls: [], repeatCount: input.repeatCount, concurrency: input.concurrency,
                           settings: fetch.settings, name: name)
        let uploader = SubmissionUploader(submission: submissionID ?? SubmissionUploader.newSubmissionID(),
                                          spec: spec)
        let lines = try input.urlStream()
        guard let firstURL = try lines.next() else {
            lines.reportProblems()
            throw JobCannotRun("no usable URL (\(lines.problemCount) rejected)")
        }
        var first: String? = firstURL
        let started = Date()
        var lastDrawn = Date.distantPast
        do {
            let job = try await uploader.upload(with: session.client, next: {
                if let url = first.take() { return url }
                return try lines.next()
            }) { sent in
                let now = Date()
                guard now.timeIntervalSince(lastDrawn) > 0.1 else { return }
                lastDrawn = now
                let elapsed = now.timeIntervalSince(started)
                Terminal.progress("submitting: \(Terminal.grouped(sent)) URLs sent, "
                    + "\(Terminal.grouped(Int(Double(sent) / max(elapsed, 0.001)))) URLs/s")
            }
            Terminal.endProgress()
            lines.reportProblems()
            return job
        } catch {
            Terminal.endProgress()
            lines.reportProblems()
            throw JobCannotRun(error.description)
        }
    }
}

/// Follows a submitted job to its end for `submit --wait`: a progress line while it runs, then the summary.
enum JobFollower {
    /// How long the coordinator may stay unreachable (restarting, say) before waiting gives up.
    static let patience = 60.0

    static func follow(_ job: String, session: ControlSession) async throws {
        var lostSince: Date?
        var status: JobStatus?
        while true {
            do {
                status = try await current(job, session)
                lostSince = nil
            } catch let error as ClientUnreachable {
                let since = lostSince ?? Date()
                if lostSince == nil {
                    Terminal.endProgress()
                    Terminal.warn("\(error.message); still waiting for job \(job)")
                }
                lostSince = since
                if Date().timeIntervalSince(since) > patience {
                    throw JobCannotRun("gave up waiting for job \(job): the coordinator at \(session.endpoint) has "
                        + "not answered for \(Int(patience)) s (the job resumes when it restarts)")
                }
            }
            if let status {
                switch status.state {
                case .completed, .cancelled, .failed:
                    Terminal.endProgress()
                    try await finish(status, session: session)
                    return
                case .queued, .running, .cancelling:
                    let started = status.startedAt ?? status.submittedAt ?? Date().timeIntervalSince1970
                    let elapsed = max(0, Date().timeIntervalSince1970 - started)
                    if status.crawl == true {
                        Terminal.progress(Terminal.crawlProgressLine(
                            done: status.done, discovered: status.total, failed: status.failed, elapsed: elapsed,
                            growing: CrawlGrowth.shared.observe(status.total, at: elapsed)))
                    } else {
                        Terminal.progress(Terminal.progressLine(
                            done: status.done, total: status.total, failed: status.failed, elapsed: elapsed,
                            workers: status.workers))
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private struct ClientUnreachable: Error {
        var message: String
    }

    private static func current(_ job: String, _ session: ControlSession) async throws -> JobStatus {
        let reply: ControlReply
        do {
            reply = try await session.client.send(.status(job: job))
        } catch {
            throw ClientUnreachable(message: "lost the coordinator at \(session.endpoint): \(error.description)")
        }
        switch reply {
        case .status(let jobs) where jobs.count == 1:
            return jobs[0]
        case .error(let message):
            throw JobCannotRun(message)
        default:
            throw session.unexpected(reply, for: "status")
        }
    }

    private static func finish(_ status: JobStatus, session: ControlSession) async throws {
        let directory: String
        if case .report(_, let path) = try await session.send(.report(job: status.id)) {
            directory = path
        } else {
            directory = status.outputDir
        }
        if let loaded = try? ReportReader.read(directory) {
            print(ReportRenderer.summaryText(loaded.report), terminator: "")
            print("report: \(loaded.path)")
        } else {
            print("job \(status.id) \(status.state.rawValue): \(status.done)/\(status.total), \(status.failed) failed; "
                + "no report in \(directory)")
        }
        if status.state == .cancelled { Terminal.warn("job \(status.id) was cancelled") }
        if status.state == .failed {
            throw JobCannotRun("job \(status.id) failed: \(status.error ?? "no reason given")")
        }
    }
}
