/// A crawl's keys partitioned by host, each host leased to one worker at a time: the Mercator shape Heritrix,
/// StormCrawler and BUbiNG share, so a host's politeness limits hold where its sockets are.
///
/// Every key the job has not finished is in exactly one place: pending in its host's queue (first-in, first-out, with
/// keys that come back from a worker at the front), or in flight. A host is *owned* by the worker session that
/// claimed it, and only that session is leased its keys; ownership lasts as long as the session, even while the
/// host's queue is empty, so the worker's delay between request starts is never broken by a hand-over. When the
/// session ends its hosts become unowned and the next worker with room claims them. A host has at most `window` keys
/// in flight, so a polite host does not tie up a worker's lanes while other hosts wait.
///
/// `take` serves a worker's own ready hosts round-robin, one key per host per turn; before that it claims at most
/// one unowned host, and only while the worker owns fewer hosts with work than its fair share (hosts with work ÷
/// workers, rounded up), so hosts spread over workers and none waits behind a huge one.
///
/// Memory: 4 bytes per key of the job (its host), 4 bytes per pending key (its queue entry), and a few dozen bytes
/// per host. Owners are worker sessions, as numbers the scheduler gives (never 0).
public struct HostPartition: Sendable {
    /// The host of each key while it is pending or in flight; `none` before it is added and once it is finished.
    private var hostOf: [UInt32] = []
    private var hosts: [Host] = []
    private var owners: [Int: Owner] = [:]
    /// Unowned hosts that are ready (pending keys, window room), in the order they became ready. May hold hosts
    /// that stopped being ready since; they are dropped when met.
    private var unowned = IndexQueue()
    private var unownedReady = 0
    /// Hosts with pending or in-flight keys, owned or not.
    private(set) var activeHosts = 0
    /// Keys pending in host queues.
    private(set) var pendingCount = 0
    /// The most keys of one host in flight at once.
    let window: Int

    static let none = UInt32.max

    /// The window of a crawl whose workers keep `perHost` connections to a host, so that the worker holding the
    /// host has its next requests at hand when one finishes — for as long as a result takes to reach the
    /// coordinator and the next lease to come back (a worker sends its results every few milliseconds).
    /// - With a politeness delay of 100 ms or more (the default is 250 ms), the delay bounds the host's rate: four
    ///   keys per connection are at least 400 ms of work, and a graceful stop drains no more than that.
    /// - With less (`--delay 0`), responses alone pace the host, and a small window made the round trip the limit:
    ///   8 keys per host over 4 hosts ran at 3,067 pages/s with results sent every 8 ms, 6,624 every 1 ms. Then it
    ///   is 32 keys per connection (64 at the default 2), enough for ~10 ms of a host answering 6,000 pages/s.
    public static func window(perHost: Int, delayMs: Int) -> Int {
        let connections = max(1, perHost)
        return delayMs >= 100 ? 4 * connections : 32 * connections
    }

    struct Host: Sendable {
        var fresh = IndexQueue()
        /// Keys back from a worker, leased again before `fresh` (last back, first out).
        var returned: [UInt32] = []
        var pending = 0
        var inFlight = 0
        /// The owning session, 0 for none.
        var owner = 0
        /// Whether the host is in its owner's ring (or the unowned ring).
        var inRing = false
        /// Whether it is counted as ready / active.
        var ready = false
        var active = false
    }

    struct Owner: Sendable {
        /// Its ready hosts, round-robin; may hold hosts that stopped being ready since.
        var ring = IndexQueue()
        /// Every host it claimed.
        var hosts: [UInt32] = []
        var ready = 0
        var active = 0
    }

    init(window: Int) {
        precondition(window >= 1, "a host window must be at least 1")
        self.window = window
    }

    // MARK: Keys

    /// Makes room for keys below `keyCount`.
    mutating func grow(to keyCount: Int) {
        precondition(keyCount < Int(Self.none), "a crawl of \(keyCount) keys is too large for its host partition")
        guard keyCount > hostOf.count else { return }
        hostOf.append(contentsOf: repeatElement(Self.none, count: keyCount - hostOf.count))
    }

    /// A new key, pending at the back of its host's queue. Host ids are small integers the caller interns.
    mutating func add(_ key: Int, host: Int) {
        precondition(host >= 0 && host < Int(Self.none), "host id \(host) is out of range")
        grow(to: key + 1)
        precondition(hostOf[key] == Self.none, "key \(key) is already in the host partition")
        if host >= hosts.count { hosts.append(contentsOf: repeatElement(Host(), count: host + 1 - hosts.count)) }
        hostOf[key] = UInt32(host)
        hosts[host].fresh.append(UInt32(key))
        hosts[host].pending += 1
        pendingCount += 1
        refresh(host)
    }

    /// A key in flight came back unfinished: it goes to the front of its host's queue.
    mutating func requeue(_ key: Int) {
        let host = self.host(of: key)!
        hosts[host].inFlight -= 1
        hosts[host].returned.append(UInt32(key))
        hosts[host].pending += 1
        pendingCount += 1
        refresh(host)
    }

    /// A key got its terminal record, in flight or (a late result, a cancel) while pending.
    mutating func finish(_ key: Int, wasInFlight: Bool) {
        guard let host = host(of: key) else { preconditionFailure("key \(key) is not in the host partition") }
        hostOf[key] = Self.none
        if wasInFlight {
            hosts[host].inFlight -= 1
        } else {
            // Its queue entry stays, and is skipped when met.
            hosts[host].pending -= 1
            pendingCount -= 1
        }
        refresh(host)
    }

    /// Empties every host queue (the job is cancelled), calling `body` with each pending key.
    mutating func drainPending(_ body: (Int) -> Void) {
        for host in hosts.indices where hosts[host].pending > 0 {
            while let key = hosts[host].returned.popLast() { drop(key, of: host, body) }
            while let key = hosts[host].fresh.popFirst() { drop(key, of: host, body) }
            hosts[host].pending = 0
            refresh(host)
        }
        pendingCount = 0
    }

    private mutating func drop(_ key: UInt32, of host: Int, _ body: (Int) -> Void) {
        guard hostOf[Int(key)] == UInt32(host) else { return }
        hostOf[Int(key)] = Self.none
        body(Int(key))
    }

    // MARK: Workers

    /// Whether `take` would give `owner` at least one key with `workers` worker sessions alive.
    func canOffer(to owner: Int, workers: Int) -> Bool {
        (owners[owner]?.ready ?? 0) > 0 || mayClaim(owner, workers: workers)
    }

    /// Up to `limit` keys for `owner` to hold: the first key of a host it claims now, then its hosts' round-robin
    /// (the new one last). Keys that had come back from a worker are appended to `retried` too.
    mutating func take(for owner: Int, limit: Int, workers: Int, retried: inout [Int]) -> [Int] {
        precondition(owner != 0, "session 0 stands for no owner")
        var keys: [Int] = []
        guard limit > 0 else { return keys }
        if mayClaim(owner, workers: workers) {
            while let next = unowned.popFirst() {
                let host = Int(next)
                hosts[host].inRing = false
                guard hosts[host].ready, hosts[host].owner == 0 else { continue }
                claim(host, for: owner)
                keys.append(takeOne(from: host, retried: &retried))
                refresh(host)
                break
            }
        }
        while keys.count < limit, (owners[owner]?.ready ?? 0) > 0, let next = owners[owner]!.ring.popFirst() {
            let host = Int(next)
            hosts[host].inRing = false
            guard hosts[host].ready else { continue }
            keys.append(takeOne(from: host, retried: &retried))
            refresh(host)
        }
        return keys
    }

    /// The session ended: its hosts become unowned, ready ones first in line for the next claim.
    mutating func release(owner: Int) {
        guard let entry = owners.removeValue(forKey: owner) else { return }
        for next in entry.hosts {
            let host = Int(next)
            hosts[host].owner = 0
            hosts[host].inRing = false
            if hosts[host].ready {
                unownedReady += 1
                unowned.append(next)
                hosts[host].inRing = true
            }
        }
    }

    // MARK: Looking in

    /// The host of a pending or in-flight key.
    func host(of key: Int) -> Int? {
        guard key < hostOf.count, hostOf[key] != Self.none else { return nil }
        return Int(hostOf[key])
    }

    /// The session owning `host`, nil when none does.
    func owner(of host: Int) -> Int? {
        guard host < hosts.count, hosts[host].owner != 0 else { return nil }
        return hosts[host].owner
    }

    func inFlight(on host: Int) -> Int { host < hosts.count ? hosts[host].inFlight : 0 }

    func pending(on host: Int) -> Int { host < hosts.count ? hosts[host].pending : 0 }

    /// Hosts owned by `owner`, in the order it claimed them.
    func hosts(of owner: Int) -> [Int] { (owners[owner]?.hosts ?? []).map(Int.init) }

    // MARK: Helpers

    private func mayClaim(_ owner: Int, workers: Int) -> Bool {
        guard unownedReady > 0 else { return false }
        let share = (activeHosts + max(1, workers) - 1) / max(1, workers)
        return (owners[owner]?.active ?? 0) < share
    }

    private mutating func claim(_ host: Int, for owner: Int) {
        if hosts[host].ready { unownedReady -= 1 }
        hosts[host].owner = owner
        hosts[host].ready = false
        owners[owner, default: Owner()].hosts.append(UInt32(host))
        if hosts[host].active { owners[owner]!.active += 1 }
        refresh(host)
    }

    /// The next live key of a ready host, now in flight.
    private mutating func takeOne(from host: Int, retried: inout [Int]) -> Int {
        while let key = hosts[host].returned.popLast() {
            guard hostOf[Int(key)] == UInt32(host) else { continue }
            retried.append(Int(key))
            return moveInFlight(Int(key), host)
        }
        while let key = hosts[host].fresh.popFirst() {
            guard hostOf[Int(key)] == UInt32(host) else { continue }
            return moveInFlight(Int(key), host)
        }
        preconditionFailure("host \(host) counts \(hosts[host].pending) pending keys and has none")
    }

    private mutating func moveInFlight(_ key: Int, _ host: Int) -> Int {
        hosts[host].pending -= 1
        hosts[host].inFlight += 1
        pendingCount -= 1
        return key
    }

    /// Recounts a host after a change, and puts it in its owner's ring (or the unowned one) when it became ready.
    private mutating func refresh(_ host: Int) {
        let entry = hosts[host]
        let ready = entry.pending > 0 && entry.inFlight < window
        let active = entry.pending > 0 || entry.inFlight > 0
        if ready != entry.ready {
            let change = ready ? 1 : -1
            if entry.owner == 0 { unownedReady += change } else { owners[entry.owner]!.ready += change }
            hosts[host].ready = ready
        }
        if active != entry.active {
            let change = active ? 1 : -1
            activeHosts += change
            if entry.owner != 0 { owners[entry.owner]!.active += change }
            hosts[host].active = active
        }
        if ready && !entry.inRing {
            hosts[host].inRing = true
            if entry.owner == 0 { unowned.append(UInt32(host)) } else { owners[entry.owner]!.ring.append(UInt32(host)) }
        }
    }
}

/// A first-in, first-out queue of key or host numbers: an array with a moving head, compacted as the head advances.
struct IndexQueue: Sendable {
    private var items: [UInt32] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func append(_ item: UInt32) {
        items.append(item)
    }

    mutating func popFirst() -> UInt32? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: items.count <= 64)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}
