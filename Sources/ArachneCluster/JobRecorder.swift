import ArachneArchive
import ArachneCore
import ArachneEventLoop
import ArachneProtocol
import ArachneReport
import ArachneStore
import Foundation

/// One finished request on its way to the output directory.
public struct RecordEntry: Sendable {
    public var key: RequestKey
    public var url: String
    public var worker: String
    public var attempts: Int
    public var outcome: FetchOutcome
    public var finishedAt: Double
    /// The body as WARC members a worker built; nil when the recorder builds them from `outcome` (or keeps none).
    public var archived: ArchivedBody?
    /// A crawl page's findings (media type, Location, links), when the worker sent them.
    var crawl: CrawlFindings?
    /// True for a crawl key's accepted result: the scheduler waits for its discoveries to be settled.
    var settlesDiscovery = false

    public init(key: RequestKey, url: String, worker: String, attempts: Int, outcome: FetchOutcome,
                finishedAt: Double, archived: ArchivedBody? = nil)
    {
        self.key = key
        self.url = url
        self.worker = worker
        self.attempts = attempts
        self.outcome = outcome
        self.finishedAt = finishedAt
        self.archived = archived
    }
}

/// What a job's workers did, as the coordinator saw it, for the report's `workers` section.
public struct WorkerInfo: Sendable {
    public var id: String
    public var host: String
    public var pid: Int
    public var busySeconds: Double
    /// The name of its CURVE key in the coordinator's allow-list (a remote worker on a secured endpoint).
    public var key: String?

    public init(id: String, host: String, pid: Int, busySeconds: Double, key: String? = nil) {
        self.id = id
        self.host = host
        self.pid = pid
        self.busySeconds = busySeconds
        self.key = key
    }
}

/// Turns a job's terminal records into its output directory as they arrive: `records.ndjson`, WARC bodies, and
/// the aggregates behind `report.json`. It works on a thread of its own, so disk writes and gzip never block a
/// fetch or coordinator loop; callers hand it batches.
///
/// Aggregation keeps one `ReportAggregator` per worker and merges them (losslessly: HdrHistograms add) into the
/// job's figures when a report is made.
public final class JobRecorder: @unchecked Sendable {
    // Safety: the mutable state is touched only on `thread` (every method hops there), except `pendingBytes`,
    // which is atomic.

    public let directory: String
    private let thread: EventLoop
    private let ownsThread: Bool
    private let keepBodies: Bool
    private var records: RecordsWriter
    private var warc: WARCWriter?
    private var aggregators: [String: ReportAggregator] = [:]
    /// A crawl's figures that do not come from records (link counts, frontier samples); nil for list jobs.
    private var crawlFigures: ReportAggregator?
    /// A crawl's frontier (writer thread only), and where its admissions go (the coordinator's loop).
    private var frontier: CrawlFrontier?
    private var onFrontierDelta: (@Sendable (FrontierDelta) -> Void)?
    private var failure: ArchiveError?
    /// A crawl's politeness figures by worker session, as last reported, and when they were last stored.
    var auditsByWorker: [String: [String: HostAudit]] = [:]
    var lastAuditSave = 0.0
    private var recorded = 0
    private var onRecords: (([(RequestKey, FetchRecord)]) throws -> Void)?

    /// Creates `directory` if needed and opens its files.
    /// - Parameters:
    ///   - thread: the thread to write on; by default a new one, stopped by `close()`.
    ///   - onRecords: also given every batch of records before they reach records.ndjson (the durable store).
    public init(directory: String, keepBodies: Bool, warcMaxFileSize: Int64 = WARCWriter.defaultMaxFileSize,
                warcInfo: [(String, String)] = [], thread: EventLoop? = nil, resumeRecordsAt: Int64? = nil,
                backlog: WriteBacklog = WriteBacklog(),
                onRecords: (([(RequestKey, FetchRecord)]) throws -> Void)? = nil) throws
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.backlog = backlog
        self.keepBodies = keepBodies
        self.onRecords = onRecords
        records = try RecordsWriter(path: directory + "/" + RecordsWriter.fileName, resumeAt: resumeRecordsAt)
        if keepBodies {
            warc = try WARCWriter(directory: directory, maxFileSize: warcMaxFileSize, info: warcInfo)
        }
        if let thread {
            self.thread = thread
            ownsThread = false
        } else {
            self.thread = try EventLoop(name: "arachne-writer")
            ownsThread = true
        }
    }

    /// Bytes queued for the writer thread: producers wait on it so they cannot outrun the disk and the compressor.
    public let backlog: WriteBacklog

    /// Queues a batch to be written. Returns at once; producers should respect `backlog`.
    public func submit(_ entries: [RecordEntry]) {
        guard !entries.isEmpty else { return }
        let bytes = entries.reduce(0) {
            $0 + 512 + $1.outcome.body.count + $1.outcome.rawHeader.count + ($1.archived?.members.count ?? 0)
        }
        backlog.added(bytes)
        thread.execute { [self] in
            write(entries)
            backlog.finished(bytes)
        }
    }

    /// Adds already-written records (a resumed job's) to the aggregates without writing them again. Called on the
    /// writer thread, it adds them at once (so a resume can stream records through without holding them all).
    public func replay(_ replayed: [FetchRecord]) {
        guard thread.inEventLoop else {
            thread.execute { [self] in replay(replayed) }
            return
        }
        for record in replayed { aggregators[record.worker, default: ReportAggregator()].add(record) }
        recorded += replayed.count
    }

    /// Makes the job a crawl whose records feed `frontier` (built by `make` on the writer thread, where it stays);
    /// what it admits goes to `onDelta`. Returns what `make` returns besides the frontier.
    func attachFrontier<T: Sendable>(
        _ make: @escaping @Sendable () throws -> (FrontierBox, T), onDelta: @escaping @Sendable (FrontierDelta) -> Void
    ) async throws -> T {
        try await thread.submit { [self] in
            let (box, extra) = try make()
            frontier = box.frontier
            onFrontierDelta = onDelta
            var figures = crawlFigures ?? ReportAggregator()
            figures.markCrawl()
            // A resumed crawl's counts from before the restart.
            figures.addLinks(box.frontier.linkCounts)
            crawlFigures = figures
            return extra
        }
    }

    /// Marks the job as a crawl: its report gets a crawl section even before any crawl figure is counted.
    public func markCrawl() {
        onThread { $0.markCrawl() }
    }

    /// Adds link counts (a worker's batch, or what the coordinator's scope check, filters and seen-set decided) to
    /// the crawl section of the job's report.
    public func addLinks(_ counts: CrawlLinkCounts) {
        onThread { $0.addLinks(counts) }
    }

    /// Samples the crawl's frontier: `size` URLs waiting at `time` (seconds since the Unix epoch, like records'
    /// `finishedAt`), and `discovered`, the running count of distinct in-scope URLs found. Sample about once a
    /// second; the report keeps the last sample of each second.
    public func noteFrontier(size: Int, at time: Double, discovered: Int? = nil) {
        onThread { $0.noteFrontier(size: size, at: time, discovered: discovered) }
    }

    /// The crawl's frontier (writer thread only).
    var frontierForPoliteness: CrawlFrontier? { frontier }

    /// Runs `body` on the writer thread.
    func onWriterThread(_ body: @escaping @Sendable (JobRecorder) -> Void) {
        guard thread.inEventLoop else {
            thread.execute { [self] in body(self) }
            return
        }
        body(self)
    }

    /// Runs `body` on the writer thread and returns its result.
    func onWriterThreadReturning<T: Sendable>(_ body: @escaping @Sendable (JobRecorder) throws -> T) async throws -> T {
        try await thread.submit { [self] in try body(self) }
    }

    /// Changes the crawl figures (writer thread only).
    func updateFigures(_ change: (inout ReportAggregator) -> Void) {
        var figures = crawlFigures ?? ReportAggregator()
        change(&figures)
        crawlFigures = figures
    }

    /// Admits URLs a sitemap (or robots.txt) listed, with no page record of their own, and tells the coordinator.
    func admitListed(_ findings: CrawlFindings, listedBy source: String, frontier: CrawlFrontier) throws {
        var delta = FrontierDelta(urlCount: frontier.nextIndex, added: [], skipped: [], settled: 0)
        var batch: [(RequestKey, FetchRecord)] = []
        let lister = FrontierEntry(index: -1, url: source, depth: 0, parentURL: nil, via: .sitemap)
        var counts = findings.counts
        try frontier.store.transaction {
            counts.merge(try frontier.admit(findings.links, foundOn: lister, records: &batch, delta: &delta))
            try frontier.count(counts)
            try onRecords?(batch)
        }
        for (_, record) in batch {
            try records.append(record)
            aggregators[record.worker, default: ReportAggregator()].add(record)
        }
        recorded += batch.count
        updateFigures { $0.addLinks(counts) }
        delta.urlCount = frontier.nextIndex
        if !delta.added.isEmpty || !delta.skipped.isEmpty { onFrontierDelta?(delta) }
    }

    func log(_ message: String) {
        FileHandle.standardError.write(Data("arachne coordinator: \(message)\n".utf8))
    }

    /// Runs `change` on the crawl figures, on the writer thread.
    private func onThread(_ change: @escaping @Sendable (inout ReportAggregator) -> Void) {
        guard thread.inEventLoop else {
            thread.execute { [self] in onThread(change) }
            return
        }
        var figures = crawlFigures ?? ReportAggregator()
        change(&figures)
        crawlFigures = figures
    }

    private func write(_ entries: [RecordEntry]) {
        guard failure == nil else { return }
        // A list job with no store (`run`, `fetch`): each record goes to records.ndjson and the figures as it is
        // made, with no batch array of (key, record) pairs to fill, copy out of and free. A store or a frontier
        // needs the batch first (one transaction).
        let direct = frontier == nil && onRecords == nil
        var tally = WorkerTally()
        defer { tally.settle(into: &aggregators) }
        do throws(ArchiveError) {
            var batch: [(RequestKey, FetchRecord)] = []
            if !direct { batch.reserveCapacity(entries.count) }
            // Each entry is lent, not copied: a `for entry in entries` copied every entry (a retain and a release of
            // each of its strings and arrays, through the type's value witness) only to read a few fields.
            try entries.withUnsafeBufferPointer { (entries) throws(ArchiveError) in
                for index in entries.indices {
                    let record = try record(of: entries[index])
                    if direct {
                        try records.append(record)
                        tally.add(record, aggregators: &aggregators)
                        recorded += 1
                    } else {
                        batch.append((entries[index].key, record))
                    }
                }
            }
            if direct { return }
            if onRecords != nil { try warc?.flush() }
            if let frontier {
                try admitDiscoveries(entries, into: &batch, frontier: frontier)
            } else if let onRecords {
                do {
                    try onRecords(batch)
                } catch {
                    throw ArchiveError(path: directory, operation: "store records",
                                       reason: "the job store refused them: \(error)")
                }
            }
            for (_, record) in batch {
                try records.append(record)
                tally.add(record, aggregators: &aggregators)
            }
            recorded += batch.count
            if let frontier { sampleFrontier(frontier) }
        } catch {
            failure = error
        }
    }

    /// The record of `entry`, its body appended to the WARC file first when the job keeps bodies.
    private func record(of entry: borrowing RecordEntry) throws(ArchiveError) -> FetchRecord {
        let finalURL = entry.outcome.finalURL.isEmpty ? entry.url : entry.outcome.finalURL
        var body: BodyReference?
        if let warc, entry.outcome.status > 0 {
            let date = Date(timeIntervalSince1970: entry.finishedAt)
            if let archived = entry.archived {
                body = try warc.appendMembers(
                    archived.members,
                    WARCRecordBuilder.Members(requestLength: archived.requestLength, digest: archived.digest),
                    truncated: entry.outcome.truncated, date: date)
            } else {
                body = try warc.append(
                    url: finalURL, status: entry.outcome.status, rawHeader: entry.outcome.rawHeader,
                    body: entry.outcome.body, truncated: entry.outcome.truncated, date: date,
                    httpVersion: entry.outcome.httpVersion.isEmpty ? "1.1" : entry.outcome.httpVersion)
            }
        }
        return FetchRecord(
            url: entry.url, urlIndex: entry.key.urlIndex, repetition: entry.key.repetition, worker: entry.worker,
            attempts: entry.attempts, status: entry.outcome.status, bytes: entry.outcome.bytesReceived,
            finalURL: finalURL, redirects: entry.outcome.redirects, timings: entry.outcome.timings,
            error: entry.outcome.failure, body: body, finishedAt: entry.finishedAt)
    }

    /// A crawl's batch: fills in each record's crawl fields, admits the pages' links to the frontier (skip records
    /// join the batch), and stores records and new URLs in one transaction; then tells the coordinator what the
    /// frontier admitted.
    private func admitDiscoveries(
        _ entries: [RecordEntry], into batch: inout [(RequestKey, FetchRecord)], frontier: CrawlFrontier
    ) throws(ArchiveError) {
        var delta = FrontierDelta(urlCount: frontier.nextIndex, added: [], skipped: [], settled: 0)
        var counts = CrawlLinkCounts()
        do {
            try frontier.store.transaction {
                for position in entries.indices {
                    let entry = entries[position]
                    guard let page = frontier.takeEntry(entry.key.urlIndex) else { continue }
                    batch[position].1.depth = page.depth
                    batch[position].1.parent = page.parentURL
                    batch[position].1.via = page.via
                    if let findings = entry.crawl {
                        batch[position].1.contentType = findings.contentType.isEmpty ? nil : findings.contentType
                        batch[position].1.location = findings.location
                        batch[position].1.links = findings.linksFound
                        counts.merge(findings.counts)
                        counts.merge(try frontier.admit(
                            findings.links, foundOn: page, records: &batch, delta: &delta))
                    }
                }
                delta.settled = entries.reduce(0) { $0 + ($1.settlesDiscovery ? 1 : 0) }
                try frontier.count(counts)
                try onRecords?(batch)
            }
        } catch {
            throw ArchiveError(path: directory, operation: "store the crawl's records and frontier", reason: "\(error)")
        }
        delta.urlCount = frontier.nextIndex
        if !counts.isEmpty {
            var figures = crawlFigures ?? ReportAggregator()
            figures.addLinks(counts)
            crawlFigures = figures
        }
        if delta.settled > 0 || !delta.added.isEmpty || !delta.skipped.isEmpty { onFrontierDelta?(delta) }
    }

    private var lastFrontierSample = 0.0
    private var largestFrontierSampled = 0

    /// About once a second, and whenever it is larger than ever: the frontier's size for the report's timeline and
    /// its peak (a short crawl's peak would otherwise be whatever its one sample saw).
    private func sampleFrontier(_ frontier: CrawlFrontier) {
        let now = Date().timeIntervalSince1970
        let newPeak = frontier.remaining > largestFrontierSampled
        guard now - lastFrontierSample >= 1 || newPeak else { return }
        lastFrontierSample = now
        largestFrontierSampled = max(largestFrontierSampled, frontier.remaining)
        var figures = crawlFigures ?? ReportAggregator()
        figures.noteFrontier(size: frontier.remaining, at: now, discovered: frontier.nextIndex)
        crawlFigures = figures
    }

    /// Waits until everything submitted so far is written and flushed to the files.
    public func flush() async throws {
        try await thread.submit { [self] in
            try warc?.flush()
            try records.flush()
            if let failure { throw failure }
        }
    }

    /// Records written so far (after everything submitted before this call).
    public func count() async throws -> Int {
        try await thread.submit { [self] in recorded }
    }

    /// Writes report.json from the records so far (also while the job runs) and returns the report.
    public func writeReport(info: ReportJobInfo, workers: [WorkerInfo], reassignedBatches: Int, retries: Int)
        async throws -> Report
    {
        try await thread.submit { [self] in
            try makeReport(info: info, workers: workers, reassignedBatches: reassignedBatches, retries: retries)
        }
    }

    /// As `writeReport(info:workers:reassignedBatches:retries:)` for a caller that must not wait: `done` is called
    /// on the recorder's thread once report.json is written (or could not be).
    func writeReport(info: ReportJobInfo, workers: [WorkerInfo], reassignedBatches: Int, retries: Int,
                     then done: @escaping @Sendable (Result<Report, any Error>) -> Void)
    {
        let accepted = thread.executeIfRunning { [self] in
            done(Result {
                try makeReport(info: info, workers: workers, reassignedBatches: reassignedBatches, retries: retries)
            })
        }
        if !accepted { done(.failure(CoordinatorError("the recorder of \(directory) has stopped"))) }
    }

    private func makeReport(info: ReportJobInfo, workers: [WorkerInfo], reassignedBatches: Int, retries: Int) throws
        -> Report
    {
        try warc?.flush()
        try records.flush()
        if let failure { throw failure }
        var total = ReportAggregator()
        for (_, aggregator) in aggregators.sorted(by: { $0.key < $1.key }) { total.merge(aggregator) }
        if let frontier {
            var figures = crawlFigures ?? ReportAggregator()
            figures.noteFrontier(size: frontier.remaining, at: Date().timeIntervalSince1970,
                                 discovered: frontier.nextIndex)
            crawlFigures = figures
        }
        if let crawlFigures { total.merge(crawlFigures) }
        for worker in workers {
            total.setWorkerInfo(id: worker.id, host: worker.host, pid: worker.pid,
                                busySeconds: worker.busySeconds, key: worker.key)
        }
        total.reassignedBatches = reassignedBatches
        total.retries = retries
        var report = total.makeReport(job: info)
        // Files of earlier runs of a resumed job (from its records) and the ones this writer made.
        report.bodies = Set(report.bodies).union(warc?.files ?? []).sorted()
        _ = try ReportWriter.write(report, toDirectory: directory)
        return report
    }

    /// Flushes and closes the files, and stops the writer thread if this recorder made it.
    public func close() async throws {
        try await thread.submit { [self] in
            try warc?.close()
            try records.close()
            frontier?.store.close()
            frontier = nil
        }
        if ownsThread { thread.shutdown() }
    }
}

/// The figures of the worker whose records are being added, held out of the recorder's dictionary while its run
/// lasts: a batch's records come in runs of one worker (a `results` message each), and looking the worker up
/// (hashing its id) for every record was ~5% of the writer thread's time. `settle` puts it back.
private struct WorkerTally {
    private var worker: String?
    private var figures: ReportAggregator?

    mutating func add(_ record: FetchRecord, aggregators: inout [String: ReportAggregator]) {
        if worker != record.worker {
            settle(into: &aggregators)
            worker = record.worker
            figures = aggregators.removeValue(forKey: record.worker) ?? ReportAggregator()
        }
        figures!.add(record)
    }

    mutating func settle(into aggregators: inout [String: ReportAggregator]) {
        guard let worker, let figures else { return }
        aggregators[worker] = figures
        self.worker = nil
        self.figures = nil
    }
}
