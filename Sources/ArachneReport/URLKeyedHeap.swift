/// An entry of a `URLKeyedHeap`: named by its URL, ordered by `ranksBelow`.
protocol URLKeyedHeapEntry: Sendable, Hashable {
    /// The URL that names the entry: at most one entry per URL.
    var heapURL: String { get }
    /// True when `a` belongs nearer the root than `b` (the root is the entry the table gives up first).
    static func ranksBelow(_ a: Self, _ b: Self) -> Bool
}

/// A binary min-heap with at most one entry per URL and a map from URL to position, so an entry can be found and
/// changed in place: the storage of the report's URL tables (`SlowestURLs`, `FailingURLs`), which keep the
/// `capacity` entries ranking highest and give up the root first.
struct URLKeyedHeap<Entry: URLKeyedHeapEntry>: Sendable, Hashable {
    /// The entries in heap order: `entries[0]` ranks lowest.
    private(set) var entries: [Entry] = []
    /// Where each entry sits in `entries`.
    private var positions: [String: Int] = [:]

    init() {}

    /// A heap of `entries` (in any order; one per URL).
    init(_ entries: [Entry]) {
        self.entries = entries
        for (position, entry) in entries.enumerated() { positions[entry.heapURL] = position }
        for start in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(start) }
    }

    var count: Int { entries.count }

    /// The entry that ranks lowest.
    var root: Entry? { entries.first }

    /// The entry named by `url`, if kept.
    func entry(for url: String) -> Entry? {
        positions[url].map { entries[$0] }
    }

    /// Adds an entry for a URL not kept yet.
    mutating func insert(_ entry: Entry) {
        precondition(positions[entry.heapURL] == nil, "one entry per URL")
        entries.append(entry)
        positions[entry.heapURL] = entries.count - 1
        siftUp(entries.count - 1)
    }

    /// Replaces the root (the entry ranking lowest) with an entry for a URL not kept yet.
    mutating func replaceRoot(with entry: Entry) {
        precondition(!entries.isEmpty && positions[entry.heapURL] == nil, "a root to replace, one entry per URL")
        positions[entries[0].heapURL] = nil
        entries[0] = entry
        positions[entry.heapURL] = 0
        siftDown(0)
    }

    /// Changes the entry kept for `url` in place (its URL must stay the same), then restores the heap order.
    /// Returns false, changing nothing, when no entry is kept for `url`.
    @discardableResult
    mutating func update(_ url: String, _ change: (inout Entry) -> Void) -> Bool {
        guard let position = positions[url] else { return false }
        change(&entries[position])
        precondition(entries[position].heapURL == url, "an update keeps the entry's URL")
        siftDown(siftUp(position))
        return true
    }

    /// Moves the entry at `start` towards the root while it ranks below its parent; returns where it ends.
    @discardableResult
    private mutating func siftUp(_ start: Int) -> Int {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard Entry.ranksBelow(entries[child], entries[parent]) else { break }
            swapAt(parent, child)
            child = parent
        }
        return child
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var lowest = parent
            let left = 2 * parent + 1
            let right = left + 1
            if left < entries.count && Entry.ranksBelow(entries[left], entries[lowest]) { lowest = left }
            if right < entries.count && Entry.ranksBelow(entries[right], entries[lowest]) { lowest = right }
            guard lowest != parent else { return }
            swapAt(parent, lowest)
            parent = lowest
        }
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        entries.swapAt(i, j)
        positions[entries[i].heapURL] = i
        positions[entries[j].heapURL] = j
    }
}
