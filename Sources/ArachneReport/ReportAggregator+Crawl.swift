import ArachneCore

extension ReportAggregator {
    /// Hosts listed in a report's `crawl.hosts`.
    public static let crawlHostRows = 20
    /// Rows of the politeness audit in a report.
    public static let politenessRows = 50
    /// Hosts whose request timelines a report carries (the busiest).
    public static let timelineRows = 5
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

/// One response's transfer, start to end, in Unix seconds.
struct RequestSpan: Codable, Sendable, Hashable {
    var start: Double
    var end: Double
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
    /// When each response's transfer started and ended (Unix seconds), by host name, for the first
    /// `timelineHosts` hosts and their first `timelineSpans` responses: the HTML report's request timelines.
    var timelines: [String: [RequestSpan]] = [:]
    static let timelineHosts = 64
    static let timelineSpans = 400

    mutating func addPage(_ record: FetchRecord) {
        if let depth = record.depth { pagesByDepth[depth, default: 0] += 1 }
        if let type = record.contentType { countContentType(type, record: 1) }
        if record.status > 0, let host = URLAuthority.host(of: record.url)?.lowercased() {
            let end = record.finishedAt
            addSpan(RequestSpan(start: end - Double(record.timings.total) / 1e6, end: end), host: host)
        }
    }

    private mutating func addSpan(_ span: RequestSpan, host: String) {
        if timelines[host] == nil {
            guard timelines.count < Self.timelineHosts else { return }
            timelines[host] = []
        }
        guard timelines[host]!.count < Self.timelineSpans else { return }
        timelines[host]!.append(span)
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
        for (host, spans) in other.timelines.sorted(by: { $0.key < $1.key }) {
            for span in spans { addSpan(span, host: host) }
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
        let timelineRows = sorted.lazy.compactMap { audit -> Report.HostTimeline? in
            guard let spans = timelines[audit.host], !spans.isEmpty else { return nil }
            let ordered = spans.sorted { $0.start < $1.start }
            let origin = ordered[0].start
            return Report.HostTimeline(
                host: audit.host,
                spansMs: ordered.map { [Int((($0.start - origin) * 1_000).rounded()), Int((($0.end - origin) * 1_000).rounded())] })
        }.prefix(ReportAggregator.timelineRows)
        return Report.Politeness(
            hostCount: politeness.count, hostsBreakingLimits: politeness.values.filter(\.brokeLimits).map(\.host).sorted(),
            hosts: Array(sorted.prefix(ReportAggregator.politenessRows)), timelines: Array(timelineRows))
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
