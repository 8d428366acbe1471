import ArachneCore

/// The coordinator's answer to a `hello`: the worker is registered, and these are the liveness rules.
public struct Welcome: Hashable, Sendable {
    /// The worker id the coordinator registered (the one from `hello`).
    public var workerID: String
    /// Each side sends something (a heartbeat if nothing else) at least this often.
    public var heartbeatIntervalMs: Int
    /// A side silent for this long is considered gone: the coordinator re-queues the worker's leases, the worker drops
    /// its leases and reconnects.
    public var leaseTimeoutMs: Int

    public init(workerID: String, heartbeatIntervalMs: Int, leaseTimeoutMs: Int) {
        self.workerID = workerID
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.leaseTimeoutMs = leaseTimeoutMs
    }
}

/// One request of a lease: the key to report the result under and the URL to fetch.
public struct LeaseItem: Hashable, Sendable {
    public var key: RequestKey
    public var url: String

    public init(key: RequestKey, url: String) {
        self.key = key
        self.url = url
    }
}

/// What a worker needs to judge a crawl job's links: the options and the seeds that define its scope.
public struct CrawlJobSettings: Codable, Sendable, Hashable {
    public var options: CrawlOptionsSpec
    public var seeds: [String]

    public init(options: CrawlOptionsSpec, seeds: [String]) {
        self.options = options
        self.seeds = seeds
    }
}

/// A batch of requests leased to one worker.
public struct BatchLease: Hashable, Sendable {
    /// Unique per coordinator run; results and `batchDone` name it.
    public var batch: UInt64
    public var job: String
    /// Milliseconds, counted from when the worker receives the lease, that it stays valid without word from the
    /// coordinator; every coordinator message renews it.
    public var deadlineMs: Int
    public var items: [LeaseItem]
    /// A `--per-ip` crawl: each item's politeness group (its host's address), the unit the worker paces by; nil
    /// otherwise.
    public var groups: [String]?

    public init(batch: UInt64, job: String, deadlineMs: Int, items: [LeaseItem], groups: [String]? = nil) {
        precondition(groups == nil || groups!.count == items.count, "one politeness group per lease item")
        self.batch = batch
        self.job = job
        self.deadlineMs = deadlineMs
        self.items = items
        self.groups = groups
    }
}

/// Messages the coordinator (ZeroMQ ROUTER) sends to a worker (DEALER).
public enum CoordinatorMessage: Sendable, Hashable {
    /// The worker is registered.
    case welcome(Welcome)
    /// The worker is not accepted (another protocol version, a duplicate id, ...). Its layout is the same in every
    /// protocol version, so a worker of any version can read the reason.
    case refuse(reason: String)
    /// How to fetch a job's URLs; sent to a worker before its first lease of that job. A crawl job's settings carry
    /// its crawl options and seeds, so the worker can extract and judge links.
    case jobSettings(job: String, settings: FetchSettings, crawl: CrawlJobSettings? = nil)
    /// Work to do.
    case lease(BatchLease)
    /// Stop the job's requests; report what completed, then `batchDone` for each of its leases.
    case cancelJob(job: String)
    /// The coordinator is alive.
    case heartbeat
    /// Finish or abandon what you hold, say `goodbye`, and exit (or reconnect later, for a remote worker).
    case shutdown(reason: String)
    /// Something the worker sent was wrong or unexpected (a message before `hello`, after being declared lost...).
    /// A worker that gets it drops its leases and says `hello` again.
    case error(message: String)
    /// A robots.txt the coordinator has cached for a crawl job's origin; sent before a lease of that origin's pages
    /// to a worker that has not had it, so no worker fetches it again within its 24 hours.
    case robotsCached(RobotsReport)

    /// The refusal for a peer speaking another protocol version, naming both versions.
    public static func refusal(peerVersion: ProtocolVersion) -> CoordinatorMessage {
        .refuse(
            reason: "protocol version \(peerVersion) not supported; this coordinator speaks \(ProtocolVersion.current)"
        )
    }

    /// The message's ZeroMQ frames (always one).
    public func encode() -> [[UInt8]] {
        switch self {
        case .welcome(let welcome):
            var writer = WireWriter(.welcome)
            writer.string(welcome.workerID)
            writer.int(welcome.heartbeatIntervalMs)
            writer.int(welcome.leaseTimeoutMs)
            return [writer.bytes]
        case .refuse(let reason):
            var writer = WireWriter(.refuse)
            writer.string(reason)
            return [writer.bytes]
        case .jobSettings(let job, let settings, let crawl):
            var writer = WireWriter(.jobSettings, reserving: 512)
            writer.string(job)
            writer.blob(JSONPayload.encode(settings))
            if let crawl {
                writer.bool(true)
                writer.blob(JSONPayload.encode(crawl))
            } else {
                writer.bool(false)
            }
            return [writer.bytes]
        case .lease(let lease):
            var writer = WireWriter(.lease, reserving: 24 + lease.job.utf8.count + lease.items.count * 48)
            writer.uvarint(lease.batch)
            writer.string(lease.job)
            writer.int(lease.deadlineMs)
            writer.uvarint(UInt64(lease.items.count))
            for item in lease.items {
                writer.int(item.key.urlIndex)
                writer.int(item.key.repetition)
                writer.string(item.url)
            }
            writer.bool(lease.groups != nil)
            for group in lease.groups ?? [] { writer.string(group) }
            return [writer.bytes]
        case .cancelJob(let job):
            var writer = WireWriter(.cancelJob)
            writer.string(job)
            return [writer.bytes]
        case .heartbeat:
            return [WireWriter(.coordinatorHeartbeat).bytes]
        case .shutdown(let reason):
            var writer = WireWriter(.shutdown)
            writer.string(reason)
            return [writer.bytes]
        case .error(let message):
            var writer = WireWriter(.error)
            writer.string(message)
            return [writer.bytes]
        case .robotsCached(let report):
            var writer = WireWriter(.robotsCached, reserving: 64 + report.body.count)
            writer.encode(report)
            return [writer.bytes]
        }
    }

    /// Decodes a coordinator's message. A `refuse` is read whatever version it comes in; any other message of another
    /// version throws `.versionMismatch`.
    public static func decode(_ frames: [[UInt8]]) throws(ProtocolError) -> CoordinatorMessage {
        let type = try readHeader(frames, .fromCoordinator, versionFree: [.refuse])
        var reader = WireReader(frames[0], message: type.name)
        let message: CoordinatorMessage
        switch type {
        case .welcome:
            message = .welcome(
                Welcome(
                    workerID: try reader.string("worker id"),
                    heartbeatIntervalMs: try reader.nonNegative("heartbeat interval"),
                    leaseTimeoutMs: try reader.nonNegative("lease timeout")
                )
            )
        case .refuse:
            message = .refuse(reason: try reader.string("reason"))
            // A refusal from another version may carry fields this version does not know; the reason is what counts.
            if MessageHeader.version(of: frames[0]) != .current { return message }
        case .jobSettings:
            let job = try reader.string("job id")
            let json = try reader.blob("settings")
            let settings = try JSONPayload.decode(FetchSettings.self, from: json[...], message: type.name)
            var crawl: CrawlJobSettings?
            if try reader.bool("crawl") {
                let crawlJSON = try reader.blob("crawl settings")
                crawl = try JSONPayload.decode(CrawlJobSettings.self, from: crawlJSON[...], message: type.name)
            }
            message = .jobSettings(job: job, settings: settings, crawl: crawl)
        case .lease:
            let batch = try reader.uvarint("batch id")
            let job = try reader.string("job id")
            let deadline = try reader.nonNegative("deadline")
            let count = try reader.count("item count", minElementSize: 3)
            var items: [LeaseItem] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                let key = RequestKey(urlIndex: try reader.nonNegative("url index"),
                                     repetition: try reader.nonNegative("repetition"))
                items.append(LeaseItem(key: key, url: try reader.string("url")))
            }
            var groups: [String]?
            if try reader.bool("has groups") {
                var read: [String] = []
                read.reserveCapacity(items.count)
                for _ in 0..<items.count { read.append(try reader.string("politeness group")) }
                groups = read
            }
            message = .lease(BatchLease(batch: batch, job: job, deadlineMs: deadline, items: items, groups: groups))
        case .cancelJob:
            message = .cancelJob(job: try reader.string("job id"))
        case .coordinatorHeartbeat:
            message = .heartbeat
        case .shutdown:
            message = .shutdown(reason: try reader.string("reason"))
        case .error:
            message = .error(message: try reader.string("message"))
        case .robotsCached:
            message = .robotsCached(try reader.decodeRobotsReport())
        default:
            preconditionFailure("readHeader let a non-coordinator type through: \(type)")
        }
        try reader.finish()
        guard frames.count == 1 else {
            throw ProtocolError(
                .frameCount, "'\(type.name)' message has \(frames.count) frames; it must have exactly 1"
            )
        }
        return message
    }
}

extension MessageHeader {
    static func version(of frame: [UInt8]) -> ProtocolVersion? {
        (try? MessageHeader(frame: frame))?.version
    }
}
