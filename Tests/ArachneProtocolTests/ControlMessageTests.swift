import ArachneCore
import Testing

@testable import ArachneProtocol

@Suite("Control messages")
struct ControlMessageTests {
    static let requests: [ControlRequest] = [
        .submit(
            JobSpec(
                urls: ["http://127.0.0.1:8080/", "https://example.test/ü"], repeatCount: 3, concurrency: 16,
                settings: FetchSettings(keepBodies: false), name: "smoke"
            )
        ),
        .status(job: nil),
        .status(job: "j-7"),
        .cancel(job: "j-7"),
        .report(job: "j-7"),
        .submitBegin(submission: "s-1", spec: JobSpec(urls: [], repeatCount: 2, concurrency: 8)),
        .submitChunk(submission: "s-1", seq: 0, urls: ["http://127.0.0.1:8080/a", "https://example.test/ü?q=1"]),
        .submitChunk(submission: "s-1", seq: 7, urls: []),
        .submitEnd(submission: "s-1", chunks: 8, count: 70_002),
        .workers,
        .removeJobs(["j-1", "j-2"]),
        .removeJobs([]),
        .pruneJobs(olderThan: 86_400),
    ]

    static let replies: [ControlReply] = [
        .submitted(job: "j-8"),
        .status([]),
        .status([
            JobStatus(
                id: "j-8", name: "smoke", state: .running, total: 1_000_000, done: 5_000, failed: 3, cancelled: 0,
                rate: 61_234.5, reassignedBatches: 2, retries: 40, submittedAt: 1_732_000_000,
                startedAt: 1_732_000_001.5, outputDir: "/var/lib/arachne/jobs/j-8"
            ),
            JobStatus(id: "j-9", state: .failed, total: 1, outputDir: "/tmp/j-9", error: "disk full"),
        ]),
        .cancelled(job: "j-8"),
        .report(job: "j-8", path: "/var/lib/arachne/jobs/j-8"),
        .error(message: "unknown job 'j-404'"),
        .submission(SubmissionState(submission: "s-1", chunks: 3, count: 30_000)),
        .submission(SubmissionState(submission: "s-1", chunks: 3, count: 30_000, job: "j-8")),
        .workers([]),
        .workers([
            WorkerStatus(id: "local-1", host: "h", pid: 42, capacity: 64, inFlight: 12, done: 9_000,
                         lastHeartbeat: 1_732_000_002.25, joinedAt: 1_732_000_000, endpoint: "ipc:///d/local-7.sock",
                         state: .busy),
        ]),
        .removed(RemovedJobs(removed: ["j-1"], refused: [.init(job: "j-2", reason: "job j-2 is running")])),
    ]

    @Test("a chunk's URLs travel as a raw frame of lines; a count that disagrees with it is refused")
    func chunkFrames() throws {
        let frames = ControlRequest.submitChunk(submission: "s-2", seq: 1, urls: ["http://a.test/", "http://b.test/"])
            .encode()
        #expect(frames.count == 2 && frames[1] == Array("http://a.test/\nhttp://b.test/\n".utf8))
        #expect(throws: ProtocolError.self) { try ControlRequest.decode([frames[0], Array("http://a.test/\n".utf8)]) }
        #expect(throws: ProtocolError.self) { try ControlRequest.decode([frames[0], Array("http://a.test/".utf8)]) }
        #expect(throws: ProtocolError.self) { try ControlRequest.decode([frames[0]]) }
        let spaced = ControlRequest.submitEnd(submission: "has space", chunks: 1, count: 1).encode()
        #expect(throws: ProtocolError.self) { try ControlRequest.decode(spaced) }
    }

    @Test("every request round-trips", arguments: requests)
    func requestRoundTrip(request: ControlRequest) throws {
        #expect(try ControlRequest.decode(request.encode()) == request)
    }

    @Test("every reply round-trips", arguments: replies)
    func replyRoundTrip(reply: ControlReply) throws {
        #expect(try ControlReply.decode(reply.encode()) == reply)
    }

    @Test("a status reply uses snake_case keys")
    func statusJSON() throws {
        let frame = ControlReply.status([JobStatus(id: "a", state: .queued, total: 1, outputDir: "/d")]).encode()[0]
        let json = String(decoding: frame[MessageHeader.size...], as: UTF8.self)
        #expect(json.contains(#""output_dir":"\/d""#) || json.contains(#""output_dir":"/d""#))
        #expect(json.contains(#""reassigned_batches":0"#))
    }

    @Test("a non-finite rate still encodes and decodes")
    func nonFiniteRate() throws {
        let status = JobStatus(id: "a", state: .running, total: 1, rate: .infinity, outputDir: "/")
        let reply = ControlReply.status([status])
        #expect(try ControlReply.decode(reply.encode()) == reply)
    }

    @Test("garbage on the control socket gets a clear error reply")
    func garbage() {
        guard let error = decodeError(ControlRequest.decode, [Array("status j-1\n".utf8)]) else { return }
        #expect(error.code == .badMagic)
        #expect(ControlReply.rejecting(error) == .error(message: error.message))
    }

    @Test("an unknown command is named")
    func unknownCommand() {
        guard let error = decodeError(ControlRequest.decode, [[0x41, 0x52, 0x04, 0x00, 0x4F] + Array("{}".utf8)])
        else { return }
        #expect(error.code == .unknownType)
        #expect(error.message.contains("0x4f"))
    }

    @Test("a submit with a missing field names the field")
    func missingField() {
        var frame = WireWriter(.submit).bytes
        frame += Array(#"{"repeat": 1, "concurrency": 2}"#.utf8)
        guard let error = decodeError(ControlRequest.decode, [frame]) else { return }
        #expect(error.code == .invalidJSON)
        #expect(error.message.contains("missing field 'urls'"))
    }

    @Test("a cancel without a job id is rejected")
    func cancelWithoutJob() {
        var frame = WireWriter(.cancel).bytes
        frame += Array("{}".utf8)
        #expect(decodeError(ControlRequest.decode, [frame])?.message.contains("'job'") == true)
    }

    @Test("a payload that is not JSON is rejected")
    func notJSON() {
        var frame = WireWriter(.status).bytes
        frame += [0xFF, 0x00, 0x7B]
        #expect(decodeError(ControlRequest.decode, [frame])?.code == .invalidJSON)
    }

    @Test("a CLI of another version gets an error reply naming both versions")
    func otherVersion() {
        let frames = withVersion(5, ControlRequest.status(job: nil).encode())
        guard let error = decodeError(ControlRequest.decode, frames) else { return }
        #expect(
            ControlReply.rejecting(error)
                == .error(message: "protocol version 5 not supported; this coordinator speaks 4")
        )
    }

    @Test("an error reply from a coordinator of another version is still readable")
    func errorReplyFromOtherVersion() throws {
        let frames = withVersion(5, ControlReply.error(message: "protocol version 1 not supported").encode())
        #expect(try ControlReply.decode(frames) == .error(message: "protocol version 1 not supported"))
        #expect(decodeError(ControlReply.decode, withVersion(5, ControlReply.submitted(job: "x").encode()))?.code
                == .versionMismatch)
    }
}
