import ArachneCore
import ArachneEventLoop
import ArachneProtocol
import ArachneReport
import ArachneScheduling
import ArachneZMQ
import Foundation
import Synchronization

/// A job the coordinator is running: its URLs, its recorder, and who waits for it.
final class ActiveJob {
    let id: String
    let spec: JobSpec
    let recorder: JobRecorder
    let batcher: RecordBatcher
    let startedAt: Date
    var finishedAt: Date?
    var progress: JobProgress
    var outcome: Scheduler.JobOutcome?
    var waiters: [CheckedContinuation<JobCompletion, Never>] = []
    /// Per worker: when it first got work of this job and when its last result came.
    var workerActivity: [String: (first: UInt64, last: UInt64)] = [:]
    /// A crawl's URLs without a record yet, by key index (a list job's URLs are `spec.urls`).
    var crawlURLs: [Int: String] = [:]
    /// A list job whose URLs are kept on disk (a chunked submission, a `run --url-file`): read in windows.
    let storedURLs: StoredURLSource?
    /// With `storedURLs`: the URLs of keys sent in a lease, until the key's record is written. Results, re-leases
    /// and lost or cancelled keys come back to keys far behind the windows; they find their URL here instead of
    /// reading the list on the loop. As large as the keys in flight.
    private var leasedURLs: [RequestKey: String] = [:]
    /// A crawl's robots.txt files by origin (reported by workers, or kept from before a restart), and the origins
    /// whose file each worker session has been sent.
    var robots: [String: RobotsReport] = [:]
    var robotsSent: [String: Set<String>] = [:]
    /// A crawl's politeness groups, numbered in the order met: the scheduler knows each key's host by its number.
    private var groupIDs: [String: Int] = [:]

    var isCrawl: Bool { spec.crawl != nil }

    /// The URL of a key.
    func url(of key: RequestKey) -> String {
        if isCrawl { return crawlURLs[key.urlIndex] ?? "" }
        if let storedURLs {
            return leasedURLs[key] ?? storedURLs.url(at: key.urlIndex, repetition: key.repetition)
        }
        return spec.urls[key.urlIndex]
    }

    /// The URL of a key being sent in a lease: kept until its record is written (see `leasedURLs`).
    func leaseURL(of key: RequestKey) -> String {
        let url = url(of: key)
        if storedURLs != nil { leasedURLs[key] = url }
        return url
    }

    /// The URL of a key whose record is being written: forgotten (the key is terminal).
    func takeURL(of key: RequestKey) -> String {
        if isCrawl { return crawlURLs.removeValue(forKey: key.urlIndex) ?? "" }
        if storedURLs != nil, let url = leasedURLs.removeValue(forKey: key) { return url }
        return url(of: key)
    }

    /// What a crawl keeps its politeness by, for a URL it admitted: the URL's host, lower-case, without the port
    /// (the host the worker paces by). The scheduler leases a group's keys to one worker at a time, and that worker
    /// keeps `--per-host` and `--delay` on it. This is the one place a group is decided: with `--per-ip` it is the
    /// address the host resolves to (`hostGroups`, looked up by the frontier off this loop).
    func politenessGroup(of url: String) -> String {
        let host = URLAuthority.host(of: url)?.lowercased() ?? ""
        return hostGroups[host] ?? host
    }

    /// With `--per-ip`: each host's address (its politeness group), as the frontier looked it up.
    var hostGroups: [String: String] = [:]

    /// The number of the URL's politeness group in this job.
    func politenessGroupID(of url: String) -> Int {
        let group = politenessGroup(of: url)
        if let id = groupIDs[group] { return id }
        let id = groupIDs.count
        groupIDs[group] = id
        return id
    }

    init(id: String, spec: JobSpec, recorder: JobRecorder, batcher: RecordBatcher, progress: JobProgress,
         storedURLs: StoredURLSource? = nil)
    {
        precondition(spec.hasStoredURLs == (storedURLs != nil), "job \(id): stored URLs without their source")
        self.storedURLs = storedURLs
        self.id = id
        self.spec = spec
        self.recorder = recorder
        self.batcher = batcher
        self.progress = progress
        startedAt = Date()
    }
}

/// How a job ended, for whoever waited on it.
public struct JobCompletion: Sendable {
    public var id: String
    public var outcome: Scheduler.JobOutcome
    public var progress: JobProgress
    public var startedAt: Date
    public var finishedAt: Date
    public var workers: [WorkerInfo]
}

/// A worker's session as the coordinator knows it.
struct WorkerSession {
    var id: String
    var routingID: [UInt8]
    var host: String
    var pid: Int
    var capacity: Int
    var joinedAt: UInt64
    /// The name its CURVE key has in the coordinator's `workers/` allow-list; nil on a plain endpoint.
    var keyName: String?
    /// The endpoint it connected to.
    var endpoint: String = ""
    /// Wall-clock seconds of its hello and of the last message heard from it, for `arachne workers`.
    var joinedAtWall: Double = 0
    var lastHeardWall: Double = 0
    /// Results accepted from this session.
    var done = 0

    /// How the coordinator's log names it: id, host, pid, capacity, endpoint.
    var described: String { "\(id) (host \(host), pid \(pid), capacity \(capacity), endpoint \(endpoint))" }
}

/// The coordinator's machinery on its loop: the ROUTER channel, the `Scheduler` state machine, and the jobs. It
/// feeds every event to the scheduler and carries out the actions it returns; it makes no scheduling decision of
/// its own. Loop-confined.
final class CoordinatorCore {
    let loop: EventLoop
    let configuration: Scheduler.Configuration
    private var scheduler: Scheduler
    private var channels: [ZMQChannel] = []
    /// Bound sockets not read yet: a secured endpoint is read only once its start-up probe passed.
    private var unattached: [(socket: ZMQSocket, endpoint: String, secured: Bool)] = []
    /// Answers the CURVE handshakes of the secured endpoints (and of a secured control socket in `context`).
    private(set) var zap: ZAPHandler?
    private var jobs: [String: ActiveJob] = [:]
    private var sessions: [String: WorkerSession] = [:]
    private var knownWorkers: [String: WorkerSession] = [:]
    private let origin = EventLoop.now()
    private var timer: TimerID?
    private let log: (String) -> Void
    /// Where workers joining and leaving are logged (the long-running coordinator's log); nil: not logged.
    var workerEventLog: ((String) -> Void)?
    private(set) var workersEverJoined = 0
    /// Workers with a session now, published for readers on other threads (the control loop's `status`).
    let connectedWorkers = ConnectedWorkerCount()
    /// Prometheus counters fed as records are accepted (`--metrics`), or nil.
    var metrics: CoordinatorMetrics?
    /// Set for a graceful stop: leases are withheld (not sent), so workers only finish what they hold. The keys
    /// stay leased in the scheduler; the next coordinator re-queues them from the durable store.
    var withholdingLeases = false
    /// Keys of leases withheld since `withholdingLeases` was set.
    private(set) var withheldKeys = 0

    init(loop: EventLoop, configuration: Scheduler.Configuration, log: @escaping (String) -> Void) {
        self.loop = loop
        self.configuration = configuration
        scheduler = Scheduler(configuration: configuration)
        self.log = log
    }

    private var now: Scheduler.Instant {
        Scheduler.Instant(milliseconds: Int64((EventLoop.now() - origin) / 1_000_000))
    }

    /// Binds a ROUTER on `endpoint` and starts reading it; returns the endpoint actually bound.
    func listen(_ endpoint: String, context: ZMQContext) throws -> String {
        let bound = try bind(endpoint, context: context, security: nil)
        try attachBound()
        return bound
    }

    /// Starts the ZAP handler: before any secured socket is bound, so none ever handshakes without it.
    func startZAP(_ security: CoordinatorSecurity, context: ZMQContext) throws {
        zap = try ZAPHandler(keys: security.keys, context: context, loop: loop, log: log)
    }

    /// Binds a ROUTER on `endpoint` — a CURVE server checked by the ZAP handler when `security` is set and the
    /// endpoint is `tcp://` — without reading it yet (`attachBound`). Returns the endpoint actually bound.
    func bind(_ endpoint: String, context: ZMQContext, security: CoordinatorSecurity?) throws -> String {
        let socket = try ZMQSocket(context: context, type: .router)
        let secured = security != nil && CoordinatorSecurity.isSecured(endpoint)
        if let security, secured {
            precondition(zap != nil, "a secured endpoint needs the ZAP handler first")
            try security.secure(socket, domain: .workers)
        } else if endpoint.hasPrefix("tcp://") {
            try CoordinatorSecurity.limit(socket, domain: .workers)
        }
        try socket.bind(endpoint)
        let bound = try socket.lastEndpoint()
        unattached.append((socket, bound, secured))
        return bound
    }

    /// Starts reading every bound socket.
    func attachBound() throws {
        for (socket, bound, secured) in unattached {
            let channel = try ZMQChannel(socket: socket, loop: loop, property: secured ? "User-Id" : nil) {
                [unowned self] frames, user in
                self.received(frames, on: bound, keyName: user)
            }
            channels.append(channel)
        }
        unattached.removeAll()
        if timer == nil { scheduleTick() }
    }

    // MARK: Jobs

    func addJob(_ job: ActiveJob, resume: JobResume?, urlCount: Int? = nil) {
        Trace.log("coordinator: job \(job.id) added")
        jobs[job.id] = job
        let count = urlCount ?? job.spec.urlCount
        // A crawl's keys are leased by politeness group: each unfinished key's group (a key whose URL is missing,
        // which a consistent store never gives, is leased with an empty URL, and fails, as before).
        var hosts: [(index: Int, host: Int)] = []
        var hostWindow = Int.max
        if let crawl = job.spec.crawl {
            hostWindow = HostPartition.window(perHost: crawl.perHost, delayMs: crawl.delayMs)
            for index in 0..<count where !(resume?.isCompleted(index: index) ?? false) {
                hosts.append((index, job.politenessGroupID(of: job.crawlURLs[index] ?? "")))
            }
        }
        perform(scheduler.addJob(id: job.id, urlCount: count, repeatCount: job.spec.repeatCount,
                                 perWorkerLimit: job.spec.concurrency, resume: resume, growable: job.isCrawl,
                                 hosts: hosts, hostWindow: hostWindow, now: now))
    }

    /// A crawl's frontier admitted URLs (or settled a batch's discoveries): the scheduler grows the job.
    func applyFrontierDelta(_ id: String, _ delta: FrontierDelta) {
        guard let job = jobs[id] else { return }
        var hosts: [(index: Int, host: Int)] = []
        hosts.reserveCapacity(delta.added.count)
        for (host, group) in delta.hostGroups { job.hostGroups[host] = group }
        for (index, url) in delta.added {
            job.crawlURLs[index] = url
            hosts.append((index, job.politenessGroupID(of: url)))
        }
        perform(scheduler.extendJob(id, urlCount: delta.urlCount, terminal: delta.skipped, hosts: hosts,
                                    settled: delta.settled, now: now))
    }

    func cancelJob(_ id: String) {
        perform(scheduler.cancelJob(id, now: now))
    }

    func progress(of id: String) -> JobProgress? {
        scheduler.progress(of: id) ?? jobs[id]?.progress
    }

    func wait(for id: String, _ continuation: CheckedContinuation<JobCompletion, Never>) {
        guard let job = jobs[id] else {
            preconditionFailure("waiting for unknown job \(id)")
        }
        if let completion = completion(of: job) {
            continuation.resume(returning: completion)
        } else {
            job.waiters.append(continuation)
        }
    }

    var workerCount: Int { sessions.count }

    /// Keys leased to workers (and sent) whose results have not arrived.
    var keysInFlight: Int {
        scheduler.jobIDs.reduce(0) { $0 + (scheduler.progress(of: $1)?.outstanding ?? 0) } - withheldKeys
    }

    /// Where a shutdown stands: not asked, waiting for the workers' goodbyes (with what to call once the sockets are
    /// closed), or closed.
    private enum Stopping {
        case no
        case awaitingGoodbyes(then: () -> Void)
        case closed
    }
    private var stopping = Stopping.no

    /// Tells every worker to stop, then closes the sockets once every worker has said goodbye or `graceMs` have
    /// passed, and calls `closed`. The sockets linger 0 (a close drops what has not left), so they stay open until
    /// the shutdown messages have reached the workers: a goodbye shows one has. Between the two only goodbyes are
    /// heard; nothing else a worker sends is taken. Asked again, it calls `closed` when the first shutdown closes.
    func shutdown(reason: String, graceMs: Int = 0, closed: @escaping () -> Void = {}) {
        switch stopping {
        case .closed:
            closed()
            return
        case .awaitingGoodbyes(let earlier):
            stopping = .awaitingGoodbyes(then: { earlier(); closed() })
            return
        case .no:
            stopping = .awaitingGoodbyes(then: closed)
        }
        for session in sessions.values { send(.shutdown(reason: reason), to: session.id) }
        if let timer { loop.cancelTimer(timer) }
        // The core's one timer, its tick, becomes the grace period's.
        timer = nil
        if sessions.isEmpty || graceMs <= 0 {
            closeSockets()
        } else {
            timer = loop.scheduleTimer(afterMilliseconds: graceMs) { [unowned self] in
                self.timer = nil
                self.closeSockets()
            }
        }
    }

    private func closeSockets() {
        guard case .awaitingGoodbyes(let then) = stopping else { return }
        stopping = .closed
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        for channel in channels { channel.close() }
        channels.removeAll()
        for pending in unattached { pending.socket.close() }
        unattached.removeAll()
        zap?.close()
        zap = nil
        then()
    }

    // MARK: Messages from workers

    private func received(_ frames: [[UInt8]], on endpoint: String, keyName: String?) {
        guard frames.count >= 2 else { return }
        let routingID = frames[0]
        let worker = String(decoding: routingID, as: UTF8.self)
        let message: WorkerMessage
        do {
            message = try WorkerMessage.decode(Array(frames.dropFirst()))
        } catch {
            if let peerVersion = error.peerVersion {
                log("refusing worker \(worker): it speaks protocol version \(peerVersion), this coordinator speaks "
                    + "\(ProtocolVersion.current)")
                sendRaw(CoordinatorMessage.refusal(peerVersion: peerVersion), routingID: routingID)
            } else {
                log("ignoring a malformed message from \(worker): \(error)")
                sendRaw(.error(message: "malformed message: \(error)"), routingID: routingID)
            }
            return
        }
        Trace.log("coordinator: from \(worker): \(message.traceName)")
        if case .awaitingGoodbyes = stopping {
            // Shutting down: only a goodbye counts, and the last one closes the sockets.
            if case .goodbye = message, let session = sessions.removeValue(forKey: worker) {
                connectedWorkers.set(sessions.count)
                workerEventLog?("worker left: \(session.described), said goodbye")
                if sessions.isEmpty { closeSockets() }
            }
            return
        }
        if sessions[worker] != nil { sessions[worker]!.lastHeardWall = Date().timeIntervalSince1970 }
        switch message {
        case .hello(let hello):
            let wall = Date().timeIntervalSince1970
            var session = WorkerSession(id: worker, routingID: routingID, host: hello.host, pid: hello.pid,
                                        capacity: hello.capacity, joinedAt: EventLoop.now(), keyName: keyName)
            session.endpoint = endpoint
            session.joinedAtWall = wall
            session.lastHeardWall = wall
            if let previous = sessions[worker] {
                workerEventLog?("worker left: \(previous.described), replaced by a new session under its id")
            }
            workerEventLog?("worker joined: \(session.described)")
            sessions[worker] = session
            connectedWorkers.set(sessions.count)
            knownWorkers[worker] = session
            workersEverJoined += 1
            perform(scheduler.workerJoined(worker, capacity: hello.capacity, now: now))
        case .credit(let n):
            if let behind = jobs.values.first(where: { !$0.recorder.backlog.hasRoom }) {
                holdCredit(worker, n, until: behind.recorder.backlog)
            } else {
                perform(scheduler.credit(worker, n, now: now))
            }
        case .results(let results):
            accept(results, from: worker)
        case .batchDone(let batch):
            perform(scheduler.batchDone(worker, batch: batch, now: now))
        case .heartbeat:
            perform(scheduler.heartbeat(worker, now: now))
        case .goodbye:
            perform(scheduler.workerLeft(worker, now: now))
        case .robots(let report):
            perform(scheduler.heartbeat(worker, now: now))
            guard let job = jobs[report.job], job.isCrawl else { return }
            if report.isAnswer {
                var cached = report
                cached.sitemaps = nil
                job.robots[report.origin] = cached
                // The worker that fetched it has it.
                job.robotsSent[worker, default: []].insert(report.origin)
            }
            job.recorder.robotsFetched(report)
        case .hostAudits(let jobID, let audits):
            perform(scheduler.heartbeat(worker, now: now))
            jobs[jobID]?.recorder.noteAudits(worker: worker, audits)
        }
    }

    /// Hands each result to the scheduler and each accepted one to its job's batcher. This runs for every result
    /// a coordinator takes in (hundreds of thousands a second), so what is the same for the whole message is done
    /// once per message: the worker's session and activity are updated once, and the job is looked up only when a
    /// result names another job than the one before (the decoder reuses one String per job id, so that comparison
    /// finds the same storage and costs no byte compare).
    private func accept(_ results: [FetchResult], from worker: String) {
        let instant = now
        let monotonic = EventLoop.now()
        var actions: [Scheduler.Action] = []
        var accepted = 0
        var current: (id: String, job: ActiveJob)?
        for result in results {
            let decision = scheduler.recordResult(
                worker: worker, job: result.job, batch: result.batch, key: result.key,
                kind: Scheduler.RecordKind(result.outcome.failure), now: instant)
            if !decision.actions.isEmpty { actions += decision.actions }
            guard case .accept(let attempts) = decision.verdict else { continue }
            let job: ActiveJob
            if let current, current.id == result.job {
                job = current.job
            } else {
                guard let found = jobs[result.job] else { continue }
                found.workerActivity[worker, default: (monotonic, monotonic)].last = monotonic
                current = (result.job, found)
                job = found
            }
            accepted += 1
            metrics?.record(result.outcome)
            var entry = RecordEntry(
                key: result.key, url: job.takeURL(of: result.key), worker: worker, attempts: attempts,
                outcome: result.outcome, finishedAt: result.finishedAt, archived: result.archived)
            entry.crawl = result.crawl
            entry.settlesDiscovery = job.isCrawl
            job.batcher.add(entry)
        }
        if accepted > 0 { sessions[worker]?.done += accepted }
        perform(actions)
        // A crawl with nothing left to lease is waiting for these pages' links: hand them to the frontier now
        // rather than at the batcher's interval (each level of a crawl's first pages would wait for it).
        if let current, current.job.isCrawl, scheduler.progress(of: current.id)?.queued == 0 {
            current.job.batcher.flush()
        }
    }

    // MARK: Backpressure

    /// Credit from workers, held while a job's recorder is behind: no credit, no new leases, so the workers wait
    /// instead of results piling up in the writer's queue.
    private var heldCredits: [(worker: String, n: Int)] = []
    private var waitingForRoom = false

    private func holdCredit(_ worker: String, _ n: Int, until backlog: WriteBacklog) {
        heldCredits.append((worker, n))
        guard !waitingForRoom else { return }
        waitingForRoom = true
        let me = LoopBox(self)
        backlog.whenRoom { [loop] in
            loop.executeIfRunning { me.value.releaseCredits() }
        }
    }

    private func releaseCredits() {
        waitingForRoom = false
        let held = heldCredits
        heldCredits.removeAll()
        for (worker, n) in held {
            // Still behind (another job's recorder)? Hold again; otherwise hand the credit to the scheduler.
            if let behind = jobs.values.first(where: { !$0.recorder.backlog.hasRoom }) {
                holdCredit(worker, n, until: behind.recorder.backlog)
            } else {
                perform(scheduler.credit(worker, n, now: now))
            }
        }
    }

    // MARK: Carrying out the scheduler's actions

    private func perform(_ actions: [Scheduler.Action]) {
        for action in actions {
            switch action {
            case .welcome(let worker):
                send(.welcome(Welcome(
                    workerID: worker, heartbeatIntervalMs: Int(configuration.heartbeatIntervalMs),
                    leaseTimeoutMs: Int(configuration.leaseTimeoutMs))), to: worker)
            case .sendJobSettings(let worker, let job):
                guard let active = jobs[job] else { continue }
                let crawl = active.spec.crawl.map { CrawlJobSettings(options: $0, seeds: active.spec.urls) }
                send(.jobSettings(job: job, settings: active.spec.settings, crawl: crawl), to: worker)
            case .sendLease(let lease):
                guard let active = jobs[lease.job] else { continue }
                if withholdingLeases {
                    withheldKeys += lease.keys.count
                    continue
                }
                let monotonic = EventLoop.now()
                if active.workerActivity[lease.worker] == nil {
                    active.workerActivity[lease.worker] = (monotonic, monotonic)
                }
                let items = lease.keys.map { LeaseItem(key: $0, url: active.leaseURL(of: $0)) }
                if !active.robots.isEmpty { sendCachedRobots(for: items, of: active, to: lease.worker) }
                // With --per-ip, each page travels with its host's address: the worker paces by it.
                let groups = active.spec.crawl?.perIP == true ? items.map { active.politenessGroup(of: $0.url) } : nil
                send(.lease(BatchLease(batch: lease.batch, job: lease.job, deadlineMs: lease.deadlineMs,
                                       items: items, groups: groups)), to: lease.worker)
            case .sendHeartbeat(let worker):
                send(.heartbeat, to: worker)
            case .sendCancelJob(let worker, let job):
                send(.cancelJob(job: job), to: worker)
            case .sendError(let worker, let message):
                // The worker may have no session any more (declared lost while stalled): answer its routing id,
                // which is its worker id, so it learns to say hello again.
                sendRaw(.error(message: message), routingID: Array(worker.utf8))
            case .workerRemoved(let worker, let reason):
                let session = reason != .restarted ? sessions.removeValue(forKey: worker) : sessions[worker]
                connectedWorkers.set(sessions.count)
                let described = session?.described ?? worker
                for job in jobs.values { job.robotsSent[worker] = nil }
                switch reason {
                case .silent(let quiet):
                    log("worker lost: \(described), silent for \(quiet) ms; its leases go back to the queue")
                case .goodbye:
                    workerEventLog?("worker left: \(described), said goodbye")
                case .restarted:
                    break  // Logged with the new session's hello.
                }
            case .recordWorkerLost(let job, let keys):
                guard let active = jobs[job] else { continue }
                let finishedAt = Date().timeIntervalSince1970
                metrics?.recordFailure(.workerLost, count: keys.count)
                for lost in keys {
                    active.batcher.add(RecordEntry(
                        key: lost.key, url: active.takeURL(of: lost.key), worker: "", attempts: lost.attempts,
                        outcome: FetchOutcome(failure: Scheduler.workerLostFailure(attempts: lost.attempts)),
                        finishedAt: finishedAt))
                }
            case .recordCancelled(let keys):
                guard let active = jobs[keys.job] else { continue }
                let finishedAt = Date().timeIntervalSince1970
                metrics?.recordFailure(.cancelled, count: keys.count)
                let message = keys.wereLeased
                    ? "job cancelled after this request was handed to a worker; no result came back for it"
                    : "job cancelled before this request was fetched"
                for key in keys {
                    active.batcher.add(RecordEntry(
                        key: key, url: active.takeURL(of: key), worker: "", attempts: 0,
                        outcome: .failed(.cancelled, message),
                        finishedAt: finishedAt))
                }
            case .jobFinished(let job, let outcome, let progress):
                Trace.log("coordinator: job \(job) finished")
                guard let active = jobs[job] else { continue }
                active.batcher.flush()
                active.progress = progress
                active.outcome = outcome
                active.finishedAt = Date()
                if let completion = completion(of: active) {
                    let waiters = active.waiters
                    active.waiters.removeAll()
                    for waiter in waiters { waiter.resume(returning: completion) }
                }
            }
        }
    }

    /// Before a lease of a crawl's pages: the robots.txt of each of their origins that the coordinator has cached
    /// (fresh, 24 hours) and the worker has not had, so it does not fetch it again.
    private func sendCachedRobots(for items: [LeaseItem], of job: ActiveJob, to worker: String) {
        let freshSince = Date().timeIntervalSince1970 - 24 * 3600
        var sent = job.robotsSent[worker, default: []]
        for item in items {
            guard let origin = WorkQueue.origin(of: item.url), !sent.contains(origin),
                let report = job.robots[origin], report.fetchedAt >= freshSince
            else { continue }
            sent.insert(origin)
            send(.robotsCached(report), to: worker)
        }
        job.robotsSent[worker] = sent
    }

    private func completion(of job: ActiveJob) -> JobCompletion? {
        guard let outcome = job.outcome, let finishedAt = job.finishedAt else { return nil }
        let workers = job.workerActivity.keys.sorted().map { id -> WorkerInfo in
            let activity = job.workerActivity[id]!
            let session = knownWorkers[id]
            return WorkerInfo(id: id, host: session?.host ?? "", pid: session?.pid ?? 0,
                              busySeconds: Double(activity.last &- activity.first) / 1e9, key: session?.keyName)
        }
        return JobCompletion(id: job.id, outcome: outcome, progress: job.progress, startedAt: job.startedAt,
                             finishedAt: finishedAt, workers: workers)
    }

    /// The workers with a session, in the order they joined, for `arachne workers`.
    func workerStatuses() -> [WorkerStatus] {
        scheduler.workerIDs.compactMap { id in
            guard let session = sessions[id] else { return nil }
            let inFlight = scheduler.load(of: id)?.outstanding ?? 0
            let state: WorkerStatus.State = withholdingLeases ? .draining : inFlight > 0 ? .busy : .idle
            return WorkerStatus(
                id: id, host: session.host, pid: session.pid, capacity: session.capacity, inFlight: inFlight,
                done: session.done, lastHeartbeat: session.lastHeardWall, joinedAt: session.joinedAtWall,
                endpoint: session.endpoint, state: state)
        }
    }

    /// Forgets a finished job (after its report is written).
    func removeJob(_ id: String) {
        jobs.removeValue(forKey: id)
    }

    // MARK: Sending

    private func send(_ message: CoordinatorMessage, to worker: String) {
        guard let session = sessions[worker] else { return }
        sendRaw(message, routingID: session.routingID)
    }

    private func sendRaw(_ message: CoordinatorMessage, routingID: [UInt8]) {
        // Workers connect to one of our endpoints; a ROUTER refuses unknown peers, so try each channel.
        let frames = [routingID] + message.encode()
        for channel in channels {
            do {
                try channel.send(frames)
                return
            } catch {
                continue
            }
        }
    }

    // MARK: Time

    private func scheduleTick() {
        let interval = max(20, min(250, Int(configuration.heartbeatIntervalMs / 4)))
        timer = loop.scheduleTimer(afterMilliseconds: interval) { [unowned self] in
            self.perform(self.scheduler.tick(now: self.now))
            self.scheduleTick()
        }
    }
}

/// The number of workers with a session, written on the coordinator's loop and read from any thread.
final class ConnectedWorkerCount: Sendable {
    private let value = Atomic<Int>(0)

    func set(_ count: Int) { value.store(count, ordering: .relaxed) }

    var current: Int { value.load(ordering: .relaxed) }
}
