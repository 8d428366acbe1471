import ArachneCore
import ArachneTestSupport
import Testing

@testable import ArachneScheduling

/// A seeded simulation of a coordinator and workers that crash, stall past the lease timeout, leave and rejoin under
/// the same id, with messages delayed and results sometimes delivered twice. The workers play by the protocol's
/// rules (credit window, batchDone, ignoring leases before `welcome`, resetting on `error` unless already waiting for
/// `welcome`), and the coordinator by its own: it sends to a worker id over the connection of its latest hello, and
/// from an older connection of the same id it takes only results.
struct ClusterSimulation {
    enum Message {
        case hello(capacity: Int)
        case credit(Int)
        case result(job: String, batch: UInt64, key: RequestKey, kind: Scheduler.RecordKind)
        case batchDone(UInt64)
        case heartbeat
        case goodbye
    }

    struct Delivery {
        var at: Int64
        var sequence: Int
        var from: String
        /// The sender's connection: a crashed worker comes back on a new one.
        var connection: Int
        var message: Message
    }

    struct Item {
        var job: String
        var batch: UInt64
        var key: RequestKey
        var doneAt: Int64 = 0
    }

    enum State: Equatable {
        case down(until: Int64)
        case up
        case paused(until: Int64)
    }

    struct Worker {
        let id: String
        let capacity: Int
        var state: State
        var awaitingWelcome = true
        var granted = 0
        var received = 0
        var queued: [Item] = []
        var running: [Item] = []
        /// Keys of each lease not yet reported.
        var remaining: [UInt64: Int] = [:]
        var lastSent: Int64 = 0
        var connection = 0

        var window: Int { 2 * capacity }
    }

    struct JobPlan {
        var id: String
        var urls: Int
        var repeats: Int
        var addAt: Int64
        var cancelAt: Int64?
        var resumeFraction: Double = 0
        /// The job's own concurrency on each worker.
        var perWorkerLimit: Int?
    }

    var rng: SeededGenerator
    var h: Harness
    var workers: [Worker] = []
    var network: [Delivery] = []
    var sequence = 0
    var lastDelivery: [String: Int64] = [:]
    /// The coordinator's route for each worker id: the connection of its latest hello.
    var route: [String: Int] = [:]
    var plans: [JobPlan]
    var resumed: [String: Set<RequestKey>] = [:]
    var added: [String: Int64] = [:]
    var violations: [String] = []
    var finishedAt: [String: Int64] = [:]
    var crashes = 0
    var stalls = 0
    var duplicatesSent = 0
    let chaosUntil: Int64 = 15_000

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed)
        h = Harness(Scheduler.Configuration(heartbeatIntervalMs: 100, leaseTimeoutMs: 500, maxAttempts: 3))
        plans = [
            JobPlan(id: "reps", urls: 200, repeats: 10, addAt: 0, perWorkerLimit: 3),
            JobPlan(id: "wide", urls: 3_000, repeats: 1, addAt: 0),
            JobPlan(id: "cancelled", urls: 100, repeats: 50, addAt: 500, cancelAt: 4_000),
            JobPlan(id: "small", urls: 10, repeats: 1, addAt: 2_000),
            JobPlan(id: "resumed", urls: 400, repeats: 2, addAt: 1_000, resumeFraction: 0.4),
        ]
        for index in 0..<4 {
            let capacity = Int.random(in: 4...16, using: &rng)
            workers.append(Worker(id: "w\(index)", capacity: capacity, state: .down(until: 0)))
        }
        workers.append(Worker(id: "late", capacity: 8, state: .down(until: 5_000)))
    }

    var now: Int64 { h.now.milliseconds }

    mutating func send(_ worker: Int, _ message: Message, delayedBy extra: Int64 = 0) {
        let id = workers[worker].id
        let at = max(now + Int64.random(in: 0...20, using: &rng) + extra, lastDelivery[id] ?? 0)
        if extra == 0 { lastDelivery[id] = at }
        sequence += 1
        network.append(
            Delivery(at: at, sequence: sequence, from: id, connection: workers[worker].connection, message: message)
        )
        workers[worker].lastSent = now
    }

    /// A worker (re)starts its session: forgets everything, says hello and grants its window.
    mutating func reset(_ worker: Int) {
        let window = workers[worker].window
        workers[worker].awaitingWelcome = true
        workers[worker].queued = []
        workers[worker].running = []
        workers[worker].remaining = [:]
        workers[worker].received = 0
        workers[worker].granted = window
        send(worker, .hello(capacity: workers[worker].capacity))
        send(worker, .credit(window))
    }

    /// Carries out the scheduler's actions; `replyTo` is the connection of the message that caused them.
    mutating func carryOut(_ actions: [Action], replyTo: Int? = nil) {
        for action in actions {
            switch action {
            case .welcome(let id):
                guard let worker = reachable(id) else { continue }
                workers[worker].awaitingWelcome = false
            case .sendLease(let lease):
                guard let worker = reachable(lease.worker), !workers[worker].awaitingWelcome else { continue }
                let credit = workers[worker].granted - workers[worker].received
                if lease.keys.count > credit {
                    violations.append(
                        "lease \(lease.batch) of \(lease.keys.count) keys to \(lease.worker) with credit \(credit)"
                    )
                }
                if let limit = plans.first(where: { $0.id == lease.job })?.perWorkerLimit {
                    let held = h.scheduler.batches.values.filter { $0.job == lease.job && $0.worker == lease.worker }
                        .reduce(0) { $0 + $1.pending }
                    if held > limit {
                        violations.append("worker \(lease.worker) holds \(held) keys of \(lease.job), limit \(limit)")
                    }
                }
                workers[worker].received += lease.keys.count
                workers[worker].remaining[lease.batch] = lease.keys.count
                workers[worker].queued += lease.keys.map { Item(job: lease.job, batch: lease.batch, key: $0) }
            case .sendCancelJob(let id, let job):
                guard let worker = reachable(id) else { continue }
                // Queued requests of the job are dropped unreported; running ones end as cancelled.
                workers[worker].queued.removeAll { $0.job == job }
                let stopped = workers[worker].running.filter { $0.job == job }
                workers[worker].running.removeAll { $0.job == job }
                for item in stopped {
                    send(worker, .result(job: job, batch: item.batch, key: item.key, kind: .cancelled))
                }
                let batches = Set(stopped.map(\.batch)).union(h.scheduler.batches.values.filter {
                    $0.job == job && $0.worker == id
                }.map(\.id))
                for batch in batches.sorted() where workers[worker].remaining[batch] != nil {
                    workers[worker].remaining[batch] = nil
                    send(worker, .batchDone(batch))
                }
            case .sendError(let id, _):
                guard let worker = reachable(id, over: replyTo), !workers[worker].awaitingWelcome else { continue }
                reset(worker)
            default:
                break
            }
        }
    }

    /// The worker, if a message sent to it over `connection` (default: its route) reaches it.
    func reachable(_ id: String, over connection: Int? = nil) -> Int? {
        guard let index = workers.firstIndex(where: { $0.id == id }) else { return nil }
        if case .down = workers[index].state { return nil }
        guard let connection = connection ?? route[id], connection == workers[index].connection else { return nil }
        return index
    }

    mutating func deliver() {
        let time = now
        let due = network.filter { $0.at <= time }.sorted { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
        network.removeAll { $0.at <= time }
        for delivery in due {
            let id = delivery.from
            let stale = route[id].map { $0 != delivery.connection } ?? false
            let actions: [Action]
            switch delivery.message {
            case .hello(let capacity):
                route[id] = delivery.connection
                actions = h.join(id, capacity: capacity)
            case .credit where stale, .batchDone where stale, .heartbeat where stale, .goodbye where stale:
                continue
            case .credit(let n):
                actions = h.credit(id, n)
            case .result(let job, let batch, let key, let kind):
                let lease = Scheduler.Lease(batch: batch, job: job, worker: id, keys: [key], deadlineMs: 0)
                actions = h.report(id, lease, key, kind).actions
            case .batchDone(let batch):
                actions = h.run { $0.batchDone(id, batch: batch, now: $1) }
            case .heartbeat:
                actions = h.run { $0.heartbeat(id, now: $1) }
            case .goodbye:
                actions = h.run { $0.workerLeft(id, now: $1) }
            }
            carryOut(actions, replyTo: delivery.connection)
        }
    }

    mutating func stepWorker(_ worker: Int) {
        switch workers[worker].state {
        case .down(let until):
            guard now >= until else { return }
            workers[worker].state = .up
            reset(worker)
            return
        case .paused(let until):
            guard now >= until else { return }
            workers[worker].state = .up
        case .up:
            break
        }
        // Chaos.
        if now < chaosUntil {
            let roll = Double.random(in: 0..<1, using: &rng)
            if roll < 0.0015 {
                crashes += 1
                workers[worker].state = .down(until: now + Int64.random(in: 200...1_500, using: &rng))
                workers[worker].connection += 1
                return
            } else if roll < 0.0025 {
                stalls += 1
                workers[worker].state = .paused(until: now + Int64.random(in: 100...1_200, using: &rng))
                return
            } else if roll < 0.003 {
                send(worker, .goodbye)
                workers[worker].state = .down(until: now + Int64.random(in: 300...1_000, using: &rng))
                workers[worker].connection += 1
                return
            }
        }
        // Finish requests that are due, in order.
        let time = now
        let finished = workers[worker].running.filter { $0.doneAt <= time }
        workers[worker].running.removeAll { $0.doneAt <= time }
        for item in finished {
            let kind: Scheduler.RecordKind = Double.random(in: 0..<1, using: &rng) < 0.07 ? .failed : .fetched
            send(worker, .result(job: item.job, batch: item.batch, key: item.key, kind: kind))
            if Double.random(in: 0..<1, using: &rng) < 0.02 {
                duplicatesSent += 1
                send(worker, .result(job: item.job, batch: item.batch, key: item.key, kind: kind),
                     delayedBy: Int64.random(in: 0...2_000, using: &rng))
            }
            if let left = workers[worker].remaining[item.batch] {
                if left == 1 {
                    workers[worker].remaining[item.batch] = nil
                    send(worker, .batchDone(item.batch))
                } else {
                    workers[worker].remaining[item.batch] = left - 1
                }
            }
        }
        // Start queued requests while there is room.
        while workers[worker].running.count < workers[worker].capacity, !workers[worker].queued.isEmpty {
            var item = workers[worker].queued.removeFirst()
            item.doneAt = now + Int64.random(in: 20...200, using: &rng)
            workers[worker].running.append(item)
        }
        // Grant credit for free room in the window, a quarter of the capacity at a time.
        if !workers[worker].awaitingWelcome {
            let held = workers[worker].queued.count + workers[worker].running.count
            let unused = workers[worker].granted - workers[worker].received
            let free = workers[worker].window - held - unused
            if free >= max(1, workers[worker].capacity / 4) {
                workers[worker].granted += free
                send(worker, .credit(free))
            }
        }
        if now - workers[worker].lastSent >= 100 { send(worker, .heartbeat) }
    }

    mutating func run(maxSteps: Int) -> Bool {
        for _ in 0..<maxSteps {
            h.advance(5)
            for plan in plans where added[plan.id] == nil && now >= plan.addAt {
                added[plan.id] = now
                var resume: JobResume?
                if plan.resumeFraction > 0 {
                    var state = JobResume(urlCount: plan.urls, repeatCount: plan.repeats)
                    var keys: Set<RequestKey> = []
                    for u in 0..<plan.urls {
                        for r in 0..<plan.repeats where Double.random(in: 0..<1, using: &rng) < plan.resumeFraction {
                            let key = RequestKey(urlIndex: u, repetition: r)
                            state.markCompleted(key, kind: .fetched)
                            keys.insert(key)
                        }
                    }
                    resumed[plan.id] = keys
                    resume = state
                }
                carryOut(h.addJob(plan.id, urls: plan.urls, repeats: plan.repeats, perWorkerLimit: plan.perWorkerLimit,
                                  resume: resume))
            }
            for plan in plans where plan.cancelAt == now {
                carryOut(h.run { $0.cancelJob(plan.id, now: $1) })
            }
            deliver()
            for worker in workers.indices { stepWorker(worker) }
            carryOut(h.tick())
            for id in h.ledger.finished.keys where finishedAt[id] == nil { finishedAt[id] = now }
            if h.ledger.finished.count == plans.count && network.isEmpty { return true }
        }
        return false
    }
}

@Suite("Randomised cluster simulation")
struct SchedulerSimulationTests {
    @Test("every key of every job ends exactly once while workers crash, stall, leave and rejoin",
          arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func exactlyOnce(seed: UInt64) throws {
        var sim = ClusterSimulation(seed: seed)
        let completed = sim.run(maxSteps: 40_000)
        #expect(completed, "jobs finished: \(sim.h.ledger.finished.keys.sorted()) at \(sim.now) ms")
        #expect(sim.h.ledger.problems.isEmpty, "\(sim.h.ledger.problems.prefix(5))")
        #expect(sim.violations.isEmpty, "\(sim.violations.prefix(5))")
        // The chaos really happened.
        #expect(sim.crashes > 0 && sim.stalls > 0 && sim.duplicatesSent > 0)
        var reassigned = 0
        for plan in sim.plans {
            let finished = try #require(sim.h.ledger.finished[plan.id])
            let total = plan.urls * plan.repeats
            let before = sim.resumed[plan.id] ?? []
            #expect(finished.progress.done == total)
            #expect(finished.progress.outstanding == 0)
            #expect(sim.h.ledger.count(plan.id) == total - before.count, "job \(plan.id)")
            let recorded = Set((sim.h.ledger.records[plan.id] ?? [:]).keys)
            #expect(recorded.isDisjoint(with: before))
            #expect(recorded.count + before.count == total)
            #expect(finished.outcome == (plan.cancelAt == nil ? .completed : .cancelled))
            let failures = sim.h.ledger.kinds(plan.id).filter {
                if case .workerLost = $0 { return true }
                return $0 == .result(.failed)
            }.count
            #expect(finished.progress.failed == failures)
            reassigned += finished.progress.reassignedBatches
        }
        #expect(reassigned > 0)
        // The small job is not starved: it finishes soon after it is added (simulated time), while the big jobs
        // ahead of it take many seconds more.
        let smallAdded = try #require(sim.added["small"])
        let smallFinished = try #require(sim.finishedAt["small"])
        #expect(smallFinished - smallAdded < 3_000)
        #expect(sim.finishedAt.values.max()! - smallFinished > 5_000)
        // Nothing is left behind in the scheduler.
        #expect(sim.h.scheduler.jobIDs.isEmpty)
        #expect(sim.h.scheduler.batches.isEmpty)
        for id in sim.h.scheduler.workerIDs {
            #expect(sim.h.scheduler.load(of: id)?.outstanding == 0)
        }
    }
}
