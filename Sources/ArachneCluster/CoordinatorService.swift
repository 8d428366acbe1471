import ArachneArchive
import ArachneCore
import ArachneEventLoop
import ArachneProtocol
import ArachneReport
import ArachneScheduling
import ArachneStore
import Foundation

private typealias StoredJobState = ArachneStore.JobState

/// The long-running coordinator (`arachne coordinator`): a `Coordinator` with N local workers, a control socket for
/// the CLI, and the durable job store in its data directory.
///
/// - Every job lives in `DATA_DIR/jobs/JOB/` (report.json, records.ndjson, WARC bodies) and in the store
///   (`DATA_DIR/arachne.sqlite`): its spec, state, counters and every terminal record. A record reaches the store
///   before records.ndjson, so the store is the truth about which (URL, repetition) keys are done.
/// - On start it resumes every unfinished job: records.ndjson is rebuilt from the store, WARC files are cut back to
///   the bodies the store references, the stored records are replayed into the report's aggregates, and the job is
///   handed to the scheduler with its completed keys, which are never leased again.
/// - One event loop, the *writer thread*, carries every store call and every recorder write, so SQLite is never
///   touched from two threads and never from the coordinator's or the control socket's loop.
/// - `status`, `jobs`, `cancel` and `report` are answered by a `QueryDesk` on a thread of its own, from the progress
///   the service publishes (`LiveJobBoard`) and a store connection of its own: never behind the coordinator's loop,
///   the writer thread or Swift's shared pool. The other control requests and the progress tick are handled one at a
///   time by `run(until:)`, in arrival order.
/// - On stop (SIGTERM/SIGINT): no new leases, a short grace for the results in flight, reports and store flushed,
///   workers stopped. Unfinished jobs stay `running` in the store and resume at the next start.
public actor CoordinatorService {
    /// How to run the service.
    public struct Options: Sendable {
        public var dataDirectory: String
        /// Local worker processes (0: only remote workers, via `listen`).
        public var workers: Int
        /// Requests in flight per local worker.
        public var concurrency: Int
        /// Extra worker endpoints, e.g. `tcp://0.0.0.0:5555` for workers on other machines.
        public var listen: [String]
        /// The control endpoint; nil: `CoordinatorDefaults.controlEndpoint`.
        public var controlEndpoint: String?
        /// The `arachne` binary the local workers run.
        public var executable: URL
        public var scheduling: Scheduler.Configuration
        /// Seconds a graceful stop waits for the results of requests already leased.
        public var drainGrace: Double
        /// How `tcp://` endpoints (listen and control) are secured; nil: plain.
        public var security: CoordinatorSecurity?
        /// `HOST:PORT` for the Prometheus `/metrics` listener; nil: none.
        public var metrics: String?

        public init(
            dataDirectory: String = CoordinatorDefaults.dataDirectory(), workers: Int = 2, concurrency: Int = 64,
            listen: [String] = [], controlEndpoint: String? = nil, executable: URL = LocalWorkerPool.currentExecutable,
            scheduling: Scheduler.Configuration = .init(), drainGrace: Double = 5, security: CoordinatorSecurity? = nil,
            metrics: String? = nil
        ) {
            self.security = security
            self.metrics = metrics
            self.dataDirectory = dataDirectory
            self.workers = workers
            self.concurrency = concurrency
            self.listen = listen
            self.controlEndpoint = controlEndpoint
            self.executable = executable
            self.scheduling = scheduling
            self.drainGrace = drainGrace
        }
    }

    /// What `run(until:)` handles, one at a time.
    enum Event: Sendable {
        case call(ControlCall)
        case tick
        case stop
    }

    /// The data directory (absolute).
    public nonisolated let dataDirectory: String
    /// Where the CLI reaches the service.
    public nonisolated let controlEndpoint: String
    /// Where workers connect: this coordinator's private socket for its local workers, then
    /// `ipc://DATA_DIR/workers.sock`, then the `listen` endpoints.
    public nonisolated let workerEndpoints: [String]
    /// Jobs resumed at start.
    public private(set) var resumedJobs: [String] = []

    private let options: Options
    private let lock: DataDirectoryLock
    let writer: EventLoop
    /// Where chunks of submitted URLs are checked before the writer commits them: off the control loop and off
    /// the writer.
    private let ingest = DispatchQueue(label: "arachne-ingest")
    let store: StoreBox
    /// The coordinator (nonisolated: tests block its loop to show queries do not wait on it).
    nonisolated let coordinator: Coordinator
    private let pool: LocalWorkerPool?
    let control: ControlServer
    private let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation
    let log: @Sendable (String) -> Void
    /// The jobs running here, shared with the query desk.
    let board: LiveJobBoard
    let desk: QueryDesk
    /// The Prometheus listener and its metrics (`--metrics`), or nil.
    var metricsEndpoint: (server: MetricsServer, metrics: CoordinatorMetrics)?

    /// Takes the data directory's lock, opens the store, starts the coordinator, the query desk, the control socket
    /// and the local workers, and resumes every unfinished job. Queries that arrive meanwhile are answered at once
    /// (a job not resumed yet from its stored row); other requests, and a cancel of a job not resumed yet, wait for
    /// `run(until:)`.
    public static func start(_ options: Options, log: @escaping @Sendable (String) -> Void = { _ in }) async throws
        -> CoordinatorService
    {
        let dataDirectory = CoordinatorDefaults.absolute(options.dataDirectory)
        do {
            // 0700: its ipc sockets (control, workers) are guarded by the directory's permissions alone.
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CoordinatorError("cannot create the data directory \(dataDirectory): \(error.localizedDescription)")
        }
        if let mode = (try? FileManager.default.attributesOfItem(atPath: dataDirectory))?[.posixPermissions] as? Int,
           mode & 0o077 != 0
        {
            log("warning: the data dir \(dataDirectory) is open to other users (mode \(String(mode, radix: 8))): they "
                + "can reach its control and worker sockets; `chmod 700 \(dataDirectory)` (docs/threat_model.md)")
        }
        let controlEndpoint = options.controlEndpoint
            ?? CoordinatorDefaults.controlEndpoint(dataDirectory: dataDirectory)
        // The local workers get a socket of this coordinator's own: workers orphaned by an earlier coordinator that
        // was killed keep reconnecting to *its* socket until they notice and exit, and never reach this one (where
        // their worker ids, local-1 …, would clash with the new workers').
        let localEndpoint = "ipc://" + dataDirectory + "/" + CoordinatorDefaults.localSocketPrefix + "\(getpid())"
            + CoordinatorDefaults.localSocketSuffix
        let workerEndpoints = [localEndpoint, CoordinatorDefaults.workerEndpoint(dataDirectory: dataDirectory)]
            + options.listen
        for endpoint in [controlEndpoint] + workerEndpoints {
            if let problem = CoordinatorDefaults.validate(endpoint: endpoint) { throw CoordinatorError(problem) }
        }
        let lock = try DataDirectoryLock(dataDirectory: dataDirectory)
        Self.removeStaleLocalSockets(in: dataDirectory)

        let writer = try EventLoop(name: "arachne-store")
        let store: StoreBox
        do {
            store = try await writer.submit { StoreBox(try JobStore(dataDirectory: dataDirectory)) }
        } catch {
            writer.shutdown()
            throw CoordinatorError("cannot open the job store in \(dataDirectory): \(error)")
        }
        // A submission cut short long ago will not be resumed by its client: its URLs go. (A recent one waits for
        // the client's retry; it never runs unless ended.)
        let discarded = try? await writer.submit {
            try store.store.discardUnendedSubmissions(before: Date().addingTimeInterval(-unendedSubmissionLifetime))
        }
        if let discarded, !discarded.isEmpty {
            log("discarded \(discarded.count) submission(s) never ended: \(discarded.joined(separator: ", "))")
        }
        let coordinator: Coordinator
        do {
            coordinator = try await Coordinator(listen: workerEndpoints, configuration: options.scheduling,
                                                security: options.security, log: log)
            await coordinator.logWorkerEvents(log)
        } catch {
            await Self.close(store, writer)
            throw error
        }
        let (events, eventSink) = AsyncStream.makeStream(of: Event.self)
        let board = LiveJobBoard()
        let desk: QueryDesk
        do {
            desk = try await QueryDesk(dataDirectory: dataDirectory, board: board, coordinator: coordinator,
                                       writer: writer, store: store, toService: { eventSink.yield(.call($0)) },
                                       log: log)
        } catch {
            await coordinator.shutdown()
            await Self.close(store, writer)
            throw CoordinatorError("cannot start the thread that answers queries: \(error)")
        }
        let control: ControlServer
        do {
            let secured = options.security.map { security in
                ControlServer.Secured(context: coordinator.context, security: security) { endpoint in
                    try await coordinator.verifySecured(endpoint)
                }
            }
            control = try await ControlServer(endpoint: controlEndpoint, secured: secured, log: log) { call in
                switch call.request {
                case .status(let id):
                    // From memory, on the control loop: no hop to another thread.
                    if let reply = desk.statusFromMemory(id) {
                        var call = call
                        call.takenAt = EventLoop.now()
                        call.reply(reply)
                    } else {
                        desk.handle(call)
                    }
                case .cancel, .report: desk.handle(call)
                default: eventSink.yield(.call(call))
                }
            }
        } catch {
            await desk.close()
            await coordinator.shutdown()
            await Self.close(store, writer)
            throw error
        }
        var pool: LocalWorkerPool?
        if options.workers > 0 {
            let local = LocalWorkerPool(executable: options.executable, endpoint: coordinator.endpoints[0],
                                        concurrency: options.concurrency, onEvent: log)
            do {
                try local.start(count: options.workers)
            } catch {
                local.stop()
                control.close()
                await desk.close()
                await coordinator.shutdown()
                await Self.close(store, writer)
                throw CoordinatorError("cannot start workers (\(options.executable.path)): \(error)")
            }
            pool = local
        }
        let service = CoordinatorService(
            options: options, dataDirectory: dataDirectory, controlEndpoint: control.endpoint, lock: lock,
            writer: writer, store: store, coordinator: coordinator, pool: pool, control: control, board: board,
            desk: desk, events: events, eventSink: eventSink, log: log)
        if let listen = options.metrics {
            do {
                try await service.startMetrics(listen: listen)
            } catch {
                await service.shutdown()
                throw error
            }
        }
        await service.resumeUnfinishedJobs()
        await desk.refreshStoredStatuses()
        return service
    }

    private init(
        options: Options, dataDirectory: String, controlEndpoint: String, lock: DataDirectoryLock, writer: EventLoop,
        store: StoreBox, coordinator: Coordinator, pool: LocalWorkerPool?, control: ControlServer,
        board: LiveJobBoard, desk: QueryDesk, events: AsyncStream<Event>, eventSink: AsyncStream<Event>.Continuation,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.options = options
        self.dataDirectory = dataDirectory
        self.controlEndpoint = controlEndpoint
        self.workerEndpoints = coordinator.endpoints
        self.lock = lock
        self.writer = writer
        self.store = store
        self.coordinator = coordinator
        self.pool = pool
        self.control = control
        self.board = board
        self.desk = desk
        self.events = events
        self.eventSink = eventSink
        self.log = log
    }

    /// Serves control requests and follows the jobs until `stop` is set, then stops gracefully (see the type's
    /// documentation). Returns when everything is flushed and the workers are gone.
    public func run(until stop: StopSignal) async {
        let sink = eventSink
        stop.onSet { sink.yield(.stop) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    sink.yield(.tick)
                }
            }
            loop: for await event in events {
                switch event {
                case .call(let call):
                    switch call.request {
                    case .submitBegin(let submission, let spec):
                        beginSubmission(submission, spec: spec, call: call)
                    case .submitChunk(let submission, let seq, let urls):
                        ingestChunk(submission, seq: seq, urls: urls, call: call)
                    case .workers:
                        // Answered beside the service loop: it reads the coordinator's loop only.
                        let (control, coordinator) = (control, coordinator)
                        Task { control.reply(.workers(await coordinator.workerStatuses()), to: call) }
                    case .status:
                        // The control loop sends queries to the desk; only the desk's own hand-offs come here.
                        desk.handle(call)
                    default:
                        let reply = await handle(call.request)
                        // A job was created, started or failed: the desk's stored statuses follow.
                        await desk.refreshStoredStatuses()
                        control.reply(reply, to: call)
                    }
                case .tick:
                    await tick()
                case .stop:
                    break loop
                }
            }
            group.cancelAll()
        }
        await shutdown()
    }

    // MARK: Requests

    private func handle(_ request: ControlRequest) async -> ControlReply {
        switch request {
        case .submit(let spec): await submit(spec)
        case .status: preconditionFailure("run(until:) hands status requests to the query desk")
        case .cancel(let job): await cancel(job)
        case .report(let job): await report(job)
        case .submitEnd(let submission, let chunks, let count): await endSubmission(submission, chunks: chunks,
                                                                                  count: count)
        case .removeJobs(let jobs): await removeJobs(jobs)
        case .pruneJobs(let olderThan): await pruneJobs(olderThan: olderThan)
        case .workers: .workers(await coordinator.workerStatuses())
        case .submitBegin, .submitChunk: preconditionFailure("run(until:) hands chunked submissions to the writer")
        }
    }

    // MARK: Chunked submissions

    /// Half submissions whose last chunk is older than this are discarded at start.
    static let unendedSubmissionLifetime: TimeInterval = 24 * 3600

    /// Why a chunked submission's spec (no URLs) cannot run, or nil.
    static func problem(withBegun spec: JobSpec) -> String? {
        if !spec.urls.isEmpty { return "a chunked submission sends its URLs in chunks, not in its spec" }
        if spec.isCrawl { return "a crawl's seeds travel in one `submit` message, not in chunks" }
        if spec.repeatCount < 1 { return "the repeat count must be at least 1 (got \(spec.repeatCount))" }
        if !(1...100_000).contains(spec.concurrency) {
            return "the concurrency must be between 1 and 100000 (got \(spec.concurrency))"
        }
        return nil
    }

    /// Opens or finds a submission on the writer thread and answers from there: the control loop never waits on it.
    /// Begin goes through the ingest queue like the chunks, so a client's submission messages are answered in the
    /// order they came (its replies are matched first in, first out).
    private func beginSubmission(_ id: String, spec: JobSpec, call: ControlCall) {
        let (store, control, writer) = (store, control, writer)
        ingest.async {
            if let problem = Self.problem(withBegun: spec) {
                control.reply(.error(message: "job refused: \(problem)"), to: call)
                return
            }
            writer.execute {
                let reply: ControlReply
                do {
                    let stored = try store.store.beginSubmission(id: id, spec: spec)
                    reply = .submission(SubmissionState(stored))
                } catch {
                    reply = .error(message: "\(error)")
                }
                control.reply(reply, to: call)
            }
        }
    }

    /// Checks a chunk's URLs on the ingest queue, commits it on the writer thread, and acknowledges it once
    /// committed. Chunks of one submission arrive one or two at a time, in order; both hops keep that order.
    private func ingestChunk(_ id: String, seq: Int, urls: [String], call: ControlCall) {
        let (store, control, writer) = (store, control, writer)
        ingest.async {
            for (offset, url) in urls.enumerated() {
                do {
                    _ = try TargetURL(validating: url)
                } catch {
                    control.reply(.error(message: "submission \(id), chunk \(seq): URL \(offset + 1) of the chunk "
                        + "('\(url.prefix(200))') cannot be fetched: \(error)"), to: call)
                    return
                }
            }
            writer.execute {
                let reply: ControlReply
                do {
                    let stored = try store.store.appendSubmissionChunk(id: id, seq: seq, urls: urls,
                                                                          maxRequests: Self.maxJobKeys)
                    reply = .submission(SubmissionState(stored))
                } catch let error as JobStoreError where error.kind == .chunkOutOfOrder {
                    // Messages of a client that reconnected can arrive out of order: say where the submission
                    // stands (chunks ≤ seq), and the client sends again from there.
                    if let held = try? store.store.submission(id) {
                        reply = .submission(SubmissionState(held))
                    } else {
                        reply = .error(message: "\(error)")
                    }
                } catch {
                    reply = .error(message: "\(error)")
                }
                control.reply(reply, to: call)
            }
        }
    }

    /// Ends a submission: its job is created in the store (or found again, for a retried end) and started.
    private func endSubmission(_ id: String, chunks: Int, count: Int) async -> ControlReply {
        let store = store
        let writer = writer
        let tally = JobTally()
        do {
            let created = try await writer.submit { () -> (JobRow, JobRecorder?, Int64?) in
                let (row, isNew) = try store.store.endSubmission(id: id, chunks: chunks, count: count)
                guard isNew else { return (row, nil, nil) }
                let spec = try store.store.spec(row.id)
                do {
                    let recorder = try Self.makeRecorder(
                        job: row.id, spec: spec, directory: row.outputDirectory, resumeRecordsAt: nil, store: store,
                        tally: tally, writer: writer)
                    return (row, recorder, try store.store.urlList(of: row.id))
                } catch {
                    let message = "cannot write its output directory \(row.outputDirectory): \(error)"
                    _ = try? store.store.setState(row.id, .failed, message: message)
                    throw CoordinatorError("job \(row.id) cannot start: \(message)")
                }
            }
            let (row, recorder, list) = created
            guard let recorder, let list else { return .submitted(job: row.id) }
            let spec = try await writer.submit { try store.store.spec(row.id) }
            let source = try StoredURLSource(dataDirectory: dataDirectory, list: list, urlCount: spec.urlCount,
                                             repeatCount: spec.repeatCount, job: row.id)
            try await coordinator.submit(id: row.id, spec: spec, recorder: recorder, storedURLs: source)
            let running = try await writer.submit { try store.store.setState(row.id, .running) }
            board.insert(LiveJob(row: running, spec: spec, recorder: recorder, tally: tally))
            log("job \(row.id) submitted in \(chunks) chunks (submission \(id)): \(spec.urlCount) URLs × "
                + "\(spec.repeatCount) → \(row.outputDirectory)")
            return .submitted(job: row.id)
        } catch {
            return .error(message: "\(error)")
        }
    }

    /// The largest job accepted: its completed-key bitmap takes 12.5 MB.
    static let maxJobKeys = 100_000_000

    /// Why a submitted spec cannot run, or nil.
    static func problem(with spec: JobSpec) -> String? {
        if spec.storedURLCount != nil {
            return "'url_count' belongs to chunked submissions (submitBegin/submitChunk/submitEnd); send the URLs"
        }
        if spec.urls.isEmpty { return "a job needs at least one URL" }
        if spec.repeatCount < 1 { return "the repeat count must be at least 1 (got \(spec.repeatCount))" }
        if !(1...100_000).contains(spec.concurrency) {
            return "the concurrency must be between 1 and 100000 (got \(spec.concurrency))"
        }
        let (total, overflow) = spec.urls.count.multipliedReportingOverflow(by: spec.repeatCount)
        if overflow || total > maxJobKeys {
            return "\(spec.urls.count) URLs × \(spec.repeatCount) repetitions is more than \(maxJobKeys) requests"
        }
        for (index, url) in spec.urls.enumerated() {
            do {
                _ = try TargetURL(validating: url)
            } catch {
                return "URL \(index + 1) ('\(url.prefix(200))') cannot be fetched: \(error)"
            }
        }
        if let crawl = spec.crawl {
            if spec.repeatCount != 1 { return "a crawl fetches each URL once (got a repeat count of \(spec.repeatCount))" }
            do {
                try crawl.validate()
            } catch {
                return "\(error)"
            }
        }
        return nil
    }

    private func submit(_ spec: JobSpec) async -> ControlReply {
        if let problem = Self.problem(with: spec) { return .error(message: "job refused: \(problem)") }
        let store = store
        let writer = writer
        let tally = JobTally()
        do {
            let (row, recorder) = try await writer.submit {
                let row = try store.store.createJob(spec: spec)
                do {
                    let recorder = try Self.makeRecorder(
                        job: row.id, spec: spec, directory: row.outputDirectory, resumeRecordsAt: nil, store: store,
                        tally: tally, writer: writer)
                    return (row, recorder)
                } catch {
                    let message = "cannot write its output directory \(row.outputDirectory): \(error)"
                    _ = try? store.store.setState(row.id, .failed, message: message)
                    throw CoordinatorError("job \(row.id) cannot start: \(message)")
                }
            }
            if spec.isCrawl {
                let id = row.id
                try await coordinator.submitCrawl(id: id, spec: spec, recorder: recorder,
                                                  openStore: { try store.store.frontier(of: id) })
            } else {
                try await coordinator.submit(id: row.id, spec: spec, recorder: recorder)
            }
            let running = try await writer.submit { try store.store.setState(row.id, .running) }
            board.insert(LiveJob(row: running, spec: spec, recorder: recorder, tally: tally))
            log(spec.isCrawl
                ? "job \(row.id) submitted: a crawl from \(spec.urls.count) seed(s) → \(row.outputDirectory)"
                : "job \(row.id) submitted: \(spec.urls.count) URLs × \(spec.repeatCount) → \(row.outputDirectory)")
            return .submitted(job: row.id)
        } catch {
            return .error(message: "\(error)")
        }
    }

    /// A cancel the query desk handed over: the job was not live when it came (it was being set up).
    private func cancel(_ id: String) async -> ControlReply {
        if let job = board[id] {
            QueryDesk.requestCancel(of: job, coordinator: coordinator, log: log)
            return .cancelled(job: id)
        }
        let store = store
        do {
            guard try await writer.submit({ try store.store.job(id) }) != nil else {
                return .error(message: unknownJob(id))
            }
            return .cancelled(job: id)
        } catch {
            return .error(message: "cannot read the job store: \(error)")
        }
    }

    /// A report the query desk handed over: the job was finishing when it came, and its final report is written now.
    private func report(_ id: String) async -> ControlReply {
        if let job = board[id] {
            do {
                _ = try await job.recorder.writeReport(
                    info: job.reportInfo(state: .running, finishedAt: nil), workers: [],
                    reassignedBatches: job.progress.reassignedBatches, retries: job.progress.retries)
            } catch {
                return .error(message: "job \(id): cannot write its report: \(error)")
            }
            return .report(job: id, path: job.row.outputDirectory)
        }
        let store = store
        do {
            guard let row = try await writer.submit({ try store.store.job(id) }) else {
                return .error(message: unknownJob(id))
            }
            return .report(job: id, path: row.outputDirectory)
        } catch {
            return .error(message: "cannot read the job store: \(error)")
        }
    }

    func unknownJob(_ id: String) -> String {
        "no job '\(id)' in \(dataDirectory) (`arachne jobs` lists them)"
    }

    // MARK: Following jobs

    /// Reads every running job's progress, and closes the ones that are done.
    private func tick() async {
        let now = Date().timeIntervalSince1970
        for job in board.all {
            guard let progress = await coordinator.progress(of: job.row.id) else { continue }
            job.update(progress, at: now)
            if progress.done >= progress.total { await finish(job) }
        }
    }

    /// Writes the final report, then the job's final state in the store (in that order: a crash between the two
    /// resumes a job whose keys are all done, which finishes at once), and forgets the job.
    private func finish(_ job: LiveJob) async {
        let id = job.row.id
        job.markFinishing()
        let completion = await coordinator.wait(for: id)
        job.update(completion.progress, at: Date().timeIntervalSince1970)
        let cancelled = completion.outcome == .cancelled || (job.cancelRequested && completion.progress.cancelled > 0)
        var state: StoredJobState = cancelled ? .cancelled : .completed
        var message: String?
        let info = job.reportInfo(state: cancelled ? .cancelled : .completed, finishedAt: completion.finishedAt,
                                  startedAt: completion.startedAt)
        do {
            _ = try await job.recorder.writeReport(
                info: info, workers: completion.workers, reassignedBatches: completion.progress.reassignedBatches,
                retries: completion.progress.retries)
        } catch {
            state = .failed
            message = "its records or report could not be written: \(error)"
        }
        do {
            try await job.recorder.close()
        } catch {
            state = .failed
            message = message ?? "its output files could not be closed: \(error)"
        }
        let store = store
        let counters = job.tally.counters
        let finishedAt = completion.finishedAt
        let (finalState, finalMessage) = (state, message)
        do {
            _ = try await writer.submit {
                try store.store.updateCounters(id, counters)
                return try store.store.setState(id, finalState, at: finishedAt, message: finalMessage)
            }
        } catch {
            log("job \(id): cannot record its end in the store: \(error)")
        }
        if state == .cancelled { desk.noteCancelled(id, count: completion.progress.cancelled) }
        await coordinator.remove(id)
        // The desk reads the final row before the job leaves the board: `status` never goes back to "running".
        await desk.refreshStoredStatuses()
        board.remove(id)
        log("job \(id) \(state.rawValue): \(counters.done)/\(job.spec.isCrawl ? counters.done : job.row.totalRequests) records, \(counters.failed) failed"
            + (message.map { " — \($0)" } ?? ""))
    }

    // MARK: Stopping

    func shutdown() async {
        control.refuseAll("the coordinator at \(controlEndpoint) is stopping")
        await coordinator.stopLeasing()
        let deadline = Date().addingTimeInterval(options.drainGrace)
        var inFlight = await coordinator.keysInFlight()
        if inFlight > 0 {
            log("stopping: no new leases; waiting up to \(options.drainGrace) s for \(inFlight) requests in flight")
        }
        let waited = inFlight
        while inFlight > 0, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            inFlight = await coordinator.keysInFlight()
        }
        if inFlight > 0 {
            log("drain grace over: \(inFlight) requests still in flight are given up (fetched again at the next start)")
        } else if waited > 0 {
            log("drained: the results of all \(waited) requests in flight arrived")
        }
        await tick()
        metricsEndpoint?.server.close()
        pool?.stopRestarting()
        await coordinator.shutdown(reason: "coordinator stopping")
        pool?.stop()
        let store = store
        let unfinished = board.all
        for job in unfinished {
            let id = job.row.id
            do {
                _ = try await job.recorder.writeReport(
                    info: job.reportInfo(state: .running, finishedAt: nil), workers: [],
                    reassignedBatches: job.progress.reassignedBatches, retries: job.progress.retries)
                try await job.recorder.close()
            } catch {
                log("job \(id): cannot flush its output: \(error)")
            }
            let counters = job.tally.counters
            _ = try? await writer.submit { try store.store.updateCounters(id, counters) }
        }
        if !unfinished.isEmpty {
            log("stopped; \(unfinished.count) unfinished job\(unfinished.count == 1 ? "" : "s") will resume at the "
                + "next start: " + unfinished.map(\.row.id).joined(separator: ", "))
        }
        for job in unfinished { board.remove(job.row.id) }
        control.close()
        await desk.close()
        await Self.close(store, writer)
        if let local = workerEndpoints.first, local.hasPrefix("ipc://") {
            try? FileManager.default.removeItem(atPath: String(local.dropFirst("ipc://".count)))
        }
        _ = lock
    }

    /// Removes the local-worker sockets of coordinators that ran on this data dir before (we hold its lock).
    private static func removeStaleLocalSockets(in dataDirectory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? []
        let prefix = CoordinatorDefaults.localSocketPrefix, suffix = CoordinatorDefaults.localSocketSuffix
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            try? FileManager.default.removeItem(atPath: dataDirectory + "/" + name)
        }
    }

    private static func close(_ store: StoreBox, _ writer: EventLoop) async {
        _ = try? await writer.submit { store.store.close() }
        writer.shutdown()
    }

    // MARK: Resuming

    /// A file in a job's directory saying a cancel was asked (so a restarted coordinator cancels it again).
    static let cancelMarker = "cancel-requested"

    private func resumeUnfinishedJobs() async {
        let store = store
        let writer = writer
        let rows: [JobRow]
        do {
            rows = try await writer.submit { try store.store.unfinishedJobs() }
        } catch {
            log("cannot list unfinished jobs: \(error)")
            return
        }
        for row in rows {
            let tally = JobTally()
            do {
                let resumed = try await writer.submit {
                    try Self.rebuild(row, store: store, tally: tally, writer: writer)
                }
                if resumed.spec.isCrawl {
                    let id = row.id
                    let resume = resumed.resume
                    try await coordinator.submitCrawl(
                        id: id, spec: resumed.spec, recorder: resumed.recorder, resume: resume,
                        openStore: { try store.store.frontier(of: id) }, isRecorded: { resume.isCompleted(index: $0) })
                } else {
                    let source = try resumed.urlList.map {
                        try StoredURLSource(dataDirectory: dataDirectory, list: $0, urlCount: resumed.spec.urlCount,
                                            repeatCount: resumed.spec.repeatCount, job: row.id)
                    }
                    try await coordinator.submit(id: row.id, spec: resumed.spec, recorder: resumed.recorder,
                                                 resume: resumed.resume, storedURLs: source)
                }
                let running = try await writer.submit { try store.store.setState(row.id, .running) }
                let job = LiveJob(row: running, spec: resumed.spec, recorder: resumed.recorder, tally: tally)
                board.insert(job)
                resumedJobs.append(row.id)
                log("resumed job \(row.id): \(resumed.resume.completedCount)/\(row.totalRequests) already done")
                if FileManager.default.fileExists(atPath: row.outputDirectory + "/" + Self.cancelMarker) {
                    _ = job.requestCancel()
                    await coordinator.cancel(row.id)
                }
            } catch {
                log("job \(row.id) cannot be resumed: \(error)")
                _ = try? await writer.submit {
                    try store.store.setState(row.id, .failed, message: "could not be resumed: \(error)")
                }
            }
        }
    }

    /// What a resumed job starts again with.
    struct ResumedJob: Sendable {
        var spec: JobSpec
        var recorder: JobRecorder
        var resume: JobResume
        /// The stored URL list of a job submitted in chunks.
        var urlList: Int64?
    }

    /// Rebuilds a job's directory from the store, on the writer thread: records.ndjson holds exactly the stored
    /// records; each WARC file is cut after the last body a stored record references (a file no stored record
    /// references is removed); the recorder appends after them, with the stored records in its aggregates.
    static func rebuild(_ row: JobRow, store box: StoreBox, tally: JobTally, writer: EventLoop) throws -> ResumedJob {
        let store = box.store
        let spec = try store.spec(row.id)
        let directory = row.outputDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        let records = try RecordsWriter(path: directory + "/" + RecordsWriter.fileName)
        // A crawl's keys are the URLs its frontier knows (seeds first), not only the seeds.
        let urlCount = spec.isCrawl ? max(spec.urls.count, try store.frontier(of: row.id).count()) : spec.urlCount
        if spec.isCrawl { try store.setURLCount(row.id, urlCount) }
        var resume = JobResume(urlCount: urlCount, repeatCount: spec.repeatCount)
        resume.reassignedBatches = row.counters.reassignedBatches
        resume.retries = row.counters.retries
        var bodyEnds: [String: Int64] = [:]
        var failed = 0
        try store.forEachRecord(row.id) { key, record in
            try records.append(record)
            let kind = Scheduler.RecordKind(record.error)
            if resume.markCompleted(key, kind: kind), kind == .failed { failed += 1 }
            if let body = record.body {
                bodyEnds[body.file] = max(bodyEnds[body.file] ?? 0, body.offset + body.length)
            }
        }
        try records.sync()
        try records.close()
        try trimBodyFiles(in: directory, keepingThrough: bodyEnds)

        tally.reset(JobCounters(done: resume.completedCount, failed: failed,
                                reassignedBatches: row.counters.reassignedBatches, retries: row.counters.retries))
        let recorder = try makeRecorder(job: row.id, spec: spec, directory: directory, resumeRecordsAt: records.length,
                                        store: box, tally: tally, writer: writer)
        var chunk: [FetchRecord] = []
        chunk.reserveCapacity(4096)
        try store.forEachRecord(row.id) { _, record in
            chunk.append(record)
            if chunk.count == 4096 {
                recorder.replay(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        recorder.replay(chunk)
        let urlList = spec.hasStoredURLs ? try store.urlList(of: row.id) : nil
        if spec.hasStoredURLs && urlList == nil {
            throw CoordinatorError("job \(row.id) was submitted in chunks but the store has no URL list for it")
        }
        return ResumedJob(spec: spec, recorder: recorder, resume: resume, urlList: urlList)
    }

    /// Cuts each `bodies-NNNNN.warc.gz` after the last response a stored record references, dropping members of
    /// records the store never committed (and a torn last member); removes files no stored record references.
    static func trimBodyFiles(in directory: String, keepingThrough ends: [String: Int64]) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(WARCWriter.filePrefix) && name.hasSuffix(WARCWriter.fileSuffix) {
            let path = directory + "/" + name
            guard let end = ends[name] else {
                try FileManager.default.removeItem(atPath: path)
                continue
            }
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            if size > end, truncate(path, off_t(end)) != 0 {
                throw CoordinatorError("cannot cut \(path) back to \(end) bytes: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// A recorder on the shared writer thread whose batches go to the store before records.ndjson.
    static func makeRecorder(
        job: String, spec: JobSpec, directory: String, resumeRecordsAt: Int64?, store: StoreBox, tally: JobTally,
        writer: EventLoop
    ) throws -> JobRecorder {
        try JobRecorder(
            directory: directory, keepBodies: spec.settings.keepBodies, warcInfo: [("arachne-job", job)],
            thread: writer, resumeRecordsAt: resumeRecordsAt
        ) { batch in
            if spec.isCrawl, let last = batch.map(\.0.urlIndex).max() {
                // The crawl's key space grows with its frontier (same transaction as these records).
                try store.store.setURLCount(job, last + 1)
            }
            var failed = 0
            for (_, record) in batch where Scheduler.RecordKind(record.error) == .failed { failed += 1 }
            let counters = tally.adding(done: batch.count, failed: failed)
            let added = try store.store.appendRecords(job, batch, counters: counters)
            if added != batch.count {
                // Keys already stored were skipped: count what the store holds.
                let done = try store.store.recordCount(job)
                try store.store.updateCounters(job, tally.setDone(done))
            }
        }
    }
}

extension SubmissionState {
    init(_ stored: StoredSubmission) {
        self.init(submission: stored.id, chunks: stored.chunks, count: stored.urlCount, job: stored.job)
    }
}

extension JobStatus.State {
    /// The wire state of a stored job state.
    init(_ state: ArachneStore.JobState) {
        switch state {
        case .queued: self = .queued
        case .running: self = .running
        case .completed: self = .completed
        case .cancelled: self = .cancelled
        case .failed: self = .failed
        }
    }
}
