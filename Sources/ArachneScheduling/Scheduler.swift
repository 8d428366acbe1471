import ArachneCore

/// The coordinator's brain: jobs, workers, credits, leases, heartbeats and exact accounting, as a plain value with
/// no I/O and no clock of its own. Each event method takes `now` and returns the `Action`s the coordinator carries out.
///
/// Guarantees: a worker is never leased more keys than the credit it granted; every key of every job ends with
/// exactly one terminal record — an accepted result, a `worker-lost` failure after `maxAttempts` lost leases, or
/// `cancelled` — whatever workers die, restart or report twice; several jobs share the workers by outstanding work
/// per weight.
public struct Scheduler: Sendable {
    /// A point on the coordinator's monotonic clock, in milliseconds from an origin it chooses.
    public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
        public var milliseconds: Int64

        public init(milliseconds: Int64) {
            self.milliseconds = milliseconds
        }

        /// The instant `elapsed` after the origin (e.g. `ContinuousClock.now - start`).
        public init(elapsed: Duration) {
            let (seconds, attoseconds) = elapsed.components
            milliseconds = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        }

        public static func < (a: Instant, b: Instant) -> Bool { a.milliseconds < b.milliseconds }

        public static func + (instant: Instant, milliseconds: Int64) -> Instant {
            Instant(milliseconds: instant.milliseconds + milliseconds)
        }

        public var description: String { "\(milliseconds) ms" }
    }

    /// Timeouts, retry and batch-size rules.
    public struct Configuration: Sendable, Hashable {
        /// Each side sends something at least this often; the coordinator sends heartbeats to idle workers.
        public var heartbeatIntervalMs: Int64
        /// A worker silent this long is declared lost, and its leases go back to the queue.
        public var leaseTimeoutMs: Int64
        /// Leases of one key whose worker is lost before the key ends as a `worker-lost` failure.
        public var maxAttempts: Int
        /// A lease aims at a worker's capacity divided by this: a lost worker costs little, work spreads over
        /// workers, and dispatch stays far from being the bottleneck.
        public var batchDivisor: Int
        /// The largest lease.
        public var maxBatchSize: Int

        public init(
            heartbeatIntervalMs: Int64 = 1_000, leaseTimeoutMs: Int64 = 5_000, maxAttempts: Int = 3,
            batchDivisor: Int = 4, maxBatchSize: Int = 256
        ) {
            precondition(heartbeatIntervalMs > 0, "heartbeat interval must be positive")
            precondition(leaseTimeoutMs > heartbeatIntervalMs, "lease timeout must exceed the heartbeat interval")
            precondition(maxAttempts >= 1, "max attempts must be at least 1")
            precondition(batchDivisor >= 1 && maxBatchSize >= 1, "batch sizes must be positive")
            self.heartbeatIntervalMs = heartbeatIntervalMs
            self.leaseTimeoutMs = leaseTimeoutMs
            self.maxAttempts = maxAttempts
            self.batchDivisor = batchDivisor
            self.maxBatchSize = maxBatchSize
        }
    }

    /// A worker's load, for status displays and tests.
    public struct WorkerLoad: Sendable, Hashable {
        public var capacity: Int
        /// Requests it can still be leased.
        public var credit: Int
        /// Keys leased to it without a result.
        public var outstanding: Int
        /// Its leases in flight.
        public var leases: Int
        /// The lease size it gets when it has the credit.
        public var targetBatchSize: Int
    }

    public let configuration: Configuration

    // Jobs and workers live in arrays (stable, deterministic order) with an index by id.
    var jobs: [JobEntry] = []
    var jobIndex: [String: Int] = [:]
    var workers: [WorkerEntry] = []
    var workerIndex: [String: Int] = [:]
    var batches: [UInt64: BatchEntry] = [:]
    var nextBatch: UInt64 = 1
    var serveCounter: UInt64 = 0
    var dispatchRotation = 0
    /// The last worker session number given (sessions own a crawl's hosts).
    var lastSession = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: Jobs

    /// Adds a job of `urlCount` URLs fetched `repeatCount` times each. Keys are handed out lazily, in passes over the
    /// URLs. `weight` gives the job a larger share of the workers when several jobs run. `perWorkerLimit` caps the
    /// keys of this job any one worker holds at once (the job's concurrency; nil: the worker's capacity decides).
    /// `resume` names keys that already have their terminal record (from the durable store): they are never leased.
    ///
    /// A `growable` job (a crawl) leases its keys by host, each host to one worker at a time, at most `hostWindow`
    /// keys of a host in flight: `hosts` gives the host of every key without a terminal record (host ids are small
    /// integers the caller interns per job).
    public mutating func addJob(
        id: String, urlCount: Int, repeatCount: Int, weight: Int = 1, perWorkerLimit: Int? = nil,
        resume: JobResume? = nil, growable: Bool = false, hosts: [(index: Int, host: Int)] = [],
        hostWindow: Int = .max, now: Instant
    ) -> [Action] {
        precondition(!growable || repeatCount == 1, "a growable (crawl) job fetches each URL once")
        precondition(jobIndex[id] == nil, "job '\(id)' is already in the scheduler")
        precondition((1...10_000).contains(weight), "a job's weight must be between 1 and 10000")
        precondition((perWorkerLimit ?? 1) >= 1, "a job's per-worker limit must be at least 1")
        let space = KeySpace(urlCount: urlCount, repeatCount: repeatCount)
        var job = JobEntry(id: id, space: space, weight: weight, perWorkerLimit: perWorkerLimit ?? .max)
        job.growable = growable
        if let resume {
            precondition(resume.space == space, "resume state of job '\(id)' has another shape than the job")
            job.terminal = resume.completed
            job.done = resume.done
            job.failed = resume.failed
            job.cancelled = resume.cancelled
            job.reassignedBatches = resume.reassignedBatches
            job.retries = resume.retries
        }
        if growable {
            var partition = HostPartition(window: hostWindow)
            partition.grow(to: space.total)
            for (index, host) in hosts {
                precondition((0..<space.total).contains(index) && !job.terminal.contains(index),
                             "job '\(id)': key \(index) given a host is not an unfinished key")
                partition.add(index, host: host)
            }
            precondition(partition.pendingCount == space.total - job.done, "job '\(id)': an unfinished key has no host")
            job.partition = partition
        } else {
            precondition(hosts.isEmpty, "job '\(id)': only a growable job's keys have hosts")
        }
        jobIndex[id] = jobs.count
        jobs.append(job)
        var actions: [Action] = []
        finishIfComplete(jobs.count - 1, into: &actions)
        dispatch(now: now, into: &actions)
        return actions
    }

    /// Cancels a job: nothing more is leased, workers holding its leases are told, and every key never fetched ends
    /// as `cancelled` (one lazy `recordCancelled`). Results of requests already in flight are still accepted; keys
    /// whose results do not arrive within the lease timeout end as `cancelled` too. Unknown or already cancelled
    /// jobs give no actions.
    public mutating func cancelJob(_ id: String, now: Instant) -> [Action] {
        guard let index = jobIndex[id], !jobs[index].isCancelling else { return [] }
        var actions: [Action] = []
        let keys = jobs[index].partition == nil ? cancelQueued(index) : cancelPending(index)
        jobs[index].cancelDeadline = now + configuration.leaseTimeoutMs
        if keys.count > 0 { actions.append(.recordCancelled(keys)) }
        for workerPosition in workers.indices where workers[workerPosition].knownJobs.contains(id) {
            workers[workerPosition].lastSent = now
            actions.append(.sendCancelJob(worker: workers[workerPosition].id, job: id))
        }
        finishIfComplete(index, into: &actions)
        return actions
    }

    /// Cancels a list job's queued keys: those re-queued, listed, and the never-leased range past the cursor.
    private mutating func cancelQueued(_ index: Int) -> CancelledKeys {
        let range: Range<Int>
        let listed: [Int]
        let count: Int
        let skip: KeyBitmap
        do {
            let job = jobs[index]
            range = job.cursor..<job.space.total
            listed = Set(job.requeue.filter { !job.terminal.contains($0) }).sorted()
            skip = job.terminal
            count = listed.count + range.count - job.terminal.countSet(in: range)
        }
        for key in listed { jobs[index].finish(key, .cancelled) }
        jobs[index].requeue = []
        jobs[index].cancelCursor = range.lowerBound
        jobs[index].cursor = range.upperBound
        let rangeCount = count - listed.count
        jobs[index].done += rangeCount
        jobs[index].cancelled += rangeCount
        return CancelledKeys(
            job: jobs[index].id, space: jobs[index].space, listed: listed, range: range, skip: skip, count: count)
    }

    /// The job's progress, or nil when it is not in the scheduler (never added, or finished).
    public func progress(of job: String) -> JobProgress? {
        jobIndex[job].map { jobs[$0].progress }
    }

    /// Jobs in the scheduler, in the order they were added.
    public var jobIDs: [String] { jobs.map(\.id) }

    // MARK: Workers

    /// A worker said hello. A known id means the worker restarted: its old session's leases go back to the queue first.
    /// The new session starts with no credit.
    public mutating func workerJoined(_ worker: String, capacity: Int, now: Instant) -> [Action] {
        precondition(capacity >= 1, "a worker's capacity must be at least 1")
        var actions: [Action] = []
        if let position = workerIndex[worker] {
            removeWorker(at: position, reason: .restarted, now: now, into: &actions)
        }
        workerIndex[worker] = workers.count
        lastSession += 1
        workers.append(WorkerEntry(id: worker, session: lastSession, capacity: capacity, lastHeard: now, lastSent: now))
        actions.append(.welcome(worker: worker))
        dispatch(now: now, into: &actions)
        return actions
    }

    /// The worker can take `n` more requests.
    public mutating func credit(_ worker: String, _ n: Int, now: Instant) -> [Action] {
        guard let position = heard(worker, now: now) else { return [unknownWorker(worker)] }
        let (sum, overflow) = workers[position].credit.addingReportingOverflow(max(0, n))
        workers[position].credit = overflow ? Int.max : sum
        var actions: [Action] = []
        dispatch(now: now, into: &actions)
        return actions
    }

    /// The worker is alive.
    public mutating func heartbeat(_ worker: String, now: Instant) -> [Action] {
        guard heard(worker, now: now) != nil else { return [unknownWorker(worker)] }
        return []
    }

    /// The worker has reported all it will report of the lease. Keys of it without a result go back to the queue
    /// (or end as `cancelled`, for a cancelled job).
    public mutating func batchDone(_ worker: String, batch: UInt64, now: Instant) -> [Action] {
        guard heard(worker, now: now) != nil else { return [unknownWorker(worker)] }
        var actions: [Action] = []
        guard let entry = batches[batch], entry.worker == worker else { return actions }
        returnBatch(batch, into: &actions)
        dispatch(now: now, into: &actions)
        return actions
    }

    /// The worker is leaving; its unfinished leases go back to the queue.
    public mutating func workerLeft(_ worker: String, now: Instant) -> [Action] {
        guard let position = workerIndex[worker] else { return [] }
        var actions: [Action] = []
        removeWorker(at: position, reason: .goodbye, now: now, into: &actions)
        dispatch(now: now, into: &actions)
        return actions
    }

    /// A worker's load, or nil when no session has that id.
    public func load(of worker: String) -> WorkerLoad? {
        workerIndex[worker].map { position in
            let entry = workers[position]
            return WorkerLoad(
                capacity: entry.capacity, credit: entry.credit, outstanding: entry.outstanding,
                leases: entry.batches.count, targetBatchSize: targetBatchSize(capacity: entry.capacity)
            )
        }
    }

    /// Workers with a session, in the order they joined.
    public var workerIDs: [String] { workers.map(\.id) }

    // MARK: Results

    /// A worker reported the result of `key`. Accept it (write its terminal record, with the attempt count given) if
    /// the key has none yet — even from a worker since declared lost, since the fetch did happen; drop it otherwise.
    public mutating func recordResult(
        worker: String, job: String, batch: UInt64, key: RequestKey, kind: RecordKind, now: Instant
    ) -> ResultDecision {
        _ = heard(worker, now: now)
        guard let jobPosition = jobIndex[job] else {
            return ResultDecision(verdict: .drop(.unknownJob), actions: [])
        }
        guard let index = jobs[jobPosition].space.index(of: key) else {
            return ResultDecision(verdict: .drop(.keyOutOfRange), actions: [])
        }
        guard !jobs[jobPosition].isTerminal(index) else {
            return ResultDecision(verdict: .drop(.duplicate), actions: [])
        }
        jobs[jobPosition].finish(index, kind)
        if jobs[jobPosition].growable { jobs[jobPosition].awaitingDiscoveries += 1 }
        let attempts = jobs[jobPosition].attempts.removeValue(forKey: index) ?? 1
        var actions: [Action] = []
        var holder: Int?
        let batch = jobs[jobPosition].inFlight.removeValue(forKey: index)
        jobs[jobPosition].partition?.finish(index, wasInFlight: batch != nil)
        if let batch {
            holder = settle(batch)
        }
        finishIfComplete(jobPosition, into: &actions)
        // A worker whose credit is below a full batch waits for more credit unless it has run dry: lease to it now.
        if let holder, workers[holder].outstanding == 0, workers[holder].credit > 0 {
            dispatch(now: now, into: &actions)
        }
        return ResultDecision(verdict: .accept(attempts: attempts), actions: actions)
    }

    // MARK: Time

    /// Declares silent workers lost (re-queueing their leases), gives up in-flight keys of cancelled jobs past their
    /// deadline, and sends heartbeats to workers nothing was sent to for a heartbeat interval. Call it at
    /// `nextDeadline` or on a steady timer.
    public mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        let silent = workers.map { ($0.id, now.milliseconds - $0.lastHeard.milliseconds) }
            .filter { $0.1 >= configuration.leaseTimeoutMs }
        for (worker, quiet) in silent {
            guard let position = workerIndex[worker] else { continue }
            removeWorker(at: position, reason: .silent(lastHeardMsAgo: quiet), now: now, into: &actions)
        }
        let expired = jobs.filter { job in job.cancelDeadline.map { now >= $0 } ?? false }.map(\.id)
        for job in expired {
            if let position = jobIndex[job] { abandonInFlight(position, into: &actions) }
        }
        for position in workers.indices
        where now.milliseconds - workers[position].lastSent.milliseconds >= configuration.heartbeatIntervalMs {
            workers[position].lastSent = now
            actions.append(.sendHeartbeat(worker: workers[position].id))
        }
        dispatch(now: now, into: &actions)
        return actions
    }

    /// The next instant `tick` has something to do, or nil when nothing is pending.
    public var nextDeadline: Instant? {
        var earliest: Instant?
        func consider(_ instant: Instant) {
            if earliest.map({ instant < $0 }) ?? true { earliest = instant }
        }
        for worker in workers {
            consider(worker.lastHeard + configuration.leaseTimeoutMs)
            consider(worker.lastSent + configuration.heartbeatIntervalMs)
        }
        for job in jobs {
            if let deadline = job.cancelDeadline { consider(deadline) }
        }
        return earliest
    }

    // MARK: Helpers

    /// Notes that the worker was heard from; its position, or nil when it has no session.
    mutating func heard(_ worker: String, now: Instant) -> Int? {
        guard let position = workerIndex[worker] else { return nil }
        if now > workers[position].lastHeard { workers[position].lastHeard = now }
        return position
    }

    func unknownWorker(_ worker: String) -> Action {
        .sendError(worker: worker, message: "unknown worker '\(worker)' (no session, or declared lost): send hello")
    }

    func targetBatchSize(capacity: Int) -> Int {
        max(1, min(configuration.maxBatchSize, capacity / configuration.batchDivisor))
    }
}
