/// A first-in, first-out queue over an array with a moving head: appends and pops are O(1) amortised, and the
/// storage is compacted as the head advances, so a long-lived queue does not keep what it has handed out.
/// Inlinable: it sits on the event loop's hottest path, and generic code across modules is otherwise not specialized.
public struct FIFO<Element> {
    @usableFromInline var items: [Element] = []
    @usableFromInline var head = 0

    @inlinable public init() {}

    @inlinable public var count: Int { items.count - head }
    @inlinable public var isEmpty: Bool { head == items.count }

    @inlinable public mutating func append(_ element: Element) {
        items.append(element)
    }

    @inlinable public mutating func append(contentsOf elements: some Sequence<Element>) {
        items.append(contentsOf: elements)
    }

    /// Removes and returns the oldest element.
    @inlinable public mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Puts an element back in front of the others (a request that must be retried first).
    @inlinable public mutating func prepend(_ element: Element) {
        if head > 0 {
            head -= 1
            items[head] = element
        } else {
            items.insert(element, at: 0)
        }
    }

    /// The oldest element, left in place.
    @inlinable public var first: Element? { head < items.count ? items[head] : nil }

    /// Drops the elements that match `predicate`, keeping the others in order.
    @inlinable public mutating func removeAll(where predicate: (Element) throws -> Bool) rethrows {
        items = try items[head...].filter { try !predicate($0) }
        head = 0
    }

    @inlinable public mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}
