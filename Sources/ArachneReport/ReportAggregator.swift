import ArachneCore
import Foundation

/// Folds terminal `FetchRecord`s, one at a time, into everything a `Report` needs: HdrHistograms per phase, per
/// worker and per host, counts by status and error kind, and a per-second timeline.
///
/// Memory does not grow with the number of records: seven phase histograms, a small map per worker, at most
/// `hostLimit` named hosts (the rest are folded into `(other)`), one entry per second of the timeline, the 20
/// slowest URLs (`SlowestURLs`) and 1,000 failure counters by URL (`FailingURLs`). Two aggregators merge without
/// loss (the failure counters stay exact while at most 1,000 distinct URLs failed), so the cluster can keep one per
/// worker and merge them for the job's total.
///
/// In a crawl it also keeps the report's crawl section (ReportAggregator+Crawl.swift): pages by depth and content
/// type and skips by kind from the records, link counts and frontier samples from the caller. A crawl's skip
/// records count only as `skipped`: requests, rates, latency, workers, hosts and the timeline cover fetched URLs.
/// Likewise a cancelled request counts in `requests` and `cancelled` only: never as a failure, an error kind, in a
/// rate, or in the workers, hosts and timeline.
public struct ReportAggregator: Codable, Sendable {
    /// Named hosts an aggregator keeps by default before folding the rest into `(other)`.
    public static let defaultHostLimit = 256
    /// The host name used for hosts beyond the limit.
    public static let otherHosts = "(other)"
    /// Longest timeline span, in seconds, that is zero-filled in the report; longer (sparse) ones list only the
    /// seconds in which something ended.
    static let zeroFillLimit = 7 * 86_400

    /// Named hosts kept before the rest are folded into `(other)`.
    public let hostLimit: Int
    /// Terminal records added.
    public private(set) var requests = 0
    /// Records that got a response without a failure.
    public private(set) var succeeded = 0
    /// Records of requests cancelled with their job (never fetched, or no result came): counted apart from
    /// failures, and in no rate, latency, worker, host or timeline figure.
    public private(set) var cancelled = 0
    public private(set) var bytesReceived: Int64 = 0
    /// Batches re-leased after their worker was lost; set by the coordinator.
    public var reassignedBatches = 0
    /// Requests leased out again (attempts beyond the first); counted from records, and the caller may add more.
    public var retries = 0

    private var phases: [LatencyHistogram]
    private var statusCodes: [Int: Int] = [:]
    private var errors: [String: Int] = [:]
    private var workers: [String: WorkerStats] = [:]
    private var hosts: [String: HostStats] = [:]
    private var timeline: [Int: SecondCounts] = [:]
    private var bodyFiles: Set<String> = []
    /// Earliest start (finish minus queue and total time) and latest finish of any record, seconds since the epoch.
    private var firstStart: Double?
    private var lastFinish: Double?
    /// The last URL's host key: jobs repeat their URLs, and parsing the host out of every record's URL showed in
    /// the writer's profile. Not part of the aggregate (not encoded).
    private var lastHost: (url: String, key: String)?
    /// The crawl figures; nil for a list job.
    var crawlState: CrawlAggregate?
    /// The slowest URLs (by their slowest response) and the URLs with the most failed requests: bounded tables.
    private var slowest = SlowestURLs()
    private var failing = FailingURLs()

    private enum CodingKeys: String, CodingKey {
        case hostLimit, requests, succeeded, cancelled, bytesReceived, reassignedBatches, retries, phases, statusCodes,
             errors, workers, hosts, timeline, bodyFiles, firstStart, lastFinish, slowest, failing
        case crawlState = "crawl"
    }

    public init(hostLimit: Int = ReportAggregator.defaultHostLimit) {
        precondition(hostLimit >= 0, "hostLimit must not be negative")
        self.hostLimit = hostLimit
        phases = Phase.allCases.map { _ in LatencyHistogram(precision: .fine) }
    }

    /// Failed records: everything added that was fetched and did not succeed.
    public var failed: Int { requests - succeeded - cancelled }

    /// Requests that were fetched (succeeded or failed): what rates are computed over.
    public var fetched: Int { requests - cancelled }

    /// Counts one terminal record: a request, or in a crawl a skip (counted in the crawl section only).
    public mutating func add(_ record: FetchRecord) {
        if let kind = record.error?.kind, kind.isSkip {
            markCrawl()
            crawlState!.addSkip(record)
            return
        }
        if record.hasCrawlFields {
            markCrawl()
            crawlState!.addPage(record)
        }
        if record.isCancelled {
            requests += 1
            cancelled += 1
            return
        }
        let succeededNow = record.succeeded
        requests += 1
        if succeededNow { succeeded += 1 }
        bytesReceived += record.bytes
        if record.attempts > 1 { retries += record.attempts - 1 }
        if record.status > 0 { statusCodes[record.status, default: 0] += 1 }
        if let error = record.error {
            errors[error.kind.rawValue, default: 0] += 1
            failing.add(url: record.url, urlIndex: record.urlIndex, kind: error.kind.rawValue)
        }
        if let body = record.body, !bodyFiles.contains(body.file) { bodyFiles.insert(body.file) }

        // Latency describes responses: a request that never got one has no meaningful phases.
        let responded = record.status > 0
        if responded {
            // In `Phase.allCases` order.
            let timings = record.timings
            phases[0].record(timings.queue)
            phases[1].record(timings.namelookup)
            phases[2].record(timings.connect)
            phases[3].record(timings.appconnect)
            phases[4].record(timings.pretransfer)
            phases[5].record(timings.starttransfer)
            phases[6].record(timings.total)
            slowest.add(record)
        }

        workers[record.worker, default: WorkerStats()].count(record, succeeded: succeededNow, responded: responded)
        let host: String
        if let lastHost, lastHost.url == record.url {
            host = lastHost.key
        } else {
            host = Self.hostKey(of: record.url)
            lastHost = (record.url, host)
        }
        if hosts[host] == nil && hosts.count >= hostLimit {
            hosts[Self.otherHosts, default: HostStats()].count(record, succeeded: succeededNow, responded: responded)
        } else {
            hosts[host, default: HostStats()].count(record, succeeded: succeededNow, responded: responded)
        }

        let second = Int(record.finishedAt.rounded(.down))
        timeline[second, default: SecondCounts()].completed += 1
        if !succeededNow { timeline[second, default: SecondCounts()].failed += 1 }
        let start = record.finishedAt - Double(Swift.max(0, record.timings.queue + record.timings.total)) / 1e6
        firstStart = Swift.min(firstStart ?? start, start)
        lastFinish = Swift.max(lastFinish ?? record.finishedAt, record.finishedAt)
    }

    /// Adds everything `other` counted. Hosts new to `self` beyond `hostLimit` are folded into `(other)`.
    public mutating func merge(_ other: ReportAggregator) {
        requests += other.requests
        succeeded += other.succeeded
        cancelled += other.cancelled
        bytesReceived += other.bytesReceived
        reassignedBatches += other.reassignedBatches
        retries += other.retries
        for index in phases.indices { phases[index].merge(other.phases[index]) }
        statusCodes.merge(other.statusCodes, uniquingKeysWith: +)
        errors.merge(other.errors, uniquingKeysWith: +)
        for (id, stats) in other.workers { workers[id, default: WorkerStats()].merge(stats) }
        // Named hosts first, so `(other)` is only used once the limit is really reached.
        for (host, stats) in other.hosts.sorted(by: { $0.key == Self.otherHosts ? false : $1.key == Self.otherHosts })
        {
            if hosts[host] == nil && hosts.count >= hostLimit && host != Self.otherHosts {
                hosts[Self.otherHosts, default: HostStats()].merge(stats)
            } else {
                hosts[host, default: HostStats()].merge(stats)
            }
        }
        for (second, counts) in other.timeline {
            timeline[second, default: SecondCounts()].completed += counts.completed
            timeline[second, default: SecondCounts()].failed += counts.failed
        }
        bodyFiles.formUnion(other.bodyFiles)
        slowest.merge(other.slowest)
        failing.merge(other.failing)
        if let start = other.firstStart { firstStart = Swift.min(firstStart ?? start, start) }
        if let finish = other.lastFinish { lastFinish = Swift.max(lastFinish ?? finish, finish) }
        if let crawl = other.crawlState {
            markCrawl()
            crawlState!.merge(crawl)
        }
    }

    /// Records what the coordinator knows about a worker; a worker that fetched nothing still appears in the report.
    /// `key` is the name of the worker's CURVE key in the coordinator's allow-list, for a remote worker.
    public mutating func setWorkerInfo(id: String, host: String, pid: Int, busySeconds: Double, key: String? = nil) {
        workers[id, default: WorkerStats()].host = host
        workers[id, default: WorkerStats()].pid = pid
        workers[id, default: WorkerStats()].busySeconds = busySeconds
        workers[id, default: WorkerStats()].key = key
    }

    /// An estimate of the memory the aggregator holds, in bytes: histograms dominate, then one small entry per
    /// worker, host, status code, error kind, body file and timeline second. It does not depend on how many
    /// records were added.
    public var footprintBytes: Int {
        let histograms = phases.reduce(0) { $0 + $1.footprintBytes }
            + workers.values.reduce(0) { $0 + $1.total.footprintBytes + 96 + $1.host.utf8.count }
            + hosts.reduce(0) { $0 + $1.value.total.footprintBytes + 64 + $1.key.utf8.count }
        let maps = (statusCodes.count + errors.count) * 48 + timeline.count * 40 + bodyFiles.count * 64
        let tables = slowest.footprintBytes + failing.footprintBytes
        return histograms + maps + tables + (crawlState?.footprintBytes ?? 0) + 512
    }

    /// The histogram of one phase across every record added, for callers that want more than the report's summary.
    public func histogram(for phase: Phase) -> LatencyHistogram {
        phases[Phase.allCases.firstIndex(of: phase)!]
    }

    /// Builds the report. While the job runs (no `finishedAt`), wall time runs up to `now`.
    public func makeReport(job: ReportJobInfo, now: Date = Date()) -> Report {
        let origin = job.startedAt?.timeIntervalSince1970 ?? firstStart
        let end: Double
        if let finished = job.finishedAt {
            end = finished.timeIntervalSince1970
        } else if job.state == .running || job.state == .queued {
            end = now.timeIntervalSince1970
        } else {
            end = lastFinish ?? now.timeIntervalSince1970
        }
        let wall = origin.map { Swift.max(0, end - $0) } ?? 0
        let wallRounded = (wall * 1e6).rounded() / 1e6
        let rate = wall > 0 ? (Double(fetched) / wall * 1000).rounded() / 1000 : 0

        let summary = Report.Summary(
            requests: requests, succeeded: succeeded, failed: failed, wallSeconds: wallRounded,
            requestsPerSecond: rate, bytesReceived: bytesReceived,
            statusCodes: Dictionary(uniqueKeysWithValues: statusCodes.map { (String($0.key), $0.value) }),
            errors: errors, reassignedBatches: reassignedBatches, retries: retries,
            skipped: crawlState.map { $0.skipped.values.reduce(0, +) }, cancelled: cancelled)
        let jobPart = Report.Job(
            id: job.id, state: job.state, submittedAt: job.submittedAt?.reportTimestamp,
            startedAt: job.startedAt?.reportTimestamp, finishedAt: job.finishedAt?.reportTimestamp,
            options: ReportJobOptions(spec: job.spec), outputDir: job.outputDir)
        let workerRows = workers.sorted { $0.key.compare($1.key, options: .numeric) == .orderedAscending }.map {
            Report.WorkerSummary(
                id: $0.key, host: $0.value.host, pid: $0.value.pid, requests: $0.value.requests,
                failed: $0.value.failed, bytes: $0.value.bytes,
                busySeconds: ($0.value.busySeconds * 1e3).rounded() / 1e3, total: $0.value.total.summary,
                key: $0.value.key)
        }
        let hostRows = hosts.sorted { a, b in
            if (a.key == Self.otherHosts) != (b.key == Self.otherHosts) { return b.key == Self.otherHosts }
            return a.value.requests != b.value.requests ? a.value.requests > b.value.requests : a.key < b.key
        }.map {
            Report.HostSummary(
                host: $0.key, requests: $0.value.requests, failed: $0.value.failed, bytes: $0.value.bytes,
                total: $0.value.total.summary)
        }
        return Report(
            job: jobPart, summary: summary, timings: PhaseTable { histogram(for: $0).summary }, workers: workerRows,
            hosts: hostRows, timeline: timelinePoints(origin: origin), records: job.recordsFile,
            bodies: bodyFiles.sorted(), crawl: crawlState?.section(hosts: hostRows),
            slowestURLs: slowest.slowestFirst, failingURLs: failing.top())
    }

    private func timelinePoints(origin: Double?) -> [Report.TimelinePoint] {
        // Seconds in which something ended, and in a crawl those with a frontier sample.
        let seconds = crawlState.map { Set(timeline.keys).union($0.frontier.keys).sorted() } ?? timeline.keys.sorted()
        guard let first = seconds.first, let last = seconds.last else { return [] }
        let base = origin.map { Int($0.rounded(.down)) } ?? first
        let listed = last - first < Self.zeroFillLimit ? Array(first...last) : seconds
        let frontier = crawlState?.frontierSizes(at: listed)
        return listed.enumerated().map { index, second in
            let counts = timeline[second] ?? SecondCounts()
            return Report.TimelinePoint(
                second: second - base, completed: counts.completed, failed: counts.failed,
                frontier: frontier?[index])
        }
    }

    /// The authority of a URL (`name[:port]`, lower-cased, without user info), or `(none)` when it has none.
    static func hostKey(of url: String) -> String {
        URLAuthority.of(url) ?? "(none)"
    }
}

/// What per-worker and per-host statistics both count: requests, failures, bytes and the `total` phase.
private protocol TrafficCounts {
    var requests: Int { get set }
    var failed: Int { get set }
    var bytes: Int64 { get set }
    var total: LatencyHistogram { get set }
}

extension TrafficCounts {
    mutating func count(_ record: FetchRecord, succeeded: Bool, responded: Bool) {
        requests += 1
        if !succeeded { failed += 1 }
        bytes += record.bytes
        if responded { total.record(record.timings.total) }
    }

    mutating func mergeTraffic(_ other: some TrafficCounts) {
        requests += other.requests
        failed += other.failed
        bytes += other.bytes
        total.merge(other.total)
    }
}

/// Counts per worker.
private struct WorkerStats: TrafficCounts, Codable, Sendable {
    var requests = 0
    var failed = 0
    var bytes: Int64 = 0
    var total = LatencyHistogram(precision: .coarse)
    var host = ""
    var pid = 0
    var busySeconds = 0.0
    var key: String?

    mutating func merge(_ other: WorkerStats) {
        mergeTraffic(other)
        if host.isEmpty { host = other.host }
        if pid == 0 { pid = other.pid }
        if key == nil { key = other.key }
        busySeconds += other.busySeconds
    }
}

/// Counts per target host.
private struct HostStats: TrafficCounts, Codable, Sendable {
    var requests = 0
    var failed = 0
    var bytes: Int64 = 0
    var total = LatencyHistogram(precision: .coarse)

    mutating func merge(_ other: HostStats) {
        mergeTraffic(other)
    }
}

/// Records that ended in one second.
private struct SecondCounts: Codable, Sendable {
    var completed = 0
    var failed = 0
}
