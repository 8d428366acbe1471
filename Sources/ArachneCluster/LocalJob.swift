import ArachneCore
import ArachneEventLoop
import ArachneFetch
import ArachneReport
import Foundation

/// Progress of a running job, for progress lines.
public struct JobProgressSnapshot: Sendable {
    public var done: Int
    public var total: Int
    public var failed: Int
    public var elapsedSeconds: Double
    /// For a crawl: true, and `total` is the URLs discovered so far (it grows); `total - done` is the frontier.
    public var isCrawl: Bool

    public init(done: Int, total: Int, failed: Int, elapsedSeconds: Double, isCrawl: Bool = false) {
        self.done = done
        self.total = total
        self.failed = failed
        self.elapsedSeconds = elapsedSeconds
        self.isCrawl = isCrawl
    }
}

/// A job fetched in this process, with no cluster: one event loop, one `Fetcher`, `concurrency` lanes, and a
/// `JobRecorder` writing the output directory. `arachne fetch` is this.
public enum LocalJob {
    /// Runs the job to the end (or until `stop` is set: then what was in flight is cancelled and every key not
    /// fetched ends as a `cancelled` record), writes report.json and returns the report.
    ///
    /// The URLs are `spec.urls`, or, when `urlList` is given, that list read in windows (`spec` then carries no
    /// URLs and `storedURLCount` is the list's count): memory does not grow with the list.
    public static func run(
        id: String, spec: JobSpec, urlList: (any URLWindowReader & Sendable)? = nil, outputDirectory: String,
        stop: StopSignal = StopSignal(), progress: (@Sendable (JobProgressSnapshot) -> Void)? = nil
    ) async throws -> Report {
        precondition((urlList != nil) == spec.hasStoredURLs, "job \(id): a URL list goes with a spec's url_count")
        let submitted = Date()
        let loop = try EventLoop(name: "arachne-fetch")
        defer { loop.shutdown() }
        let fetcher = Fetcher(loop: loop, maxConnections: spec.concurrency,
                              maxHostConnections: spec.settings.perHostConnections)
        let profile = FetchProfile(settings: spec.settings)
        let recorder = try JobRecorder(directory: outputDirectory, keepBodies: spec.settings.keepBodies,
                                       warcInfo: [("arachne-job", id)])
        let total = spec.totalRequests
        let started = EventLoop.now()
        let batcher = LoopBox<RecordBatcher?>(nil)
        let ticker = LoopBox<TimerID?>(nil)
        try await loop.submit {
            batcher.value = RecordBatcher(loop: loop, recorder: recorder)
            if let progress {
                func tick() {
                    let elapsed = Double(EventLoop.now() - started) / 1e9
                    if let b = batcher.value {
                        progress(JobProgressSnapshot(done: b.added, total: total, failed: b.failed,
                                                     elapsedSeconds: elapsed))
                    }
                    ticker.value = loop.scheduleTimer(afterMilliseconds: 250) { tick() }
                }
                ticker.value = loop.scheduleTimer(afterMilliseconds: 250) { tick() }
            }
        }
        stop.onSet { loop.executeIfRunning { fetcher.assumeIsolated { $0.cancelAll() } } }

        let url: @Sendable (RequestKey) -> String
        if let urlList {
            let source = try StoredURLSource(urlCount: spec.urlCount, repeatCount: spec.repeatCount, job: id) {
                urlList
            }
            url = { source.url(at: $0.urlIndex, repetition: $0.repetition) }
        } else {
            url = { [urls = spec.urls] in urls[$0.urlIndex] }
        }
        let cursor = await FetchLanes.run(
            fetcher: fetcher, url: url, cursor: .init(urlCount: spec.urlCount, repeatCount: spec.repeatCount),
            concurrency: spec.concurrency, profile: profile, shouldStop: { stop.isSet },
            gate: recorder.backlog
        ) { key, url, outcome in
            batcher.value?.add(RecordEntry(
                key: key, url: url, worker: "local", attempts: 1, outcome: outcome,
                finishedAt: Date().timeIntervalSince1970))
        }
        let wallSeconds = Double(EventLoop.now() - started) / 1e9
        try await loop.submit {
            if let timer = ticker.value { loop.cancelTimer(timer) }
            // Keys never started end as cancelled, so every (URL, repetition) has exactly one record.
            var rest = cursor
            let now = Date().timeIntervalSince1970
            while let key = rest.next() {
                let target = url(key)
                batcher.value?.add(RecordEntry(
                    key: key, url: target, worker: "local", attempts: 0,
                    outcome: .failed(.cancelled, "job stopped before this request started", url: target),
                    finishedAt: now))
            }
            batcher.value?.flush()
        }
        await fetcher.close()
        let finished = Date()
        let info = ReportJobInfo(
            id: id, state: stop.isSet ? .cancelled : .completed, submittedAt: submitted,
            startedAt: submitted, finishedAt: finished, spec: spec, outputDir: outputDirectory)
        let report = try await recorder.writeReport(
            info: info,
            workers: [WorkerInfo(id: "local", host: ProcessInfo.processInfo.hostName, pid: Int(getpid()),
                                 busySeconds: wallSeconds)],
            reassignedBatches: 0, retries: 0)
        try await recorder.close()
        return report
    }
}
