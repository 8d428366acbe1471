import Histogram

/// Durations in microseconds, recorded into an HdrHistogram with the exact count, sum, min and max kept beside it.
///
/// Precision (docs/decisions/0002-report-aggregation.md): values from 1 µs to one hour are tracked; `fine`
/// histograms keep three significant digits (a percentile is within 0.1% of the raw value, exact below 2048 µs),
/// `coarse` ones two (within 1%). Values above one hour count at one hour in the percentiles; min, max and mean stay
/// exact. Merging two histograms of the same precision loses nothing.
///
/// The HdrHistogram is made on the first value (or taken from the first non-empty merge, shared until written): a
/// fine one is ~190 KB of counts, and aggregators that never time a request (a crawl's own figures, a job-wide total
/// before its merges, every job a long-running coordinator keeps) held seven each, 1.3 MB, all zeros. (CPU: no
/// measurable change in a `fetch --repeat 1`, 29–30 ms either way; the request-timing aggregators make theirs.)
public struct LatencyHistogram: Codable, Sendable {
    /// The largest value the percentiles can resolve: one hour in microseconds.
    public static let highestTrackable: UInt64 = 3_600_000_000

    /// How many significant digits percentiles keep.
    public enum Precision: String, Codable, Sendable {
        /// Three significant digits: job-wide phase timings.
        case fine
        /// Two significant digits: per-worker and per-host breakdowns, which exist many times over.
        case coarse

        var digits: SignificantDigits { self == .fine ? .three : .two }
    }

    private var histogram: Histogram<UInt64>?
    private let precision: Precision
    public private(set) var count: Int = 0
    private var sum: Int64 = 0
    private var minimum: Int64 = .max
    private var maximum: Int64 = 0

    public init(precision: Precision = .fine) {
        self.precision = precision
    }

    /// Out of line: `record` is inlined into every caller, and this runs once per histogram.
    @inline(never)
    private func makeHistogram() -> Histogram<UInt64> {
        Histogram(highestTrackableValue: Self.highestTrackable, numberOfSignificantValueDigits: precision.digits)
    }

    /// Records one duration; negative values (clock steps) count as zero.
    @inline(__always)
    public mutating func record(_ micros: Int64) {
        let value = Swift.max(micros, 0)
        if histogram == nil { histogram = makeHistogram() }
        histogram!.record(Swift.min(UInt64(value), Self.highestTrackable))
        count += 1
        sum &+= value
        if value < minimum { minimum = value }
        if value > maximum { maximum = value }
    }

    /// Adds every value recorded in `other`. Both must have the same precision.
    public mutating func merge(_ other: LatencyHistogram) {
        if let values = other.histogram {
            if histogram == nil { histogram = values } else { histogram!.add(values) }
        }
        count += other.count
        sum &+= other.sum
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
    }

    /// The value at `percentile` (0–100), to the histogram's precision; 0 when empty.
    public func value(atPercentile percentile: Double) -> Int64 {
        guard count > 0, let histogram else { return 0 }
        return Int64(histogram.valueAtPercentile(percentile))
    }

    /// Count, exact min/mean/max and the report's percentiles.
    public var summary: PhaseSummary {
        guard count > 0 else { return .empty }
        let mean = (Double(sum) / Double(count) * 1000).rounded() / 1000
        return PhaseSummary(
            count: count, min: minimum, mean: mean, p50: value(atPercentile: 50), p90: value(atPercentile: 90),
            p95: value(atPercentile: 95), p99: value(atPercentile: 99), p999: value(atPercentile: 99.9),
            max: maximum)
    }

    /// Bytes of memory the histogram holds (an estimate from HdrHistogram).
    public var footprintBytes: Int { histogram?.estimatedFootprintInBytes ?? 0 }
}
