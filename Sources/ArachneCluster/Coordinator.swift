import ArachneCore
import ArachneEventLoop
import ArachneProtocol
import ArachneReport
import ArachneScheduling
import ArachneStore
import ArachneZMQ
import Foundation
import Synchronization

/// The coordinator: a ZeroMQ ROUTER on its own event loop that leases URL batches to workers, gathers their
/// results into each job's output directory, and reports. Safe to use from any task: every call hops to the loop.
public final class Coordinator: Sendable {
    public let loop: EventLoop
    /// Its ZeroMQ context: a secured control socket is made from it, so the same ZAP handler answers it.
    let context: ZMQContext
    private let core: LoopBox<CoordinatorCore>
    /// Workers with a session now, readable from any thread without a hop to the loop.
    let connectedWorkers: ConnectedWorkerCount
    /// Endpoints workers can connect to.
    public let endpoints: [String]
    /// How its `tcp://` endpoints are secured; nil: they are plain.
    public let security: CoordinatorSecurity?
    private let stopped = Atomic<Bool>(false)

    /// Starts a coordinator listening on `endpoints` (e.g. `ipc:///tmp/x.sock`, `tcp://127.0.0.1:*`).
    ///
    /// With `security`, the ZAP handler starts first, every `tcp://` endpoint is a CURVE server whose peers' keys
    /// are checked against `workers/`, and each is probed (`SecurityProbe`: an unknown key and a plaintext peer
    /// must be refused) before any message is read from it; a failed probe stops the start.
    public init(listen endpoints: [String], configuration: Scheduler.Configuration = .init(),
                security: CoordinatorSecurity? = nil, log: @escaping @Sendable (String) -> Void = { _ in }) async throws
    {
        loop = try EventLoop(name: "arachne-coord")
        let context = ZMQContext()
        self.context = context
        self.security = security
        let loop = self.loop
        do {
            let (core, bound, connected) = try await loop.submit {
                let core = CoordinatorCore(loop: loop, configuration: configuration, log: log)
                var bound: [String] = []
                do {
                    if let security { try core.startZAP(security, context: context) }
                    for endpoint in endpoints {
                        bound.append(try core.bind(endpoint, context: context, security: security))
                    }
                } catch {
                    core.shutdown(reason: "startup failed")
                    throw CoordinatorError("cannot listen on \(endpoints.joined(separator: ", ")): \(error)")
                }
                return (LoopBox(core), bound, core.connectedWorkers)
            }
            self.core = core
            self.endpoints = bound
            self.connectedWorkers = connected
            do {
                if let security {
                    for endpoint in bound where CoordinatorSecurity.isSecured(endpoint) {
                        try await Self.probe(endpoint, security: security, core: core, context: context, loop: loop)
                    }
                }
                try await loop.submit { try core.value.attachBound() }
            } catch {
                _ = try? await loop.submit { core.value.shutdown(reason: "startup failed") }
                throw error
            }
        } catch {
            loop.shutdown()
            throw error
        }
    }

    /// Checks on the loop that a bound, secured endpoint refuses an unknown key and a plaintext peer.
    private static func probe(_ endpoint: String, security: CoordinatorSecurity, core: LoopBox<CoordinatorCore>,
                              context: ZMQContext, loop: EventLoop) async throws
    {
        let result: Result<Void, CoordinatorError> = await withCheckedContinuation { continuation in
            loop.execute {
                guard let zap = core.value.zap else {
                    continuation.resume(returning: .failure(CoordinatorError("no ZAP handler is running")))
                    return
                }
                SecurityProbe(endpoint: endpoint, serverKey: security.keys.keyPair.publicKey, context: context,
                              loop: loop, zap: zap) { continuation.resume(returning: $0) }
            }
        }
        try result.get()
    }

    /// Checks that another secured endpoint of this coordinator's context (its control socket) fails closed.
    func verifySecured(_ endpoint: String) async throws {
        guard let security else { return }
        try await Self.probe(endpoint, security: security, core: core, context: context, loop: loop)
    }

    /// Starts a job. Records go to `recorder` as they arrive; `resume` names keys already done (after a restart).
    /// A job whose URLs were stored apart (`spec.hasStoredURLs`) reads them through `storedURLs`.
    public func submit(id: String, spec: JobSpec, recorder: JobRecorder, resume: JobResume? = nil) async throws {
        try await submit(id: id, spec: spec, recorder: recorder, resume: resume, storedURLs: nil)
    }

    func submit(id: String, spec: JobSpec, recorder: JobRecorder, resume: JobResume? = nil,
                storedURLs: StoredURLSource?) async throws
    {
        try await addJob(id: id, spec: spec, recorder: recorder, resume: resume, urlCount: spec.urlCount,
                         storedURLs: storedURLs)
    }

    /// Hands a job to the core on its loop: a crawl with the URLs its frontier has yet to fetch (`crawlURLs`).
    private func addJob(
        id: String, spec: JobSpec, recorder: JobRecorder, resume: JobResume?, urlCount: Int,
        storedURLs: StoredURLSource? = nil, crawlURLs: [(index: Int, url: String)] = [],
        robots: [StoredRobots] = [], hostGroups: [String: String] = [:]
    ) async throws {
        let core = core
        let loop = loop
        let total = spec.isCrawl ? urlCount : spec.totalRequests
        try await loop.submit {
            let batcher = RecordBatcher(loop: loop, recorder: recorder)
            let progress = JobProgress(total: total, done: 0, failed: 0, cancelled: 0, outstanding: 0,
                                       reassignedBatches: 0, retries: 0)
            let job = ActiveJob(id: id, spec: spec, recorder: recorder, batcher: batcher, progress: progress,
                                storedURLs: storedURLs)
            for (index, url) in crawlURLs { job.crawlURLs[index] = url }
            job.hostGroups = hostGroups
            for kept in robots {
                job.robots[kept.origin] = RobotsReport(
                    job: id, origin: kept.origin, fetchedAt: kept.fetchedAt, status: kept.status,
                    redirects: kept.redirects, failure: kept.failure, body: kept.body)
            }
            core.value.addJob(job, resume: resume, urlCount: spec.isCrawl ? urlCount : nil)
        }
    }

    /// Starts a crawl job: its frontier is made on the recorder's thread from `openStore` (seeded with the spec's
    /// URLs, or resumed from the store when `resume` is given, `isRecorded` saying which keys have their record),
    /// and the job's keys grow as the frontier admits URLs.
    func submitCrawl(
        id: String, spec: JobSpec, recorder: JobRecorder, resume: JobResume? = nil,
        openStore: @escaping @Sendable () throws -> FrontierStore,
        isRecorded: @escaping @Sendable (Int) -> Bool = { _ in false }
    ) async throws {
        guard let options = spec.crawl else { preconditionFailure("job \(id) is not a crawl") }
        let core = core
        let loop = loop
        let seeds = spec.urls
        let resuming = resume != nil
        let start = try await recorder.attachFrontier({
            let store = try openStore()
            let frontier = resuming
                ? try CrawlFrontier(resuming: store, options: options, isRecorded: isRecorded)
                : try CrawlFrontier(store: store, options: options, seeds: seeds)
            if options.perIP { frontier.groups = PolitenessGroups(resolve: spec.settings.resolve) }
            let urls = frontier.unfinishedURLs
            return (FrontierBox(frontier), FrontierStart(urlCount: frontier.nextIndex, urls: urls,
                                                          hostGroups: frontier.hostGroups(of: urls)))
        }, onDelta: { delta in
            loop.execute { core.value.applyFrontierDelta(id, delta) }
        })
        // A resumed crawl keeps its robots.txt files (24 hours) and its politeness audit.
        let robots = resuming ? try await recorder.resumePoliteness() : []
        try await addJob(id: id, spec: spec, recorder: recorder, resume: resume, urlCount: start.urlCount,
                         crawlURLs: start.urls, robots: robots, hostGroups: start.hostGroups)
    }

    /// Waits until every key of the job has its terminal record.
    public func wait(for id: String) async -> JobCompletion {
        let core = core
        return await withCheckedContinuation { continuation in
            let accepted = loop.executeIfRunning { core.value.wait(for: id, continuation) }
            precondition(accepted, "waiting for job \(id) on a coordinator that has shut down")
        }
    }

    public func progress(of id: String) async -> JobProgress? {
        let core = core
        return try? await loop.submit { core.value.progress(of: id) }
    }

    public func cancel(_ id: String) async {
        let core = core
        _ = try? await loop.submit { core.value.cancelJob(id) }
    }

    /// Cancels a job without waiting for the coordinator's loop to take it (the loop may be busy): for callers that
    /// must answer at once. Ignored once the coordinator has shut down.
    public func requestCancel(_ id: String) {
        let core = core
        loop.executeIfRunning { core.value.cancelJob(id) }
    }

    /// Forgets a finished job.
    public func remove(_ id: String) async {
        let core = core
        _ = try? await loop.submit { core.value.removeJob(id) }
    }

    /// Workers with a session now, and workers that ever said hello.
    public func workerCounts() async -> (current: Int, everJoined: Int) {
        let core = core
        return (try? await loop.submit { (core.value.workerCount, core.value.workersEverJoined) }) ?? (0, 0)
    }

    /// The workers with a session, in the order they joined.
    public func workerStatuses() async -> [WorkerStatus] {
        let core = core
        return (try? await loop.submit { core.value.workerStatuses() }) ?? []
    }

    /// Logs every worker joining and leaving from now on (`worker lost` is always logged).
    public func logWorkerEvents(_ log: @escaping @Sendable (String) -> Void) async {
        let core = core
        _ = try? await loop.submit { core.value.workerEventLog = log }
    }

    /// Feeds `metrics` with every record accepted from now on.
    public func attach(metrics: CoordinatorMetrics) async {
        let core = core
        _ = try? await loop.submit { core.value.metrics = metrics }
    }

    /// Stops sending leases, for a graceful stop: workers finish what they hold and their results are still taken.
    public func stopLeasing() async {
        let core = core
        _ = try? await loop.submit { core.value.withholdingLeases = true }
    }

    /// Keys sent to workers whose results have not arrived (zero or less once a drain is complete).
    public func keysInFlight() async -> Int {
        let core = core
        return (try? await loop.submit { core.value.keysInFlight }) ?? 0
    }

    /// Tells the workers to stop, closes the sockets and stops the loop. The sockets stay open until every worker
    /// has said goodbye (so each has had its shutdown message: the sockets linger 0, and a close drops what has not
    /// left) or `grace` seconds have passed (a worker that is gone says nothing). A one-shot run's local workers
    /// answer in a millisecond or two; a fixed pause here used to add 50 ms to every `arachne run`.
    public func shutdown(reason: String = "coordinator stopping", grace: Double = 0.05) async {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        let core = core
        let graceMs = Int((grace * 1000).rounded(.up))
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let taken = loop.executeIfRunning {
                core.value.shutdown(reason: reason, graceMs: graceMs) { done.resume() }
            }
            if !taken { done.resume() }
        }
        loop.shutdown()
    }
}

/// The coordinator could not start or run a job; the message says why.
public struct CoordinatorError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Where a crawl's frontier starts: its key count and the URLs still to fetch.
struct FrontierStart: Sendable {
    var urlCount: Int
    var urls: [(index: Int, url: String)]
    /// With `--per-ip`: the groups of the hosts of `urls`.
    var hostGroups: [String: String] = [:]
}
