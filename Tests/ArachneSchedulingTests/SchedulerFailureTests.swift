import ArachneCore
import Testing

@testable import ArachneScheduling

@Suite("Leases, heartbeats, lost workers and de-duplication")
struct SchedulerFailureTests {
    @Test("a silent worker is declared lost at the lease timeout and its keys go to another worker")
    func leaseExpiry() throws {
        var h = Harness()
        h.addJob("j", urls: 8)
        let lease = try #require(h.join("w1", capacity: 32, credit: 8).leases.first)
        #expect(lease.keys.count == 8)
        #expect(lease.deadlineMs == 500)
        h.join("w2", capacity: 32, credit: 32)
        h.advance(250)
        _ = h.run { $0.heartbeat("w2", now: $1) }
        #expect(h.tick().removedWorkers.isEmpty)
        h.advance(249)
        #expect(h.tick().removedWorkers.isEmpty)
        h.advance(1)
        let actions = h.tick()
        #expect(actions.contains(.workerRemoved(worker: "w1", reason: .silent(lastHeardMsAgo: 500))))
        let retry = actions.leases(to: "w2")
        #expect(retry.flatMap(\.keys).sorted() == lease.keys.sorted())
        #expect(h.scheduler.progress(of: "j")?.reassignedBatches == 1)
        #expect(h.scheduler.progress(of: "j")?.retries == 8)
        // The second lease of each key is its second attempt.
        let decision = h.report("w2", retry[0], retry[0].keys[0])
        #expect(decision.verdict == .accept(attempts: 2))
    }

    @Test("heartbeats and results keep a worker's leases alive")
    func renewal() throws {
        var h = Harness()
        h.addJob("j", urls: 100)
        let leases = h.join("w1", capacity: 8, credit: 8).leases
        for step in 0..<30 {
            h.advance(300)
            if step % 2 == 0 {
                _ = h.run { $0.heartbeat("w1", now: $1) }
            } else {
                h.report("w1", leases[0], leases[0].keys[step % 2])
            }
            #expect(h.tick().removedWorkers.isEmpty)
        }
        #expect(h.scheduler.workerIDs == ["w1"])
    }

    @Test("the coordinator sends a heartbeat only to workers it sent nothing for an interval")
    func coordinatorHeartbeats() {
        var h = Harness()
        h.join("w1", capacity: 8)
        h.join("w2", capacity: 8, credit: 2)
        h.advance(90)
        h.addJob("j", urls: 10)  // leases to w2 now
        h.advance(10)
        let actions = h.tick()
        #expect(actions.contains(.sendHeartbeat(worker: "w1")))
        #expect(!actions.contains(.sendHeartbeat(worker: "w2")))
        #expect(h.scheduler.nextDeadline == Instant(milliseconds: 190))
    }

    @Test("instants come from elapsed durations in whole milliseconds")
    func instants() {
        #expect(Instant(elapsed: .milliseconds(1_500)) == Instant(milliseconds: 1_500))
        #expect(Instant(elapsed: .seconds(2) + .microseconds(999)) == Instant(milliseconds: 2_000))
        #expect(Instant(milliseconds: 5) + 10 == Instant(milliseconds: 15))
        #expect(Instant(milliseconds: 5) < Instant(milliseconds: 6))
    }

    @Test("a late result from a lost worker is accepted if the key has no record yet; the re-leased copy is dropped")
    func lateResult() throws {
        var h = Harness()
        h.addJob("j", urls: 4)
        let first = try #require(h.join("w1", capacity: 16, credit: 4).leases.first)
        #expect(first.keys.count == 4)
        h.join("w2", capacity: 16)
        h.advance(400)
        _ = h.run { $0.heartbeat("w2", now: $1) }
        h.advance(100)
        #expect(h.tick().removedWorkers == ["w1"])
        let second = try #require(h.credit("w2", 4).leases.first)
        let key = first.keys[0]
        #expect(second.keys.contains(key))
        // w1 was only slow: its result arrives late and is the key's first.
        #expect(h.report("w1", first, key).verdict == .accept(attempts: 2))
        #expect(h.report("w2", second, key).verdict == .drop(.duplicate))
        h.complete(second)
        #expect(h.ledger.finished["j"]?.progress.done == 4)
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("a late result for a key waiting in the queue is accepted, and the key is not leased again")
    func lateResultBeforeRelease() throws {
        var h = Harness()
        h.addJob("j", urls: 4)
        let first = try #require(h.join("w1", capacity: 16, credit: 4).leases.first)
        h.advance(500)
        #expect(h.tick().removedWorkers == ["w1"])
        #expect(h.report("w1", first, first.keys[2]).verdict == .accept(attempts: 1))
        let again = h.join("w2", capacity: 16, credit: 16).leases
        #expect(again.flatMap(\.keys).sorted() == [first.keys[0], first.keys[1], first.keys[3]])
        #expect(h.scheduler.progress(of: "j")?.retries == 3)
    }

    @Test("the same result reported twice is written once")
    func duplicate() throws {
        var h = Harness()
        h.addJob("j", urls: 2)
        let lease = try #require(h.join("w1", capacity: 4, credit: 4).leases.first)
        #expect(h.report("w1", lease, lease.keys[0]).verdict == .accept(attempts: 1))
        #expect(h.report("w1", lease, lease.keys[0]).verdict == .drop(.duplicate))
        #expect(h.scheduler.progress(of: "j")?.done == 1)
        #expect(h.scheduler.progress(of: "j")?.outstanding == 1)
    }

    @Test("a result for an unknown job or a key outside the job is dropped")
    func unknownResults() throws {
        var h = Harness()
        h.addJob("j", urls: 2, repeats: 2)
        let lease = try #require(h.join("w1", capacity: 4, credit: 4).leases.first)
        let stranger = Scheduler.Lease(batch: 99, job: "nope", worker: "w1", keys: [], deadlineMs: 0)
        #expect(h.report("w1", stranger, RequestKey(urlIndex: 0, repetition: 0)).verdict == .drop(.unknownJob))
        #expect(h.report("w1", lease, RequestKey(urlIndex: 2, repetition: 0)).verdict == .drop(.keyOutOfRange))
        #expect(h.report("w1", lease, RequestKey(urlIndex: 0, repetition: 2)).verdict == .drop(.keyOutOfRange))
        #expect(h.report("w1", lease, RequestKey(urlIndex: -1, repetition: 0)).verdict == .drop(.keyOutOfRange))
    }

    @Test("attempts are counted per lease, and a key lost maxAttempts times ends as worker-lost")
    func maxAttempts() throws {
        var h = Harness(Scheduler.Configuration(heartbeatIntervalMs: 100, leaseTimeoutMs: 500, maxAttempts: 3))
        h.addJob("j", urls: 1)
        for attempt in 1...3 {
            let lease = try #require(h.join("w\(attempt)", capacity: 4, credit: 4).leases.first)
            #expect(lease.keys == [RequestKey(urlIndex: 0, repetition: 0)])
            h.advance(500)
            let actions = h.tick()
            #expect(actions.removedWorkers == ["w\(attempt)"])
            if attempt < 3 {
                #expect(h.scheduler.progress(of: "j")?.retries == attempt - 1)
                #expect(actions.finishedJobs.isEmpty)
            } else {
                #expect(actions.contains(.recordWorkerLost(
                    job: "j", keys: [Scheduler.LostKey(key: RequestKey(urlIndex: 0, repetition: 0), attempts: 3)])))
                #expect(actions.finishedJobs == ["j"])
            }
        }
        let finished = try #require(h.ledger.finished["j"])
        #expect(finished.outcome == .completed)
        #expect(finished.progress == JobProgress(
            total: 1, done: 1, failed: 1, cancelled: 0, outstanding: 0, reassignedBatches: 2, retries: 2))
        #expect(h.ledger.kinds("j") == [.workerLost(attempts: 3)])
        #expect(Scheduler.workerLostFailure(attempts: 3).kind == .workerLost)
    }

    @Test("a worker that restarts under the same id loses its old leases and starts with no credit")
    func restart() throws {
        var h = Harness()
        h.addJob("j", urls: 10)
        let leases = h.join("w1", capacity: 4, credit: 4).leases
        let actions = h.join("w1", capacity: 4)
        #expect(actions.prefix(2) == [.workerRemoved(worker: "w1", reason: .restarted), .welcome(worker: "w1")])
        #expect(actions.leases.isEmpty)
        #expect(h.scheduler.load(of: "w1")?.credit == 0)
        #expect(h.scheduler.progress(of: "j")?.outstanding == 0)
        let again = h.credit("w1", 4).leases
        #expect(Set(again.flatMap(\.keys)) == Set(leases.flatMap(\.keys)))
        // The new session is sent the job's settings again.
        #expect(h.scheduler.load(of: "w1")?.leases == again.count)
    }

    @Test("a goodbye gives the worker's leases back")
    func goodbye() throws {
        var h = Harness()
        h.addJob("j", urls: 4)
        let lease = try #require(h.join("w1", capacity: 16, credit: 4).leases.first)
        h.report("w1", lease, lease.keys[0])
        h.join("w2", capacity: 4, credit: 4)
        let actions = h.run { $0.workerLeft("w1", now: $1) }
        #expect(actions.first == .workerRemoved(worker: "w1", reason: .goodbye))
        #expect(actions.leases(to: "w2").flatMap(\.keys).sorted() == Array(lease.keys[1...]).sorted())
        #expect(h.run { $0.workerLeft("w1", now: $1) }.isEmpty)
    }

    @Test("batchDone with keys unreported re-queues them; after all results it changes nothing")
    func batchDone() throws {
        var h = Harness()
        h.addJob("j", urls: 8)
        let leases = h.join("w1", capacity: 8, credit: 4).leases
        #expect(leases.count == 2)
        h.complete(leases[0])
        #expect(h.run { $0.batchDone("w1", batch: leases[0].batch, now: $1) }.isEmpty)
        h.report("w1", leases[1], leases[1].keys[0])
        var actions = h.run { $0.batchDone("w1", batch: leases[1].batch, now: $1) }
        #expect(actions.leases.isEmpty)
        #expect(h.scheduler.progress(of: "j")?.reassignedBatches == 1)
        #expect(h.scheduler.progress(of: "j")?.queued == 5)
        actions = h.credit("w1", 8)
        #expect(actions.leases.flatMap(\.keys).contains(leases[1].keys[1]))
    }

    @Test("a worker without a session is told to say hello; its credit is not taken")
    func unknownWorker() {
        var h = Harness()
        h.addJob("j", urls: 8)
        for actions in [h.credit("ghost", 4), h.run { $0.heartbeat("ghost", now: $1) },
                        h.run { $0.batchDone("ghost", batch: 1, now: $1) }] {
            guard case .sendError(let worker, let message) = actions.first, actions.count == 1 else {
                Issue.record("expected one sendError, got \(actions)")
                continue
            }
            #expect(worker == "ghost")
            #expect(message.contains("send hello"))
        }
        #expect(h.scheduler.workerIDs.isEmpty)
    }

    @Test("results from a worker declared lost do not revive it")
    func noRevival() throws {
        var h = Harness()
        h.addJob("j", urls: 4)
        let lease = try #require(h.join("w1", capacity: 4, credit: 4).leases.first)
        h.advance(600)
        h.tick()
        #expect(h.report("w1", lease, lease.keys[0]).isAccepted)
        #expect(h.scheduler.workerIDs.isEmpty)
        #expect(h.run { $0.heartbeat("w1", now: $1) }.count == 1)
    }
}
