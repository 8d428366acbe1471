import ArachneCore

/// Which keys of a job have a terminal record, as one bit per key (index `urlIndex * repeatCount + repetition`):
/// a job of 1,000,000 keys takes 125 KB.
public struct CompletedKeys: Sendable, Hashable {
    public let urlCount: Int
    public let repeatCount: Int
    /// Keys marked complete.
    public private(set) var count: Int = 0
    private var words: [UInt64]

    /// An empty set for a job of `urlCount` URLs fetched `repeatCount` times each.
    public init(urlCount: Int, repeatCount: Int) {
        precondition(urlCount >= 0 && repeatCount >= 0, "negative job size")
        self.urlCount = urlCount
        self.repeatCount = repeatCount
        let (total, overflow) = urlCount.multipliedReportingOverflow(by: repeatCount)
        precondition(!overflow, "job size overflows: \(urlCount) URLs × \(repeatCount)")
        words = Array(repeating: 0, count: (total + 63) / 64)
    }

    /// Keys in the job.
    public var total: Int { urlCount * repeatCount }

    /// True when every key of the job is complete.
    public var isComplete: Bool { count == total }

    private func index(of key: RequestKey) -> Int? {
        guard (0..<urlCount).contains(key.urlIndex), (0..<repeatCount).contains(key.repetition) else { return nil }
        return key.urlIndex * repeatCount + key.repetition
    }

    /// True when `key` is complete; false also for keys outside the job.
    public func contains(_ key: RequestKey) -> Bool {
        guard let index = index(of: key) else { return false }
        return words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// Marks `key` complete, returning false when it already was. A key outside the job is a programmer error.
    @discardableResult
    public mutating func insert(_ key: RequestKey) -> Bool {
        guard let index = index(of: key) else {
            preconditionFailure("key \(key) outside a job of \(urlCount) URLs × \(repeatCount)")
        }
        let mask: UInt64 = 1 << UInt64(index & 63)
        if words[index >> 6] & mask != 0 { return false }
        words[index >> 6] |= mask
        count += 1
        return true
    }

    /// The keys not yet complete, in key order: what a resumed job still has to fetch.
    public var missingKeys: MissingKeys { MissingKeys(keys: self) }

    /// The incomplete keys of a `CompletedKeys`, in key order.
    public struct MissingKeys: Sequence, Sendable {
        fileprivate let keys: CompletedKeys

        public func makeIterator() -> Iterator { Iterator(keys: keys) }

        /// Walks the bitmap a word at a time, skipping full words.
        public struct Iterator: IteratorProtocol, Sendable {
            fileprivate let keys: CompletedKeys
            private var wordIndex = 0
            private var pending: UInt64

            fileprivate init(keys: CompletedKeys) {
                self.keys = keys
                pending = keys.words.first.map { ~$0 } ?? 0
            }

            public mutating func next() -> RequestKey? {
                while true {
                    if pending != 0 {
                        let index = wordIndex * 64 + pending.trailingZeroBitCount
                        pending &= pending - 1
                        guard index < keys.total else { return nil }
                        return RequestKey(urlIndex: index / keys.repeatCount, repetition: index % keys.repeatCount)
                    }
                    wordIndex += 1
                    guard wordIndex < keys.words.count else { return nil }
                    pending = ~keys.words[wordIndex]
                }
            }
        }
    }
}
