import ArachneFetch
import Synchronization

/// How far the fetchers may run ahead of a writer thread: bytes submitted but not yet written. Producers ask
/// `hasRoom` (cheap, atomic) or wait for room; the writer reports what it finished. Without it a writer slower than
/// the fetchers (WARC compression of every body) let batches pile up in its queue, and a million-request job grew the
/// coordinator to 930 MB.
public final class WriteBacklog: LaneGate {
    /// Above this many pending bytes, producers wait.
    public let limit: Int
    private let pending = Atomic<Int>(0)
    private let waiters = Mutex<[@Sendable () -> Void]>([])

    public init(limit: Int = 32 << 20) {
        self.limit = limit
    }

    public var pendingBytes: Int { pending.load(ordering: .relaxed) }
    public var hasRoom: Bool { pendingBytes <= limit }

    func added(_ bytes: Int) {
        pending.add(bytes, ordering: .relaxed)
    }

    /// The writer finished `bytes`; wakes the waiters once the backlog is under half the limit again.
    func finished(_ bytes: Int) {
        let now = pending.subtract(bytes, ordering: .relaxed).newValue
        guard now <= limit / 2 else { return }
        let wake = waiters.withLock { list -> [@Sendable () -> Void] in
            defer { list.removeAll() }
            return list
        }
        for waiter in wake { waiter() }
    }

    /// Runs `handler` once there is room: at once if there is, else when the writer has caught up.
    public func whenRoom(_ handler: @escaping @Sendable () -> Void) {
        if hasRoom {
            handler()
            return
        }
        let registered = waiters.withLock { list -> Bool in
            // Checked again under the lock: the writer may have drained in between.
            if hasRoom { return false }
            list.append(handler)
            return true
        }
        if !registered { handler() }
    }

    /// Suspends until there is room.
    public func waitForRoom() async {
        if hasRoom { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            whenRoom { continuation.resume() }
        }
    }
}
