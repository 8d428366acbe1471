import ArachneCore

/// A worker's introduction, its first message on a new connection. The protocol version travels in the header.
public struct WorkerHello: Hashable, Sendable {
    /// The worker's name, stable across its restarts ("local-1", or a host-derived name for remote workers).
    public var workerID: String
    /// The host the worker runs on, for the report.
    public var host: String
    /// The worker's process id, for the report and for the coordinator to match its children.
    public var pid: Int
    /// Requests the worker runs at once; the coordinator sizes batches from it.
    public var capacity: Int

    public init(workerID: String, host: String, pid: Int, capacity: Int) {
        self.workerID = workerID
        self.host = host
        self.pid = pid
        self.capacity = capacity
    }
}

/// A kept body as the worker that fetched it archived it: the WARC `request` and `response` gzip members, one after
/// the other, ready for the coordinator to append to its WARC file (`WARCRecordBuilder` in ArachneArchive).
public struct ArchivedBody: Sendable, Hashable {
    /// The request member, then the response member. A slice: a decoded `results` message's members are views of
    /// its frame 1, which they share instead of each being copied out of it (the coordinator copies each member
    /// once, into its WARC file's buffer). A slice keeps the whole frame alive until the last of them is written.
    public var members: ArraySlice<UInt8>
    /// Length of the request member; the response member is the rest.
    public var requestLength: Int
    /// The payload digest written in the response record (`sha1:BASE32`), for the terminal record.
    public var digest: String

    public init(members: ArraySlice<UInt8>, requestLength: Int, digest: String) {
        self.members = members
        self.requestLength = requestLength
        self.digest = digest
    }

    public init(members: [UInt8], requestLength: Int, digest: String) {
        self.init(members: members[...], requestLength: requestLength, digest: digest)
    }
}

/// One completed request as a worker reports it: which key of which lease, and what the fetch produced. In a
/// `results` message the metadata goes in frame 0; the body and the archived members travel raw in frame 1.
public struct FetchResult: Sendable {
    /// The job the request belongs to.
    public var job: String
    /// The lease (batch) the request came in.
    public var batch: UInt64
    public var key: RequestKey
    /// Status, headers, body, timings, failure: everything the fetch produced.
    public var outcome: FetchOutcome
    /// When the request finished, in seconds since the Unix epoch (the worker's clock).
    public var finishedAt: Double
    /// The body archived as WARC members by the worker (bodies kept); `outcome.body` and `outcome.rawHeader` are
    /// then empty, since the members hold them.
    public var archived: ArchivedBody?
    /// For a crawl job: the page's media type, redirect target and links (nil for list jobs).
    public var crawl: CrawlFindings?

    public init(job: String, batch: UInt64, key: RequestKey, outcome: FetchOutcome, finishedAt: Double,
                archived: ArchivedBody? = nil, crawl: CrawlFindings? = nil)
    {
        self.crawl = crawl
        self.job = job
        self.batch = batch
        self.key = key
        self.outcome = outcome
        self.finishedAt = finishedAt
        self.archived = archived
    }
}

/// Messages a worker (ZeroMQ DEALER) sends to the coordinator (ROUTER).
public enum WorkerMessage: Sendable {
    /// First message on a connection: who the worker is and how much it can run at once.
    case hello(WorkerHello)
    /// The worker can take `n` more requests, in addition to any credit it granted before.
    case credit(Int)
    /// Completed requests, one or more. Frame 0 holds the N metadata entries; frame 1 the bodies and archived
    /// members of all N, one after the other in entry order (each entry gives its lengths).
    case results([FetchResult])
    /// The worker has sent a result for every key of the lease it still meant to run, and holds it no longer.
    case batchDone(batch: UInt64)
    /// The worker is alive (sent when it has sent nothing else for a heartbeat interval).
    case heartbeat
    /// The worker is leaving on purpose; whatever it still holds goes back to the queue.
    case goodbye(reason: String)
    /// A crawl fetched an origin's robots.txt: the coordinator caches it and admits the sitemaps it lists.
    case robots(RobotsReport)
    /// A crawl job's politeness figures for the hosts this worker held, cumulative for this worker session.
    case hostAudits(job: String, [HostAudit])

    /// The message's ZeroMQ frames.
    public func encode() -> [[UInt8]] {
        switch self {
        case .hello(let hello):
            var writer = WireWriter(.hello)
            writer.string(hello.workerID)
            writer.string(hello.host)
            writer.int(hello.pid)
            writer.int(hello.capacity)
            return [writer.bytes]
        case .credit(let n):
            var writer = WireWriter(.credit)
            writer.int(n)
            return [writer.bytes]
        case .results(let results):
            var writer = WireWriter(.results, reserving: 16 + results.count * 200)
            writer.uvarint(UInt64(results.count))
            var raw: [UInt8] = []
            raw.reserveCapacity(results.reduce(0) { $0 + $1.outcome.body.count + ($1.archived?.members.count ?? 0) })
            for result in results {
                writer.encode(result)
                raw.append(contentsOf: result.outcome.body)
                if let archived = result.archived { raw.append(contentsOf: archived.members) }
            }
            return [writer.bytes, raw]
        case .batchDone(let batch):
            var writer = WireWriter(.batchDone)
            writer.uvarint(batch)
            return [writer.bytes]
        case .heartbeat:
            return [WireWriter(.workerHeartbeat).bytes]
        case .goodbye(let reason):
            var writer = WireWriter(.goodbye)
            writer.string(reason)
            return [writer.bytes]
        case .robots(let report):
            var writer = WireWriter(.robots, reserving: 64 + report.body.count)
            writer.encode(report)
            return [writer.bytes]
        case .hostAudits(let job, let audits):
            var writer = WireWriter(.hostAudits)
            writer.string(job)
            writer.blob(JSONPayload.encode(audits))
            return [writer.bytes]
        }
    }

    /// Decodes a worker's message. Throws `ProtocolError` for anything malformed, of another direction, or of another
    /// protocol version (`.versionMismatch`, with `peerVersion` set: answer with `CoordinatorMessage.refusal`).
    public static func decode(_ frames: [[UInt8]]) throws(ProtocolError) -> WorkerMessage {
        let type = try readHeader(frames, .fromWorker)
        var reader = WireReader(frames[0], message: type.name)
        let message: WorkerMessage
        switch type {
        case .hello:
            let hello = WorkerHello(
                workerID: try reader.string("worker id"),
                host: try reader.string("host"),
                pid: try reader.nonNegative("pid"),
                capacity: try reader.nonNegative("capacity")
            )
            guard !hello.workerID.isEmpty else { throw reader.invalid("worker id", "empty") }
            guard hello.capacity > 0 else { throw reader.invalid("capacity", "must be at least 1") }
            message = .hello(hello)
        case .credit:
            message = .credit(try reader.nonNegative("n"))
        case .results:
            let count = try reader.count("count", minElementSize: FetchResult.minimumEncodedSize)
            guard frames.count == 2 else {
                throw ProtocolError(
                    .frameCount,
                    "'results' message needs 2 frames (metadata, then the bodies and archived members), but has "
                        + "\(frames.count)"
                )
            }
            var results: [FetchResult] = []
            results.reserveCapacity(count)
            var rawOffset = 0
            var job: String?
            for index in 0..<count {
                do throws(ProtocolError) {
                    let result = try reader.decodeResult(raw: frames[1], offset: &rawOffset, previousJob: job)
                    job = result.job
                    results.append(result)
                } catch {
                    throw ProtocolError(error.code, "result \(index + 1) of \(count): \(error.message)")
                }
            }
            guard rawOffset == frames[1].count else {
                throw ProtocolError(
                    .trailingBytes,
                    "'results' message: frame 1 has \(frames[1].count) bytes but its entries account for \(rawOffset)")
            }
            message = .results(results)
        case .batchDone:
            message = .batchDone(batch: try reader.uvarint("batch id"))
        case .workerHeartbeat:
            message = .heartbeat
        case .goodbye:
            message = .goodbye(reason: try reader.string("reason"))
        case .robots:
            message = .robots(try reader.decodeRobotsReport())
        case .hostAudits:
            let job = try reader.string("job id")
            let json = try reader.blob("audits")
            message = .hostAudits(job: job, try JSONPayload.decode([HostAudit].self, from: json[...], message: type.name))
        default:
            preconditionFailure("readHeader let a non-worker type through: \(type)")
        }
        try reader.finish()
        if case .results = message {} else if frames.count != 1 {
            throw ProtocolError(
                .frameCount, "'\(type.name)' message has \(frames.count) frames; it must have exactly 1"
            )
        }
        return message
    }
}

extension FetchResult {
    /// The fewest bytes one result's metadata takes in frame 0.
    static let minimumEncodedSize = 30
}

extension WireWriter {
    mutating func encode(_ result: FetchResult) {
        let outcome = result.outcome
        string(result.job)
        uvarint(result.batch)
        int(result.key.urlIndex)
        int(result.key.repetition)
        int(outcome.status)
        int64(outcome.bytesReceived)
        bool(outcome.truncated)
        string(outcome.finalURL)
        int(outcome.redirects)
        let timings = outcome.timings
        int64(timings.queue)
        int64(timings.namelookup)
        int64(timings.connect)
        int64(timings.appconnect)
        int64(timings.pretransfer)
        int64(timings.starttransfer)
        int64(timings.total)
        string(outcome.httpVersion)
        blob(outcome.rawHeader)
        uvarint(UInt64(outcome.body.count))
        if let archived = result.archived {
            bool(true)
            uvarint(UInt64(archived.requestLength))
            uvarint(UInt64(archived.members.count))
            string(archived.digest)
        } else {
            bool(false)
        }
        if let failure = outcome.failure {
            bool(true)
            string(failure.kind.rawValue)
            string(failure.message)
        } else {
            bool(false)
        }
        double(result.finishedAt)
        if let crawl = result.crawl {
            bool(true)
            encode(crawl)
        } else {
            bool(false)
        }
    }

    /// A crawl result's findings: media type, Location, counts, then the links.
    mutating func encode(_ crawl: CrawlFindings) {
        string(crawl.contentType)
        if let location = crawl.location {
            bool(true)
            string(location)
        } else {
            bool(false)
        }
        let counts = crawl.counts
        int(counts.found)
        int(counts.duplicate)
        int(counts.outOfScope)
        int(counts.nofollow)
        uvarint(UInt64(counts.filtered.count))
        for (rule, count) in counts.filtered.sorted(by: { $0.key < $1.key }) {
            string(rule)
            int(count)
        }
        uvarint(UInt64(crawl.links.count))
        for link in crawl.links {
            string(link.url)
            string(link.identity)
            string(link.via.rawValue)
            string(link.trap?.rawValue ?? "")
        }
    }
}

extension WireReader {
    /// One entry of frame 0; its body and archived members are cut from `raw` (frame 1) at `offset`, which moves
    /// past them (the members as a slice of `raw`, not copied). `previousJob`, the job id of the entry before:
    /// when this entry names the same job (nearly always), that String is reused instead of a new one allocated,
    /// and the coordinator's comparisons of the two find the same storage.
    mutating func decodeResult(raw: [UInt8], offset: inout Int, previousJob: String? = nil) throws(ProtocolError)
        -> FetchResult
    {
        let job = try string("job id", reusing: previousJob)
        let batch = try uvarint("batch id")
        let key = RequestKey(urlIndex: try nonNegative("url index"), repetition: try nonNegative("repetition"))
        var outcome = FetchOutcome()
        outcome.status = try nonNegative("status")
        outcome.bytesReceived = try int64("bytes")
        outcome.truncated = try bool("truncated")
        outcome.finalURL = try string("final url")
        outcome.redirects = try nonNegative("redirects")
        outcome.timings = PhaseTimings(
            queue: try int64("timings.queue"), namelookup: try int64("timings.namelookup"),
            connect: try int64("timings.connect"), appconnect: try int64("timings.appconnect"),
            pretransfer: try int64("timings.pretransfer"), starttransfer: try int64("timings.starttransfer"),
            total: try int64("timings.total")
        )
        outcome.httpVersion = try string("http version")
        outcome.rawHeader = try blob("raw header")
        let bodyLength = try count("body length", in: raw.count - offset)
        var archived: (requestLength: Int, length: Int, digest: String)?
        if try bool("archived") {
            let requestLength = try uvarint("request member length")
            let length = try count("members length", in: raw.count - offset - bodyLength)
            guard requestLength > 0 && requestLength < UInt64(length) else {
                throw invalid("request member length", "\(requestLength) is not inside the \(length) bytes of members")
            }
            archived = (Int(requestLength), length, try string("digest"))
        }
        if try bool("has error") {
            let kindName = try string("error kind")
            guard let kind = FetchErrorKind(rawValue: kindName) else {
                throw invalid("error kind", "unknown kind '\(kindName)'")
            }
            // Skip kinds are the coordinator's decisions about URLs it never leased, but for the two a worker takes
            // about a leased page before any request: robots.txt disallows it, or the address guard refuses it.
            guard !kind.isSkip || kind == .robots || kind == .blockedAddress else {
                throw invalid("error kind", "'\(kindName)' is a skip kind the coordinator decides, not a fetch failure")
            }
            outcome.failure = FetchFailure(kind: kind, message: try string("error message"))
        }
        let finishedAt = try double("finished at")
        outcome.body = Array(raw[offset..<(offset + bodyLength)])
        offset += bodyLength
        var body: ArchivedBody?
        if let archived {
            body = ArchivedBody(members: raw[offset..<(offset + archived.length)],
                                requestLength: archived.requestLength, digest: archived.digest)
            offset += archived.length
        }
        var crawl: CrawlFindings?
        if try bool("crawl") { crawl = try decodeFindings() }
        return FetchResult(job: job, batch: batch, key: key, outcome: outcome, finishedAt: finishedAt,
                           archived: body, crawl: crawl)
    }

    mutating func decodeFindings() throws(ProtocolError) -> CrawlFindings {
        var crawl = CrawlFindings(contentType: try string("content type"))
        if try bool("has location") { crawl.location = try string("location") }
        crawl.counts.found = try nonNegative("links.found")
        crawl.counts.duplicate = try nonNegative("links.duplicate")
        crawl.counts.outOfScope = try nonNegative("links.out_of_scope")
        crawl.counts.nofollow = try nonNegative("links.nofollow")
        let rules = try count("filter rule count", minElementSize: 2)
        for _ in 0..<rules {
            let rule = try string("filter rule")
            crawl.counts.filtered[rule] = try nonNegative("filtered count")
        }
        let links = try count("link count", minElementSize: 4)
        crawl.links.reserveCapacity(links)
        for _ in 0..<links {
            let url = try string("link url")
            let identity = try string("link identity")
            let viaName = try string("link via")
            guard let via = CrawlVia(rawValue: viaName) else { throw invalid("link via", "unknown '\(viaName)'") }
            let trapName = try string("link trap")
            var trap: FetchErrorKind?
            if !trapName.isEmpty {
                guard let kind = FetchErrorKind(rawValue: trapName), kind.isSkip else {
                    throw invalid("link trap", "'\(trapName)' is not a skip kind")
                }
                trap = kind
            }
            crawl.links.append(DiscoveredLink(url: url, identity: identity, via: via, trap: trap))
        }
        return crawl
    }
}
