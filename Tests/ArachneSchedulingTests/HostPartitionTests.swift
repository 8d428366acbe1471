import Testing

@testable import ArachneScheduling

/// A partition with `keys` keys per host (host h's keys numbered in order after those of hosts before it).
private func partition(window: Int, keysPerHost: [Int]) -> HostPartition {
    var partition = HostPartition(window: window)
    var key = 0
    for (host, count) in keysPerHost.enumerated() {
        for _ in 0..<count {
            partition.add(key, host: host)
            key += 1
        }
    }
    return partition
}

extension HostPartition {
    /// `take` without the retried keys.
    mutating func take(_ owner: Int, _ limit: Int, workers: Int = 1) -> [Int] {
        var retried: [Int] = []
        return take(for: owner, limit: limit, workers: workers, retried: &retried)
    }
}

@Suite("Host partition: a crawl's keys by host, each host held by one worker session")
struct HostPartitionTests {
    @Test("a worker claims one host per take; its keys go to that worker only, even once its queue ran empty")
    func ownership() {
        // Hosts 0 and 1, three keys each: keys 0-2 on host 0, 3-5 on host 1.
        var p = partition(window: 10, keysPerHost: [3, 3])
        #expect(p.take(1, 10, workers: 2) == [0, 1, 2])
        #expect(p.owner(of: 0) == 1 && p.owner(of: 1) == nil)
        #expect(p.take(2, 10, workers: 2) == [3, 4, 5])
        #expect(p.owner(of: 1) == 2)
        // Both queues are empty; the hosts stay with their owners.
        for key in 0..<6 { p.finish(key, wasInFlight: true) }
        #expect(!p.canOffer(to: 1, workers: 2) && !p.canOffer(to: 2, workers: 2))
        p.add(6, host: 1)
        p.add(7, host: 0)
        #expect(p.canOffer(to: 1, workers: 2) && p.canOffer(to: 2, workers: 2))
        #expect(!p.canOffer(to: 3, workers: 3), "a third worker finds no unowned host")
        #expect(p.take(3, 10, workers: 3).isEmpty)
        #expect(p.take(2, 10, workers: 2) == [6])
        #expect(p.take(1, 10, workers: 2) == [7])
        #expect(p.hosts(of: 1) == [0] && p.hosts(of: 2) == [1])
    }

    @Test("no more than the window of a host's keys is in flight; a result makes room for one more")
    func window() {
        var p = partition(window: 3, keysPerHost: [10])
        #expect(p.take(1, 100) == [0, 1, 2])
        #expect(p.inFlight(on: 0) == 3 && p.pending(on: 0) == 7)
        #expect(!p.canOffer(to: 1, workers: 1))
        #expect(p.take(1, 100).isEmpty)
        p.finish(1, wasInFlight: true)
        #expect(p.canOffer(to: 1, workers: 1))
        #expect(p.take(1, 100) == [3])
        #expect(p.take(1, 100).isEmpty)
    }

    @Test("a worker's hosts are served round-robin, one key a turn, so a huge host does not crowd out small ones")
    func roundRobin() {
        // Host 0 has 100 keys (0-99), hosts 1 and 2 three each (100-102, 103-105).
        var p = partition(window: 1_000, keysPerHost: [100, 3, 3])
        // One worker claims one host per take: host 0 first (it became ready first), then 1, then 2.
        #expect(p.take(1, 1) == [0])
        #expect(p.take(1, 1) == [100])
        #expect(p.take(1, 1) == [103])
        #expect(p.hosts(of: 1) == [0, 1, 2])
        // Then turns go round the hosts it holds.
        #expect(p.take(1, 7) == [1, 101, 104, 2, 102, 105, 3])
        #expect(p.take(1, 4) == [4, 5, 6, 7], "the small hosts are drained; the huge one goes on")
    }

    @Test("keys back from a worker go to the front of their host's queue, in lease order, and count as retried")
    func requeueToFront() {
        var p = partition(window: 10, keysPerHost: [6])
        #expect(p.take(1, 3) == [0, 1, 2])
        for key in [2, 1, 0] { p.requeue(key) }
        #expect(p.pending(on: 0) == 6 && p.inFlight(on: 0) == 0)
        var retried: [Int] = []
        #expect(p.take(for: 1, limit: 4, workers: 1, retried: &retried) == [0, 1, 2, 3])
        #expect(retried == [0, 1, 2])
    }

    @Test("when a worker's session ends its hosts become unowned, their returned keys first for the next worker")
    func releaseFreesHosts() {
        var p = partition(window: 10, keysPerHost: [4, 4])
        #expect(p.take(1, 2, workers: 2) == [0, 1])
        #expect(p.take(1, 10, workers: 2) == [2, 3], "its own host first; it holds its share of hosts")
        #expect(p.take(2, 10, workers: 2) == [4, 5, 6, 7])
        // Worker 1 is lost: key 0 had its result, 1-3 come back.
        p.finish(0, wasInFlight: true)
        for key in [3, 2, 1] { p.requeue(key) }
        p.release(owner: 1)
        #expect(p.owner(of: 0) == nil && p.hosts(of: 1).isEmpty)
        #expect(p.canOffer(to: 3, workers: 2))
        #expect(p.take(3, 10, workers: 2) == [1, 2, 3])
        #expect(p.owner(of: 0) == 3)
        // Host 1 stays with worker 2.
        #expect(p.owner(of: 1) == 2)
    }

    @Test("a worker claims hosts only up to its fair share of the hosts with work, so hosts spread over workers")
    func fairShare() {
        // Six hosts of two keys, four workers: a share of two hosts each.
        var p = partition(window: 10, keysPerHost: Array(repeating: 2, count: 6))
        #expect(p.take(1, 100, workers: 4).count == 2)
        #expect(p.take(1, 100, workers: 4).count == 2)
        #expect(!p.canOffer(to: 1, workers: 4), "two hosts with work: its share")
        #expect(p.take(1, 100, workers: 4).isEmpty)
        for worker in 2...3 {
            #expect(p.take(worker, 100, workers: 4).count == 2)
            #expect(p.take(worker, 100, workers: 4).count == 2)
        }
        #expect(!p.canOffer(to: 4, workers: 4), "no unowned host left")
        // Worker 1's hosts run out of work: it may claim again (there is nothing to claim until a host is freed).
        for key in 0..<4 { p.finish(key, wasInFlight: true) }
        p.release(owner: 3)
        for key in 8..<12 { p.requeue(key) }
        #expect(p.canOffer(to: 1, workers: 3) && p.canOffer(to: 4, workers: 3))
        #expect(p.take(4, 100, workers: 3).count == 2)
        #expect(p.take(1, 100, workers: 3).count == 2)
        #expect(Set(p.hosts(of: 4) + p.hosts(of: 1)).isSuperset(of: [4, 5]))
    }

    @Test("a pending key that ends (a late result) is never leased; draining gives every pending key once")
    func finishPendingAndDrain() {
        var p = partition(window: 2, keysPerHost: [5, 3])
        #expect(p.take(1, 10, workers: 2) == [0, 1])
        p.finish(3, wasInFlight: false)
        p.requeue(1)
        p.finish(1, wasInFlight: false)
        #expect(p.pendingCount == 5)
        #expect(p.pending(on: 0) == 2 && p.pending(on: 1) == 3)
        var drained: [Int] = []
        p.drainPending { drained.append($0) }
        #expect(drained.sorted() == [2, 4, 5, 6, 7])
        #expect(p.pendingCount == 0 && p.pending(on: 0) == 0 && p.pending(on: 1) == 0)
        #expect(p.take(1, 10).isEmpty && p.take(2, 10).isEmpty)
        #expect(!p.canOffer(to: 2, workers: 2))
        // The key still in flight finishes as usual.
        p.finish(0, wasInFlight: true)
        #expect(p.inFlight(on: 0) == 0 && p.host(of: 0) == nil)
    }

    @Test("the window is four keys per connection when a delay paces the host, 32 when only responses do")
    func windowOfOptions() {
        #expect(HostPartition.window(perHost: 1, delayMs: 250) == 4)
        #expect(HostPartition.window(perHost: 2, delayMs: 250) == 8)
        #expect(HostPartition.window(perHost: 16, delayMs: 100) == 64)
        #expect(HostPartition.window(perHost: 0, delayMs: 1_000) == 4)
        #expect(HostPartition.window(perHost: 2, delayMs: 0) == 64)
        #expect(HostPartition.window(perHost: 1, delayMs: 99) == 32)
        #expect(HostPartition.window(perHost: 0, delayMs: 0) == 32)
    }
}
