import ArachneCore

/// The job's slowest URLs: at most `capacity` distinct URLs, each with its slowest response (by `total`).
///
/// A min-heap keyed by the slowest response kept: a record costs one comparison with the heap's root unless it is
/// among the slowest so far, and memory is `capacity` entries whatever the job's size. The result is exact and does
/// not depend on the order records arrive in or on how they are split and merged: a URL whose slowest response is
/// not among the `capacity` slowest URLs of the whole job is not among them in any part either, so the top of a merge
/// is the top of the parts' tops. Ties are broken by URL, URL index, repetition, finish time and worker.
///
/// Only responses count (`status > 0`), as in the report's timings: a request that got none has no total worth
/// ranking, and is counted among the failing URLs instead.
public struct SlowestURLs: Sendable, Hashable {
    /// URLs kept by default: the report lists them all.
    public static let defaultCapacity = 20

    public let capacity: Int
    /// Min-heap: the root is the fastest of the URLs kept.
    private var heap: [Entry] = []
    /// Where each kept URL sits in `heap`.
    private var positions: [String: Int] = [:]

    /// A kept response: the report's entry and when it finished (for ties).
    struct Entry: Codable, Sendable, Hashable {
        var url: Report.SlowURL
        var finishedAt: Double
    }

    public init(capacity: Int = SlowestURLs.defaultCapacity) {
        precondition(capacity >= 0, "capacity must not be negative")
        self.capacity = capacity
    }

    /// URLs kept.
    public var count: Int { heap.count }

    /// Considers one terminal record.
    public mutating func add(_ record: FetchRecord) {
        guard record.status > 0, capacity > 0 else { return }
        // Fast path: slower than nothing kept, and not the kept entry of its own URL (that one is at least as slow).
        if heap.count == capacity, record.timings.total < heap[0].url.timings.total { return }
        offer(Entry(url: Report.SlowURL(record), finishedAt: record.finishedAt))
    }

    /// Adds everything `other` kept: the result is what adding both parts' records would have kept.
    public mutating func merge(_ other: SlowestURLs) {
        for entry in other.heap { offer(entry) }
    }

    /// The URLs kept, slowest first.
    public var slowestFirst: [Report.SlowURL] {
        heap.sorted(by: Self.isSlower).map(\.url)
    }

    /// An estimate of the memory held, in bytes. URL strings count as at least 128 bytes, so the estimate depends on
    /// how many URLs are kept (at most `capacity`), not on which.
    var footprintBytes: Int {
        heap.reduce(0) { $0 + 160 + Swift.max(128, $1.url.url.utf8.count) + $1.url.worker.utf8.count } + 64
    }

    private mutating func offer(_ entry: Entry) {
        let url = entry.url.url
        if let position = positions[url] {
            guard Self.isSlower(entry, than: heap[position]) else { return }
            heap[position] = entry
            siftDown(position)
            return
        }
        if heap.count < capacity {
            heap.append(entry)
            positions[url] = heap.count - 1
            siftUp(heap.count - 1)
        } else if capacity > 0, Self.isSlower(entry, than: heap[0]) {
            positions[heap[0].url.url] = nil
            heap[0] = entry
            positions[url] = 0
            siftDown(0)
        }
    }

    /// The order of the table: slower total first, then URL, URL index, repetition, finish time and worker, so that
    /// equal totals rank the same whichever part saw them.
    static func isSlower(_ a: Entry, than b: Entry) -> Bool {
        let (x, y) = (a.url, b.url)
        if x.timings.total != y.timings.total { return x.timings.total > y.timings.total }
        if x.url != y.url { return x.url < y.url }
        if x.urlIndex != y.urlIndex { return (x.urlIndex ?? Int.max) < (y.urlIndex ?? Int.max) }
        if x.repetition != y.repetition { return x.repetition < y.repetition }
        if a.finishedAt != b.finishedAt { return a.finishedAt < b.finishedAt }
        return x.worker < y.worker
    }

    // MARK: Heap (the fastest kept at the root)

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.isSlower(heap[parent], than: heap[child]) else { return }
            swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var fastest = parent
            let left = 2 * parent + 1
            let right = left + 1
            if left < heap.count && Self.isSlower(heap[fastest], than: heap[left]) { fastest = left }
            if right < heap.count && Self.isSlower(heap[fastest], than: heap[right]) { fastest = right }
            guard fastest != parent else { return }
            swapAt(parent, fastest)
            parent = fastest
        }
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        heap.swapAt(i, j)
        positions[heap[i].url.url] = i
        positions[heap[j].url.url] = j
    }
}

extension SlowestURLs: Codable {
    private enum CodingKeys: String, CodingKey {
        case capacity, heap
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try container.decode(Int.self, forKey: .capacity)
        heap = try container.decode([Entry].self, forKey: .heap)
        for (position, entry) in heap.enumerated() { positions[entry.url.url] = position }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(heap, forKey: .heap)
    }
}
