import ArachneCore
import ArachneReport
import ArachneScheduling
import ArachneStore
import Foundation

/// A one-shot cluster: a coordinator in this process, `workers` worker processes of the `arachne` binary, one job,
/// its report. `arachne run` and `arachne demo` are this.
public enum ClusterRun {
    /// What to run and where.
    public struct Options: Sendable {
        public var id: String
        public var spec: JobSpec
        /// The job's URLs when they are not in `spec` (which then has `storedURLCount`): a list read in windows, so
        /// the coordinator never holds it (`run --url-file`).
        public var urlList: (any URLWindowReader & Sendable)?
        public var outputDirectory: String
        public var workers: Int
        /// With `workers == 0`: run one worker inside this process instead of none (`arachne crawl --workers 0`).
        public var inProcessWorker = false
        /// Extra endpoints for workers on other machines, e.g. `tcp://0.0.0.0:5555`.
        public var listen: [String]
        /// CURVE for the `tcp://` endpoints among `listen`; nil: plain.
        public var security: CoordinatorSecurity?
        /// The `arachne` binary the workers run.
        public var executable: URL
        public var scheduling: Scheduler.Configuration
        /// Fail if no worker has said hello after this long.
        public var workerStartTimeout: Double
        /// Submit the job only once every local worker has joined (at most `workerStartTimeout`), so the job's
        /// duration is the fetching alone, as on a coordinator whose workers are running (the ladder's cluster rung).
        /// A crawl always waits: each of its hosts stays with the worker that claims it first, and a worker claims
        /// its share of the hosts with work among the workers there, so they spread only over workers that joined.
        public var awaitWorkers = false
        /// Called once the job has ended with how long the workers took to join (0 unless `awaitWorkers`) and how
        /// long the job ran, in seconds.
        public var onTimes: (@Sendable (_ startup: Double, _ job: Double) -> Void)?

        public init(id: String, spec: JobSpec, outputDirectory: String, workers: Int, listen: [String] = [],
                    executable: URL = LocalWorkerPool.currentExecutable,
                    scheduling: Scheduler.Configuration = .init(), workerStartTimeout: Double = 20)
        {
            self.id = id
            self.spec = spec
            self.outputDirectory = outputDirectory
            self.workers = workers
            self.listen = listen
            self.executable = executable
            self.scheduling = scheduling
            self.workerStartTimeout = workerStartTimeout
        }
    }

    /// Runs the job to the end (or until `stop` is set: then the job is cancelled and keys never fetched end as
    /// `cancelled` records), writes report.json and returns the report.
    public static func run(
        _ options: Options, stop: StopSignal = StopSignal(), log: @escaping @Sendable (String) -> Void = { _ in },
        progress: (@Sendable (JobProgressSnapshot) -> Void)? = nil
    ) async throws -> Report {
        let submitted = Date()
        Trace.log("run: starting")
        let socketDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("arachne-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: socketDirectory) }

        let coordinator = try await Coordinator(
            listen: ["ipc://\(socketDirectory)/workers.sock"] + options.listen, configuration: options.scheduling,
            security: options.security, log: log)
        let recorder: JobRecorder
        do {
            recorder = try JobRecorder(directory: options.outputDirectory, keepBodies: options.spec.settings.keepBodies,
                                       warcInfo: [("arachne-job", options.id)])
        } catch {
            await coordinator.shutdown()
            throw error
        }
        let pool = LocalWorkerPool(executable: options.executable, endpoint: coordinator.endpoints[0],
                                   concurrency: options.spec.concurrency, extraArguments: ["--quiet-lifecycle"],
                                   onEvent: log)
        do {
            try pool.start(count: options.workers)
        } catch {
            await coordinator.shutdown()
            throw CoordinatorError("cannot start workers (\(options.executable.path)): \(error)")
        }
        var inProcess: Task<Void, Never>?
        if options.workers == 0 && options.inProcessWorker {
            var configuration = WorkerConfiguration(
                endpoint: coordinator.endpoints[0], workerID: "local-0", capacity: options.spec.concurrency)
            configuration.logsLifecycle = false
            inProcess = Task {
                if case .failed(let reason) = (try? await Worker.run(configuration)) ?? .failed("did not start") {
                    log("in-process worker: \(reason)")
                }
            }
        }
        Trace.log("run: coordinator up, workers spawned")
        var startup = 0.0
        if options.awaitWorkers || options.spec.isCrawl {
            let clock = ContinuousClock.now
            while await coordinator.workerCounts().everJoined < options.workers,
                  ContinuousClock.now - clock < .seconds(options.workerStartTimeout)
            {
                try? await Task.sleep(for: .milliseconds(2))
            }
            let (seconds, attoseconds) = (ContinuousClock.now - clock).components
            startup = Double(seconds) + Double(attoseconds) / 1e18
        }
        if options.spec.isCrawl {
            let path = socketDirectory + "/frontier.sqlite"
            try await coordinator.submitCrawl(id: options.id, spec: options.spec, recorder: recorder,
                                              openStore: { try FrontierStore.standalone(path: path) })
        } else if let urlList = options.urlList {
            let source = try StoredURLSource(urlCount: options.spec.urlCount, repeatCount: options.spec.repeatCount,
                                             job: options.id) { urlList }
            try await coordinator.submit(id: options.id, spec: options.spec, recorder: recorder, storedURLs: source)
        } else {
            try await coordinator.submit(id: options.id, spec: options.spec, recorder: recorder)
        }
        stop.onSet { Task { await coordinator.cancel(options.id) } }

        let total = options.spec.totalRequests
        let started = Date()
        let completion: JobCompletion = await withTaskGroup(of: JobCompletion?.self) { group in
            group.addTask { await coordinator.wait(for: options.id) }
            group.addTask {
                // Progress, and a watchdog for workers that never arrive.
                var warned = false
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    let elapsed = Date().timeIntervalSince(started)
                    if let snapshot = await coordinator.progress(of: options.id) {
                        progress?(JobProgressSnapshot(
                            done: snapshot.done, total: options.spec.isCrawl ? snapshot.total : total,
                            failed: snapshot.failed, elapsedSeconds: elapsed, isCrawl: options.spec.isCrawl))
                    }
                    if !warned, elapsed > options.workerStartTimeout,
                       await coordinator.workerCounts().everJoined == 0
                    {
                        warned = true
                        log("no worker connected within \(Int(options.workerStartTimeout)) s; cancelling the job")
                        stop.set()
                    }
                }
                return nil
            }
            let first = await group.next()!
            group.cancelAll()
            return first!
        }
        options.onTimes?(startup, completion.finishedAt.timeIntervalSince(completion.startedAt))
        let state: ReportJobState = completion.outcome == .completed ? .completed : .cancelled
        let info = ReportJobInfo(
            id: options.id, state: state, submittedAt: submitted, startedAt: completion.startedAt,
            finishedAt: completion.finishedAt, spec: options.spec, outputDir: options.outputDirectory)
        Trace.log("run: job ended")
        pool.stopRestarting()
        await coordinator.shutdown(reason: "job \(options.id) finished")
        Trace.log("run: coordinator shut down")
        // The workers take a few milliseconds to exit; the report is written meanwhile. (Should writing it fail,
        // the pool still stops them, and a worker outliving this process leaves when it sees its parent gone.)
        let workersGone = Task.detached { await pool.stopped() }
        await inProcess?.value
        let report = try await recorder.writeReport(
            info: info, workers: completion.workers, reassignedBatches: completion.progress.reassignedBatches,
            retries: completion.progress.retries)
        Trace.log("run: report written")
        try await recorder.close()
        Trace.log("run: files closed")
        await workersGone.value
        Trace.log("run: workers exited")
        return report
    }
}
