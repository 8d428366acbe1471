import ArachneCore
import ArachneTestSupport
import Testing

@testable import ArachneScheduling

private func key(_ index: Int) -> RequestKey { RequestKey(urlIndex: index, repetition: 0) }

@Suite("Crawl jobs by host: each host's keys held by one worker at a time, hosts served side by side")
struct SchedulerHostTests {
    @Test("4 workers, 6 hosts, losses, restarts, duplicates, cancels: no host held by two workers, keys end once",
          arguments: Array(UInt64(1)...UInt64(24)))
    func oneWorkerPerHost(seed: UInt64) {
        var simulation = CrawlSimulation(seed: seed, workers: 4, hosts: 6, window: 4)
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
        #expect(Set(h.ledger.records["crawl"]?.keys ?? [:].keys) == Set((0..<keys).map(key)))
        #expect(h.ledger.count("crawl") == keys)
    }

    @Test("the six-host simulations spread hosts over workers, and lose and re-lease some")
    func simulationsSpreadHosts() {
        var spread = 0, reassigned = 0, losses = 0
        for seed in UInt64(1)...UInt64(24) {
            var simulation = CrawlSimulation(seed: seed, workers: 4, hosts: 6, window: 4)
            simulation.run()
            if simulation.holders.count >= 3 { spread += 1 }
            losses += simulation.losses
            reassigned += simulation.h.ledger.finished["crawl"]?.progress.reassignedBatches ?? 0
        }
        #expect(spread >= 20, "runs where three workers or more held keys: \(spread)")
        #expect(losses >= 24 && reassigned >= 24, "\(losses) losses, \(reassigned) reassigned")
    }

    @Test("a huge host and 20 small ones: the small hosts' keys are all leased while the huge host has barely begun",
          arguments: [1, 4])
    func hugeHostDoesNotStarveSmallOnes(workers: Int) throws {
        var h = Harness()
        // Keys 0..<10_000 on host 0, found first; then 25 keys on each of hosts 1...20.
        let huge = 10_000
        let total = huge + 20 * 25
        for worker in 1...workers { h.join("w\(worker)", capacity: 16, credit: 64) }
        var held = h.addCrawl("c", seeds: total, window: 8, hostOf: { $0 < huge ? 0 : 1 + ($0 - huge) % 20 }).leases
        var hugeLeased = 0
        var smallLeased = 0
        var hugeLeasedWhenSmallDone: Int?
        var rounds = 0
        while !held.isEmpty && rounds < 10_000 {
            rounds += 1
            for lease in held {
                for key in lease.keys where key.urlIndex < huge { hugeLeased += 1 }
                smallLeased += lease.keys.filter { $0.urlIndex >= huge }.count
            }
            if smallLeased == 500 && hugeLeasedWhenSmallDone == nil { hugeLeasedWhenSmallDone = hugeLeased }
            // Every worker finishes what it holds, and gives the credit back.
            let finishing = held
            held = []
            for lease in finishing {
                held += h.complete(lease).leases
                held += h.run { $0.batchDone(lease.worker, batch: lease.batch, now: $1) }.leases
                held += h.credit(lease.worker, lease.keys.count).leases
            }
        }
        let when = try #require(hugeLeasedWhenSmallDone, "the small hosts were never all leased")
        #expect(when <= 100, "\(when) of the huge host's keys leased before the last small host's")
        #expect(hugeLeased == huge)
        #expect(h.extend("c", to: total, settled: total).finishedJobs == ["c"])
        #expect(h.ledger.count("c") == total)
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("a crawl whose hosts are all held elsewhere does not keep a worker from another job's keys")
    func crawlOfferingNothingDoesNotBlock() throws {
        var h = Harness()
        h.addJob("list", urls: 1_000)
        let first = h.join("w1", capacity: 64, credit: 64).leases
        #expect(first.flatMap(\.keys).count == 64)
        // A one-host crawl: w1 holds its host, window full. It has less outstanding work than the list job, so it
        // comes first for w2, which may be leased none of it.
        h.addCrawl("c", seeds: 100, window: 4)
        let crawlLeases = h.credit("w1", 16).leases
        #expect(crawlLeases.map(\.job) == ["c"] && crawlLeases.flatMap(\.keys).count == 4)
        let toW2 = h.join("w2", capacity: 64, credit: 64).leases
        #expect(toW2.allSatisfy { $0.job == "list" })
        #expect(toW2.flatMap(\.keys).count == 64)
        // And w1 gets the crawl's next key when one of its keys is done.
        h.report("w1", crawlLeases[0], crawlLeases[0].keys[0])
        #expect(h.credit("w1", 4).leases.flatMap(\.keys) == [key(4)])
    }

    @Test("a lost worker's hosts go to the next worker, its unfinished keys first; the others stay where they are")
    func lostWorkerHandsOverHosts() throws {
        var h = Harness()
        // Keys alternate between hosts 0 and 1.
        h.addCrawl("c", seeds: 20, window: 4, hostOf: { $0 % 2 })
        let toW1 = h.join("w1", capacity: 16, credit: 4).leases
        let toW2 = h.join("w2", capacity: 16, credit: 4).leases
        #expect(toW1.flatMap(\.keys) == [0, 2, 4, 6].map(key))
        #expect(toW2.flatMap(\.keys) == [1, 3, 5, 7].map(key))
        h.report("w1", toW1[0], key(0))
        // w1 leaves with keys 2, 4 and 6 unreported; a new worker takes its host, those keys first.
        h.run { $0.workerLeft("w1", now: $1) }
        let toW3 = h.join("w3", capacity: 16, credit: 4).leases
        #expect(toW3.flatMap(\.keys) == [2, 4, 6, 8].map(key))
        #expect(h.scheduler.progress(of: "c")?.retries == 3)
        // w2 keeps host 1, and gets nothing of host 0.
        h.report("w2", toW2[0], key(1))
        #expect(h.credit("w2", 4).leases.flatMap(\.keys) == [key(9)])
    }

    @Test("cancelling a crawl cancels each queued key of every host once; keys in flight end when they report")
    func cancelAcrossHosts() throws {
        var h = Harness()
        h.join("w1", capacity: 64, credit: 64)
        h.join("w2", capacity: 64, credit: 64)
        let leases = h.addCrawl("c", seeds: 30, window: 2, hostOf: { $0 % 3 }).leases
        let inFlight = leases.flatMap(\.keys)
        #expect(inFlight.count == 6, "two keys of each of the three hosts")
        #expect(Set(leases.map(\.worker)) == ["w1", "w2"])
        // One key comes back to its queue (w2 leaves and rejoins), one gets a late result while queued.
        let w2Lease = try #require(leases.first { $0.worker == "w2" })
        h.run { $0.workerJoined("w2", capacity: 64, now: $1) }
        h.report("w2", w2Lease, w2Lease.keys[0])
        let cancel = h.run { $0.cancelJob("c", now: $1) }
        #expect(cancel.finishedJobs.isEmpty)
        let w1Keys = leases.filter { $0.worker == "w1" }.flatMap(\.keys)
        #expect(h.ledger.count("c") == 30 - w1Keys.count, "every key but those w1 holds has its record")
        // The cancelled keys are neither leased again nor re-cancelled.
        #expect(h.credit("w1", 64).leases.isEmpty)
        for lease in leases where lease.worker == "w1" { h.complete(lease) }
        #expect(h.extend("c", to: 32, settled: w1Keys.count + 1).finishedJobs == ["c"])
        #expect(h.ledger.count("c") == 32)
        #expect(h.ledger.finished["c"]?.outcome == .cancelled)
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("a resumed crawl leases only its unfinished keys, by host")
    func resumed() throws {
        var resume = JobResume(urlCount: 12, repeatCount: 1)
        for index in [0, 1, 2, 5, 8] { resume.markCompleted(key(index), kind: .fetched) }
        let unfinished = [3, 4, 6, 7, 9, 10, 11]
        var h = Harness()
        h.join("w1", capacity: 64, credit: 64)
        h.join("w2", capacity: 64, credit: 64)
        let leases = h.run {
            $0.addJob(id: "c", urlCount: 12, repeatCount: 1, resume: resume, growable: true,
                      hosts: unfinished.map { ($0, $0 % 2) }, hostWindow: 8, now: $1)
        }.leases
        #expect(Set(leases.flatMap(\.keys)) == Set(unfinished.map(key)))
        for lease in leases {
            #expect(Set(lease.keys.map { $0.urlIndex % 2 }).count == 1, "a lease of one host: \(lease.keys)")
        }
        #expect(Set(leases.map(\.worker)).count == 2)
        for lease in leases { h.complete(lease) }
        #expect(h.extend("c", to: 12, settled: unfinished.count).finishedJobs == ["c"])
        #expect(h.ledger.finished["c"]?.progress.done == 12)
    }
}
