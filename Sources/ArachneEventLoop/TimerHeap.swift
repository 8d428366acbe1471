/// Identifies a scheduled timer so it can be cancelled.
public struct TimerID: Hashable, Sendable {
    let raw: UInt64
}

/// A min-heap of deadlines (monotonic nanoseconds). Cancelled timers are removed lazily: their entries stay in the
/// heap until they reach the top, which keeps cancel O(1) — curl cancels and re-arms its timer constantly.
struct TimerHeap<Handler> {
    private struct Entry {
        var deadline: UInt64
        var id: UInt64
    }

    private var heap: [Entry] = []
    private var handlers: [UInt64: Handler] = [:]
    private var nextID: UInt64 = 1

    var isEmpty: Bool { handlers.isEmpty }

    mutating func schedule(at deadline: UInt64, _ handler: Handler) -> TimerID {
        let id = nextID
        nextID += 1
        handlers[id] = handler
        heap.append(Entry(deadline: deadline, id: id))
        siftUp(heap.count - 1)
        return TimerID(raw: id)
    }

    @discardableResult
    mutating func cancel(_ timer: TimerID) -> Bool {
        handlers.removeValue(forKey: timer.raw) != nil
    }

    /// The earliest live deadline, discarding cancelled entries on the way.
    mutating func nextDeadline() -> UInt64? {
        while let top = heap.first {
            if handlers[top.id] != nil { return top.deadline }
            popTop()
        }
        return nil
    }

    /// Removes and returns the handler of the earliest timer due at `now`, if any.
    mutating func popExpired(now: UInt64) -> Handler? {
        while let top = heap.first, top.deadline <= now {
            popTop()
            if let handler = handlers.removeValue(forKey: top.id) { return handler }
        }
        return nil
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }

    private func less(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.id < b.id)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, less(heap[left + 1], heap[left]) { smallest = left + 1 }
            guard less(heap[smallest], heap[parent]) else { return }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
