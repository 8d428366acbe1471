import ArachneCore
import Testing

@testable import ArachneScheduling

@Suite("Credits and batch sizing")
struct SchedulerCreditTests {
    @Test("a worker without credit gets no lease")
    func noCreditNoLease() {
        var h = Harness()
        let joined = h.join("w1", capacity: 64)
        #expect(joined == [.welcome(worker: "w1")])
        #expect(h.addJob("j", urls: 100).leases.isEmpty)
        #expect(h.tick().leases.isEmpty)
    }

    @Test("leases never exceed the credit granted")
    func neverOverLease() {
        var h = Harness()
        h.addJob("j", urls: 1_000)
        var actions = h.join("w1", capacity: 40, credit: 10)
        #expect(actions.leases.map(\.keys.count) == [10])
        #expect(h.scheduler.load(of: "w1")?.credit == 0)
        // More credit than a batch's worth is not granted yet: nothing more goes out, whatever happens.
        #expect(h.tick().leases.isEmpty)
        // 5 credits, with 10 keys outstanding and lots of work left: wait for a full batch's worth.
        #expect(h.credit("w1", 5).leases.isEmpty)
        // The worker runs dry: then it gets what its credit allows, and no more.
        actions = h.complete(actions.leases[0])
        #expect(actions.leases.map(\.keys.count) == [5])
        #expect(h.scheduler.load(of: "w1") == Scheduler.WorkerLoad(
            capacity: 40, credit: 0, outstanding: 5, leases: 1, targetBatchSize: 10))
    }

    @Test("credit is spent in leases of about a quarter of the capacity")
    func batchSize() {
        var h = Harness()
        h.addJob("j", urls: 10_000)
        let actions = h.join("w1", capacity: 64, credit: 64)
        #expect(actions.leases.map(\.keys.count) == [16, 16, 16, 16])
        #expect(Set(actions.leases.map(\.batch)).count == 4)
        // Keys go out once each, in passes over the URLs.
        let keys = actions.leases.flatMap(\.keys)
        #expect(keys == (0..<64).map { RequestKey(urlIndex: $0, repetition: 0) })
    }

    @Test("target batch size is capacity ÷ divisor, at least 1, at most the maximum", arguments: [
        (1, 1), (2, 1), (7, 1), (8, 2), (64, 16), (1_000, 250), (5_000, 256),
    ])
    func targetSize(capacity: Int, expected: Int) {
        var h = Harness()
        h.join("w", capacity: capacity)
        #expect(h.scheduler.load(of: "w")?.targetBatchSize == expected)
    }

    @Test("work spreads over workers instead of filling the first")
    func spread() {
        var h = Harness()
        h.join("w1", capacity: 64, credit: 64)
        h.join("w2", capacity: 64, credit: 64)
        let actions = h.addJob("j", urls: 64)
        #expect(actions.leases(to: "w1").flatMap(\.keys).count == 32)
        #expect(actions.leases(to: "w2").flatMap(\.keys).count == 32)
    }

    @Test("the tail of the work goes to a worker whose credit covers it, even below a full batch")
    func tail() {
        var h = Harness()
        h.addJob("j", urls: 19)
        var actions = h.join("w1", capacity: 64, credit: 16)
        #expect(actions.leases.map(\.keys.count) == [16])
        actions = h.credit("w1", 3)
        #expect(actions.leases.map(\.keys.count) == [3])
    }

    @Test("settings go to a worker once per job, before its first lease of it")
    func settingsFirst() {
        var h = Harness()
        h.addJob("a", urls: 100)
        var actions = h.join("w1", capacity: 8, credit: 4)
        #expect(actions == [
            .welcome(worker: "w1"), .sendJobSettings(worker: "w1", job: "a"),
            .sendLease(actions.leases[0]), .sendLease(actions.leases[1]),
        ])
        actions = h.credit("w1", 4)
        #expect(!actions.contains(.sendJobSettings(worker: "w1", job: "a")))
        #expect(actions.leases.count == 2)
    }

    @Test("huge credit grants saturate instead of overflowing")
    func saturate() {
        var h = Harness()
        h.join("w1", capacity: 4, credit: Int.max)
        h.credit("w1", Int.max)
        #expect(h.scheduler.load(of: "w1")?.credit == Int.max)
        let actions = h.addJob("j", urls: 10)
        #expect(actions.leases.flatMap(\.keys).count == 10)
    }
}
