import ArachneCore

/// What a job had already achieved before the coordinator restarted: the keys with a terminal record in the durable
/// store (never leased again) and the counters the report carries. Built key by key, one bit per key.
public struct JobResume: Sendable {
    let space: KeySpace
    private(set) var completed: KeyBitmap
    private(set) var done = 0
    private(set) var failed = 0
    private(set) var cancelled = 0
    /// Reassigned batches counted before the restart.
    public var reassignedBatches = 0
    /// Retries counted before the restart.
    public var retries = 0

    public init(urlCount: Int, repeatCount: Int) {
        space = KeySpace(urlCount: urlCount, repeatCount: repeatCount)
        completed = KeyBitmap(count: space.total)
    }

    /// Records that `key` has its terminal record. Returns false, changing nothing, for a key outside the job or one
    /// already marked.
    @discardableResult
    public mutating func markCompleted(_ key: RequestKey, kind: Scheduler.RecordKind) -> Bool {
        guard let index = space.index(of: key), completed.insert(index) else { return false }
        done += 1
        switch kind {
        case .fetched: break
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        case .skipped: break
        }
        return true
    }

    /// Whether the key at `index` (repetition-major, as in the job's key space) was marked.
    public func isCompleted(index: Int) -> Bool {
        index < completed.count && completed.contains(index)
    }

    /// Keys marked so far.
    public var completedCount: Int { done }
}
