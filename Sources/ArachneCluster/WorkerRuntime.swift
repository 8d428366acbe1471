import ArachneArchive
import ArachneCore
import ArachneCrawl
import ArachneEventLoop
import ArachneFetch
import ArachneProtocol
import ArachneZMQ
import Foundation

/// How a worker process runs.
public struct WorkerConfiguration: Sendable {
    public var endpoint: String
    public var workerID: String
    public var capacity: Int
    /// Exit when this process is no longer our parent (set for the coordinator's local children).
    public var parentPID: Int32?
    /// Only for tests of the version rule: announce this protocol version instead of ours.
    public var announcedVersion: ProtocolVersion
    /// How long without word from the coordinator before it is declared lost, until `welcome` says otherwise.
    public var coordinatorTimeoutMs: Int
    /// Its CURVE key pair and the coordinator's public key, for a secured `tcp://` endpoint; nil: plaintext.
    public var keys: PeerKeys?
    /// Log connecting and stopping (losing the coordinator is always logged). Off for the workers of a one-shot
    /// `arachne run` or `crawl`, whose terminal shows progress instead.
    public var logsLifecycle = true

    public init(endpoint: String, workerID: String, capacity: Int, parentPID: Int32? = nil,
                announcedVersion: ProtocolVersion = .current, coordinatorTimeoutMs: Int = 10_000, keys: PeerKeys? = nil)
    {
        self.keys = keys
        self.endpoint = endpoint
        self.workerID = workerID
        self.capacity = capacity
        self.parentPID = parentPID
        self.announcedVersion = announcedVersion
        self.coordinatorTimeoutMs = coordinatorTimeoutMs
    }
}

/// Why a worker stopped.
public enum WorkerExit: Sendable, Equatable {
    /// The coordinator said shutdown, or the parent went away.
    case finished(String)
    /// The coordinator refused us (e.g. another protocol version).
    case refused(String)
    /// Something went wrong that retrying will not fix.
    case failed(String)
}

/// A worker: a ZeroMQ DEALER on the same epoll loop as its `Fetcher` actor. It announces itself, receives
/// leases of (URL, repetition) batches, fetches them with `capacity` lanes, and streams results back, returning a
/// credit for every finished request so it is never flooded and never idle.
///
/// Loop-confined: every method runs on the loop thread (channel callbacks, timers, and lanes that prefer it).
final class WorkerRuntime {
    private let configuration: WorkerConfiguration
    private let loop: EventLoop
    private let context: ZMQContext
    private let fetcher: Fetcher
    private let queue: WorkQueue
    private var channel: ZMQChannel?
    /// Watches the DEALER's connection: a refused key ends the worker, an unreachable coordinator is reported.
    private var monitor: ZMQMonitor?
    private var watch: ConnectionWatch
    private var profiles: [String: FetchProfile] = [:]
    /// Jobs whose bodies are kept: their responses are archived here as WARC members (`archive`).
    private var keepsBodies: Set<String> = []
    private let archiver = WARCRecordBuilder()
    /// Crawl jobs: how each extracts and judges the links of the pages it fetches.
    private var harvesters: [String: PageHarvester] = [:]
    /// Crawl jobs that obey robots.txt: the profile robots.txt is fetched with (redirects followed, 512 KiB kept).
    private var robotsProfiles: [String: FetchProfile] = [:]
    /// Crawl jobs that read the sitemaps robots.txt lists.
    private var readsSitemaps: Set<String> = []

    private var batchRemaining: [UInt64: Int] = [:]
    private var pendingResults: [FetchResult] = []
    private var pendingBatchesDone: [UInt64] = []
    private var pendingCredits = 0
    /// Body and archive bytes of `pendingResults`: a `results` message goes when it reaches `maxPendingBytes`.
    private var pendingBytes = 0
    private static let maxPendingBytes = 16 << 20
    /// Finished fetches whose completion (`complete`) waits for the lanes to start their next requests, in the order
    /// they finished, and their body bytes.
    private var deferred: [(item: WorkItem, outcome: FetchOutcome)] = []
    private var deferredBytes = 0
    private static let maxDeferredBytes = 8 << 20
    /// How long a finished result may wait for others to travel with it.
    static let flushIntervalMs = 8
    /// Results that go at once, without waiting for the interval: one `--concurrency` worth (at least 32, at most
    /// 256). The worker holds four times its capacity in credit, so the credit these return is back, with the next
    /// lease, while three quarters of its work is still at hand.
    private var flushCount: Int { min(256, max(32, configuration.capacity)) }
    private var flushScheduled = false
    private var welcomed = false
    /// Leases received before this instant belong to a session we abandoned.
    private var abandonedBefore: UInt64 = 0
    private var lastHeard: UInt64 = 0
    private var lastSent: UInt64 = 0
    private var heartbeatMs = 1_000
    private var coordinatorTimeoutMs: Int
    private var timer: TimerID?
    private var onExit: ((WorkerExit) -> Void)?
    private let host = ProcessInfo.processInfo.hostName

    init(configuration: WorkerConfiguration, loop: EventLoop, context: ZMQContext, fetcher: Fetcher,
         onExit: @escaping (WorkerExit) -> Void)
    {
        self.configuration = configuration
        self.loop = loop
        self.context = context
        self.fetcher = fetcher
        self.onExit = onExit
        coordinatorTimeoutMs = configuration.coordinatorTimeoutMs
        watch = ConnectionWatch(endpoint: configuration.endpoint, role: .worker, keys: configuration.keys,
                                now: EventLoop.now())
        queue = WorkQueue(loop: loop)
        queue.onRefused = { [unowned self] item, why in
            self.complete(item, .failed(.robots, why, url: item.url))
        }
    }

    /// Connects and says hello. The caller runs the lanes: a `LanePump` over `nextLaneWork()`, `attachLanes`.
    func start() throws {
        try connect()
        scheduleTick()
    }

    private func connect() throws {
        let socket = try ZMQSocket(context: context, type: .dealer)
        try socket.setRoutingID(configuration.workerID)
        if let keys = configuration.keys, configuration.endpoint.hasPrefix("tcp://") {
            try socket.makeCurveClient(keys: keys.keyPair, serverKey: keys.serverKey)
        }
        watch.restart(now: EventLoop.now())
        monitor = try ZMQMonitor(socket: socket, context: context, loop: loop) { [unowned self] event in
            self.connectionEvent(event)
        }
        try socket.connect(configuration.endpoint)
        channel = try ZMQChannel(socket: socket, loop: loop) { [unowned self] frames in
            self.received(frames)
        }
        lastHeard = EventLoop.now()
        sayHello()
    }

    /// What the socket monitor says about the connection: a refused key (or a security mismatch) stops the worker
    /// with the reason; other problems are reported by `tick` while ZeroMQ retries.
    private func connectionEvent(_ event: ZMQSocketEvent) {
        switch watch.note(event, now: EventLoop.now()) {
        case .none: break
        case .refused(let reason): stop(.refused(reason))
        case .connected: log("connected to the coordinator at \(configuration.endpoint)")
        }
    }

    private func closeConnection() {
        monitor?.close()
        monitor = nil
        channel?.close()
        channel = nil
    }

    /// Starts a session: `hello` with our id and capacity (and, for tests, another protocol version).
    private func sayHello() {
        welcomed = false
        var hello = WorkerMessage.hello(WorkerHello(
            workerID: configuration.workerID, host: host, pid: Int(getpid()), capacity: configuration.capacity
        )).encode()
        if configuration.announcedVersion != .current {
            hello[0][2] = UInt8(truncatingIfNeeded: configuration.announcedVersion.rawValue)
            hello[0][3] = UInt8(truncatingIfNeeded: configuration.announcedVersion.rawValue >> 8)
        }
        send(hello)
    }

    /// What the fetch lanes (a `LanePump`) start next: leased items, and the robots.txt fetches the queue asks for;
    /// `.wait` while there is nothing (the queue pumps the lanes again when there is), `.done` once it is closed.
    func nextLaneWork() -> LanePump.Next {
        while let work = queue.next() {
            switch work {
            case .fetch(let item):
                guard let profile = profiles[item.job] else {
                    _ = queue.finished(item, outcome: .failed(.cancelled, "no settings"))
                    complete(item, .failed(.other, "no settings received for job \(item.job)", url: item.url))
                    continue
                }
                // The worker ends fetches with `cancelAll()` (a lost session, a stop).
                return .fetch(url: item.url, profile: profile, enqueuedAt: item.enqueuedAt) { [unowned self] outcome in
                    // A 429 or 503 with a retry left goes back to its host's queue instead of being reported.
                    if queue.finished(item, outcome: outcome) == .retry { return }
                    completeSoon(item, outcome)
                }
            case .robots(let task):
                let started = EventLoop.now()
                guard let profile = robotsProfiles[task.job] else {
                    robotsFetched(task, started: started,
                                  outcome: .failed(.other, "no settings received for job \(task.job)", url: task.url))
                    continue
                }
                return .fetch(url: task.url, profile: profile, enqueuedAt: started) { [unowned self] outcome in
                    robotsFetched(task, started: started, outcome: outcome)
                }
            }
        }
        return queue.closed ? .done : .wait
    }

    /// Lets `pump` run this worker's lanes: the queue pumps it when work arrives.
    func attachLanes(_ pump: LanePump) {
        queue.onWork = { [unowned pump] in pump.pump() }
    }

    /// An origin's robots.txt was fetched for a crawl job: lets the queue act on it, and reports it to the
    /// coordinator (which caches it and admits the sitemaps it lists).
    private func robotsFetched(_ task: RobotsTask, started: UInt64, outcome: FetchOutcome) {
        guard let state = queue.robotsFetched(task, outcome: outcome), !queue.closed,
            started >= abandonedBefore
        else { return }
        var report = RobotsReport(
            job: task.job, origin: task.origin, fetchedAt: Date().timeIntervalSince1970, status: outcome.status,
            redirects: outcome.redirects, body: outcome.status > 0 ? outcome.body : [])
        if outcome.status == 0 || outcome.failure != nil {
            report.failure = outcome.failure?.kind == .tooManyRedirects
                ? RobotsReport.tooManyRedirects : (outcome.failure?.message ?? "no response")
        }
        if readsSitemaps.contains(task.job), case .rules(let rules, _) = state, !rules.sitemaps.isEmpty,
            let harvester = harvesters[task.job]
        {
            report.sitemaps = harvester.sitemapLinks(rules.sitemaps, base: task.url)
        }
        send(WorkerMessage.robots(report).encode())
    }

    // MARK: Messages from the coordinator

    private func received(_ frames: [[UInt8]]) {
        lastHeard = EventLoop.now()
        if watch.heardFromCoordinator() == .connected {
            log("connected to the coordinator at \(configuration.endpoint)")
        }
        let message: CoordinatorMessage
        do {
            message = try CoordinatorMessage.decode(frames)
        } catch {
            log("ignoring a message the coordinator sent: \(error)")
            return
        }
        switch message {
        case .welcome(let welcome):
            if !welcomed && configuration.logsLifecycle {
                log("connected to \(configuration.endpoint) (capacity \(configuration.capacity), pid \(getpid()))")
            }
            welcomed = true
            heartbeatMs = max(50, welcome.heartbeatIntervalMs)
            coordinatorTimeoutMs = max(heartbeatMs * 2, welcome.leaseTimeoutMs)
            // Four times the capacity: credit returns with results (after `flushCount` of them, or
            // `flushIntervalMs`), and the next lease must arrive while the lanes are still busy. With twice the
            // capacity, 32 lanes at ~30k requests/s ran dry between credit returns (the ladder's cluster rung: 54k
            // req/s; 80k with four times). The first credit goes at once: nothing can start without it.
            pendingCredits += 4 * configuration.capacity - queue.count
            flush()
        case .refuse(let reason):
            stop(.refused(reason))
        case .jobSettings(let job, let settings, let crawl):
            var fetchSettings = settings
            harvesters.removeValue(forKey: job)
            if let crawl {
                do {
                    harvesters[job] = try PageHarvester(
                        options: crawl.options, seeds: crawl.seeds, userAgent: settings.userAgent)
                } catch {
                    log("job \(job): cannot follow its links: \(error)")
                }
                // A crawl parses every page (bodies and heads kept in memory even when not archived) and records
                // redirects instead of following them: their targets enter the frontier.
                fetchSettings.keepBodies = true
                fetchSettings.maxRedirects = 0
                var robots: RobotsGate?
                if crawl.options.robots {
                    robots = RobotsGate(agent: PageHarvester.productToken(settings.userAgent),
                                        firstRetrySeconds: Double(crawl.options.robotsRetryMs) / 1_000)
                    var robotsSettings = fetchSettings
                    robotsSettings.maxRedirects = 5
                    robotsSettings.bodyCap = RobotsReport.maxBody
                    robotsProfiles[job] = FetchProfile(settings: robotsSettings)
                }
                if crawl.options.sitemaps { readsSitemaps.insert(job) } else { readsSitemaps.remove(job) }
                queue.configure(job: job, politeness: JobPoliteness(
                    rules: PolitenessRules(options: crawl.options), robots: robots))
            } else {
                queue.configure(job: job, politeness: nil)
            }
            profiles[job] = FetchProfile(settings: fetchSettings)
            if settings.keepBodies { keepsBodies.insert(job) } else { keepsBodies.remove(job) }
        case .lease(let lease):
            let now = EventLoop.now()
            batchRemaining[lease.batch] = lease.items.count
            queue.push(lease.items.enumerated().map { position, item in
                WorkItem(job: lease.job, batch: lease.batch, key: item.key, url: item.url, enqueuedAt: now,
                         group: lease.groups?[position])
            })
        case .cancelJob(let job):
            // Queued requests of the job will never run: count them off their batches (and return their credit)
            // so the coordinator hears `batchDone` now rather than at the lease timeout.
            var dropped: [UInt64: Int] = [:]
            queue.remove { item in
                guard item.job == job else { return false }
                dropped[item.batch, default: 0] += 1
                return true
            }
            for (batch, count) in dropped {
                pendingCredits += count
                let remaining = (batchRemaining[batch] ?? count) - count
                if remaining <= 0 {
                    batchRemaining.removeValue(forKey: batch)
                    pendingBatchesDone.append(batch)
                } else {
                    batchRemaining[batch] = remaining
                }
            }
            scheduleFlush()
        case .robotsCached(let report):
            queue.robotsCached(job: report.job, origin: report.origin, outcome: report.outcome,
                               fetchedAt: report.fetchedAt)
        case .heartbeat:
            break
        case .shutdown(let reason):
            stop(.finished(reason))
        case .error(let message):
            log("coordinator reported an error: \(message)")
            if welcomed {
                // We were declared lost (we stalled, or the coordinator restarted): start a new session.
                rejoin()
            }
        }
    }

    // MARK: Results

    /// Completes a fetch once the loop has run what it is running now. Its politeness bookkeeping is done by then
    /// (before the lane took its next request); the page's heavy part — its links, its WARC members — waits for the
    /// lanes of every response of this loop turn to start their next requests, so servers work on those meanwhile
    /// instead of waiting for the parse. Past `maxDeferredBytes` of bodies waiting, a page is completed at once.
    private func completeSoon(_ item: WorkItem, _ outcome: FetchOutcome) {
        guard deferredBytes + outcome.body.count <= Self.maxDeferredBytes else { return complete(item, outcome) }
        if deferred.isEmpty { loop.runSoon { [weak self] in self?.completeDeferred() } }
        deferred.append((item, outcome))
        deferredBytes += outcome.body.count
    }

    /// Completes every deferred fetch, in order.
    private func completeDeferred() {
        let waiting = deferred
        deferred.removeAll(keepingCapacity: true)
        deferredBytes = 0
        for (item, outcome) in waiting { complete(item, outcome) }
    }

    private func complete(_ item: WorkItem, _ outcome: FetchOutcome) {
        // Leases of an abandoned session are the coordinator's to re-lease; their results and credit are void.
        guard !queue.closed, item.enqueuedAt >= abandonedBefore else { return }
        pendingCredits += 1
        // A cancelled job's requests in flight still finish, and their results are kept: the coordinator accepts them.
        let finishedAt = Date().timeIntervalSince1970
        var findings: CrawlFindings?
        if let harvester = harvesters[item.job], outcome.status > 0 {
            findings = harvester.harvest(
                url: item.url, status: outcome.status, rawHeader: outcome.rawHeader, body: outcome.body)
        }
        if keepsBodies.contains(item.job) && outcome.status > 0 {
            var result = archive(item, outcome, finishedAt: finishedAt)
            result.crawl = findings
            pendingResults.append(result)
        } else {
            var travelling = outcome
            // The request's own URL travels as "" (the coordinator has it): most results were not redirected.
            if travelling.finalURL == item.url { travelling.finalURL = "" }
            if findings != nil {
                // Kept only to be parsed: the job keeps no bodies.
                travelling.body = []
                travelling.rawHeader = []
            }
            pendingResults.append(FetchResult(
                job: item.job, batch: item.batch, key: item.key, outcome: travelling, finishedAt: finishedAt,
                crawl: findings))
        }
        if let last = pendingResults.last {
            pendingBytes += last.outcome.body.count + last.outcome.rawHeader.count
                + (last.archived?.members.count ?? 0)
        }
        if let remaining = batchRemaining[item.batch] {
            if remaining <= 1 {
                batchRemaining.removeValue(forKey: item.batch)
                pendingBatchesDone.append(item.batch)
            } else {
                batchRemaining[item.batch] = remaining - 1
            }
        }
        // A full batch goes at once; so do 16 MiB of bodies, well under a secured endpoint's message size limit; and
        // so does the last result of the work at hand: nothing else would travel with it, and a crawl's next pages
        // are among the links it brings.
        if pendingResults.count >= flushCount || pendingBytes >= Self.maxPendingBytes || batchRemaining.isEmpty {
            flush()
        } else {
            scheduleFlush()
        }
    }

    /// A response whose body is kept, archived here as its two WARC members (request, response) so that the
    /// coordinator only appends bytes: the compressed members travel instead of the body and its header block.
    private func archive(_ item: WorkItem, _ outcome: FetchOutcome, finishedAt: Double) -> FetchResult {
        var members: [UInt8] = []
        members.reserveCapacity(outcome.body.count / 2 + outcome.rawHeader.count + 1024)
        let built = archiver.appendMembers(
            url: outcome.finalURL.isEmpty ? item.url : outcome.finalURL, status: outcome.status,
            rawHeader: outcome.rawHeader, body: outcome.body, truncated: outcome.truncated,
            date: Date(timeIntervalSince1970: finishedAt),
            httpVersion: outcome.httpVersion.isEmpty ? "1.1" : outcome.httpVersion, to: &members)
        var travelling = outcome
        travelling.body = []
        travelling.rawHeader = []
        if travelling.finalURL == item.url { travelling.finalURL = "" }
        return FetchResult(
            job: item.job, batch: item.batch, key: item.key, outcome: travelling, finishedAt: finishedAt,
            archived: ArchivedBody(members: members, requestLength: built.requestLength, digest: built.digest))
    }

    /// Results wait up to `flushIntervalMs` to travel together: every ZeroMQ message costs a wake-up of ZeroMQ's
    /// I/O thread on both sides and of the coordinator's loop, and at tens of thousands of results a second one
    /// message per loop iteration was the cluster's largest overhead. `flushCount` results go at once. Measured
    /// (`arachne run --workers 2`, 50,000 requests, 10 rounds alternated, user+sys of all processes): 31.7 µs per
    /// request with 1 ms, 29.7 with 4 ms, 27.8 with 8 ms. A crawl's host window (`HostPartition.window`) covers the
    /// wait, so its pages/s do not depend on it.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.scheduleTimer(afterMilliseconds: Self.flushIntervalMs) { [unowned self] in
            self.flushScheduled = false
            self.flush()
        }
    }

    /// Sends what finished since the last flush: results, batches done, and the credits they free.
    private func flush() {
        guard welcomed else { return }
        // Politeness figures of the hosts that changed go first: the coordinator has them before the results.
        for (job, audits) in queue.takeChangedAudits() {
            send(WorkerMessage.hostAudits(job: job, audits).encode())
        }
        if !pendingResults.isEmpty {
            send(WorkerMessage.results(pendingResults).encode())
            pendingResults.removeAll(keepingCapacity: true)
            pendingBytes = 0
        }
        for batch in pendingBatchesDone { send(WorkerMessage.batchDone(batch: batch).encode()) }
        pendingBatchesDone.removeAll(keepingCapacity: true)
        if pendingCredits > 0 {
            send(WorkerMessage.credit(pendingCredits).encode())
            pendingCredits = 0
        }
    }

    private func send(_ frames: [[UInt8]]) {
        do {
            try channel?.send(frames)
            lastSent = EventLoop.now()
        } catch {
            log("send failed: \(error)")
        }
    }

    // MARK: Liveness

    private func scheduleTick() {
        timer = loop.scheduleTimer(afterMilliseconds: min(heartbeatMs, 250)) { [unowned self] in
            self.tick()
        }
    }

    private func tick() {
        timer = nil
        if let parent = configuration.parentPID, getppid() != parent {
            log("lost the coordinator at \(configuration.endpoint): its process \(parent) is gone")
            stop(.finished("parent process \(parent) is gone"))
            return
        }
        let now = EventLoop.now()
        if let problem = watch.report(now: now) { log(problem) }
        let silentMs = Int((now &- lastHeard) / 1_000_000)
        if silentMs > coordinatorTimeoutMs {
            coordinatorLost(silentMs: silentMs)
        } else if welcomed && Int((now &- lastSent) / 1_000_000) >= heartbeatMs {
            send(WorkerMessage.heartbeat.encode())
        }
        if onExit != nil { scheduleTick() }
    }

    /// Drops every lease and says hello again on the same socket.
    private func rejoin() {
        abandonSession()
        sayHello()
    }

    /// The coordinator went silent: stop fetching its work. A child exits; a remote worker reconnects and says
    /// hello again (the coordinator re-leased our work when it declared us lost).
    private func coordinatorLost(silentMs: Int) {
        if configuration.parentPID != nil {
            log("lost the coordinator at \(configuration.endpoint): silent for \(silentMs) ms")
            stop(.finished("coordinator silent for \(silentMs) ms"))
            return
        }
        log("lost the coordinator at \(configuration.endpoint): silent for \(silentMs) ms; dropping \(queue.count) "
            + "queued requests and reconnecting")
        abandonSession()
        closeConnection()
        do {
            try connect()
        } catch {
            stop(.failed("cannot reconnect to \(configuration.endpoint): \(error)"))
        }
    }

    /// Forgets the session's leases: queued requests are dropped, requests in flight are cancelled, and results,
    /// batches and credit not yet sent are void — the coordinator re-leases that work to whoever has the session.
    private func abandonSession() {
        abandonedBefore = EventLoop.now()
        queue.remove { _ in true }
        batchRemaining.removeAll()
        pendingResults.removeAll()
        pendingBytes = 0
        pendingBatchesDone.removeAll()
        pendingCredits = 0
        fetcher.assumeIsolated { $0.cancelAll() }
    }

    /// A signal asked the worker to stop.
    func stopAsked() {
        stop(.finished("asked to stop by a signal"))
    }

    private func stop(_ exit: WorkerExit) {
        guard let onExit else { return }
        self.onExit = nil
        switch exit {
        case .finished(let reason): if configuration.logsLifecycle { log("stopping: \(reason)") }
        case .refused(let reason): log("stopping: refused by the coordinator: \(reason)")
        case .failed(let reason): log("stopping: \(reason)")
        }
        if case .finished = exit, welcomed {
            // Results that finished and wait for their batch go first (those waiting to be completed too): a
            // coordinator still running takes them instead of leasing those keys again.
            completeDeferred()
            flush()
            send(WorkerMessage.goodbye(reason: "\(exit)").encode())
        }
        if let timer { loop.cancelTimer(timer) }
        queue.close()
        // Lanes in the middle of a fetch return at once with a cancelled outcome (discarded: the queue is closed).
        fetcher.assumeIsolated { $0.cancelAll() }
        closeConnection()
        onExit(exit)
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("arachne worker \(configuration.workerID): \(message)\n".utf8))
    }
}

/// Runs a worker process until the coordinator shuts it down, refuses it, or it is orphaned.
public enum Worker {
    /// Setting `stop` (SIGTERM, SIGINT) ends it gracefully: in-flight requests are dropped (the coordinator
    /// re-leases them) and it says goodbye.
    public static func run(_ configuration: WorkerConfiguration, stop: StopSignal = StopSignal()) async throws
        -> WorkerExit
    {
        let loop = try EventLoop(name: "arachne-worker")
        defer { loop.shutdown() }
        let context = ZMQContext()
        let fetcher = Fetcher(loop: loop, maxConnections: configuration.capacity)
        let exit: WorkerExit = await withTaskExecutorPreference(loop) {
            // The runtime and its lanes live on the loop, so the whole worker runs on one thread. When the runtime
            // stops, its queue closes, the lanes' last requests complete, and the pump returns.
            let exitBox = LoopBox<WorkerExit?>(nil)
            let runtime: LoopBox<WorkerRuntime>
            do {
                runtime = try await loop.submit {
                    let runtime = WorkerRuntime(configuration: configuration, loop: loop, context: context,
                                                fetcher: fetcher) { exitBox.value = $0 }
                    try runtime.start()
                    return LoopBox(runtime)
                }
            } catch {
                return .failed("cannot connect to \(configuration.endpoint): \(error)")
            }
            stop.onSet { _ = loop.executeIfRunning { runtime.value.stopAsked() } }
            // `capacity` requests in flight, each next one started from the last one's completion callback.
            let lanes = LanePump(fetcher: fetcher, lanes: configuration.capacity) { runtime.value.nextLaneWork() }
            runtime.value.attachLanes(lanes)
            await lanes.run()
            return exitBox.value ?? .failed("the worker's lanes ended without a reason")
        }
        await fetcher.close()
        return exit
    }
}

/// A mutable box confined to one event loop, passed through `@Sendable` closures that the loop runs.
final class LoopBox<Value>: @unchecked Sendable {
    // Safety: read and written only on the owning loop's thread.
    var value: Value
    init(_ value: Value) { self.value = value }
}
