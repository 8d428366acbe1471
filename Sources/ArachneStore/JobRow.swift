import Foundation

/// Where a job is in its life. `queued` and `running` are unfinished (resumed after a restart); the other three are
/// terminal and final.
public enum JobState: String, CaseIterable, Codable, Sendable, Hashable {
    case queued, running, completed, cancelled, failed

    /// True for `completed`, `cancelled` and `failed`: the job will never run again.
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .completed, .cancelled, .failed: true
        }
    }
}

/// A job's progress counters, persisted so a restarted coordinator reports what happened before the crash.
public struct JobCounters: Codable, Sendable, Hashable {
    /// Keys with a terminal record (fetched, failed or cancelled).
    public var done: Int
    /// Keys whose terminal record is a failure.
    public var failed: Int
    /// Batches re-leased to another worker after their worker went silent.
    public var reassignedBatches: Int
    /// Requests retried.
    public var retries: Int

    public init(done: Int = 0, failed: Int = 0, reassignedBatches: Int = 0, retries: Int = 0) {
        self.done = done
        self.failed = failed
        self.reassignedBatches = reassignedBatches
        self.retries = retries
    }

    public static let zero = JobCounters()
}

/// A job as the store knows it, without its (possibly large) spec: read that with `JobStore.spec(_:)`.
public struct JobRow: Sendable, Hashable {
    /// The job's id, "j-YYYYMMDD-NNNN" (UTC submission date, then a per-day sequence number).
    public var id: String
    public var state: JobState
    /// The spec's `name`, for listings.
    public var name: String?
    /// URLs in the spec.
    public var urlCount: Int
    /// Fetches of each URL.
    public var repeatCount: Int
    public var submittedAt: Date
    /// When the job first went `running`; nil until then.
    public var startedAt: Date?
    /// When the job reached a terminal state; nil until then.
    public var finishedAt: Date?
    /// Where the job's report, records and bodies are written.
    public var outputDirectory: String
    public var counters: JobCounters
    /// Why the job failed or was cancelled, when someone said.
    public var message: String?

    /// Terminal records the job will have: one per (URL, repetition).
    public var totalRequests: Int { urlCount * repeatCount }
}
