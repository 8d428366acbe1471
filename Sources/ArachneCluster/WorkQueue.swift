import ArachneCore
import ArachneCrawl
import ArachneEventLoop
import ArachneProtocol
import ArachneURL
import Foundation

/// One leased request waiting in a worker.
struct WorkItem {
    var job: String
    var batch: UInt64
    var key: RequestKey
    var url: String
    /// When the lease arrived (`EventLoop.now()`), for the `queue` phase.
    var enqueuedAt: UInt64
    /// A `--per-ip` crawl's politeness group (the host's address); nil: the URL's host is the group.
    var group: String? = nil
    /// Times this page was fetched again after a 429 or 503.
    var retries = 0
    /// When its host let it start (the queue's millisecond clock), for a crawl's page.
    var startedAtMs: Int64 = 0
}

/// A robots.txt a lane is to fetch before an origin's pages.
struct RobotsTask {
    var job: String
    var origin: String
    /// The host's slot in the queue.
    fileprivate var slot: Int
    /// When its host let it start.
    fileprivate var startedAtMs: Int64
    var url: String { origin + "/robots.txt" }
}

/// What a lane does next.
enum LaneWork {
    case fetch(WorkItem)
    case robots(RobotsTask)
}

/// How a crawl job's requests are paced on this worker: its per-host rules, and robots.txt unless it is off.
struct JobPoliteness {
    var rules: PolitenessRules
    var robots: RobotsGate?
}

/// The worker's queue of leased requests, which its fetch lanes (a `LanePump`) take from. When the lanes find nothing
/// they may start, the queue calls `onWork` once a lease arrives, a request finishes or a host's delay passes.
///
/// List jobs' requests go first-in first-out. A crawl job's requests wait in per-host queues, and a host's next
/// request starts only when the host allows it (`HostPoliteness`: `--per-host` requests in flight at most, `--delay`
/// between starts, Crawl-delay, back-off) and its origin's robots.txt allows the page (`RobotsGate`; a disallowed page
/// leaves at once through `onRefused`). Hosts wait in a heap by the time they may next start a request, so picking
/// the next request costs a logarithm of the hosts, not a scan. Touched only on the worker's loop thread.
final class WorkQueue {
    private final class HostSlot {
        let job: String
        let host: String
        var items = FIFO<WorkItem>()
        var politeness: HostPoliteness
        /// Whether the slot is in the heap (it is at most once).
        var queued = false
        init(job: String, host: String, rules: PolitenessRules) {
            self.job = job
            self.host = host
            politeness = HostPoliteness(host: host, rules: rules)
        }
    }

    private let loop: EventLoop
    private var plain = FIFO<WorkItem>()
    private var slots: [HostSlot] = []
    private var slotIndex: [String: Int] = [:]
    private var heap = DeadlineHeap()
    private var jobs: [String: JobPoliteness] = [:]
    /// The lanes asked and found nothing: call `onWork` when there may be something.
    private var lanesWaiting = false
    /// Called (on the loop) when lanes that found nothing may find work now, or the queue closed.
    var onWork: (() -> Void)?
    private var wakeTimer: (id: TimerID, at: Int64)?
    /// Host slots whose audit figures changed since `takeChangedAudits`.
    private var changedSlots: Set<Int> = []
    private(set) var closed = false
    /// A page robots.txt refuses (or whose origin is skipped), with its record's message: it is not fetched.
    var onRefused: ((WorkItem, String) -> Void)?

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Requests queued, not started.
    private(set) var count = 0

    /// Paces `job`'s requests by host from now on (its settings arrived); nil: first-in first-out.
    func configure(job: String, politeness: JobPoliteness?) {
        jobs[job] = politeness
    }

    func push(_ newItems: [WorkItem]) {
        guard !closed else { return }
        let now = Self.nowMs()
        for item in newItems {
            count += 1
            guard let politeness = jobs[item.job], let host = Self.group(of: item) else {
                plain.append(item)
                continue
            }
            let slot = slot(job: item.job, host: host, rules: politeness.rules)
            slots[slot].items.append(item)
            enqueue(slot, now: now)
        }
        wake()
    }

    /// The next work a lane may start now; nil when there is none (then `onWork` is called when there may be), or
    /// when the queue is closed.
    func next() -> LaneWork? {
        // Set first: `take` arms the wake-up timer for a host due later only while lanes wait.
        lanesWaiting = !closed
        guard let work = take(now: Self.nowMs()) else { return nil }
        lanesWaiting = false
        return work
    }

    /// A fetch taken from the queue finished. Returns `.retry` when the page goes back to its host's queue (a 429 or
    /// 503 with a retry left) instead of being reported.
    func finished(_ item: WorkItem, outcome: FetchOutcome) -> HostPoliteness.Verdict {
        guard jobs[item.job] != nil, let host = Self.group(of: item),
            let slot = slotIndex[Self.slotKey(job: item.job, host: host)]
        else { return .keep }
        let now = Self.nowMs()
        var retryAfter: Int64?
        if outcome.status == 429 || outcome.status == 503,
            let value = ResponseHead.value(of: "retry-after", in: outcome.rawHeader)
        {
            retryAfter = RetryAfter.milliseconds(value, nowSeconds: Date().timeIntervalSince1970)
        }
        let cancelled = outcome.failure?.kind == .cancelled
        let verdict: HostPoliteness.Verdict
        if cancelled {
            slots[slot].politeness.abandon()
            verdict = .keep
        } else {
            verdict = slots[slot].politeness.finish(
                now: now, status: outcome.status, retryAfterMs: retryAfter, retries: item.retries,
                sentAtMs: Self.sentAt(startedAtMs: item.startedAtMs, outcome))
        }
        changedSlots.insert(slot)
        if verdict == .retry && !closed {
            var again = item
            again.retries += 1
            slots[slot].items.prepend(again)
            count += 1
        }
        enqueue(slot, now: now)
        wake()
        return verdict
    }

    /// A robots.txt fetch finished: the origin's pages may go on (or wait, or are refused). Returns the state and,
    /// when robots.txt asks for more Crawl-delay than the crawl allows, the reason the origin is skipped.
    func robotsFetched(_ task: RobotsTask, outcome: FetchOutcome) -> RobotsState? {
        let slot = slots[task.slot]
        let now = Self.nowMs()
        if outcome.failure?.kind == .cancelled {
            slot.politeness.abandon()
            jobs[task.job]?.robots?.forgetFetch(origin: task.origin)
            enqueue(task.slot, now: now)
            return nil
        }
        _ = slot.politeness.finish(now: now, status: outcome.status, retryAfterMs: nil, retries: Int.max,
                                   sentAtMs: Self.sentAt(startedAtMs: task.startedAtMs, outcome))
        if outcome.failure?.kind == .blockedAddress {
            jobs[task.job]?.robots?.addressBlocked(origin: task.origin)
            slot.politeness.noteRobots("not fetched: the private-address guard refused its address")
            enqueue(task.slot, now: now)
            wake()
            return nil
        }
        let state = learn(job: task.job, origin: task.origin, slot: task.slot,
                          outcome: RobotsFetchOutcome(outcome), fetchedAt: Date().timeIntervalSince1970)
        enqueue(task.slot, now: now)
        wake()
        return state
    }

    /// A robots.txt the coordinator had cached (fetched at `fetchedAt`, Unix seconds): used as if just fetched.
    /// (The Crawl-delay it asks for reaches the host's pacing when the origin's first page is taken.)
    func robotsCached(job: String, origin: String, outcome: RobotsFetchOutcome, fetchedAt: Double) {
        guard var gate = jobs[job]?.robots else { return }
        gate.fetched(origin: origin, outcome: outcome, now: fetchedAt)
        jobs[job]?.robots = gate
        wake()
    }

    /// The politeness audits that changed since the last call, by job: sent before the results they concern, so the
    /// coordinator has every host's final figures when a job's last result arrives.
    func takeChangedAudits() -> [String: [HostAudit]] {
        guard !changedSlots.isEmpty else { return [:] }
        var byJob: [String: [HostAudit]] = [:]
        for index in changedSlots.sorted() { byJob[slots[index].job, default: []].append(slots[index].politeness.audit) }
        changedSlots.removeAll(keepingCapacity: true)
        return byJob
    }

    /// Drops queued items that match `predicate` (a cancelled job's, or everything when the coordinator is lost).
    func remove(where predicate: (WorkItem) -> Bool) {
        let before = plain.count
        plain.removeAll(where: predicate)
        count -= before - plain.count
        for slot in slots {
            let queued = slot.items.count
            slot.items.removeAll(where: predicate)
            count -= queued - slot.items.count
        }
    }

    /// Forgets a job's hosts (it finished or was cancelled and nothing of it is queued or in flight).
    func forget(job: String) {
        jobs[job] = nil
    }

    /// Wakes every waiting lane with nil; later `next()` calls return nil at once.
    func close() {
        closed = true
        plain.removeAll()
        for slot in slots { slot.items.removeAll() }
        count = 0
        if let timer = wakeTimer { loop.cancelTimer(timer.id) }
        wakeTimer = nil
        wake(closing: true)
    }

    // MARK: Picking

    private func take(now: Int64) -> LaneWork? {
        if let item = plain.popFirst() {
            count -= 1
            return .fetch(item)
        }
        while let top = heap.peek, top.at <= now {
            heap.pop()
            let slot = slots[top.slot]
            slot.queued = false
            guard let item = slot.items.first, let ready = slot.politeness.readyAtMs else { continue }
            if ready > now {
                enqueue(top.slot, now: now)
                continue
            }
            if var gate = jobs[slot.job]?.robots, let target = OriginAndPath(item.url) {
                let origin = target.origin
                let decision = gate.decide(path: target.pathAndQuery, origin: origin, now: Date().timeIntervalSince1970)
                jobs[slot.job]?.robots = gate
                switch decision {
                case .allow:
                    if let seconds = gate.crawlDelays[origin], !applyCrawlDelay(seconds, origin: origin, slot: top.slot) {
                        // Over --max-crawl-delay: this origin's pages are refused from now on.
                        enqueue(top.slot, now: now)
                        continue
                    }
                case .fetchRobots:
                    slot.politeness.start(now: now)
                    changedSlots.insert(top.slot)
                    return .robots(RobotsTask(job: slot.job, origin: origin, slot: top.slot, startedAtMs: now))
                case .waitForFetch:
                    // Back in the heap when that fetch finishes.
                    continue
                case .waitUntil(let retryAt):
                    let waitMs = Int64(max(0, (retryAt - Date().timeIntervalSince1970) * 1_000).rounded(.up))
                    heap.push(at: now + max(1, waitMs), slot: top.slot)
                    slot.queued = true
                    continue
                case .refuse(let why):
                    _ = slot.items.popFirst()
                    count -= 1
                    slot.politeness.refused()
                    changedSlots.insert(top.slot)
                    enqueue(top.slot, now: now)
                    onRefused?(item, why)
                    continue
                }
            }
            _ = slot.items.popFirst()
            count -= 1
            slot.politeness.start(now: now)
            changedSlots.insert(top.slot)
            enqueue(top.slot, now: now)
            var started = item
            started.startedAtMs = now
            return .fetch(started)
        }
        armTimer(now: now)
        return nil
    }

    /// Puts a host with queued requests in the heap at the time it may start the next, unless it is there already
    /// or at its connection limit (it comes back when a request finishes).
    private func enqueue(_ index: Int, now: Int64) {
        let slot = slots[index]
        guard !slot.queued, !slot.items.isEmpty, let ready = slot.politeness.readyAtMs else { return }
        heap.push(at: max(ready, now), slot: index)
        slot.queued = true
    }

    /// Tells waiting lanes there may be work (or that the queue closed).
    private func wake(closing: Bool = false) {
        guard lanesWaiting, !closed || closing else { return }
        lanesWaiting = false
        onWork?()
    }

    /// With lanes waiting and a host due later, wakes them then.
    private func armTimer(now: Int64) {
        guard lanesWaiting, !closed, let top = heap.peek, top.at > now else { return }
        if let timer = wakeTimer {
            guard top.at < timer.at else { return }
            loop.cancelTimer(timer.id)
        }
        let id = loop.scheduleTimer(afterMilliseconds: Int(top.at - now)) { [unowned self] in
            self.wakeTimer = nil
            self.wake()
        }
        wakeTimer = (id, top.at)
    }

    // MARK: Hosts

    private func slot(job: String, host: String, rules: PolitenessRules) -> Int {
        let key = Self.slotKey(job: job, host: host)
        if let index = slotIndex[key] { return index }
        let slot = HostSlot(job: job, host: host, rules: rules)
        if jobs[job]?.robots == nil { slot.politeness.noteRobots("off (--no-robots)") }
        slots.append(slot)
        slotIndex[key] = slots.count - 1
        return slots.count - 1
    }

    private func learn(job: String, origin: String, slot: Int, outcome: RobotsFetchOutcome, fetchedAt: Double)
        -> RobotsState?
    {
        guard var gate = jobs[job]?.robots else { return nil }
        let state = gate.fetched(origin: origin, outcome: outcome, now: fetchedAt)
        jobs[job]?.robots = gate
        if case .rules(let rules, _) = state, let seconds = rules.crawlDelay(for: gate.agent) {
            _ = applyCrawlDelay(seconds, origin: origin, slot: slot)
        }
        slots[slot].politeness.noteRobots(state.summary(agent: gate.agent))
        changedSlots.insert(slot)
        return state
    }

    /// Raises the host's delay to a Crawl-delay (a no-op once applied); false, with the origin skipped, when it is
    /// over `--max-crawl-delay`.
    private func applyCrawlDelay(_ seconds: Double, origin: String, slot: Int) -> Bool {
        let politeness = slots[slot].politeness
        if let applied = politeness.crawlDelayMs, applied >= Int64((seconds * 1_000).rounded(.up)) { return true }
        if slots[slot].politeness.setCrawlDelay(seconds: seconds) {
            changedSlots.insert(slot)
            return true
        }
        let limit = Double(politeness.rules.maxCrawlDelayMs) / 1_000
        jobs[slots[slot].job]?.robots?.skip(origin: origin, because: "robots.txt asks for a Crawl-delay of "
            + "\(seconds) s, more than --max-crawl-delay \(limit) s: the host is skipped")
        return false
    }

    private static func slotKey(job: String, host: String) -> String { job + "\u{0}" + host }

    /// What a crawl's page is paced by: its group when the lease gave one (`--per-ip`), else its host.
    private static func group(of item: WorkItem) -> String? {
        item.group ?? URLAuthority.host(of: item.url)?.lowercased()
    }

    /// When a request that started at `startedAtMs` was sent: after its name lookup and connection (its
    /// `pretransfer` time, in µs); nil when it never got that far.
    private static func sentAt(startedAtMs: Int64, _ outcome: FetchOutcome) -> Int64? {
        guard startedAtMs > 0, outcome.timings.pretransfer > 0 else { return nil }
        return startedAtMs + outcome.timings.pretransfer / 1_000
    }

    /// `scheme://host[:port]` of a serialized URL.
    static func origin(of url: String) -> String? {
        OriginAndPath(url)?.origin
    }

    private static func nowMs() -> Int64 { Int64(EventLoop.now() / 1_000_000) }
}

/// A binary min-heap of (time, host slot): the hosts with queued requests, by when each may start the next.
struct DeadlineHeap {
    private var entries: [(at: Int64, slot: Int)] = []

    var peek: (at: Int64, slot: Int)? { entries.first }
    var isEmpty: Bool { entries.isEmpty }

    mutating func push(at: Int64, slot: Int) {
        entries.append((at, slot))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].at < entries[parent].at else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].at < entries[smallest].at { smallest = left }
            if right < entries.count && entries[right].at < entries[smallest].at { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension RobotsReport {
    /// What the fetch came to, as the robots.txt policy reads it.
    var outcome: RobotsFetchOutcome {
        if status > 0 { return .response(status: status, body: body, redirects: redirects) }
        if failure == Self.tooManyRedirects { return .tooManyRedirects }
        return .unreachable(failure ?? "no response")
    }
}
