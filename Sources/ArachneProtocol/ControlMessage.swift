import ArachneCore

/// One job's progress, as `arachne status` and `arachne jobs` show it.
public struct JobStatus: Codable, Sendable, Hashable {
    /// Where a job stands, as the coordinator reports it to the CLI.
    public enum State: String, Codable, Sendable, Hashable, CaseIterable {
        /// Accepted, no request leased yet.
        case queued
        /// Requests are being fetched.
        case running
        /// Every (URL, repetition) has its terminal record (some may be failures).
        case completed
        /// Cancel was asked; in-flight requests are finishing.
        case cancelling
        /// Cancelled: never-fetched requests ended as `cancelled` records.
        case cancelled
        /// The job could not run (its output directory could not be written, say); `error` in the status says why.
        case failed
    }

    public var id: String
    public var name: String?
    public var state: State
    /// Terminal records the job will have: URLs × repetitions.
    public var total: Int
    /// Terminal records so far, whatever their kind (fetched, failed, cancelled).
    public var done: Int
    /// Of `done`, the failures (including `worker-lost`).
    public var failed: Int
    /// Of `done`, the `cancelled` records.
    public var cancelled: Int
    /// Fetched requests (terminal records other than `cancelled`) per second, recently; over the whole run once ended.
    public var rate: Double
    /// Leases whose worker was lost or gave them back, so their keys were leased again.
    public var reassignedBatches: Int
    /// Keys leased more than once, counted once per extra lease.
    public var retries: Int
    /// Seconds since the Unix epoch.
    public var submittedAt: Double?
    public var startedAt: Double?
    public var finishedAt: Double?
    /// The directory holding report.json, records.ndjson and the WARC files.
    public var outputDir: String
    /// Why the job failed, when `state` is `failed`.
    public var error: String?
    /// True for a crawl: `total` is the URLs discovered so far and grows; `total - done` is the frontier.
    public var crawl: Bool?
    /// Workers connected to the coordinator when the status was taken; set for jobs not yet ended (absent from
    /// coordinators that predate it), so a waiting client can say nothing can run.
    public var workers: Int?

    public init(
        id: String, name: String? = nil, state: State, total: Int, done: Int = 0, failed: Int = 0,
        cancelled: Int = 0, rate: Double = 0, reassignedBatches: Int = 0, retries: Int = 0, submittedAt: Double? = nil,
        startedAt: Double? = nil, finishedAt: Double? = nil, outputDir: String, error: String? = nil
    ) {
        self.id = id
        self.name = name
        self.state = state
        self.total = total
        self.done = done
        self.failed = failed
        self.cancelled = cancelled
        self.rate = rate
        self.reassignedBatches = reassignedBatches
        self.retries = retries
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outputDir = outputDir
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case id, name, state, total, done, failed, cancelled, rate
        case reassignedBatches = "reassigned_batches"
        case retries
        case submittedAt = "submitted_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case outputDir = "output_dir"
        case error, crawl, workers
    }
}

/// Requests the CLI sends to the coordinator's control socket. One frame: the message header, then a JSON payload.
public enum ControlRequest: Sendable, Hashable {
    /// Start a job. Reply: `submitted`.
    case submit(JobSpec)
    /// One job's status, or every job's when `job` is nil. Reply: `status`.
    case status(job: String?)
    /// Cancel a job. Reply: `cancelled`.
    case cancel(job: String)
    /// Where a job's report is. Reply: `report`.
    case report(job: String)
    /// Opens (or, retried, finds again) a chunked submission: the spec carries no URLs. Reply: `submission`, saying
    /// how many chunks the store already holds (0 for a new one) and the job if it was already ended.
    case submitBegin(submission: String, spec: JobSpec)
    /// Appends chunk `seq` (0, 1, …) of a submission's URLs. Reply: `submission` once the chunk is committed. A chunk
    /// already committed is acknowledged again and not stored twice.
    case submitChunk(submission: String, seq: Int, urls: [String])
    /// Ends a submission of `count` URLs in `chunks` chunks: the job becomes runnable. Reply: `submitted`; retried,
    /// the same job.
    case submitEnd(submission: String, chunks: Int, count: Int)
    /// The workers with a session now. Reply: `workers`.
    case workers
    /// Removes finished jobs from the store and their directories. Reply: `removed`.
    case removeJobs([String])
    /// Removes finished jobs that finished more than `olderThan` seconds ago. Reply: `removed`.
    case pruneJobs(olderThan: Double)

    /// The request's ZeroMQ frames (always one).
    public func encode() -> [[UInt8]] {
        switch self {
        case .submit(let spec): controlFrames(.submit, spec)
        case .status(let job): controlFrames(.status, JobReference(job: job))
        case .cancel(let job): controlFrames(.cancel, JobReference(job: job))
        case .report(let job): controlFrames(.report, JobReference(job: job))
        case .submitBegin(let submission, let spec):
            controlFrames(.submitBegin, SubmitBeginPayload(submission: submission, spec: spec))
        case .submitChunk(let submission, let seq, let urls):
            controlFrames(.submitChunk, SubmitChunkPayload(submission: submission, seq: seq, count: urls.count))
                + [Self.joinedLines(urls)]
        case .submitEnd(let submission, let chunks, let count):
            controlFrames(.submitEnd, SubmitEndPayload(submission: submission, chunks: chunks, count: count))
        case .workers: controlFrames(.workers, EmptyPayload())
        case .removeJobs(let jobs): controlFrames(.removeJobs, RemoveJobsPayload(jobs: jobs))
        case .pruneJobs(let olderThan): controlFrames(.pruneJobs, PruneJobsPayload(olderThan: olderThan))
        }
    }

    /// The URLs of a chunk as one raw frame: each URL followed by a newline.
    static func joinedLines(_ urls: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(urls.reduce(0) { $0 + $1.utf8.count + 1 })
        for url in urls {
            bytes.append(contentsOf: url.utf8)
            bytes.append(0x0A)
        }
        return bytes
    }

    /// Decodes a control request. Anything malformed throws a `ProtocolError` whose message is fit to send back in an
    /// `error` reply.
    public static func decode(_ frames: [[UInt8]]) throws(ProtocolError) -> ControlRequest {
        if try readHeader(frames, .controlRequest) == .submitChunk { return try decodeChunk(frames) }
        let (type, payload) = try controlPayload(frames, .controlRequest)
        switch type {
        case .submit:
            return .submit(try JSONPayload.decode(JobSpec.self, from: payload, message: type.name))
        case .status:
            return .status(job: try JSONPayload.decode(JobReference.self, from: payload, message: type.name).job)
        case .cancel:
            return .cancel(job: try requiredJob(payload, type))
        case .report:
            return .report(job: try requiredJob(payload, type))
        case .submitBegin:
            let begin = try JSONPayload.decode(SubmitBeginPayload.self, from: payload, message: type.name)
            try checkSubmissionID(begin.submission)
            return .submitBegin(submission: begin.submission, spec: begin.spec)
        case .submitEnd:
            let end = try JSONPayload.decode(SubmitEndPayload.self, from: payload, message: type.name)
            try checkSubmissionID(end.submission)
            return .submitEnd(submission: end.submission, chunks: end.chunks, count: end.count)
        case .workers:
            _ = try JSONPayload.decode(EmptyPayload.self, from: payload, message: type.name)
            return .workers
        case .removeJobs:
            return .removeJobs(try JSONPayload.decode(RemoveJobsPayload.self, from: payload, message: type.name).jobs)
        case .pruneJobs:
            let prune = try JSONPayload.decode(PruneJobsPayload.self, from: payload, message: type.name)
            guard prune.olderThan.isFinite, prune.olderThan >= 0 else {
                throw ProtocolError(.invalidJSON, "'pruneJobs' message has a negative or infinite older_than")
            }
            return .pruneJobs(olderThan: prune.olderThan)
        case .submitChunk:
            preconditionFailure("controlPayload decodes submitChunk")
        default:
            preconditionFailure("readHeader let a non-request type through: \(type)")
        }
    }

    /// The longest submission id accepted.
    public static let maxSubmissionIDLength = 128

    private static func checkSubmissionID(_ id: String) throws(ProtocolError) {
        guard !id.isEmpty, id.utf8.count <= maxSubmissionIDLength,
              id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw ProtocolError(.invalidJSON, "a submission id must be 1–\(maxSubmissionIDLength) printable ASCII "
                + "characters without spaces (got '\(id.prefix(40))')")
        }
    }

    /// A `submitChunk`: frame 0 the header and `{"submission", "seq", "count"}`, frame 1 the URLs, one per line.
    private static func decodeChunk(_ frames: [[UInt8]]) throws(ProtocolError) -> ControlRequest {
        guard frames.count == 2 else {
            throw ProtocolError(.frameCount, "'submitChunk' message has \(frames.count) frames; it must have exactly 2")
        }
        let chunk = try JSONPayload.decode(SubmitChunkPayload.self, from: frames[0][MessageHeader.size...],
                                           message: "submitChunk")
        try checkSubmissionID(chunk.submission)
        guard chunk.seq >= 0 else {
            throw ProtocolError(.invalidJSON, "'submitChunk' message has a negative seq (\(chunk.seq))")
        }
        let lines = frames[1]
        var urls: [String] = []
        urls.reserveCapacity(chunk.count)
        var start = 0
        for (index, byte) in lines.enumerated() where byte == 0x0A {
            urls.append(String(decoding: lines[start..<index], as: UTF8.self))
            start = index + 1
        }
        guard start == lines.count else {
            throw ProtocolError(.truncated, "'submitChunk' URL frame does not end with a newline")
        }
        guard urls.count == chunk.count else {
            throw ProtocolError(.invalidJSON,
                                "'submitChunk' says \(chunk.count) URLs but its URL frame has \(urls.count) lines")
        }
        return .submitChunk(submission: chunk.submission, seq: chunk.seq, urls: urls)
    }

    private static func requiredJob(_ payload: ArraySlice<UInt8>, _ type: MessageType) throws(ProtocolError) -> String {
        guard let job = try JSONPayload.decode(JobReference.self, from: payload, message: type.name).job else {
            throw ProtocolError(.invalidJSON, "'\(type.name)' message has an invalid JSON payload: missing field 'job'")
        }
        return job
    }
}

/// The coordinator's replies on the control socket. One frame: the message header, then a JSON payload. The `error`
/// reply keeps its type and layout in every protocol version.
public enum ControlReply: Sendable, Hashable {
    /// The job was accepted under this id.
    case submitted(job: String)
    /// The jobs asked about.
    case status([JobStatus])
    /// The job is being cancelled (or was already finished).
    case cancelled(job: String)
    /// The job's report directory.
    case report(job: String, path: String)
    /// The request could not be carried out; the message says why.
    case error(message: String)
    /// Where a chunked submission stands in the store: `chunks` committed holding `count` URLs, and its job once
    /// ended. Answers `submitBegin` and `submitChunk`.
    case submission(SubmissionState)
    /// The workers with a session, in the order they joined. Answers `workers`.
    case workers([WorkerStatus])
    /// What `removeJobs` or `pruneJobs` removed, and the jobs it refused to remove with why.
    case removed(RemovedJobs)

    /// The reply's ZeroMQ frames (always one).
    public func encode() -> [[UInt8]] {
        switch self {
        case .submitted(let job): controlFrames(.submitted, JobReference(job: job))
        case .status(let jobs): controlFrames(.statusReply, StatusPayload(jobs: jobs))
        case .cancelled(let job): controlFrames(.cancelled, JobReference(job: job))
        case .report(let job, let path): controlFrames(.reportReply, ReportPayload(job: job, path: path))
        case .error(let message): controlFrames(.errorReply, ErrorPayload(message: message))
        case .submission(let state): controlFrames(.submission, state)
        case .workers(let workers): controlFrames(.workersReply, WorkersPayload(workers: workers))
        case .removed(let removed): controlFrames(.removed, removed)
        }
    }

    /// The reply to a request that could not be decoded.
    public static func rejecting(_ error: ProtocolError) -> ControlReply {
        if error.code == .versionMismatch, let peer = error.peerVersion {
            return .error(
                message: "protocol version \(peer) not supported; this coordinator speaks \(ProtocolVersion.current)"
            )
        }
        return .error(message: error.message)
    }

    /// Decodes a control reply. An `error` reply is read whatever version it comes in.
    public static func decode(_ frames: [[UInt8]]) throws(ProtocolError) -> ControlReply {
        let (type, payload) = try controlPayload(frames, .controlReply, versionFree: [.errorReply])
        switch type {
        case .submitted:
            guard let job = try JSONPayload.decode(JobReference.self, from: payload, message: type.name).job else {
                throw ProtocolError(.invalidJSON, "'submitted' reply has no job id")
            }
            return .submitted(job: job)
        case .statusReply:
            return .status(try JSONPayload.decode(StatusPayload.self, from: payload, message: type.name).jobs)
        case .cancelled:
            guard let job = try JSONPayload.decode(JobReference.self, from: payload, message: type.name).job else {
                throw ProtocolError(.invalidJSON, "'cancelled' reply has no job id")
            }
            return .cancelled(job: job)
        case .reportReply:
            let report = try JSONPayload.decode(ReportPayload.self, from: payload, message: type.name)
            return .report(job: report.job, path: report.path)
        case .errorReply:
            return .error(message: try JSONPayload.decode(ErrorPayload.self, from: payload, message: type.name).message)
        case .submission:
            return .submission(try JSONPayload.decode(SubmissionState.self, from: payload, message: type.name))
        case .workersReply:
            return .workers(try JSONPayload.decode(WorkersPayload.self, from: payload, message: type.name).workers)
        case .removed:
            return .removed(try JSONPayload.decode(RemovedJobs.self, from: payload, message: type.name))
        default:
            preconditionFailure("readHeader let a non-reply type through: \(type)")
        }
    }
}

/// A chunked submission as the coordinator's store holds it.
public struct SubmissionState: Codable, Sendable, Hashable {
    /// The id the client chose.
    public var submission: String
    /// Chunks committed: the next chunk to send has this seq.
    public var chunks: Int
    /// URLs committed.
    public var count: Int
    /// The job, once the submission was ended.
    public var job: String?

    public init(submission: String, chunks: Int, count: Int, job: String? = nil) {
        self.submission = submission
        self.chunks = chunks
        self.count = count
        self.job = job
    }
}

private struct SubmitBeginPayload: Codable {
    var submission: String
    var spec: JobSpec
}

private struct SubmitChunkPayload: Codable {
    var submission: String
    var seq: Int
    var count: Int
}

private struct SubmitEndPayload: Codable {
    var submission: String
    var chunks: Int
    var count: Int
}

private struct JobReference: Codable {
    var job: String?
}

private struct StatusPayload: Codable {
    var jobs: [JobStatus]
}

private struct ReportPayload: Codable {
    var job: String
    var path: String
}

private struct ErrorPayload: Codable {
    var message: String
}

private func controlFrames(_ type: MessageType, _ payload: some Encodable) -> [[UInt8]] {
    var frame = WireWriter(type, reserving: 64).bytes
    frame.append(contentsOf: JSONPayload.encode(payload))
    return [frame]
}

private func controlPayload(_ frames: [[UInt8]], _ direction: Direction, versionFree: Set<MessageType> = [])
    throws(ProtocolError) -> (MessageType, ArraySlice<UInt8>)
{
    let type = try readHeader(frames, direction, versionFree: versionFree)
    guard frames.count == 1 else {
        throw ProtocolError(.frameCount, "'\(type.name)' message has \(frames.count) frames; it must have exactly 1")
    }
    return (type, frames[0][MessageHeader.size...])
}
