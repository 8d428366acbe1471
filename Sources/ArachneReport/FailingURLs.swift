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
    private var heap = URLKeyedHeap<Counter>()

    /// One tracked URL.
    struct Counter: Codable, URLKeyedHeapEntry {
        var url: String
        var urlIndex: Int?
        var count: Int
        var overcount: Int
        /// Failures by kind while tracked: they add up to `count − overcount`.
        var kinds: [String: Int]

        var heapURL: String { url }

        /// Fewest failures nearest the root (among equal counts, the URL ranked lowest): it is taken over first.
        static func ranksBelow(_ a: Counter, _ b: Counter) -> Bool {
            FailingURLs.ranksHigher(b, a)
        }
    }

    public init(capacity: Int = FailingURLs.defaultCapacity) {
        precondition(capacity >= 0, "capacity must not be negative")
        self.capacity = capacity
    }

    /// URLs tracked.
    public var count: Int { heap.count }

    /// The most failures a URL that is not tracked can have had: 0 while every count is exact.
    public var floor: Int { lossy ? heap.root?.count ?? 0 : 0 }

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
        let tracked = heap.update(url) { counter in
            counter.count += 1
            counter.kinds[kind, default: 0] += 1
            counter.urlIndex = Self.lower(counter.urlIndex, urlIndex)
        }
        if tracked { return }
        if heap.count < capacity {
            heap.insert(Counter(url: url, urlIndex: urlIndex, count: 1, overcount: 0, kinds: [kind: 1]))
        } else if let least = heap.root?.count {
            heap.replaceRoot(
                with: Counter(url: url, urlIndex: urlIndex, count: least + 1, overcount: least, kinds: [kind: 1]))
            lossy = true
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
        for var counter in heap.entries {
            counter.count += floorThere
            counter.overcount += floorThere
            merged[counter.url] = counter
        }
        for counter in other.heap.entries {
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
        // Sorted by count, largest first: reversed, it is already a valid min-heap (building it moves nothing).
        heap = URLKeyedHeap(ranked.prefix(capacity).reversed())
    }

    /// The `limit` URLs with the most failures, most first (ties by URL).
    public func top(_ limit: Int = FailingURLs.reportedCount) -> [Report.FailingURL] {
        heap.entries.sorted(by: Self.ranksHigher).prefix(limit).map {
            Report.FailingURL(
                url: $0.url, urlIndex: $0.urlIndex, failures: $0.count, overcount: $0.overcount, errors: $0.kinds)
        }
    }

    /// An estimate of the memory held, in bytes. URL strings count as at least 128 bytes, so the estimate depends on
    /// how many URLs are tracked (at most `capacity`), not on which.
    var footprintBytes: Int {
        heap.entries.reduce(0) { $0 + 200 + Swift.max(128, $1.url.utf8.count) + $1.kinds.count * 48 } + 64
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
        heap = URLKeyedHeap(try container.decode([Counter].self, forKey: .heap))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(failures, forKey: .failures)
        try container.encode(lossy, forKey: .lossy)
        try container.encode(heap.entries, forKey: .heap)
    }
}
