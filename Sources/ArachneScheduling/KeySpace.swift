import ArachneCore

/// The keys of a job as a dense range of indices, repetition-major: index = repetition × urlCount + urlIndex. The
/// first pass fetches every URL once, the next pass every URL again, and so on; no key list is ever materialised.
struct KeySpace: Hashable, Sendable {
    let urlCount: Int
    let repeatCount: Int

    init(urlCount: Int, repeatCount: Int) {
        precondition(urlCount >= 0 && repeatCount >= 0, "a job needs non-negative URL and repeat counts")
        let (total, overflow) = urlCount.multipliedReportingOverflow(by: repeatCount)
        precondition(!overflow, "a job of \(urlCount) URLs × \(repeatCount) repetitions has too many keys")
        self.urlCount = urlCount
        self.repeatCount = repeatCount
        self.total = total
    }

    /// Keys in the job.
    let total: Int

    func key(at index: Int) -> RequestKey {
        RequestKey(urlIndex: index % urlCount, repetition: index / urlCount)
    }

    /// The key's index, or nil when the key is not in the job.
    func index(of key: RequestKey) -> Int? {
        guard (0..<urlCount).contains(key.urlIndex), (0..<repeatCount).contains(key.repetition) else { return nil }
        return key.repetition * urlCount + key.urlIndex
    }
}

/// One bit per key of a job: a million keys take 125 KB.
struct KeyBitmap: Hashable, Sendable {
    private var words: [UInt64]
    private(set) var count: Int

    init(count: Int) {
        self.count = count
        self.words = Array(repeating: 0, count: (count + 63) / 64)
    }

    func contains(_ index: Int) -> Bool {
        words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// Makes room for `newCount` keys (new bits clear). Never shrinks.
    mutating func grow(to newCount: Int) {
        guard newCount > count else { return }
        let needed = (newCount + 63) / 64
        if needed > words.count { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
        count = newCount
    }

    /// Sets the bit; returns false if it was already set.
    @discardableResult
    mutating func insert(_ index: Int) -> Bool {
        let mask: UInt64 = 1 << UInt64(index & 63)
        if words[index >> 6] & mask != 0 { return false }
        words[index >> 6] |= mask
        return true
    }

    /// The first index in `start..<end` whose bit is clear, skipping whole words of set bits.
    func firstClear(from start: Int, below end: Int) -> Int? {
        var index = start
        while index < end {
            let word = ~words[index >> 6] >> UInt64(index & 63)
            if word == 0 {
                index = (index | 63) + 1
                continue
            }
            let found = index + word.trailingZeroBitCount
            return found < end ? found : nil
        }
        return nil
    }

    /// Set bits in `range`.
    func countSet(in range: Range<Int>) -> Int {
        guard !range.isEmpty else { return 0 }
        var total = 0
        var index = range.lowerBound
        while index < range.upperBound {
            let wordStart = index & ~63
            let from = index - wordStart
            let to = min(64, range.upperBound - wordStart)
            var word = words[index >> 6] >> UInt64(from)
            if to - from < 64 { word &= (1 << UInt64(to - from)) - 1 }
            total += word.nonzeroBitCount
            index = wordStart + to
        }
        return total
    }
}
