import ArachneCore

/// The keys of a cancelled job that end as `cancelled` records, produced lazily: cancelling a million-key job yields
/// one of these, not a million keys. Iterate it to write the records.
public struct CancelledKeys: Sequence, Sendable, Hashable {
    /// The job the keys belong to.
    public let job: String
    /// How many keys the sequence yields.
    public let count: Int
    /// True when the keys had been leased to a worker and no result came back for them; false when they were never
    /// leased.
    public let wereLeased: Bool

    let space: KeySpace
    /// Keys listed one by one (they had come back from a worker), in increasing order.
    let listed: [Int]
    /// A range of never-leased keys; those set in `skip` already had a record and are left out.
    let range: Range<Int>
    let skip: KeyBitmap?

    init(
        job: String, space: KeySpace, listed: [Int], range: Range<Int> = 0..<0, skip: KeyBitmap? = nil, count: Int,
        wereLeased: Bool = false
    ) {
        self.job = job
        self.wereLeased = wereLeased
        self.space = space
        self.listed = listed
        self.range = range
        self.skip = skip
        self.count = count
    }

    public var underestimatedCount: Int { count }

    public func makeIterator() -> Iterator {
        Iterator(keys: self)
    }

    /// Yields the listed keys, then the range's keys that had no record.
    public struct Iterator: IteratorProtocol {
        private let keys: CancelledKeys
        private var listedPosition = 0
        private var position: Int

        init(keys: CancelledKeys) {
            self.keys = keys
            self.position = keys.range.lowerBound
        }

        public mutating func next() -> RequestKey? {
            if listedPosition < keys.listed.count {
                defer { listedPosition += 1 }
                return keys.space.key(at: keys.listed[listedPosition])
            }
            guard position < keys.range.upperBound else { return nil }
            let found: Int?
            if let skip = keys.skip {
                found = skip.firstClear(from: position, below: keys.range.upperBound)
            } else {
                found = position
            }
            guard let index = found else {
                position = keys.range.upperBound
                return nil
            }
            position = index + 1
            return keys.space.key(at: index)
        }
    }
}
