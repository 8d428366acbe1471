import ArachneCore
import ArachneEventLoop

/// One leased request waiting in a worker.
struct WorkItem {
    var job: String
    var batch: UInt64
    var key: RequestKey
    var url: String
    /// When the lease arrived (`EventLoop.now()`), for the `queue` phase.
    var enqueuedAt: UInt64
}

/// The worker's queue of leased requests, which its fetch lanes take from. A lane that finds it empty suspends
/// until a lease arrives. Touched only on the worker's loop thread (the lanes run there by executor preference).
final class WorkQueue {
    private var items = FIFO<WorkItem>()
    private var waiters: [UnsafeContinuation<WorkItem?, Never>] = []
    private(set) var closed = false

    var count: Int { items.count }

    func push(_ newItems: [WorkItem]) {
        guard !closed else { return }
        items.append(contentsOf: newItems)
        while !waiters.isEmpty, let item = items.popFirst() {
            waiters.removeLast().resume(returning: item)
        }
    }

    /// The next item, waiting for one if needed; nil once the queue is closed.
    func next() async -> WorkItem? {
        if let item = items.popFirst() { return item }
        if closed { return nil }
        // The continuation's closure may run after other loop work (a lease's `push`, say): look again there, or
        // a lane could wait forever beside queued items.
        return await withUnsafeContinuation { continuation in
            if let item = items.popFirst() {
                continuation.resume(returning: item)
            } else if closed {
                continuation.resume(returning: nil)
            } else {
                waiters.append(continuation)
            }
        }
    }

    /// Drops queued items that match `predicate` (a cancelled job's, or everything when the coordinator is lost).
    func remove(where predicate: (WorkItem) -> Bool) {
        items.removeAll(where: predicate)
    }

    /// Wakes every waiting lane with nil; later `next()` calls return nil at once.
    func close() {
        closed = true
        items.removeAll()
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.resume(returning: nil) }
    }
}
