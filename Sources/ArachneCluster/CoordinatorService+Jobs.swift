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

/// A job running in this coordinator, as the service follows it. Used only inside the service actor.
final class LiveJob {
    let row: JobRow
    let spec: JobSpec
    let recorder: JobRecorder
    let tally: JobTally
    var progress: JobProgress
    var cancelRequested = false
    /// (time, fetched: done minus cancelled) over the last few seconds, for the rate.
    private var samples: [(time: Double, done: Int)] = []
    static let rateWindow = 5.0

    init(row: JobRow, spec: JobSpec, recorder: JobRecorder, tally: JobTally) {
        self.row = row
        self.spec = spec
        self.recorder = recorder
        self.tally = tally
        let counters = tally.counters
        progress = JobProgress(
            total: row.totalRequests, done: counters.done, failed: counters.failed, cancelled: 0, outstanding: 0,
            reassignedBatches: counters.reassignedBatches, retries: counters.retries)
    }

    func update(_ progress: JobProgress, at time: Double) {
        self.progress = progress
        tally.setBatches(reassigned: progress.reassignedBatches, retries: progress.retries)
        samples.append((time, progress.done - progress.cancelled))
        while let first = samples.first, time - first.time > Self.rateWindow { samples.removeFirst() }
    }

    /// Fetched requests per second over the last few seconds (cancelling a job is no burst of work).
    var rate: Double {
        guard let first = samples.first, let last = samples.last, last.time > first.time else { return 0 }
        return Double(last.done - first.done) / (last.time - first.time)
    }

    func status() -> JobStatus {
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
