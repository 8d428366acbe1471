import ArachneCore
import ArachneTestSupport
import Testing

@testable import ArachneScheduling

extension Harness {
    /// Adds a growable (crawl) job of `seeds` keys, on the hosts `hostOf` gives (one host, by default), at most
    /// `window` keys of a host in flight.
    @discardableResult
    mutating func addCrawl(_ id: String, seeds: Int, window: Int = .max, hostOf: @escaping (Int) -> Int = { _ in 0 })
        -> [Action]
    {
        crawlHosts[id] = hostOf
        let hosts = (0..<seeds).map { (index: $0, host: hostOf($0)) }
        return run {
            $0.addJob(id: id, urlCount: seeds, repeatCount: 1, growable: true, hosts: hosts, hostWindow: window,
                      now: $1)
        }
    }

    /// The frontier admitted URLs: the job now has `urlCount` keys, `skipped` of the new ones with their skip record
    /// (written here, as the coordinator writes them with the frontier's batch), the others on their hosts, and
    /// `settled` results' discoveries are settled.
    @discardableResult
    mutating func extend(_ id: String, to urlCount: Int, skipped: [Int] = [], settled: Int) -> [Action] {
        for index in skipped { ledger.write(id, RequestKey(urlIndex: index, repetition: 0), .result(.skipped)) }
        let old = scheduler.progress(of: id)?.total ?? urlCount
        let hostOf = crawlHosts[id] ?? { _ in 0 }
        let skip = Set(skipped)
        let hosts = (old..<max(old, urlCount)).filter { !skip.contains($0) }.map { (index: $0, host: hostOf($0)) }
        return run {
            $0.extendJob(id, urlCount: urlCount, terminal: skipped, hosts: hosts, settled: settled, now: $1)
        }
    }
}

private func key(_ index: Int) -> RequestKey { RequestKey(urlIndex: index, repetition: 0) }

private func cancelledKeys(_ actions: [Action]) -> [RequestKey] {
    actions.flatMap { action -> [RequestKey] in
        if case .recordCancelled(let keys) = action { Array(keys) } else { [] }
    }
}

@Suite("Crawl jobs: growing, awaiting discoveries, cancelling while they arrive")
struct SchedulerCrawlTests {
    @Test("a growable job grows with extendJob; new keys are leased, skipped keys never leased and counted done")
    func grows() throws {
        var h = Harness()
        h.addCrawl("c", seeds: 1)
        let seedLease = try #require(h.join("w1", capacity: 16, credit: 16).leases.first)
        #expect(seedLease.keys == [key(0)])
        #expect(h.complete(seedLease).finishedJobs.isEmpty)
        // The seed's page links to five URLs; the frontier skipped two of them (a limit or a trap).
        let grown = h.extend("c", to: 6, skipped: [2, 4], settled: 1)
        let leased = grown.leases.flatMap(\.keys)
        #expect(Set(leased) == [key(1), key(3), key(5)])
        #expect(leased.count == 3)
        #expect(h.scheduler.progress(of: "c") == JobProgress(
            total: 6, done: 3, failed: 0, cancelled: 0, outstanding: 3, reassignedBatches: 0, retries: 0))
        // Their pages link to nothing new; once their discoveries are settled the job is complete.
        for lease in grown.leases { #expect(h.complete(lease).finishedJobs.isEmpty) }
        #expect(h.extend("c", to: 6, settled: 3).finishedJobs == ["c"])
        let finished = try #require(h.ledger.finished["c"])
        #expect(finished.outcome == .completed)
        #expect(finished.progress.total == 6 && finished.progress.done == 6)
        #expect(Set(h.ledger.records["c"]!.keys) == Set((0..<6).map(key)))
        #expect(h.ledger.kinds("c").filter { $0 == .result(.skipped) }.count == 2)
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("keys skipped in the middle of the key space are jumped over by the cursor, and more credit leases nothing")
    func skippedNeverLeased() throws {
        var h = Harness()
        h.addCrawl("c", seeds: 1)
        let seed = try #require(h.join("w1", capacity: 4, credit: 4).leases.first)
        h.complete(seed)
        // Every other new key is skipped.
        let skipped = Array(stride(from: 1, to: 41, by: 2))
        var leased = h.extend("c", to: 41, skipped: skipped, settled: 1).leases
        #expect(!leased.isEmpty)
        var keys: [RequestKey] = []
        for _ in 0..<100 {
            guard let lease = leased.first else { break }
            leased.removeFirst()
            keys += lease.keys
            h.complete(lease)
            leased += h.credit("w1", lease.keys.count).leases
        }
        #expect(keys.sorted { $0.urlIndex < $1.urlIndex } == stride(from: 2, to: 41, by: 2).map(key))
        let all = h.ledger.records["c"]!
        #expect(all.count == 41)
        for index in skipped { #expect(all[key(index)] == .result(.skipped), "key \(index)") }
        #expect(h.credit("w1", 100).leases.isEmpty)
        #expect(h.scheduler.progress(of: "c")?.done == 41)
        #expect(h.scheduler.progress(of: "c")?.outstanding == 0)
    }

    static let settleCases: [(results: Int, settles: [Int])] = [
        (1, [1]),
        (3, [1, 1, 1]),
        (3, [2, 1]),
        (3, [0, 3]),
        (5, [1, 0, 2, 2]),
    ]

    @Test("the job does not finish while discoveries are awaited, even with every known key terminal",
          arguments: settleCases)
    func awaitsDiscoveries(results: Int, settles: [Int]) throws {
        var h = Harness()
        h.addCrawl("c", seeds: results)
        let leases = h.join("w1", capacity: 64, credit: 64).leases
        #expect(leases.flatMap(\.keys).count == results)
        for lease in leases { #expect(h.complete(lease).finishedJobs.isEmpty) }
        let progress = try #require(h.scheduler.progress(of: "c"))
        #expect(progress.done == progress.total)
        // A tick (as the coordinator's timer does) does not finish it either.
        h.advance(100)
        #expect(h.tick().finishedJobs.isEmpty)
        var settled = 0
        for (step, count) in settles.enumerated() {
            settled += count
            let actions = h.extend("c", to: results, settled: count)
            if step < settles.count - 1 {
                #expect(actions.finishedJobs.isEmpty, "finished with \(settled) of \(results) settled")
                #expect(h.scheduler.progress(of: "c") != nil)
            } else {
                #expect(actions.finishedJobs == ["c"])
            }
        }
        #expect(h.ledger.finished["c"]?.outcome == .completed)
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("failed results await their (empty) discoveries too; a settle for a finished job is ignored")
    func failedResultsAwait() throws {
        var h = Harness()
        h.addCrawl("c", seeds: 2)
        let lease = try #require(h.join("w1", capacity: 8, credit: 8).leases.first)
        h.report("w1", lease, key(0), .failed)
        h.report("w1", lease, key(1), .fetched)
        #expect(h.extend("c", to: 2, settled: 1).finishedJobs.isEmpty)
        #expect(h.extend("c", to: 2, settled: 1).finishedJobs == ["c"])
        #expect(h.ledger.finished["c"]?.progress.failed == 1)
        #expect(h.run { $0.extendJob("c", urlCount: 9, terminal: [], settled: 1, now: $1) }.isEmpty)
    }

    /// What happens to keys in flight when the job is cancelled.
    enum InFlightEnd: String, CaseIterable, Sendable {
        /// Their results arrive (accepted, each awaiting its discoveries).
        case report
        /// They never report: the cancel deadline gives them up.
        case abandon
        /// Their worker leaves: they end as cancelled, not re-queued.
        case workerLeaves
    }

    @Test("cancelling while discoveries still arrive: keys added after the cancel end as cancelled exactly once",
          arguments: InFlightEnd.allCases)
    func cancelWhileGrowing(end: InFlightEnd) throws {
        var h = Harness()
        h.addCrawl("c", seeds: 6)
        let leases = h.join("w1", capacity: 16, credit: 4).leases
        let held = try #require(leases.first)
        #expect(held.keys == (0..<4).map(key))
        // Two results arrive; their discoveries are on the way to the frontier.
        h.report("w1", held, key(0))
        h.report("w1", held, key(1))
        let cancel = h.run { $0.cancelJob("c", now: $1) }
        // The two never-leased seeds are cancelled at once; the two in flight are not yet.
        #expect(Set(cancelledKeys(cancel)) == [key(4), key(5)])
        #expect(cancel.contains(.sendCancelJob(worker: "w1", job: "c")))
        #expect(cancel.finishedJobs.isEmpty)

        // The first result's discoveries: six new URLs, one of them skipped.
        let first = h.extend("c", to: 12, skipped: [8], settled: 1)
        #expect(first.leases.isEmpty)
        #expect(Set(cancelledKeys(first)) == Set([6, 7, 9, 10, 11].map(key)))
        #expect(first.finishedJobs.isEmpty)
        // More credit leases nothing of a cancelled job.
        #expect(h.credit("w1", 64).leases.isEmpty)

        switch end {
        case .report:
            h.report("w1", held, key(2))
            h.report("w1", held, key(3), .cancelled)
        case .abandon:
            h.advance(300)
            _ = h.run { $0.heartbeat("w1", now: $1) }
            h.advance(300)
            _ = h.run { $0.heartbeat("w1", now: $1) }
            #expect(h.tick().finishedJobs.isEmpty, "a result is still awaited")
            #expect(Set(h.ledger.records["c"]!.filter { $0.value == .cancelled }.keys).isSuperset(of: [key(2), key(3)]))
        case .workerLeaves:
            #expect(h.run { $0.workerLeft("w1", now: $1) }.finishedJobs.isEmpty)
            #expect(Set(h.ledger.records["c"]!.filter { $0.value == .cancelled }.keys).isSuperset(of: [key(2), key(3)]))
        }
        let awaited = end == .report ? 3 : 1

        // The second result's discoveries: two new URLs, both cancelled; the last batch settles everything.
        var last = h.extend("c", to: 14, settled: 1)
        #expect(Set(cancelledKeys(last)) == [key(12), key(13)])
        if awaited > 1 {
            #expect(last.finishedJobs.isEmpty)
            last = h.extend("c", to: 15, skipped: [14], settled: awaited - 1)
            #expect(cancelledKeys(last).isEmpty)
        }
        #expect(last.finishedJobs == ["c"])
        let finished = try #require(h.ledger.finished["c"])
        #expect(finished.outcome == .cancelled)
        let total = awaited > 1 ? 15 : 14
        #expect(finished.progress.total == total && finished.progress.done == total)
        #expect(Set(h.ledger.records["c"]!.keys) == Set((0..<total).map(key)))
        #expect(h.ledger.problems.isEmpty)
        // Later frontier batches (there are none in a correct coordinator) find no job.
        #expect(h.extend("c", to: 20, settled: 0).isEmpty)
    }

    @Test("a lost worker's crawl keys are re-leased to another worker, and their results still await discoveries")
    func lostWorkerReleased() throws {
        var h = Harness()
        h.addCrawl("c", seeds: 1)
        let seed = try #require(h.join("w1", capacity: 16, credit: 16).leases.first)
        h.complete(seed)
        let onW1 = h.extend("c", to: 9, settled: 1).leases
        #expect(onW1.allSatisfy { $0.worker == "w1" })
        #expect(Set(onW1.flatMap(\.keys)) == Set((1..<9).map(key)))
        // w1 reports one key of its first lease, then falls silent; w2 keeps talking.
        h.report("w1", onW1[0], onW1[0].keys[0])
        h.join("w2", capacity: 16, credit: 16)
        h.advance(300)
        _ = h.run { $0.heartbeat("w2", now: $1) }
        h.advance(300)
        let lost = h.tick()
        #expect(lost.removedWorkers == ["w1"])
        let again = lost.leases
        #expect(again.allSatisfy { $0.worker == "w2" })
        let relet = Set(again.flatMap(\.keys))
        #expect(relet == Set((1..<9).map(key)).subtracting([onW1[0].keys[0]]))
        var attempts: [Int] = []
        for lease in again {
            for key in lease.keys {
                if case .accept(let n) = h.report("w2", lease, key).verdict { attempts.append(n) }
            }
        }
        #expect(attempts.count == 7 && attempts.allSatisfy { $0 == 2 })
        // The lost worker's late result for a re-leased key is a duplicate.
        #expect(h.report("w1", onW1.last!, onW1.last!.keys.last!).verdict == .drop(.duplicate))
        let progress = try #require(h.scheduler.progress(of: "c"))
        #expect(progress.done == 9 && progress.reassignedBatches >= 1 && progress.retries == 7)
        #expect(h.extend("c", to: 9, settled: 7).finishedJobs.isEmpty, "one result is still awaited")
        #expect(h.extend("c", to: 9, settled: 1).finishedJobs == ["c"])
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("random link graphs, worker losses and duplicate results: exactly one terminal record per key added",
          arguments: Array(UInt64(1)...UInt64(24)))
    func simulation(seed: UInt64) {
        var simulation = CrawlSimulation(seed: seed)
        simulation.run()
        #expect(simulation.problems.isEmpty, "\(simulation.problems.prefix(5))")
        let h = simulation.h
        #expect(h.ledger.problems.isEmpty, "\(h.ledger.problems.prefix(5))")
        guard let finished = h.ledger.finished["crawl"] else {
            Issue.record("seed \(seed): the crawl never finished: \(simulation.summary)")
            return
        }
        #expect(finished.outcome == (simulation.cancelled ? .cancelled : .completed))
        let keys = simulation.nodeOfKey.count
        #expect(finished.progress.total == keys)
        #expect(h.ledger.count("crawl") == keys, "\(simulation.summary)")
        #expect(Set(h.ledger.records["crawl"]?.keys ?? [:].keys) == Set((0..<keys).map(key)))
        if !simulation.cancelled {
            // The job did not finish before every fetched page's links were admitted: each node a fetched page links
            // to has its key.
            #expect(simulation.pendingSettle.isEmpty)
            for (key, kind) in h.ledger.records["crawl"] ?? [:] where kind == .result(.fetched) {
                let missing = simulation.graph[simulation.nodeOfKey[key.urlIndex]].filter {
                    !simulation.seen.contains($0)
                }
                #expect(missing.isEmpty, "links of key \(key) never admitted: \(missing)")
            }
        }
    }

    @Test("the simulations do lose workers, re-lease keys and deliver duplicates")
    func simulationExercisesChaos() {
        var losses = 0, duplicates = 0, reassigned = 0, cancelled = 0, keys = 0
        for seed in UInt64(1)...UInt64(24) {
            var simulation = CrawlSimulation(seed: seed)
            simulation.run()
            if simulation.cancelled { cancelled += 1 }
            keys += simulation.nodeOfKey.count
            losses += simulation.losses
            duplicates += simulation.duplicates
            reassigned += simulation.h.ledger.finished["crawl"]?.progress.reassignedBatches ?? 0
        }
        #expect(losses >= 24 && duplicates >= 24 && reassigned >= 24, "\(losses) \(duplicates) \(reassigned)")
        #expect(cancelled >= 4 && keys >= 24 * 50, "\(cancelled) cancelled, \(keys) keys")
    }
}

/// A crawl through a random link graph: a frontier that admits each node once (some as skips), workers that report
/// results (sometimes twice, sometimes after they were lost), leave, fall silent and come back.
struct CrawlSimulation {
    var rng: SeededGenerator
    var h = Harness(Scheduler.Configuration(heartbeatIntervalMs: 100, leaseTimeoutMs: 500, maxAttempts: 3))
    let graph: [[Int]]
    /// Nodes the frontier skips when it finds them (a limit or a trap).
    let skipNodes: Set<Int>
    var nodeOfKey: [Int] = []
    var seen: Set<Int> = []
    /// Accepted results whose discoveries the frontier has not admitted yet, with whether the page was fetched.
    var pendingSettle: [(key: Int, fetched: Bool)] = []
    /// Keys each live worker holds, with their lease.
    var held: [String: [(lease: Scheduler.Lease, key: RequestKey)]] = [:]
    /// Keys lost workers held: their results may still arrive late.
    var zombies: [(worker: String, lease: Scheduler.Lease, key: RequestKey)] = []
    /// Results already reported, to report again.
    var reported: [(worker: String, lease: Scheduler.Lease, key: RequestKey)] = []
    var silent: Set<String> = []
    let workerIDs: [String]
    /// Keys are on `hosts` hosts (key index modulo), at most `window` of a host in flight.
    let hosts: Int
    let window: Int
    /// Workers that ever held a key.
    var holders: Set<String> = []
    var down: Set<String> = []
    let cancelAt: Int?
    /// Whether the cancel happened (the crawl may finish before `cancelAt`).
    var cancelled = false
    var steps = 0
    var losses = 0
    var duplicates = 0
    var problems: [String] = []

    init(seed: UInt64, workers: Int = 3, hosts: Int = 1, window: Int = .max) {
        workerIDs = (1...workers).map { "w\($0)" }
        self.hosts = hosts
        self.window = window
        var rng = SeededGenerator(seed: seed)
        let nodes = Int.random(in: 50...400, using: &rng)
        var graph: [[Int]] = []
        for node in 0..<nodes {
            // The seeds link somewhere, so no run is trivially short.
            let degree = Int.random(in: node < 2 ? 3...6 : 0...6, using: &rng)
            graph.append((0..<degree).map { _ in Int.random(in: 0..<nodes, using: &rng) })
        }
        var skipNodes: Set<Int> = []
        for node in 2..<nodes where Int.random(in: 0..<10, using: &rng) == 0 { skipNodes.insert(node) }
        self.graph = graph
        self.skipNodes = skipNodes
        cancelAt = seed % 3 == 0 ? Int.random(in: 50...400, using: &rng) : nil
        self.rng = rng
    }

    var summary: String {
        "keys \(nodeOfKey.count), steps \(steps), losses \(losses), duplicates \(duplicates), pending "
            + "\(pendingSettle.count), progress \(String(describing: h.scheduler.progress(of: "crawl")))"
    }

    mutating func carry(_ actions: [Action]) {
        for lease in actions.leases {
            if lease.job != "crawl" { problems.append("lease of unknown job \(lease.job)") }
            for key in lease.keys {
                if key.urlIndex >= nodeOfKey.count { problems.append("leased key \(key) beyond \(nodeOfKey.count)") }
                if skipNodes.contains(nodeOfKey[key.urlIndex]) {
                    problems.append("leased skipped key \(key)")
                }
                held[lease.worker, default: []].append((lease, key))
                holders.insert(lease.worker)
            }
        }
    }

    /// A host's keys are held by one worker at most: as the workers hold them (leased and not reported, by workers
    /// with a session), and in the scheduler's own books.
    mutating func checkHosts() {
        var holder: [Int: String] = [:]
        for (worker, keys) in held {
            for (_, key) in keys {
                let host = key.urlIndex % hosts
                if let other = holder[host], other != worker {
                    problems.append("step \(steps): host \(host) held by \(other) and \(worker)")
                }
                holder[host] = worker
            }
        }
        guard let position = h.scheduler.jobIndex["crawl"], let partition = h.scheduler.jobs[position].partition
        else { return }
        var inFlight: [Int: Int] = [:]
        for (key, batch) in h.scheduler.jobs[position].inFlight {
            let host = key % hosts
            inFlight[host, default: 0] += 1
            guard let worker = h.scheduler.batches[batch]?.worker,
                let session = h.scheduler.workerIndex[worker].map({ h.scheduler.workers[$0].session })
            else {
                problems.append("step \(steps): key \(key) in flight in batch \(batch) of no worker")
                continue
            }
            if partition.owner(of: host) != session {
                problems.append("step \(steps): key \(key) of host \(host) in flight on \(worker), host owned by "
                    + "session \(String(describing: partition.owner(of: host)))")
            }
        }
        for (host, count) in inFlight where count > window || count != partition.inFlight(on: host) {
            problems.append("step \(steps): host \(host) has \(count) keys in flight (window \(window), partition "
                + "counts \(partition.inFlight(on: host)))")
        }
    }

    mutating func report(_ worker: String, _ lease: Scheduler.Lease, _ key: RequestKey) {
        let kind: Scheduler.RecordKind = Int.random(in: 0..<20, using: &rng) == 0 ? .failed : .fetched
        let decision = h.report(worker, lease, key, kind)
        if decision.isAccepted { pendingSettle.append((key.urlIndex, kind == .fetched)) }
        reported.append((worker, lease, key))
        carry(decision.actions)
        if !down.contains(worker) && !silent.contains(worker) { carry(h.credit(worker, 1)) }
    }

    /// The frontier admits the discoveries of up to `count` settled results.
    mutating func admit(_ count: Int) {
        let batch = pendingSettle.prefix(count)
        pendingSettle.removeFirst(batch.count)
        var skipped: [Int] = []
        for (key, fetched) in batch where fetched {
            for node in graph[nodeOfKey[key]] where seen.insert(node).inserted {
                if skipNodes.contains(node) { skipped.append(nodeOfKey.count) }
                nodeOfKey.append(node)
            }
        }
        carry(h.extend("crawl", to: nodeOfKey.count, skipped: skipped, settled: batch.count))
    }

    mutating func run() {
        nodeOfKey = [0, 1]
        seen = [0, 1]
        let hosts = hosts
        carry(h.addCrawl("crawl", seeds: 2, window: window, hostOf: { $0 % hosts }))
        for id in workerIDs { carry(h.join(id, capacity: Int.random(in: 2...12, using: &rng), credit: 8)) }
        while h.ledger.finished["crawl"] == nil && steps < 200_000 {
            checkHosts()
            steps += 1
            if steps == cancelAt {
                cancelled = true
                carry(h.run { $0.cancelJob("crawl", now: $1) })
            }
            let live = workerIDs.filter { !down.contains($0) && !silent.contains($0) && !(held[$0] ?? []).isEmpty }
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<55 where !live.isEmpty:
                // A live worker reports one of its keys.
                let worker = live.randomElement(using: &rng)!
                let position = Int.random(in: 0..<held[worker]!.count, using: &rng)
                let (lease, key) = held[worker]!.remove(at: position)
                report(worker, lease, key)
                if !held[worker]!.contains(where: { $0.lease.batch == lease.batch }) {
                    carry(h.run { $0.batchDone(worker, batch: lease.batch, now: $1) })
                }
            case 55..<75 where !pendingSettle.isEmpty:
                admit(Int.random(in: 1...4, using: &rng))
            case 75..<80 where !reported.isEmpty:
                // A result delivered twice.
                let (worker, lease, key) = reported.randomElement(using: &rng)!
                duplicates += 1
                if h.report(worker, lease, key).isAccepted { problems.append("duplicate of \(key) accepted") }
            case 80..<84 where !zombies.isEmpty:
                // A lost worker's result arrives late.
                let (worker, lease, key) = zombies.remove(at: Int.random(in: 0..<zombies.count, using: &rng))
                report(worker, lease, key)
            case 84..<86:
                // A worker leaves (or crashes and says hello again under its id).
                let worker = workerIDs.randomElement(using: &rng)!
                guard !down.contains(worker) else { continue }
                losses += 1
                zombies += (held[worker] ?? []).map { (worker, $0.lease, $0.key) }
                held[worker] = []
                silent.remove(worker)
                if Bool.random(using: &rng) {
                    carry(h.run { $0.workerLeft(worker, now: $1) })
                    down.insert(worker)
                } else {
                    carry(h.join(worker, capacity: Int.random(in: 2...12, using: &rng), credit: 8))
                }
            case 86..<88:
                // A worker falls silent (a stall); the others keep heartbeating.
                let worker = workerIDs.randomElement(using: &rng)!
                if !down.contains(worker) { silent.insert(worker) }
            case 88..<92:
                // A downed worker comes back.
                if let worker = down.randomElement(using: &rng) {
                    down.remove(worker)
                    carry(h.join(worker, capacity: Int.random(in: 2...12, using: &rng), credit: 8))
                }
            default:
                // Time passes: the live workers heartbeat, silent ones may be declared lost.
                h.advance(Int64.random(in: 10...200, using: &rng))
                for worker in workerIDs where !down.contains(worker) && !silent.contains(worker) {
                    carry(h.run { $0.heartbeat(worker, now: $1) })
                }
                let actions = h.tick()
                for worker in actions.removedWorkers {
                    losses += 1
                    zombies += (held[worker] ?? []).map { (worker, $0.lease, $0.key) }
                    held[worker] = []
                    silent.remove(worker)
                    down.insert(worker)
                }
                carry(actions)
            }
        }
        checkHosts()
    }
}
