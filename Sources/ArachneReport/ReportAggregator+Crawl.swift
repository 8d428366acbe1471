import ArachneCore

extension ReportAggregator {
    /// Hosts listed in a report's `crawl.hosts`.
    public static let crawlHostRows = 20
    /// Rows of the politeness audit in a report.
    public static let politenessRows = 50
    /// Distinct content types an aggregator keeps before pooling the rest as `(other)`.
    public static let contentTypeLimit = 64
    /// The key for content types beyond the limit.
    public static let otherContentTypes = "(other)"

    /// True once the aggregator holds crawl figures (a crawl record, link counts, a frontier sample, or
    /// `markCrawl()`): its report then has a `crawl` section and `summary.skipped`.
    public var isCrawl: Bool { crawlState != nil }

    /// Marks the job as a crawl, so its report has a (possibly empty) crawl section before anything was counted.
    public mutating func markCrawl() {
        if crawlState == nil { crawlState = CrawlAggregate() }
    }

    /// The link counts added so far.
    public var links: CrawlLinkCounts { crawlState?.links ?? CrawlLinkCounts() }

    /// Adds link counts from a worker (found, nofollow) or the coordinator (new, duplicate, out of scope, filtered).
    public mutating func addLinks(_ counts: CrawlLinkCounts) {
        markCrawl()
        crawlState!.links.merge(counts)
    }

    /// Takes the politeness audit the workers reported: per worker session, its hosts' cumulative figures. Replaces
    /// what was noted before (the figures are cumulative).
    public mutating func notePoliteness(_ byWorker: [String: [HostAudit]]) {
        markCrawl()
        var merged: [String: HostAudit] = [:]
        for audits in byWorker.values {
            for audit in audits {
                if merged[audit.host] == nil { merged[audit.host] = audit } else { merged[audit.host]!.merge(audit) }
            }
        }
        crawlState!.politeness = merged
    }

    /// Sets one host's politeness figures (already merged across the worker sessions that held it).
    public mutating func setPoliteness(_ audit: HostAudit) {
        markCrawl()
        crawlState!.politeness[audit.host] = audit
    }

    /// Samples the frontier: `size` URLs waiting at `time` (seconds since the Unix epoch, the clock of records'
    /// `finishedAt`), and optionally `discovered`, the crawl's running count of distinct in-scope URLs found.
    /// The timeline shows, per second, the last sample taken in or before it; `peak` is the largest size noted,
    /// `remaining` the latest sample's size.
    public mutating func noteFrontier(size: Int, at time: Double, discovered: Int? = nil) {
        markCrawl()
        crawlState!.noteFrontier(FrontierSample(at: time, size: size, discovered: discovered ?? 0))
    }
}

/// One frontier sample.
struct FrontierSample: Codable, Sendable, Hashable {
    var at: Double
    var size: Int
    var discovered: Int
}

/// The crawl figures an aggregator holds: a few small maps (one entry per depth, content type, skip kind and
/// sampled second) and the link counts. Merges like the rest of the aggregator.
struct CrawlAggregate: Codable, Sendable {
    var pagesByDepth: [Int: Int] = [:]
    var contentTypes: [String: Int] = [:]
    var skipped: [String: Int] = [:]
    var links = CrawlLinkCounts()
    /// The last sample in each second (by the whole second of its time).
    var frontier: [Int: FrontierSample] = [:]
    var latest: FrontierSample?
    var peak = 0
    var discovered = 0
    /// The politeness audit by host, as the workers that held each host reported it (merged across workers).
    var politeness: [String: HostAudit] = [:]

    mutating func addPage(_ record: FetchRecord) {
        if let depth = record.depth { pagesByDepth[depth, default: 0] += 1 }
        if let type = record.contentType { countContentType(type, record: 1) }
    }

    mutating func addSkip(_ record: FetchRecord) {
        if let kind = record.error?.kind { skipped[kind.rawValue, default: 0] += 1 }
    }

    private mutating func countContentType(_ type: String, record count: Int) {
        if contentTypes[type] == nil && contentTypes.count >= ReportAggregator.contentTypeLimit
            && type != ReportAggregator.otherContentTypes
        {
            contentTypes[ReportAggregator.otherContentTypes, default: 0] += count
        } else {
            contentTypes[type, default: 0] += count
        }
    }

    mutating func noteFrontier(_ sample: FrontierSample) {
        let second = Int(sample.at.rounded(.down))
        if frontier[second].map({ $0.at <= sample.at }) ?? true { frontier[second] = sample }
        if latest == nil || latest!.at <= sample.at { latest = sample }
        peak = max(peak, sample.size)
        discovered = max(discovered, sample.discovered)
    }

    mutating func merge(_ other: CrawlAggregate) {
        pagesByDepth.merge(other.pagesByDepth, uniquingKeysWith: +)
        // Named types first, so `(other)` is only used once the limit is really reached.
        for (type, count) in other.contentTypes.sorted(by: {
            $0.key != ReportAggregator.otherContentTypes && $1.key == ReportAggregator.otherContentTypes
        }) {
            countContentType(type, record: count)
        }
        skipped.merge(other.skipped, uniquingKeysWith: +)
        links.merge(other.links)
        for sample in other.frontier.values { noteFrontier(sample) }
        if let sample = other.latest { noteFrontier(sample) }
        peak = max(peak, other.peak)
        discovered = max(discovered, other.discovered)
        for (host, audit) in other.politeness {
            if politeness[host] == nil { politeness[host] = audit } else { politeness[host]!.merge(audit) }
        }
    }

    var footprintBytes: Int {
        (pagesByDepth.count + frontier.count) * 48 + (contentTypes.count + skipped.count + links.filtered.count) * 64
    }

    /// The report's crawl section; `hosts` are the aggregator's host rows, most pages first.
    func section(hosts: [Report.HostSummary]) -> Report.Crawl {
        Report.Crawl(
            pagesByDepth: Dictionary(uniqueKeysWithValues: pagesByDepth.map { (String($0.key), $0.value) }),
            pagesByContentType: contentTypes, links: links, skipped: skipped,
            frontier: .init(discovered: discovered, remaining: latest?.size ?? 0, peak: peak),
            hosts: hosts.lazy.filter { $0.host != ReportAggregator.otherHosts && $0.requests > 0 }
                .prefix(ReportAggregator.crawlHostRows).map { Report.Crawl.Host(host: $0.host, pages: $0.requests) },
            politeness: politenessRows)
    }

    /// The audit rows of the report: every host that broke its limits, then the busiest, at most
    /// `ReportAggregator.politenessRows`; nil when no worker reported any (a crawl without politeness figures).
    var politenessRows: Report.Politeness? {
        guard !politeness.isEmpty else { return nil }
        let sorted = politeness.values.sorted {
            ($0.brokeLimits ? 1 : 0, $0.requests, $1.host) > ($1.brokeLimits ? 1 : 0, $1.requests, $0.host)
        }
        return Report.Politeness(
            hostCount: politeness.count, hostsBreakingLimits: politeness.values.filter(\.brokeLimits).map(\.host).sorted(),
            hosts: Array(sorted.prefix(ReportAggregator.politenessRows)))
    }

    /// The frontier size at the end of each of `seconds` (sorted, absolute): the last sample up to then.
    func frontierSizes(at seconds: [Int]) -> [Int?] {
        let sampled = frontier.keys.sorted()
        var next = 0
        var current: Int?
        return seconds.map { second in
            while next < sampled.count && sampled[next] <= second {
                current = frontier[sampled[next]]!.size
                next += 1
            }
            return current
        }
    }
}
