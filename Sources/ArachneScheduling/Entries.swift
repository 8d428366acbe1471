/// A job inside the scheduler. Memory is one bit per key plus entries for keys in flight or leased more than once; a
/// growable job adds its host partition (8 bytes per unfinished key, 4 per finished one).
struct JobEntry: Sendable {
    let id: String
    /// Grows for a crawl, as its frontier admits URLs (one repetition).
    var space: KeySpace
    let weight: Int
    /// A crawl: keys are added by `extendJob` as the frontier admits URLs, and the job is not complete while a
    /// result's discoveries are still on their way to the frontier.
    var growable = false
    /// Accepted results of a growable job whose links the frontier has not yet settled (`extendJob`'s `settled`).
    var awaitingDiscoveries = 0
    /// A growable job's keys by host, each host leased to one worker at a time. A growable job leases from here;
    /// `cursor` and `requeue` serve list jobs only.
    var partition: HostPartition?
    /// Keys of this job one worker may hold at most (leased, not reported) when the worker's capacity is larger: the
    /// job's own concurrency, which a worker with more lanes does not override. `Int.max` for none.
    let perWorkerLimit: Int
    /// Keys with a terminal record (for a cancelled job, keys at or past `cancelCursor` count as terminal too).
    var terminal: KeyBitmap
    /// The next index never leased; keys before it are terminal, in flight, or in `requeue`.
    var cursor = 0
    /// Keys that came back from a worker, to lease again before advancing the cursor. May hold keys that became
    /// terminal since (a late result arrived); those are skipped.
    var requeue: [Int] = []
    /// Keys leased and not reported, with the batch holding each.
    var inFlight: [Int: UInt64] = [:]
    /// Leases so far, kept only for keys leased more than once.
    var attempts: [Int: Int] = [:]
    var done = 0
    var failed = 0
    var cancelled = 0
    var reassignedBatches = 0
    var retries = 0
    /// Set when the job is cancelled: keys from here on were never leased and are cancelled.
    var cancelCursor: Int?
    /// After cancelling, when keys still in flight are given up as cancelled.
    var cancelDeadline: Scheduler.Instant?
    /// When the job last got a lease, for round-robin between equally loaded jobs.
    var lastServed: UInt64 = 0

    init(id: String, space: KeySpace, weight: Int, perWorkerLimit: Int = .max) {
        self.id = id
        self.space = space
        self.weight = weight
        self.perWorkerLimit = perWorkerLimit
        self.terminal = KeyBitmap(count: space.total)
    }

    var outstanding: Int { inFlight.count }
    /// Keys that can be leased now: neither terminal nor in flight.
    var available: Int { space.total - done - outstanding }
    var isCancelling: Bool { cancelCursor != nil }

    func isTerminal(_ index: Int) -> Bool {
        if let cancelCursor, index >= cancelCursor { return true }
        return terminal.contains(index)
    }

    var progress: JobProgress {
        JobProgress(
            total: space.total, done: done, failed: failed, cancelled: cancelled, outstanding: outstanding,
            reassignedBatches: reassignedBatches, retries: retries
        )
    }

    /// Marks a key terminal and counts it.
    mutating func finish(_ index: Int, _ kind: Scheduler.RecordKind) {
        let inserted = terminal.insert(index)
        assert(inserted, "key \(index) of job \(id) finished twice")
        done += 1
        switch kind {
        case .fetched: break
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        case .skipped: break
        }
    }

    /// Takes up to `limit` keys to lease to the worker session `session`, `workers` sessions being alive: a growable
    /// job's from the hosts that session holds or claims, a list job's as `take(_:)` does.
    mutating func take(_ limit: Int, session: Int, workers: Int) -> [Int] {
        guard partition != nil else { return take(limit) }
        var retried: [Int] = []
        let keys = partition!.take(for: session, limit: limit, workers: workers, retried: &retried)
        for index in retried { attempts[index] = (attempts[index] ?? 1) + 1 }
        retries += retried.count
        return keys
    }

    /// Takes up to `limit` keys to lease: re-queued ones first, then fresh ones from the cursor.
    mutating func take(_ limit: Int) -> [Int] {
        var keys: [Int] = []
        keys.reserveCapacity(min(limit, available))
        while keys.count < limit, let index = requeue.popLast() {
            guard !terminal.contains(index) else { continue }
            let leases = (attempts[index] ?? 1) + 1
            attempts[index] = leases
            retries += 1
            keys.append(index)
        }
        while keys.count < limit, cursor < space.total {
            guard let index = terminal.firstClear(from: cursor, below: space.total) else {
                cursor = space.total
                break
            }
            keys.append(index)
            cursor = index + 1
        }
        return keys
    }
}

/// A connected worker's session.
struct WorkerEntry: Sendable {
    let id: String
    /// This session's number, unique in the scheduler's life (a worker that restarts under its id gets a new one):
    /// what owns a crawl's hosts.
    let session: Int
    let capacity: Int
    /// Requests it said it can still take and has not been leased.
    var credit = 0
    /// Keys in its leases without a result.
    var outstanding = 0
    /// `outstanding` by job, for jobs with a per-worker limit; entries at zero are removed.
    var outstandingByJob: [String: Int] = [:]
    /// Its leases, oldest first.
    var batches: [UInt64] = []
    var lastHeard: Scheduler.Instant
    var lastSent: Scheduler.Instant
    /// Jobs whose settings it has been sent.
    var knownJobs: Set<String> = []
}

/// A lease in flight.
struct BatchEntry: Sendable {
    let id: UInt64
    let worker: String
    let job: String
    let keys: [Int]
    /// Keys of the batch still in flight in it.
    var pending: Int
}
