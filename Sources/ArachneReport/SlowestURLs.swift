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
    /// The root is the fastest of the URLs kept.
    private var heap = URLKeyedHeap<Entry>()

    /// A kept response: the report's entry and when it finished (for ties).
    struct Entry: Codable, URLKeyedHeapEntry {
        var url: Report.SlowURL
        var finishedAt: Double

        var heapURL: String { url.url }

        /// The fastest nearest the root: it is the first given up.
        static func ranksBelow(_ a: Entry, _ b: Entry) -> Bool {
            SlowestURLs.isSlower(b, than: a)
        }
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
        // Fast paths, before an entry (its strings retained) is built for the record: faster than the root of a full
        // table, or than the response already kept for its own URL — with a job of few URLs repeated, the table
        // never fills and every record meets the second.
        let total = record.timings.total
        if heap.count == capacity, let root = heap.root, total < root.url.timings.total { return }
        if let kept = heap.entry(for: record.url), total < kept.url.timings.total { return }
        offer(Entry(url: Report.SlowURL(record), finishedAt: record.finishedAt))
    }

    /// Adds everything `other` kept: the result is what adding both parts' records would have kept.
    public mutating func merge(_ other: SlowestURLs) {
        for entry in other.heap.entries { offer(entry) }
    }

    /// The URLs kept, slowest first.
    public var slowestFirst: [Report.SlowURL] {
        heap.entries.sorted(by: Self.isSlower).map(\.url)
    }

    /// An estimate of the memory held, in bytes. URL strings count as at least 128 bytes, so the estimate depends on
    /// how many URLs are kept (at most `capacity`), not on which.
    var footprintBytes: Int {
        heap.entries.reduce(0) { $0 + 160 + Swift.max(128, $1.url.url.utf8.count) + $1.url.worker.utf8.count } + 64
    }

    private mutating func offer(_ entry: Entry) {
        if let kept = heap.entry(for: entry.heapURL) {
            if Self.isSlower(entry, than: kept) { heap.update(entry.heapURL) { $0 = entry } }
        } else if heap.count < capacity {
            heap.insert(entry)
        } else if let root = heap.root, Self.isSlower(entry, than: root) {
            heap.replaceRoot(with: entry)
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
}

extension SlowestURLs: Codable {
    private enum CodingKeys: String, CodingKey {
        case capacity, heap
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try container.decode(Int.self, forKey: .capacity)
        heap = URLKeyedHeap(try container.decode([Entry].self, forKey: .heap))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(heap.entries, forKey: .heap)
    }
}
