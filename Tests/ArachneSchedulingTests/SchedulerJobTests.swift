import ArachneCore
import Testing

@testable import ArachneScheduling

@Suite("Jobs: fairness, cancellation, resume, completion")
struct SchedulerJobTests {
    /// Plays workers that complete their oldest lease (starting with `initial`) and grant the credit back, until
    /// `until` is true or the step budget runs out. Returns the leases issued, in order.
    @discardableResult
    static func work(
        _ h: inout Harness, initial: [Scheduler.Lease], steps: Int, until: (Harness) -> Bool = { _ in false }
    ) -> [Scheduler.Lease] {
        var pending = h.scheduler.workerIDs.reduce(into: [String: [Scheduler.Lease]]()) { $0[$1] = [] }
        var issued: [Scheduler.Lease] = []
        func take(_ actions: [Action]) {
            for lease in actions.leases {
                pending[lease.worker, default: []].append(lease)
                issued.append(lease)
            }
        }
        take(initial.map { .sendLease($0) })
        take(h.tick())
        for step in 0..<steps where !until(h) {
            let worker = h.scheduler.workerIDs[step % h.scheduler.workerIDs.count]
            guard let lease = pending[worker]?.first else { continue }
            pending[worker]!.removeFirst()
            take(h.complete(lease))
            take(h.credit(worker, lease.keys.count))
        }
        return issued
    }

    @Test("a 10-key job added behind a 10,000-key job is served at once, not after it")
    func smallJobNotStarved() {
        var h = Harness()
        h.addJob("big", urls: 10_000)
        var startup: [Scheduler.Lease] = []
        startup += h.join("w1", capacity: 16, credit: 16).leases
        startup += h.join("w2", capacity: 16, credit: 16).leases
        #expect(startup.allSatisfy { $0.job == "big" })
        h.addJob("small", urls: 10)
        // Complete the startup leases one by one and return the credit; the next leases must go to the small job.
        var next: [Scheduler.Lease] = []
        for lease in startup where next.flatMap(\.keys).count < 10 || !next.contains(where: { $0.job == "small" }) {
            h.complete(lease)
            next += h.credit(lease.worker, lease.keys.count).leases
            if h.ledger.finished["small"] != nil { break }
        }
        let bigBeforeSmall = next.prefix { $0.job == "big" }.count
        #expect(bigBeforeSmall == 0)
        #expect(next.filter { $0.job == "small" }.flatMap(\.keys).count == 10)
        // And it finishes while the big job has barely started.
        for lease in next where lease.job == "small" { h.complete(lease) }
        #expect(h.ledger.finished["small"]?.outcome == .completed)
        #expect((h.scheduler.progress(of: "big")?.done ?? 0) < 100)
    }

    @Test("two big jobs share the workers evenly; a heavier weight gets a bigger share")
    func weightedSharing() {
        var h = Harness()
        h.join("w1", capacity: 16)
        h.join("w2", capacity: 16)
        h.addJob("a", urls: 100_000)
        h.addJob("b", urls: 100_000, weight: 3)
        let initial = h.credit("w1", 64).leases + h.credit("w2", 64).leases
        SchedulerJobTests.work(&h, initial: initial, steps: 400)
        let a = h.scheduler.progress(of: "a")!
        let b = h.scheduler.progress(of: "b")!
        #expect(b.outstanding == 3 * a.outstanding)
        let ratio = Double(b.done) / Double(a.done)
        #expect(ratio > 2.5 && ratio < 3.5, "b/a done ratio \(ratio)")
    }

    @Test("a job with nothing to do finishes as soon as it is added")
    func emptyJob() {
        var h = Harness()
        let actions = h.addJob("nothing", urls: 0, repeats: 5)
        #expect(actions == [.jobFinished(job: "nothing", outcome: .completed, progress: JobProgress(
            total: 0, done: 0, failed: 0, cancelled: 0, outstanding: 0, reassignedBatches: 0, retries: 0))])
        #expect(h.scheduler.progress(of: "nothing") == nil)
    }

    @Test("a job completes with exact counts when every key has its record")
    func completion() {
        var h = Harness()
        h.join("w1", capacity: 8, credit: 8)
        let initial = h.addJob("j", urls: 7, repeats: 3).leases
        SchedulerJobTests.work(&h, initial: initial, steps: 1_000) { $0.ledger.finished["j"] != nil }
        let finished = h.ledger.finished["j"]
        #expect(finished?.outcome == .completed)
        #expect(finished?.progress.done == 21)
        #expect(h.ledger.count("j") == 21)
        let keys = Set((h.ledger.records["j"] ?? [:]).keys)
        #expect(keys == Set((0..<7).flatMap { u in (0..<3).map { RequestKey(urlIndex: u, repetition: $0) } }))
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("progress counts failures, outstanding and queued keys")
    func progress() throws {
        var h = Harness()
        h.addJob("j", urls: 10)
        let lease = try #require(h.join("w1", capacity: 16, credit: 4).leases.first)
        h.report("w1", lease, lease.keys[0], .failed)
        h.report("w1", lease, lease.keys[1], .fetched)
        #expect(h.scheduler.progress(of: "j") == JobProgress(
            total: 10, done: 2, failed: 1, cancelled: 0, outstanding: 2, reassignedBatches: 0, retries: 0))
        #expect(h.scheduler.progress(of: "j")?.queued == 6)
        #expect(h.scheduler.jobIDs == ["j"])
    }

    @Test("cancelling stops leasing, tells the workers, and ends never-fetched keys as cancelled")
    func cancel() throws {
        var h = Harness()
        h.addJob("j", urls: 100, repeats: 10)
        h.addJob("other", urls: 5)
        let leases = h.join("w1", capacity: 16, credit: 8).leases
        h.join("w2", capacity: 16)
        let held = try #require(leases.first { $0.job == "j" })
        h.report("w1", held, held.keys[0])
        let actions = h.run { $0.cancelJob("j", now: $1) }
        #expect(actions.contains(.sendCancelJob(worker: "w1", job: "j")))
        #expect(!actions.contains(.sendCancelJob(worker: "w2", job: "j")))
        #expect(actions.finishedJobs.isEmpty)
        #expect(h.ledger.count("j") == 1_000 - held.keys.count + 1)
        #expect(h.scheduler.progress(of: "j")?.cancelled == 1_000 - held.keys.count)
        // No more leases of the job, whatever credit comes.
        #expect(h.credit("w2", 1_000).leases.allSatisfy { $0.job == "other" })
        #expect(h.run { $0.cancelJob("j", now: $1) }.isEmpty)
        // A result for a key that was never leased (it already has its cancelled record) is a duplicate.
        #expect(h.report("w1", held, RequestKey(urlIndex: 99, repetition: 9)).verdict == .drop(.duplicate))
        // In-flight requests still report: a result and a cancelled one. Then the job is finished, as cancelled.
        h.report("w1", held, held.keys[1])
        var last: [Action] = []
        for key in held.keys.dropFirst(2) { last = h.report("w1", held, key, .cancelled).actions }
        #expect(last.finishedJobs == ["j"])
        let finished = try #require(h.ledger.finished["j"])
        #expect(finished.outcome == .cancelled)
        #expect(finished.progress.done == 1_000)
        #expect(finished.progress.cancelled == 1_000 - 2)
        #expect(h.ledger.count("j") == 1_000)
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("in-flight keys of a cancelled job that never report end as cancelled after the lease timeout")
    func cancelAbandons() throws {
        var h = Harness()
        h.addJob("j", urls: 50)
        let leases = h.join("w1", capacity: 16, credit: 8).leases
        h.run { $0.cancelJob("j", now: $1) }
        #expect(h.scheduler.progress(of: "j")?.outstanding == 8)
        h.advance(300)
        _ = h.run { $0.heartbeat("w1", now: $1) }
        #expect(h.tick().finishedJobs.isEmpty)
        h.advance(200)
        _ = h.run { $0.heartbeat("w1", now: $1) }
        let actions = h.tick()
        #expect(actions.finishedJobs == ["j"])
        #expect(h.ledger.finished["j"]?.progress.cancelled == 50)
        #expect(h.scheduler.load(of: "w1")?.outstanding == 0)
        #expect(h.scheduler.load(of: "w1")?.leases == 0)
        // A result arriving after that is a duplicate of the cancelled record.
        #expect(h.report("w1", leases[0], leases[0].keys[0]).verdict == .drop(.unknownJob))
        #expect(h.ledger.problems.isEmpty)
    }

    @Test("keys of a cancelled job held by a lost worker end as cancelled, not re-queued")
    func cancelThenLost() throws {
        var h = Harness()
        h.addJob("j", urls: 20)
        let lease = try #require(h.join("w1", capacity: 16, credit: 4).leases.first)
        h.run { $0.cancelJob("j", now: $1) }
        let actions = h.run { $0.workerLeft("w1", now: $1) }
        #expect(actions.finishedJobs == ["j"])
        #expect(h.ledger.finished["j"]?.progress.reassignedBatches == 0)
        #expect(h.ledger.records["j"]?[lease.keys[0]] == .cancelled)
        #expect(h.ledger.count("j") == 20)
    }

    @Test("cancelling a million-key job yields one lazy record action, not a million values")
    func cancelHuge() throws {
        var h = Harness()
        var resume = JobResume(urlCount: 1_000, repeatCount: 1_000)
        resume.markCompleted(RequestKey(urlIndex: 500, repetition: 999), kind: .fetched)
        h.addJob("huge", urls: 1_000, repeats: 1_000, resume: resume)
        let lease = try #require(h.join("w1", capacity: 64, credit: 16).leases.first)
        let actions = h.scheduler.cancelJob("huge", now: h.now)
        let cancelled = try #require(actions.compactMap { action -> CancelledKeys? in
            if case .recordCancelled(let keys) = action { keys } else { nil }
        }.first)
        #expect(cancelled.count == 1_000_000 - 16 - 1)
        var iterator = cancelled.makeIterator()
        #expect(iterator.next() == RequestKey(urlIndex: 16, repetition: 0))
        // The pre-completed key is skipped; the last key is the last one.
        var count = 1
        var last: RequestKey?
        var sawResumed = false
        while let key = iterator.next() {
            count += 1
            last = key
            if key == RequestKey(urlIndex: 500, repetition: 999) { sawResumed = true }
        }
        #expect(count == cancelled.count)
        #expect(last == RequestKey(urlIndex: 999, repetition: 999))
        #expect(!sawResumed)
        #expect(lease.keys.count == 16)
    }

    @Test("a resumed job never leases keys that already have a record, and counts them as done")
    func resume() {
        var h = Harness()
        var resume = JobResume(urlCount: 10, repeatCount: 2)
        let completed = [RequestKey(urlIndex: 0, repetition: 0), RequestKey(urlIndex: 3, repetition: 1),
                         RequestKey(urlIndex: 9, repetition: 1)]
        for key in completed {
            let marked = resume.markCompleted(key, kind: .fetched)
            #expect(marked)
        }
        let again = resume.markCompleted(completed[0], kind: .fetched)
        let outside = resume.markCompleted(RequestKey(urlIndex: 10, repetition: 0), kind: .fetched)
        let failed = resume.markCompleted(RequestKey(urlIndex: 5, repetition: 0), kind: .failed)
        #expect(!again && !outside && failed)
        #expect(resume.completedCount == 4)
        resume.reassignedBatches = 4
        resume.retries = 9
        h.join("w1", capacity: 8, credit: 8)
        let first = h.addJob("j", urls: 10, repeats: 2, resume: resume).leases
        #expect(h.scheduler.progress(of: "j") == JobProgress(
            total: 20, done: 4, failed: 1, cancelled: 0, outstanding: 8, reassignedBatches: 4, retries: 9))
        let issued = SchedulerJobTests.work(&h, initial: first, steps: 100) { $0.ledger.finished["j"] != nil }
        let leased = issued.flatMap(\.keys)
        #expect(leased.count == 16)
        #expect(Set(leased).isDisjoint(with: completed + [RequestKey(urlIndex: 5, repetition: 0)]))
        #expect(h.ledger.finished["j"]?.progress.done == 20)
        #expect(h.ledger.finished["j"]?.progress.failed == 1)
    }

    @Test("a resumed job whose keys all have records finishes at once")
    func resumeComplete() {
        var h = Harness()
        var resume = JobResume(urlCount: 3, repeatCount: 1)
        for u in 0..<3 { resume.markCompleted(RequestKey(urlIndex: u, repetition: 0), kind: .fetched) }
        #expect(h.addJob("j", urls: 3, resume: resume).finishedJobs == ["j"])
    }
}
