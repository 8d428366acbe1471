/// A first-in, first-out queue over an array with a moving head: appends and pops are O(1) amortised, and the
/// storage is compacted as the head advances, so a long-lived queue does not keep what it has handed out.
public struct FIFO<Element> {
    private var items: [Element] = []
    private var head = 0

    public init() {}

    public var count: Int { items.count - head }
    public var isEmpty: Bool { head == items.count }

    public mutating func append(_ element: Element) {
        items.append(element)
    }

    public mutating func append(contentsOf elements: some Sequence<Element>) {
        items.append(contentsOf: elements)
    }

    /// Removes and returns the oldest element.
    public mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Drops the elements that match `predicate`, keeping the others in order.
    public mutating func removeAll(where predicate: (Element) throws -> Bool) rethrows {
        items = try items[head...].filter { try !predicate($0) }
        head = 0
    }

    public mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}
