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
    private var items: [WorkItem] = []
    private var head = 0
    private var waiters: [UnsafeContinuation<WorkItem?, Never>] = []
    private(set) var closed = false

    var count: Int { items.count - head }

    func push(_ newItems: [WorkItem]) {
        guard !closed else { return }
        items.append(contentsOf: newItems)
        while !waiters.isEmpty, let item = pop() {
            waiters.removeLast().resume(returning: item)
        }
    }

    /// The next item, waiting for one if needed; nil once the queue is closed.
    func next() async -> WorkItem? {
        if let item = pop() { return item }
        if closed { return nil }
        // The continuation's closure may run after other loop work (a lease's `push`, say): look again there, or
        // a lane could wait forever beside queued items.
        return await withUnsafeContinuation { continuation in
            if let item = pop() {
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
        items = Array(items[head...].filter { !predicate($0) })
        head = 0
    }

    /// Wakes every waiting lane with nil; later `next()` calls return nil at once.
    func close() {
        closed = true
        items.removeAll()
        head = 0
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.resume(returning: nil) }
    }

    private func pop() -> WorkItem? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}
