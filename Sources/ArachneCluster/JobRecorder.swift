import ArachneArchive
import ArachneCore
import ArachneEventLoop
import ArachneProtocol
import ArachneReport
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

    public init(id: String, host: String, pid: Int, busySeconds: Double) {
        self.id = id
        self.host = host
        self.pid = pid
        self.busySeconds = busySeconds
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
    private var failure: ArchiveError?
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
        do throws(ArchiveError) {
            var batch: [(RequestKey, FetchRecord)] = []
            batch.reserveCapacity(entries.count)
            for entry in entries {
                let outcome = entry.outcome
                var body: BodyReference?
                if let warc, outcome.status > 0, let archived = entry.archived {
                    body = try warc.appendMembers(
                        archived.members,
                        WARCRecordBuilder.Members(requestLength: archived.requestLength, digest: archived.digest),
                        truncated: outcome.truncated, date: Date(timeIntervalSince1970: entry.finishedAt))
                } else if let warc, outcome.status > 0 {
                    body = try warc.append(
                        url: outcome.finalURL.isEmpty ? entry.url : outcome.finalURL, status: outcome.status,
                        rawHeader: outcome.rawHeader, body: outcome.body,
                        truncated: outcome.truncated, date: Date(timeIntervalSince1970: entry.finishedAt),
                        httpVersion: outcome.httpVersion.isEmpty ? "1.1" : outcome.httpVersion)
                }
                let record = FetchRecord(
                    url: entry.url, repetition: entry.key.repetition, worker: entry.worker, attempts: entry.attempts,
                    status: outcome.status, bytes: outcome.bytesReceived,
                    finalURL: outcome.finalURL.isEmpty ? entry.url : outcome.finalURL, redirects: outcome.redirects,
                    timings: outcome.timings, error: outcome.failure, body: body, finishedAt: entry.finishedAt)
                batch.append((entry.key, record))
            }
            if let onRecords {
                try warc?.flush()
                do {
                    try onRecords(batch)
                } catch {
                    throw ArchiveError(path: directory, operation: "store records", reason: "the job store refused them: \(error)")
                }
            }
            for (_, record) in batch {
                try records.append(record)
                aggregators[record.worker, default: ReportAggregator()].add(record)
            }
            recorded += batch.count
        } catch {
            failure = error
        }
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
            try warc?.flush()
            try records.flush()
            if let failure { throw failure }
            var total = ReportAggregator()
            for (_, aggregator) in aggregators.sorted(by: { $0.key < $1.key }) { total.merge(aggregator) }
            if let crawlFigures { total.merge(crawlFigures) }
            for worker in workers {
                total.setWorkerInfo(id: worker.id, host: worker.host, pid: worker.pid,
                                    busySeconds: worker.busySeconds)
            }
            total.reassignedBatches = reassignedBatches
            total.retries = retries
            var report = total.makeReport(job: info)
            // Files of earlier runs of a resumed job (from its records) and the ones this writer made.
            report.bodies = Set(report.bodies).union(warc?.files ?? []).sorted()
            _ = try ReportWriter.write(report, toDirectory: directory)
            return report
        }
    }

    /// Flushes and closes the files, and stops the writer thread if this recorder made it.
    public func close() async throws {
        try await thread.submit { [self] in
            try warc?.close()
            try records.close()
        }
        if ownsThread { thread.shutdown() }
    }
}
