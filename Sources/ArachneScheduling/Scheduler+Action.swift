import ArachneCore

extension Scheduler {
    /// What the coordinator must do. Carry the actions out in the order given: a job's records always come before its
    /// `jobFinished`, and a worker's `sendJobSettings` before its first `sendLease` of that job.
    public enum Action: Sendable, Hashable {
        /// Accept the worker: send `welcome` with the configured heartbeat interval and lease timeout.
        case welcome(worker: String)
        /// Send the job's FetchSettings to the worker (it is about to get its first lease of the job).
        case sendJobSettings(worker: String, job: String)
        /// Send the lease to its worker, the keys with their URLs.
        case sendLease(Lease)
        /// Send a heartbeat: nothing else went to the worker for a heartbeat interval.
        case sendHeartbeat(worker: String)
        /// Tell the worker to stop the job's requests.
        case sendCancelJob(worker: String, job: String)
        /// Send an `error`: the worker spoke without a session (after being declared lost, say) and must say hello.
        case sendError(worker: String, message: String)
        /// The worker's session ended; its unfinished leases already went back to the queue. For `.restarted`, the
        /// new session with the same id follows at once.
        case workerRemoved(worker: String, reason: WorkerRemoval)
        /// Write one `worker-lost` failure record per key: each was leased `maxAttempts` times and every time its
        /// worker was lost (use `Scheduler.workerLostFailure(attempts:)` for the error).
        case recordWorkerLost(job: String, keys: [LostKey])
        /// Write one `cancelled` record per key of the (lazy) sequence.
        case recordCancelled(CancelledKeys)
        /// Every key of the job has its terminal record; the scheduler has forgotten the job.
        case jobFinished(job: String, outcome: JobOutcome, progress: JobProgress)
    }

    /// A batch of keys leased to one worker.
    public struct Lease: Sendable, Hashable {
        /// Unique within this scheduler; results and `batchDone` name it.
        public var batch: UInt64
        public var job: String
        public var worker: String
        public var keys: [RequestKey]
        /// The lease's deadline, relative, for the wire: the worker drops it after this long without word from the
        /// coordinator. Equal to the configured lease timeout.
        public var deadlineMs: Int
    }

    /// A key that ends as a `worker-lost` failure, and how many times it was leased.
    public struct LostKey: Sendable, Hashable {
        public var key: RequestKey
        public var attempts: Int
    }

    /// Why a worker's session ended.
    public enum WorkerRemoval: Sendable, Hashable {
        /// Nothing heard from it for the lease timeout.
        case silent(lastHeardMsAgo: Int64)
        /// It said goodbye.
        case goodbye
        /// It said hello again under the same id (it restarted); the old session's leases were re-queued.
        case restarted
    }

    /// How a job ended.
    public enum JobOutcome: String, Sendable, Hashable {
        /// Every key was fetched or failed.
        case completed
        /// It was cancelled; keys never fetched ended as `cancelled`.
        case cancelled
    }

    /// The kind of a terminal record, for progress counts.
    public enum RecordKind: Sendable, Hashable {
        /// A response arrived (any HTTP status).
        case fetched
        /// The request failed (DNS, connect, timeout, worker lost...).
        case failed
        /// The request was cancelled.
        case cancelled
        /// A crawl decided not to fetch the URL (a limit or trap rule): terminal, neither fetched nor failed.
        case skipped

        /// The kind of a record with this failure (nil: fetched).
        public init(_ failure: FetchFailure?) {
            switch failure?.kind {
            case nil: self = .fetched
            case .cancelled: self = .cancelled
            case .some(let kind) where kind.isSkip: self = .skipped
            case .some: self = .failed
            }
        }
    }

    /// The failure to record for a key in a `recordWorkerLost` action.
    public static func workerLostFailure(attempts: Int) -> FetchFailure {
        FetchFailure(
            kind: .workerLost,
            message: "the worker holding this request was lost \(attempts) time\(attempts == 1 ? "" : "s"); "
                + "not leased again"
        )
    }
}

/// Whether to keep a result a worker reported, and what else to do.
public struct ResultDecision: Sendable, Hashable {
    /// Keep or drop.
    public enum Verdict: Sendable, Hashable {
        /// Write the terminal record, with this attempt count: the key's first.
        case accept(attempts: Int)
        /// Drop the result.
        case drop(DropReason)
    }

    /// Why a result is dropped.
    public enum DropReason: String, Sendable, Hashable {
        /// The key already has its terminal record (a late result from a lost worker, or a repeat).
        case duplicate
        /// The job is not (or no longer) in the scheduler.
        case unknownJob = "unknown-job"
        /// The key is not in the job.
        case keyOutOfRange = "key-out-of-range"
    }

    public var verdict: Verdict
    /// To carry out after writing the record: the job's completion, leases for a worker that just ran dry.
    public var actions: [Scheduler.Action]

    /// True when the result is to be written.
    public var isAccepted: Bool {
        if case .accept = verdict { return true }
        return false
    }
}
