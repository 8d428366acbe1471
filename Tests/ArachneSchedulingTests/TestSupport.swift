import ArachneCore
import ArachneTestSupport
import Testing

@testable import ArachneScheduling

typealias Action = Scheduler.Action
typealias Instant = Scheduler.Instant

/// Every terminal record the coordinator would write, checked as it is written: never two for one key.
struct Ledger {
    enum Kind: Hashable { case result(Scheduler.RecordKind), workerLost(attempts: Int), cancelled }

    private(set) var records: [String: [RequestKey: Kind]] = [:]
    private(set) var finished: [String: (outcome: Scheduler.JobOutcome, progress: JobProgress)] = [:]
    private(set) var problems: [String] = []

    mutating func write(_ job: String, _ key: RequestKey, _ kind: Kind) {
        if let earlier = records[job]?[key] {
            problems.append("job \(job) key \(key): second terminal record \(kind), first was \(earlier)")
        }
        records[job, default: [:]][key] = kind
    }

    /// Writes the records the actions ask for and notes finished jobs.
    mutating func absorb(_ actions: [Action]) {
        for action in actions {
            switch action {
            case .recordWorkerLost(let job, let keys):
                for lost in keys { write(job, lost.key, .workerLost(attempts: lost.attempts)) }
            case .recordCancelled(let keys):
                var yielded = 0
                for key in keys {
                    write(keys.job, key, .cancelled)
                    yielded += 1
                }
                if yielded != keys.count {
                    problems.append("cancelled keys of \(keys.job) yielded \(yielded), announced \(keys.count)")
                }
            case .jobFinished(let job, let outcome, let progress):
                if finished[job] != nil { problems.append("job \(job) finished twice") }
                finished[job] = (outcome, progress)
            default:
                break
            }
        }
    }

    func count(_ job: String) -> Int { records[job]?.count ?? 0 }

    func kinds(_ job: String) -> [Kind] { Array((records[job] ?? [:]).values) }
}

/// A scheduler with a manual clock and a ledger of the records its decisions produce.
struct Harness {
    var scheduler: Scheduler
    var now = Instant(milliseconds: 0)
    var ledger = Ledger()
    /// The host of each key of a crawl job, by job.
    var crawlHosts: [String: (Int) -> Int] = [:]

    init(_ configuration: Scheduler.Configuration = .init(heartbeatIntervalMs: 100, leaseTimeoutMs: 500)) {
        scheduler = Scheduler(configuration: configuration)
    }

    mutating func advance(_ milliseconds: Int64) {
        now = now + milliseconds
    }

    @discardableResult
    mutating func run(_ event: (inout Scheduler, Instant) -> [Action]) -> [Action] {
        let actions = event(&scheduler, now)
        ledger.absorb(actions)
        return actions
    }

    @discardableResult
    mutating func addJob(
        _ id: String, urls: Int, repeats: Int = 1, weight: Int = 1, perWorkerLimit: Int? = nil,
        resume: JobResume? = nil
    ) -> [Action] {
        run {
            $0.addJob(id: id, urlCount: urls, repeatCount: repeats, weight: weight, perWorkerLimit: perWorkerLimit,
                      resume: resume, now: $1)
        }
    }

    @discardableResult
    mutating func join(_ worker: String, capacity: Int, credit: Int? = nil) -> [Action] {
        var actions = run { $0.workerJoined(worker, capacity: capacity, now: $1) }
        if let credit { actions += run { $0.credit(worker, credit, now: $1) } }
        return actions
    }

    @discardableResult
    mutating func credit(_ worker: String, _ n: Int) -> [Action] {
        run { $0.credit(worker, n, now: $1) }
    }

    @discardableResult
    mutating func tick() -> [Action] {
        run { $0.tick(now: $1) }
    }

    /// Reports a result for one key as `worker`, writing the record if accepted.
    @discardableResult
    mutating func report(
        _ worker: String, _ lease: Scheduler.Lease, _ key: RequestKey, _ kind: Scheduler.RecordKind = .fetched
    ) -> ResultDecision {
        let decision = scheduler.recordResult(
            worker: worker, job: lease.job, batch: lease.batch, key: key, kind: kind, now: now
        )
        if decision.isAccepted { ledger.write(lease.job, key, .result(kind)) }
        ledger.absorb(decision.actions)
        return decision
    }

    /// Reports every key of the lease; returns the actions that came with the decisions.
    @discardableResult
    mutating func complete(_ lease: Scheduler.Lease, as worker: String? = nil, kind: Scheduler.RecordKind = .fetched)
        -> [Action]
    {
        lease.keys.flatMap { report(worker ?? lease.worker, lease, $0, kind).actions }
    }
}

extension Array where Element == Scheduler.Action {
    var leases: [Scheduler.Lease] {
        compactMap { if case .sendLease(let lease) = $0 { lease } else { nil } }
    }

    var removedWorkers: [String] {
        compactMap { if case .workerRemoved(let worker, _) = $0 { worker } else { nil } }
    }

    var finishedJobs: [String] {
        compactMap { if case .jobFinished(let job, _, _) = $0 { job } else { nil } }
    }

    func leases(to worker: String) -> [Scheduler.Lease] { leases.filter { $0.worker == worker } }
}
