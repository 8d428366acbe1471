import ArachneCore
import ArachneTestSupport
import Foundation
import Testing

@testable import ArachneReport

/// The report's bounded URL tables as pure values: `SlowestURLs` (exact top K distinct URLs by their slowest
/// response) and `FailingURLs` (Space-Saving counters), checked against brute force over the same records.
@Suite struct SlowestURLsTests {
    /// `count` responses over `urls` URLs (each fetched several times), totals spread widely with many ties.
    static func responses(count: Int, urls: Int, seed: UInt64) -> [FetchRecord] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let url = Int.random(in: 0..<urls, using: &random)
            // Coarse totals: equal totals are common, so the tie-breaks matter.
            let total = Int64(Int.random(in: 1...400, using: &random)) * 1_000
            return Fixtures.record(
                url: "http://h\(url % 7).test/p/\(url)", urlIndex: url, repetition: index / urls,
                worker: "w\(index % 3)", timings: PhaseTimings(connect: 10, starttransfer: total / 2, total: total),
                finishedAt: Fixtures.jobStart + Double(index) / 1000)
        }
    }


    @Test func keepsTheSlowestDistinctURLsExactlyWhateverTheOrderAndTheSplit() {
        let records = Self.responses(count: 20_000, urls: 3_000, seed: 5)
        let expected = URLTableOracle.slowestURLs(records, capacity: 20)
        #expect(expected.count == 20)

        var single = SlowestURLs()
        for record in records { single.add(record) }
        #expect(single.slowestFirst == expected)

        var random = SeededGenerator(seed: 9)
        for parts in [2, 3, 8] {
            var pieces = [SlowestURLs](repeating: SlowestURLs(), count: parts)
            for record in records.shuffled(using: &random) {
                pieces[Int.random(in: 0..<parts, using: &random)].add(record)
            }
            var merged = SlowestURLs()
            for piece in pieces.shuffled(using: &random) { merged.merge(piece) }
            #expect(merged.slowestFirst == expected, "\(parts) parts")
        }
    }

    /// Few URLs repeated, every total equal, in shuffled order: the table never fills, so each record meets the
    /// kept response of its own URL, and only the tie-break (lower repetition first) may decide.
    @Test func equalTotalsOfARepeatedURLAreDecidedByTheTieBreakWhateverTheOrder() {
        let records = (0..<60).map { index in
            Fixtures.record(
                url: "http://h.test/p/\(index % 3)", urlIndex: index % 3, repetition: index / 3, worker: "w",
                timings: PhaseTimings(connect: 10, starttransfer: 500, total: 1_000),
                finishedAt: Fixtures.jobStart + Double(index) / 1000)
        }
        var random = SeededGenerator(seed: 3)
        var table = SlowestURLs()
        for record in records.shuffled(using: &random) { table.add(record) }
        #expect(table.slowestFirst == URLTableOracle.slowestURLs(records))
        #expect(table.slowestFirst.map(\.repetition) == [0, 0, 0])
    }

    @Test func aURLFetchedManyTimesIsListedOnceWithItsSlowestResponse() {
        var table = SlowestURLs(capacity: 3)
        for repetition in 0..<50 {
            table.add(Fixtures.record(
                url: "http://a.test/slow", urlIndex: 4, repetition: repetition,
                timings: PhaseTimings(total: repetition == 17 ? 9_000_000 : 5_000_000 + Int64(repetition))))
        }
        table.add(Fixtures.record(url: "http://a.test/fast", urlIndex: 0, timings: PhaseTimings(total: 10)))
        let rows = table.slowestFirst
        #expect(rows.map(\.url) == ["http://a.test/slow", "http://a.test/fast"])
        #expect(rows[0].repetition == 17 && rows[0].urlIndex == 4 && rows[0].timings.total == 9_000_000)
    }

    @Test func onlyResponsesAreRanked() {
        var table = SlowestURLs()
        table.add(Fixtures.record(
            url: "http://a.test/timeout", status: 0, timings: PhaseTimings(total: 30_000_000),
            error: FetchFailure(kind: .timeout, message: "timed out")))
        table.add(Fixtures.record(
            url: "http://a.test/big", status: 200, timings: PhaseTimings(total: 2_000),
            error: FetchFailure(kind: .tooLarge, message: "too large")))
        let rows = table.slowestFirst
        #expect(rows.map(\.url) == ["http://a.test/big"])
        #expect(rows.first?.error == "too-large" && rows.first?.status == 200)
    }

    @Test func aDecodedTableCarriesOnAsTheOriginal() throws {
        let records = Self.responses(count: 4_000, urls: 500, seed: 11)
        var original = SlowestURLs()
        for record in records.prefix(2_000) { original.add(record) }
        var decoded = try JSONDecoder().decode(SlowestURLs.self, from: JSONEncoder().encode(original))
        #expect(decoded == original)
        for record in records.dropFirst(2_000) {
            original.add(record)
            decoded.add(record)
        }
        #expect(decoded.slowestFirst == original.slowestFirst)
        #expect(original.slowestFirst == URLTableOracle.slowestURLs(records, capacity: 20))
    }
}

@Suite struct FailingURLsTests {
    static let kinds: [FetchErrorKind] = [.connect, .timeout, .reset, .dns]

    /// Failures over `urls` URLs with a skewed distribution (URL u fails about 1/(u+1) as often as URL 0).
    static func failures(count: Int, urls: Int, seed: UInt64) -> [FetchRecord] {
        var random = SeededGenerator(seed: seed)
        let weights = (0..<urls).map { 1.0 / Double($0 + 1) }
        let total = weights.reduce(0, +)
        return (0..<count).map { index in
            var pick = Double.random(in: 0..<total, using: &random)
            var url = 0
            while url < urls - 1 && pick >= weights[url] {
                pick -= weights[url]
                url += 1
            }
            let kind = kinds[(url + index % 2) % kinds.count]
            return Fixtures.record(
                url: "http://h.test/u/\(url)", urlIndex: url * 2 + index % 2, status: 0,
                error: FetchFailure(kind: kind, message: "failed"))
        }
    }

    /// True counts and kinds per URL.
    static func truth(_ records: [FetchRecord]) -> [String: (count: Int, kinds: [String: Int], index: Int)] {
        var truth: [String: (count: Int, kinds: [String: Int], index: Int)] = [:]
        for record in records {
            guard let kind = record.error?.kind, !kind.isSkip, !record.isCancelled else { continue }
            var entry = truth[record.url] ?? (0, [:], Int.max)
            entry.count += 1
            entry.kinds[kind.rawValue, default: 0] += 1
            entry.index = min(entry.index, record.urlIndex ?? .max)
            truth[record.url] = entry
        }
        return truth
    }

    @Test func countsAreExactBelowTheCapacityWhateverTheSplit() {
        var records = Self.failures(count: 6_000, urls: 300, seed: 3)
        // Neither cancelled requests, nor skips, nor successes (a 500 is a response) are failures.
        records += (0..<50).map { _ in
            Fixtures.record(url: "http://h.test/u/0", status: 0, error: FetchFailure(kind: .cancelled, message: "c"))
        }
        records += [
            Fixtures.record(url: "http://h.test/skip", status: 0, error: FetchFailure(kind: .robots, message: "r")),
            Fixtures.record(url: "http://h.test/u/1", status: 500),
        ]
        let truth = Self.truth(records)
        let ranked = truth.sorted { a, b in
            a.value.count != b.value.count ? a.value.count > b.value.count : a.key < b.key
        }
        let expected = ranked.prefix(20).map {
            Report.FailingURL(url: $0.key, urlIndex: $0.value.index, failures: $0.value.count, overcount: 0,
                              errors: $0.value.kinds)
        }

        var single = FailingURLs()
        for record in records { single.add(record) }
        #expect(single.failures == 6_000 && !single.lossy && single.floor == 0)
        #expect(single.top() == Array(expected))

        var random = SeededGenerator(seed: 4)
        for parts in [2, 5] {
            var pieces = [FailingURLs](repeating: FailingURLs(), count: parts)
            for record in records.shuffled(using: &random) {
                pieces[Int.random(in: 0..<parts, using: &random)].add(record)
            }
            var merged = FailingURLs()
            for piece in pieces { merged.merge(piece) }
            #expect(merged.top() == Array(expected), "\(parts) parts")
        }
    }

    /// The guarantees of every tracked count once more URLs failed than there are counters.
    static func checkBounds(
        _ summary: FailingURLs, _ truth: [String: (count: Int, kinds: [String: Int], index: Int)],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let rows = summary.top(summary.capacity)
        for row in rows {
            let actual = truth[row.url]?.count ?? 0
            #expect(row.failures >= actual, "\(row.url): \(row.failures) < true \(actual)",
                    sourceLocation: sourceLocation)
            #expect(row.failures - row.overcount <= actual, "\(row.url): lower bound above the truth",
                    sourceLocation: sourceLocation)
            #expect(row.errors.values.reduce(0, +) == row.failures - row.overcount, sourceLocation: sourceLocation)
            for (kind, count) in row.errors {
                #expect(count <= truth[row.url]?.kinds[kind] ?? 0, sourceLocation: sourceLocation)
            }
        }
        // Whatever is not tracked failed at most `floor` times.
        let tracked = Set(rows.map(\.url))
        for (url, entry) in truth where !tracked.contains(url) {
            #expect(entry.count <= summary.floor, "\(url) failed \(entry.count) times, untracked",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func beyondTheCapacityCountsAreUpperBoundsWithinTheirOvercount() {
        let records = Self.failures(count: 30_000, urls: 2_000, seed: 7)
        let truth = Self.truth(records)
        var single = FailingURLs(capacity: 100)
        for record in records { single.add(record) }
        #expect(single.lossy && single.count == 100)
        // One stream: nothing that failed more than failures / capacity times is missing.
        #expect(single.floor <= single.failures / single.capacity)
        Self.checkBounds(single, truth)
        // The heaviest URLs come out on top, in their true order.
        let heaviest = truth.sorted { $0.value.count > $1.value.count }.prefix(3).map(\.key)
        #expect(single.top(3).map(\.url) == heaviest)

        var random = SeededGenerator(seed: 8)
        var pieces = [FailingURLs](repeating: FailingURLs(capacity: 100), count: 4)
        for record in records { pieces[Int.random(in: 0..<4, using: &random)].add(record) }
        var merged = FailingURLs(capacity: 100)
        for piece in pieces { merged.merge(piece) }
        #expect(merged.failures == 30_000)
        Self.checkBounds(merged, truth)
        #expect(merged.top(3).map(\.url) == heaviest)
    }

    @Test func aMergeThatOverflowsTheCountersStaysWithinBounds() {
        // Two parts of 80 distinct URLs each, no overlap: exact alone, 160 together for 100 counters.
        let records = (0..<160).flatMap { url in
            (0...(url % 9)).map { _ in
                Fixtures.record(url: "http://h.test/\(url)", status: 0, error: FetchFailure(kind: .dns, message: "d"))
            }
        }
        var a = FailingURLs(capacity: 100)
        var b = FailingURLs(capacity: 100)
        for record in records {
            let url = Int(record.url.split(separator: "/").last!)!
            if url < 80 { a.add(record) } else { b.add(record) }
        }
        #expect(!a.lossy && !b.lossy)
        a.merge(b)
        #expect(a.lossy && a.count == 100)
        Self.checkBounds(a, Self.truth(records))
    }

    @Test func replayingTheSameFailuresRebuildsTheSameSummary() throws {
        let records = Self.failures(count: 5_000, urls: 800, seed: 12)
        var first = FailingURLs(capacity: 50)
        var second = FailingURLs(capacity: 50)
        for record in records { first.add(record) }
        for record in records { second.add(record) }
        #expect(first == second)
        let decoded = try JSONDecoder().decode(FailingURLs.self, from: JSONEncoder().encode(first))
        #expect(decoded == first)
        var continued = decoded
        var original = first
        for record in records.prefix(500) {
            continued.add(record)
            original.add(record)
        }
        #expect(continued == original)
    }
}
