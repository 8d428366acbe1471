import ArachneCore
import ArachneProtocol
import ArachneReport
import ArachneScheduling
import ArachneStore
import Foundation
import Synchronization

/// The job store, carried to the writer thread.
final class StoreBox: @unchecked Sendable {
    // Safety: `store` is used only on the service's writer thread (inside `writer.submit` closures and the
    // recorders' `onRecords`, which run there); it is created there too.
    let store: JobStore

    init(_ store: JobStore) { self.store = store }
}

/// A job's counters as the store should hold them: `done` and `failed` follow the records written (on the writer
/// thread), `reassignedBatches` and `retries` follow the scheduler (from the service's tick).
final class JobTally: Sendable {
    private let state = Mutex(JobCounters.zero)

    var counters: JobCounters { state.withLock { $0 } }

    func reset(_ counters: JobCounters) { state.withLock { $0 = counters } }

    /// Adds a batch of records; returns the counters to store with it.
    func adding(done: Int, failed: Int) -> JobCounters {
        state.withLock {
            $0.done += done
            $0.failed += failed
            return $0
        }
    }

    func setDone(_ done: Int) -> JobCounters {
        state.withLock {
            $0.done = done
            return $0
        }
    }

    func setBatches(reassigned: Int, retries: Int) {
        state.withLock {
            $0.reassignedBatches = reassigned
            $0.retries = retries
        }
    }
}

/// A job running in this coordinator: what the service follows (its progress, from the service's tick) and what the
/// query desk answers `status`, `cancel` and `report` from, on its own thread. The progress is a snapshot the service
/// publishes; reading it never waits on the coordinator's loop or the service.
final class LiveJob: Sendable {
    let row: JobRow
    let spec: JobSpec
    let recorder: JobRecorder
    let tally: JobTally
    private let state: Mutex<State>
    static let rateWindow = 5.0

    private struct State {
        var progress: JobProgress
        var cancelRequested = false
        /// Set once the service is closing the job (its final report is next).
        var finishing = false
        /// (time, fetched: done minus cancelled) over the last few seconds, for the rate.
        var samples: [(time: Double, done: Int)] = []
    }

    init(row: JobRow, spec: JobSpec, recorder: JobRecorder, tally: JobTally) {
        self.row = row
        self.spec = spec
        self.recorder = recorder
        self.tally = tally
        let counters = tally.counters
        state = Mutex(State(progress: JobProgress(
            total: row.totalRequests, done: counters.done, failed: counters.failed, cancelled: 0, outstanding: 0,
            reassignedBatches: counters.reassignedBatches, retries: counters.retries)))
    }

    var progress: JobProgress { state.withLock { $0.progress } }

    var cancelRequested: Bool { state.withLock { $0.cancelRequested } }

    /// Notes that a cancel was asked; true the first time.
    func requestCancel() -> Bool {
        state.withLock { state in
            defer { state.cancelRequested = true }
            return !state.cancelRequested
        }
    }

    /// Marks the job as being closed by the service: from now on queries leave its recorder alone.
    func markFinishing() { state.withLock { $0.finishing = true } }

    /// Runs `body` unless the job is finishing, under the job's lock, so that whatever `body` queues on the
    /// recorder's thread goes before the final report; returns whether it ran. `body` must not wait.
    func unlessFinishing(_ body: () -> Void) -> Bool {
        state.withLock { state in
            guard !state.finishing else { return false }
            body()
            return true
        }
    }

    /// Publishes the scheduler's progress, read at `time`.
    func update(_ progress: JobProgress, at time: Double) {
        tally.setBatches(reassigned: progress.reassignedBatches, retries: progress.retries)
        state.withLock { state in
            state.progress = progress
            state.samples.append((time, progress.done - progress.cancelled))
            while let first = state.samples.first, time - first.time > Self.rateWindow { state.samples.removeFirst() }
        }
    }

    /// Fetched requests per second over the last few seconds (cancelling a job is no burst of work).
    private static func rate(_ samples: [(time: Double, done: Int)]) -> Double {
        guard let first = samples.first, let last = samples.last, last.time > first.time else { return 0 }
        return Double(last.done - first.done) / (last.time - first.time)
    }

    func status() -> JobStatus {
        let (progress, cancelRequested, rate) = state.withLock {
            ($0.progress, $0.cancelRequested, Self.rate($0.samples))
        }
        let state: JobStatus.State
        if cancelRequested {
            state = .cancelling
        } else if progress.done == 0 && progress.outstanding == 0 {
            state = .queued
        } else {
            state = .running
        }
        var status = JobStatus(
            id: row.id, name: row.name, state: state, total: progress.total, done: progress.done,
            failed: progress.failed, cancelled: progress.cancelled, rate: rate,
            reassignedBatches: progress.reassignedBatches, retries: progress.retries,
            submittedAt: row.submittedAt.timeIntervalSince1970, startedAt: row.startedAt?.timeIntervalSince1970,
            finishedAt: nil, outputDir: row.outputDirectory)
        status.crawl = spec.isCrawl ? true : nil
        return status
    }

    func reportInfo(state: ReportJobState, finishedAt: Date?, startedAt: Date? = nil) -> ReportJobInfo {
        ReportJobInfo(
            id: row.id, state: state, submittedAt: row.submittedAt, startedAt: row.startedAt ?? startedAt,
            finishedAt: finishedAt, spec: spec, outputDir: row.outputDirectory)
    }
}

/// The jobs running in this coordinator, by id: written by the service (a job joins once the coordinator runs it
/// and leaves once its end is in the store), read by the service and the query desk from any thread.
final class LiveJobBoard: Sendable {
    private let jobs = Mutex<[String: LiveJob]>([:])

    subscript(id: String) -> LiveJob? { jobs.withLock { $0[id] } }

    func insert(_ job: LiveJob) { jobs.withLock { $0[job.row.id] = job } }

    func remove(_ id: String) { jobs.withLock { _ = $0.removeValue(forKey: id) } }

    /// Every live job, by id.
    var all: [LiveJob] { jobs.withLock { $0.values.sorted { $0.row.id < $1.row.id } } }

    var isEmpty: Bool { jobs.withLock { $0.isEmpty } }
}
