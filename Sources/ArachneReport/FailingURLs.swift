import ArachneCore

/// Failed requests per URL, in bounded memory: the Space-Saving algorithm (Metwally, Agrawal, El Abbadi, 2005) with
/// `capacity` counters, for the report's most-failing URLs.
///
/// While no more than `capacity` distinct URLs have failed, every count is exact. After that, a failure of an
/// untracked URL takes over the counter with the fewest failures, m, and starts at m + 1 with an `overcount` of m:
/// each count is then an upper bound, at most `overcount` too high, and any URL with more failures than `floor`
/// (at most failures / `capacity` in one stream) is tracked. Two summaries merge (each URL's counts add; a URL one
/// side does not track is given that side's floor, the most failures an untracked URL there can have had) into one
/// with the same guarantees (its floor may be higher), so a report can merge its workers' summaries.
///
/// The result depends only on the sequence of failures added (and merges in their order): replaying a job's records
/// in the order they were written rebuilds the same summary.
public struct FailingURLs: Sendable, Hashable {
    /// Counters kept by default.
    public static let defaultCapacity = 1_000
    /// URLs a report lists.
    public static let reportedCount = 20

    public let capacity: Int
    /// Failures counted (cancelled requests are not failures).
    public private(set) var failures = 0
    /// True once a URL lost its counter (or a merge dropped one): from then on `floor` bounds untracked URLs.
    public private(set) var lossy = false
    /// Min-heap by count: the root is the counter a new URL takes over.
    private var heap: [Counter] = []
    /// Where each tracked URL's counter sits in `heap`.
    private var positions: [String: Int] = [:]

    /// One tracked URL.
    struct Counter: Codable, Sendable, Hashable {
        var url: String
        var urlIndex: Int?
        var count: Int
        var overcount: Int
        /// Failures by kind while tracked: they add up to `count − overcount`.
        var kinds: [String: Int]
    }

    public init(capacity: Int = FailingURLs.defaultCapacity) {
        precondition(capacity >= 0, "capacity must not be negative")
        self.capacity = capacity
    }

    /// URLs tracked.
    public var count: Int { heap.count }

    /// The most failures a URL that is not tracked can have had: 0 while every count is exact.
    public var floor: Int { lossy ? heap.first?.count ?? 0 : 0 }

    /// Counts a record if it is a failed request: an error other than `cancelled` and the crawl's skip kinds.
    public mutating func add(_ record: FetchRecord) {
        guard let kind = record.error?.kind, !kind.isSkip, !record.isCancelled else { return }
        add(url: record.url, urlIndex: record.urlIndex, kind: kind.rawValue)
    }

    /// Counts one failure of `url`.
    public mutating func add(url: String, urlIndex: Int?, kind: String) {
        failures += 1
        guard capacity > 0 else {
            lossy = true
            return
        }
        if let position = positions[url] {
            heap[position].count += 1
            heap[position].kinds[kind, default: 0] += 1
            heap[position].urlIndex = Self.lower(heap[position].urlIndex, urlIndex)
            siftDown(position)
        } else if heap.count < capacity {
            heap.append(Counter(url: url, urlIndex: urlIndex, count: 1, overcount: 0, kinds: [kind: 1]))
            positions[url] = heap.count - 1
            siftUp(heap.count - 1)
        } else {
            let least = heap[0].count
            positions[heap[0].url] = nil
            heap[0] = Counter(url: url, urlIndex: urlIndex, count: least + 1, overcount: least, kinds: [kind: 1])
            positions[url] = 0
            lossy = true
            siftDown(0)
        }
    }

    /// Adds everything `other` counted. A URL tracked on one side only gets the other side's `floor` added to its
    /// count and its overcount; then the `capacity` largest counts are kept.
    public mutating func merge(_ other: FailingURLs) {
        guard other.failures > 0 else { return }
        let floorHere = floor
        let floorThere = other.floor
        var merged: [String: Counter] = [:]
        merged.reserveCapacity(heap.count + other.heap.count)
        for var counter in heap {
            counter.count += floorThere
            counter.overcount += floorThere
            merged[counter.url] = counter
        }
        for counter in other.heap {
            if var mine = merged[counter.url] {
                // Undo the floor added above: this side tracks the URL.
                mine.count += counter.count - floorThere
                mine.overcount += counter.overcount - floorThere
                mine.kinds.merge(counter.kinds, uniquingKeysWith: +)
                mine.urlIndex = Self.lower(mine.urlIndex, counter.urlIndex)
                merged[counter.url] = mine
            } else {
                var theirs = counter
                theirs.count += floorHere
                theirs.overcount += floorHere
                merged[counter.url] = theirs
            }
        }
        let ranked = merged.values.sorted(by: Self.ranksHigher)
        failures += other.failures
        lossy = lossy || other.lossy || ranked.count > capacity
        heap = Array(ranked.prefix(capacity))
        // Sorted by count, largest first: reversed, it is already a valid min-heap.
        heap.reverse()
        positions.removeAll(keepingCapacity: true)
        for (position, counter) in heap.enumerated() { positions[counter.url] = position }
    }

    /// The `limit` URLs with the most failures, most first (ties by URL).
    public func top(_ limit: Int = FailingURLs.reportedCount) -> [Report.FailingURL] {
        heap.sorted(by: Self.ranksHigher).prefix(limit).map {
            Report.FailingURL(
                url: $0.url, urlIndex: $0.urlIndex, failures: $0.count, overcount: $0.overcount, errors: $0.kinds)
        }
    }

    /// An estimate of the memory held, in bytes. URL strings count as at least 128 bytes, so the estimate depends on
    /// how many URLs are tracked (at most `capacity`), not on which.
    var footprintBytes: Int {
        heap.reduce(0) { $0 + 200 + Swift.max(128, $1.url.utf8.count) + $1.kinds.count * 48 } + 64
    }

    /// More failures first, then the URL: the report's order.
    static func ranksHigher(_ a: Counter, _ b: Counter) -> Bool {
        a.count != b.count ? a.count > b.count : a.url < b.url
    }

    private static func lower(_ a: Int?, _ b: Int?) -> Int? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.min(a, b)
    }

    // MARK: Heap (fewest failures at the root; among equal counts, the URL ranked lowest)

    private static func below(_ a: Counter, _ b: Counter) -> Bool {
        ranksHigher(a, b)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.below(heap[parent], heap[child]) else { return }
            swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var least = parent
            let left = 2 * parent + 1
            let right = left + 1
            if left < heap.count && Self.below(heap[least], heap[left]) { least = left }
            if right < heap.count && Self.below(heap[least], heap[right]) { least = right }
            guard least != parent else { return }
            swapAt(parent, least)
            parent = least
        }
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        heap.swapAt(i, j)
        positions[heap[i].url] = i
        positions[heap[j].url] = j
    }
}

extension FailingURLs: Codable {
    private enum CodingKeys: String, CodingKey {
        case capacity, failures, lossy, heap
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try container.decode(Int.self, forKey: .capacity)
        failures = try container.decode(Int.self, forKey: .failures)
        lossy = try container.decode(Bool.self, forKey: .lossy)
        heap = try container.decode([Counter].self, forKey: .heap)
        for (position, counter) in heap.enumerated() { positions[counter.url] = position }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(failures, forKey: .failures)
        try container.encode(lossy, forKey: .lossy)
        try container.encode(heap, forKey: .heap)
    }
}
