import ArachneCore

/// Why a link was taken for a crawler trap. The raw values are stable: they become record error kinds.
public enum TrapKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The canonical URL is longer than `TrapRules.maxURLBytes`.
    case urlTooLong = "url-too-long"
    /// The path has more than `TrapRules.maxSegments` non-empty segments.
    case tooManySegments = "too-many-segments"
    /// A run of path segments repeats `TrapRules.maxRepetitions` times or more in a row (`/a/b/a/b/a/b`).
    case repeatedSegments = "repeated-segments"
}

/// Cheap structural checks that catch the usual crawler traps (calendars, relative-link loops, session paths that
/// grow on every page) without fetching anything. On by default; every limit is configurable.
public struct TrapRules: Sendable, Hashable {
    /// The longest canonical URL followed, in UTF-8 bytes (default 2,048).
    public var maxURLBytes: Int
    /// The most non-empty path segments followed (default 20).
    public var maxSegments: Int
    /// How many times in a row a run of segments may appear before it is a trap (default 3: `/a/b/a/b` passes,
    /// `/a/b/a/b/a/b` does not).
    public var maxRepetitions: Int

    /// The defaults: 2,048 bytes, 20 segments, 3 repetitions.
    public static let standard = TrapRules()

    public init(maxURLBytes: Int = 2048, maxSegments: Int = 20, maxRepetitions: Int = 3) {
        precondition(maxRepetitions >= 2, "a single occurrence cannot be a repetition")
        self.maxURLBytes = maxURLBytes
        self.maxSegments = maxSegments
        self.maxRepetitions = maxRepetitions
    }

    /// The first trap `url` falls into, checked cheapest first (length, segment count, repetition), or nil.
    public func trap(in url: CrawlURL) -> TrapKind? {
        if url.absolute.utf8.count > maxURLBytes { return .urlTooLong }
        // Empty segments (`//`, a trailing `/`) are ignored, for counting and for repetition alike. A path with
        // fewer slashes than either rule needs segments cannot trip them: most paths stop here, unsplit.
        let slashes = url.path.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) }
        if slashes < maxRepetitions && slashes <= maxSegments { return nil }
        let segments = url.path.utf8.split(separator: UInt8(ascii: "/"))
        if segments.count > maxSegments { return .tooManySegments }
        if Self.hasRepeatedRun(segments, times: maxRepetitions) { return .repeatedSegments }
        return nil
    }

    /// Whether some run of `length` consecutive segments is immediately followed by `times - 1` copies of itself.
    ///
    /// For each run length, walks the segments once counting how many in a row equal the segment `length` before
    /// them; `length * (times - 1)` in a row is the run repeated `times` times.
    static func hasRepeatedRun(_ segments: [Substring.UTF8View], times: Int) -> Bool {
        let count = segments.count
        guard times >= 2, count >= times else { return false }
        for length in 1...(count / times) {
            let needed = length * (times - 1)
            var streak = 0
            for index in length..<count {
                if segments[index].elementsEqual(segments[index - length]) {
                    streak += 1
                    if streak >= needed { return true }
                } else {
                    streak = 0
                }
            }
        }
        return false
    }
}
