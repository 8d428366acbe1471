import ArachneCore
import Testing

@testable import ArachneScheduling

@Suite("A job's own concurrency on each worker")
struct SchedulerJobLimitTests {
    @Test("a worker never holds more keys of a limited job than its limit, however much credit it grants")
    func limitHolds() {
        var h = Harness()
        h.addJob("polite", urls: 1_000, perWorkerLimit: 4)
        var actions = h.join("w1", capacity: 64, credit: 256)
        #expect(actions.leases.flatMap(\.keys).count == 4)
        #expect(h.scheduler.load(of: "w1")?.outstanding == 4)
        // More credit changes nothing while the four are outstanding.
        #expect(h.credit("w1", 64).leases.isEmpty)
        // Each result frees a slot, and the next lease fills it.
        let first = actions.leases[0]
        let decision = h.report("w1", first, first.keys[0])
        actions = decision.actions + h.credit("w1", 1)
        #expect(actions.leases.flatMap(\.keys).count == 1)
        #expect(h.scheduler.load(of: "w1")?.outstanding == 4)
    }

    @Test("the limit is per worker: two workers hold the limit each")
    func perWorker() {
        var h = Harness()
        h.addJob("polite", urls: 1_000, perWorkerLimit: 3)
        let one = h.join("w1", capacity: 64, credit: 64)
        let two = h.join("w2", capacity: 64, credit: 64)
        #expect(one.leases.flatMap(\.keys).count == 3)
        #expect(two.leases.flatMap(\.keys).count == 3)
    }

    @Test("a worker at one job's limit still takes other jobs' work, in full batches")
    func otherJobsFillTheCredit() {
        var h = Harness()
        h.addJob("polite", urls: 1_000, perWorkerLimit: 2)
        h.addJob("greedy", urls: 1_000)
        let actions = h.join("w1", capacity: 64, credit: 64)
        let byJob = Dictionary(grouping: actions.leases, by: \.job).mapValues { $0.flatMap(\.keys).count }
        #expect(byJob["polite"] == 2)
        #expect(byJob["greedy"] == 48)  // three batches of 16; the 14 credits left wait for a full batch
    }

    @Test("a lost worker's keys of a limited job go back, and every key still ends exactly once")
    func lostWorker() {
        var h = Harness()
        h.addJob("polite", urls: 10, perWorkerLimit: 5)
        let first = h.join("w1", capacity: 8, credit: 8)
        #expect(first.leases.flatMap(\.keys).count == 5)
        var pending = h.join("w2", capacity: 8, credit: 8).leases
        #expect(pending.flatMap(\.keys).count == 5)
        h.advance(1_000)
        h.credit("w2", 0)  // w2 is heard from; w1 is silent past the lease timeout
        #expect(h.tick().removedWorkers == ["w1"])
        var rounds = 0
        while h.ledger.count("polite") < 10 && rounds < 10 {
            var next: [Scheduler.Lease] = []
            for lease in pending { next += h.complete(lease).leases }
            next += h.credit("w2", 8).leases
            #expect((h.scheduler.load(of: "w2")?.outstanding ?? 0) <= 5)
            pending = next
            rounds += 1
        }
        #expect(h.ledger.count("polite") == 10)
        #expect(h.ledger.problems.isEmpty)
    }
}
