import ArachneArchive
import ArachneCore
import ArachneEventLoop
import ArachneProtocol
import ArachneReport
import ArachneStore
import Foundation

/// Answers `status` (and `jobs`), `cancel` and `report` off the service, so that a query never waits on the
/// coordinator's busy loop, the store's writer thread, or Swift's shared pool (two threads on a two-core machine,
/// where a 10,000,000-URL job kept them busy).
///
/// - `status` is answered on the control loop itself, from memory (`statusFromMemory`): live jobs from
///   `LiveJobBoard`, where the service publishes each job's progress on each of its ticks, the others from
///   `StoredJobStatuses`, which the desk keeps from its own store connection (WAL readers do not wait for the
///   writer). Only a job neither knows (just created, or unknown) is read from the store, on the desk's thread.
/// - `cancel` of a live job writes the job's cancel marker, hands the cancel to the coordinator's loop without
///   waiting for it, and is answered at once. A job the store holds unfinished that is not live yet (being created
///   or resumed) goes to the service, which handles it once the job is set up.
/// - `report` of a live job has its recorder write report.json on the recorder's thread, and is answered once it
///   is written. A job the service is closing goes to the service, which answers after its final report.
final class QueryDesk: Sendable {
    let loop: EventLoop
    private let state: LoopBox<DeskState>
    private let board: LiveJobBoard
    private let stored = StoredJobStatuses()
    private let dataDirectory: String
    private let coordinator: Coordinator
    /// Where the desk sends what the service must decide (it calls it on the desk's loop).
    private let toService: @Sendable (ControlCall) -> Void
    /// The store's writer thread, read on only when the desk could not open a connection of its own.
    private let writer: (loop: EventLoop, store: StoreBox)
    private let log: @Sendable (String) -> Void

    /// Loop-confined state.
    private final class DeskState {
        var store: JobStore?
        /// `cancelled` counts of finished cancelled jobs, read once from their reports.
        var cancelledCounts: [String: Int] = [:]
    }

    /// Starts the desk's thread and opens its connection to the store in `dataDirectory`; without one (the store
    /// cannot be opened twice), stored jobs are read on the writer thread.
    init(dataDirectory: String, board: LiveJobBoard, coordinator: Coordinator, writer: EventLoop, store: StoreBox,
         toService: @escaping @Sendable (ControlCall) -> Void, log: @escaping @Sendable (String) -> Void) async throws
    {
        loop = try EventLoop(name: "arachne-query")
        let state = LoopBox(DeskState())
        self.state = state
        self.board = board
        self.dataDirectory = dataDirectory
        self.coordinator = coordinator
        self.toService = toService
        self.writer = (writer, store)
        self.log = log
        do {
            try await loop.submit { state.value.store = try JobStore(dataDirectory: dataDirectory) }
        } catch {
            log("queries will read the store on the writer thread: cannot open a second connection: \(error)")
        }
        await refreshStoredStatuses()
        scheduleRefresh()
    }

    /// A `status` reply from memory, on the caller's thread (the control loop), or nil when the desk must read the
    /// store (a job id neither the board nor the last reading knows).
    func statusFromMemory(_ id: String?) -> ControlReply? {
        guard let id else { return .status(withWorkers(stored.all(with: board))) }
        return stored.status(of: id, with: board).map { .status(withWorkers([$0])) }
    }

    /// Statuses with the connected workers on those of jobs not yet ended (read without a hop to the coordinator's
    /// loop), so a waiting client can say nothing can run.
    private func withWorkers(_ statuses: [JobStatus]) -> [JobStatus] {
        guard statuses.contains(where: { $0.finishedAt == nil }) else { return statuses }
        let connected = coordinator.connectedWorkers.current
        var statuses = statuses
        for index in statuses.indices where statuses[index].finishedAt == nil { statuses[index].workers = connected }
        return statuses
    }

    /// Reads every job's row again and publishes their statuses; returns once published. The service calls it
    /// before a job leaves the board, and after it changes a stored job's state.
    func refreshStoredStatuses() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let accepted = loop.executeIfRunning { [self] in
                readStore({ try $0.jobs() }) { [self] result in
                    if case .success(let rows) = result { stored.publish(rows.map { finishedStatus($0) }) }
                    continuation.resume()
                }
            }
            if !accepted { continuation.resume() }
        }
    }

    /// How often the stored statuses are read again besides the service's calls: a safety net.
    static let refreshIntervalMs = 2_000

    private func scheduleRefresh() {
        loop.executeIfRunning { [self] in
            loop.scheduleTimer(afterMilliseconds: Self.refreshIntervalMs) { [self] in
                readStore({ try $0.jobs() }) { [self] result in
                    if case .success(let rows) = result { stored.publish(rows.map { finishedStatus($0) }) }
                }
                scheduleRefresh()
            }
        }
    }

    /// Takes a query (from the control loop) and answers it from the desk's thread.
    func handle(_ call: ControlCall) {
        let accepted = loop.executeIfRunning { [self] in answer(call) }
        if !accepted { call.reply(.error(message: "the coordinator is stopping")) }
    }

    /// Notes how many records a cancelled job ended with, for its status once it is no longer live.
    func noteCancelled(_ id: String, count: Int) {
        loop.executeIfRunning { [state] in state.value.cancelledCounts[id] = count }
    }

    /// Closes the store connection and stops the thread.
    func close() async {
        let state = state
        _ = try? await loop.submit {
            state.value.store?.close()
            state.value.store = nil
        }
        loop.shutdown()
    }

    /// Marks a live job's cancel (once): its cancel marker is written, so a restarted coordinator cancels it again,
    /// before the coordinator's loop is told, without waiting for it.
    static func requestCancel(of job: LiveJob, coordinator: Coordinator, log: (String) -> Void) {
        guard job.requestCancel() else { return }
        let marker = job.row.outputDirectory + "/" + CoordinatorService.cancelMarker
        _ = FileManager.default.createFile(atPath: marker, contents: Data("cancel requested\n".utf8))
        coordinator.requestCancel(job.row.id)
        log("job \(job.row.id): cancel requested")
    }

    // MARK: On the desk's loop

    private func answer(_ call: ControlCall) {
        var call = call
        call.takenAt = EventLoop.now()
        switch call.request {
        case .status(let id): status(id, call)
        case .cancel(let id): cancel(id, call)
        case .report(let id): report(id, call)
        default: toService(call)
        }
    }

    private func status(_ id: String?, _ call: ControlCall) {
        if let id, let job = board[id] {
            call.reply(.status([job.status()]))
            return
        }
        readStore({ store in try id.map { try store.job($0).map { [$0] } ?? [] } ?? store.jobs() }) { [self] result in
            switch result {
            case .success(let rows):
                if let id, rows.isEmpty {
                    call.reply(.error(message: unknownJob(id)))
                } else {
                    call.reply(.status(withWorkers(rows.map { board[$0.id]?.status() ?? finishedStatus($0) })))
                }
            case .failure(let error):
                call.reply(.error(message: "cannot read the job store: \(error)"))
            }
        }
    }

    private func cancel(_ id: String, _ call: ControlCall) {
        if let job = board[id] {
            Self.requestCancel(of: job, coordinator: coordinator, log: log)
            call.reply(.cancelled(job: id))
            return
        }
        readStore({ try $0.job(id) }) { [self] result in
            switch result {
            case .success(let row?) where row.state == .queued || row.state == .running:
                // Not live yet: the service sets it up first, then takes the cancel.
                toService(call)
            case .success(.some):
                call.reply(.cancelled(job: id))
            case .success(nil):
                call.reply(.error(message: unknownJob(id)))
            case .failure(let error):
                call.reply(.error(message: "cannot read the job store: \(error)"))
            }
        }
    }

    private func report(_ id: String, _ call: ControlCall) {
        if let job = board[id] {
            let progress = job.progress
            let queued = job.unlessFinishing {
                job.recorder.writeReport(
                    info: job.reportInfo(state: .running, finishedAt: nil), workers: [],
                    reassignedBatches: progress.reassignedBatches, retries: progress.retries
                ) { result in
                    switch result {
                    case .success: call.reply(.report(job: id, path: job.row.outputDirectory))
                    case .failure(let error):
                        call.reply(.error(message: "job \(id): cannot write its report: \(error)"))
                    }
                }
            }
            // Finishing: the service answers once the final report is written.
            if !queued { toService(call) }
            return
        }
        readStore({ try $0.job(id) }) { [self] result in
            switch result {
            case .success(let row?): call.reply(.report(job: id, path: row.outputDirectory))
            case .success(nil): call.reply(.error(message: unknownJob(id)))
            case .failure(let error): call.reply(.error(message: "cannot read the job store: \(error)"))
            }
        }
    }

    /// Runs `body` on the desk's connection, or on the writer thread without one; `then` runs on the desk's loop.
    private func readStore<T: Sendable>(
        _ body: @escaping @Sendable (JobStore) throws -> T,
        then: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        if let store = state.value.store {
            then(Result { try body(store) })
            return
        }
        let (writerLoop, box) = writer
        let accepted = writerLoop.executeIfRunning { [loop] in
            let result = Result { try body(box.store) }
            loop.executeIfRunning { then(result) }
        }
        if !accepted { then(.failure(CoordinatorError("the job store is closed"))) }
    }

    private func unknownJob(_ id: String) -> String {
        "no job '\(id)' in \(dataDirectory) (`arachne jobs` lists them)"
    }

    /// A job that is not running here, from its stored row.
    private func finishedStatus(_ row: JobRow) -> JobStatus {
        var cancelled = 0
        if row.state == .cancelled {
            if let known = state.value.cancelledCounts[row.id] {
                cancelled = known
            } else if let loaded = try? ReportReader.read(row.outputDirectory) {
                // Reports count cancelled records apart from errors; older ones listed them as an error kind.
                let summary = loaded.report.summary
                cancelled = summary.cancelled > 0
                    ? summary.cancelled : summary.errors[FetchErrorKind.cancelled.rawValue] ?? 0
                state.value.cancelledCounts[row.id] = cancelled
            }
        }
        var rate = 0.0
        if let started = row.startedAt, let finished = row.finishedAt, finished > started {
            rate = Double(max(0, row.counters.done - cancelled)) / finished.timeIntervalSince(started)
        }
        return JobStatus(
            id: row.id, name: row.name, state: JobStatus.State(row.state), total: row.totalRequests,
            done: row.counters.done, failed: row.counters.failed, cancelled: cancelled, rate: rate,
            reassignedBatches: row.counters.reassignedBatches, retries: row.counters.retries,
            submittedAt: row.submittedAt.timeIntervalSince1970, startedAt: row.startedAt?.timeIntervalSince1970,
            finishedAt: row.finishedAt?.timeIntervalSince1970, outputDir: row.outputDirectory, error: row.message)
    }
}
