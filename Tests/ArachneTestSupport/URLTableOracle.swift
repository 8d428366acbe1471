import ArachneCore
import ArachneReport

/// The report's URL tables computed the slow way, from every record, for tests to compare the bounded structures
/// against.
public enum URLTableOracle {
    /// Every URL's slowest response, slowest first, ties as docs/report.md gives them (URL, URL index, repetition,
    /// finish time, worker); only records with a response count.
    public static func slowestURLs(_ records: [FetchRecord], capacity: Int = 20) -> [Report.SlowURL] {
        let ranked = records.filter { $0.status > 0 }.sorted { a, b in
            if a.timings.total != b.timings.total { return a.timings.total > b.timings.total }
            if a.url != b.url { return a.url < b.url }
            if a.urlIndex != b.urlIndex { return (a.urlIndex ?? .max) < (b.urlIndex ?? .max) }
            if a.repetition != b.repetition { return a.repetition < b.repetition }
            if a.finishedAt != b.finishedAt { return a.finishedAt < b.finishedAt }
            return a.worker < b.worker
        }
        var seen = Set<String>()
        return Array(ranked.filter { seen.insert($0.url).inserted }.prefix(capacity).map(Report.SlowURL.init))
    }
}
