import ArachneCore
import Testing

@testable import ArachneProtocol

@Suite("Worker messages")
struct WorkerMessageTests {
    @Test("hello round-trips and carries the version in the header")
    func hello() throws {
        let hello = WorkerHello(workerID: "local-1", host: "crawler-7.example", pid: 4242, capacity: 64)
        let frames = WorkerMessage.hello(hello).encode()
        #expect(frames.count == 1)
        #expect(try MessageHeader(frame: frames[0]) == MessageHeader(version: .current, type: 0x01))
        guard case .hello(let decoded) = try WorkerMessage.decode(frames) else {
            Issue.record("not a hello")
            return
        }
        #expect(decoded == hello)
    }

    @Test("credit, batchDone, heartbeat and goodbye round-trip")
    func smallMessages() throws {
        guard case .credit(let n) = try WorkerMessage.decode(WorkerMessage.credit(1_000_000).encode()) else {
            Issue.record("not a credit")
            return
        }
        #expect(n == 1_000_000)
        guard case .batchDone(let batch) = try WorkerMessage.decode(WorkerMessage.batchDone(batch: .max).encode())
        else {
            Issue.record("not a batchDone")
            return
        }
        #expect(batch == .max)
        guard case .heartbeat = try WorkerMessage.decode(WorkerMessage.heartbeat.encode()) else {
            Issue.record("not a heartbeat")
            return
        }
        guard case .goodbye(let reason) = try WorkerMessage.decode(WorkerMessage.goodbye(reason: "SIGTERM").encode())
        else {
            Issue.record("not a goodbye")
            return
        }
        #expect(reason == "SIGTERM")
    }

    @Test("one result: metadata in frame 0, the body raw in frame 1", arguments: [false, true])
    func oneResult(failed: Bool) throws {
        let result = sampleResult(index: 3, failed: failed)
        let frames = WorkerMessage.results([result]).encode()
        #expect(frames.count == 2)
        #expect(frames[1] == result.outcome.body)
        guard case .results(let decoded) = try WorkerMessage.decode(frames) else {
            Issue.record("not results")
            return
        }
        #expect(decoded.count == 1)
        expectSame(decoded[0], result)
    }

    @Test("many results in one message keep their order, their bodies and their archived members")
    func manyResults() throws {
        let results = (0..<50).map { $0 % 3 == 0 ? archivedResult(index: $0) : sampleResult(index: $0, failed: $0 % 7 == 0) }
        let frames = WorkerMessage.results(results).encode()
        #expect(frames.count == 2)
        #expect(frames[1].count == results.reduce(0) { $0 + $1.outcome.body.count + ($1.archived?.members.count ?? 0) })
        guard case .results(let decoded) = try WorkerMessage.decode(frames) else {
            Issue.record("not results")
            return
        }
        #expect(decoded.count == results.count)
        for (a, b) in zip(decoded, results) { expectSame(a, b) }
    }

    @Test("job ids in runs, alike and not: each result decodes its own (the decoder reuses the previous one's String)")
    func jobIDsInRuns() throws {
        let jobs = ["job-a", "job-a", "job-a", "job-b", "job-b", "job-ab", "job-a", "job-", "", "job-a", "job-a"]
        let results = jobs.enumerated().map { index, job in
            var result = sampleResult(index: index)
            result.job = job
            return result
        }
        guard case .results(let decoded) = try WorkerMessage.decode(WorkerMessage.results(results).encode()) else {
            Issue.record("not results")
            return
        }
        #expect(decoded.map(\.job) == jobs)
    }

    @Test("a crawl result's findings round-trip: media type, Location, counts, links with identity, via and trap")
    func crawlFindings() throws {
        var result = sampleResult(index: 1, failed: false)
        var counts = CrawlLinkCounts(found: 9, duplicate: 2, outOfScope: 3, nofollow: 4)
        counts.addFiltered(by: "exclude:\\.pdf$", 1)
        counts.addFiltered(by: "include", 2)
        let findings = CrawlFindings(
            contentType: "text/html", location: "/next",
            links: [
                DiscoveredLink(url: "http://a.test/x", via: .link),
                DiscoveredLink(url: "http://a.test/%7Ey", identity: "http://a.test/~y", via: .redirect),
                DiscoveredLink(url: "http://a.test/a/a/a/", via: .link, trap: .repeatedSegments),
            ],
            counts: counts)
        result.crawl = findings
        let plain = sampleResult(index: 2, failed: false)
        guard case .results(let decoded) = try WorkerMessage.decode(WorkerMessage.results([result, plain]).encode())
        else {
            Issue.record("not results")
            return
        }
        #expect(decoded[0].crawl == findings)
        #expect(decoded[1].crawl == nil)
        expectSame(decoded[1], plain)
    }

    @Test("a link whose trap is not a skip kind is a malformed message")
    func crawlTrapMustBeASkip() {
        var result = sampleResult(index: 1, failed: false)
        result.crawl = CrawlFindings(links: [DiscoveredLink(url: "http://a.test/", via: .link, trap: .dns)])
        guard let error = decodeError(WorkerMessage.decode, WorkerMessage.results([result]).encode()) else { return }
        #expect(error.message.contains("not a skip kind"))
    }

    @Test("a binary body with every byte value travels untouched")
    func binaryBody() throws {
        var result = sampleResult()
        result.outcome.body = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let frames = WorkerMessage.results([result]).encode()
        guard case .results(let decoded) = try WorkerMessage.decode(frames) else {
            Issue.record("not results")
            return
        }
        #expect(decoded[0].outcome.body == result.outcome.body)
    }

    @Test("every fetch error kind round-trips, and the skips a worker decides (robots, blocked-address); another skip kind is refused",
          arguments: FetchErrorKind.allCases)
    func errorKinds(kind: FetchErrorKind) throws {
        var result = sampleResult(failed: true)
        result.outcome.failure = FetchFailure(kind: kind, message: "because \(kind)")
        if kind.isSkip && kind != .robots && kind != .blockedAddress {
            let error = decodeError(WorkerMessage.decode, WorkerMessage.results([result]).encode())
            #expect(error?.message.contains("skip kind") == true)
            return
        }
        guard case .results(let decoded) = try WorkerMessage.decode(WorkerMessage.results([result]).encode()) else {
            Issue.record("not results")
            return
        }
        #expect(decoded[0].outcome.failure == result.outcome.failure)
    }

    @Test("archived WARC members round-trip beside the metadata")
    func archivedMembers() throws {
        let result = archivedResult(index: 4)
        let frames = WorkerMessage.results([result]).encode()
        #expect(frames[1] == result.archived.map { Array($0.members) })
        guard case .results(let decoded) = try WorkerMessage.decode(frames) else {
            Issue.record("not results")
            return
        }
        expectSame(decoded[0], result)
    }

    @Test("a results message without its raw frame, or with one frame too many, is rejected")
    func missingRawFrame() {
        let frames = WorkerMessage.results([sampleResult(index: 0), sampleResult(index: 1)]).encode()
        guard let error = decodeError(WorkerMessage.decode, Array(frames.prefix(1))) else { return }
        #expect(error.code == .frameCount)
        #expect(error.message.contains("has 1"))
        #expect(decodeError(WorkerMessage.decode, frames + [[1]])?.code == .frameCount)
    }

    @Test("frame 1 must hold exactly the bytes the entries announce")
    func rawFrameLengths() {
        let frames = WorkerMessage.results([archivedResult(index: 0), sampleResult(index: 1)]).encode()
        #expect(decodeError(WorkerMessage.decode, [frames[0], frames[1] + [0]])?.code == .trailingBytes)
        guard let error = decodeError(WorkerMessage.decode, [frames[0], Array(frames[1].dropLast())]) else { return }
        #expect(error.code == .invalidValue)
        #expect(error.message.contains("result 2 of 2"))
    }

    @Test("an extra frame on a one-frame message is rejected")
    func extraFrame() {
        guard let error = decodeError(WorkerMessage.decode, WorkerMessage.heartbeat.encode() + [[1, 2, 3]]) else {
            return
        }
        #expect(error.code == .frameCount)
    }

    @Test("an unknown error kind names the kind and the result")
    func unknownErrorKind() {
        var result = sampleResult(failed: true)
        result.outcome.failure = FetchFailure(kind: .dns, message: "x")
        var frames = WorkerMessage.results([result, result]).encode()
        // Rewrite the second entry's kind "dns" as "dnz" in place.
        let dns = Array("dns".utf8)
        let positions = (0...(frames[0].count - 3)).filter { Array(frames[0][$0..<($0 + 3)]) == dns }
        #expect(positions.count == 2)
        frames[0][positions[1] + 2] = UInt8(ascii: "z")
        guard let error = decodeError(WorkerMessage.decode, frames) else { return }
        #expect(error.code == .invalidValue)
        #expect(error.message.contains("result 2 of 2"))
        #expect(error.message.contains("'dnz'"))
    }

    @Test("a hello with an empty worker id or zero capacity is rejected")
    func invalidHello() {
        let noID = WorkerMessage.hello(WorkerHello(workerID: "", host: "h", pid: 1, capacity: 1)).encode()
        #expect(decodeError(WorkerMessage.decode, noID)?.code == .invalidValue)
        let noCapacity = WorkerMessage.hello(WorkerHello(workerID: "w", host: "h", pid: 1, capacity: 0)).encode()
        #expect(decodeError(WorkerMessage.decode, noCapacity)?.message.contains("capacity") == true)
    }

    @Test("a coordinator message given to the worker decoder is named as such")
    func wrongDirection() {
        guard let error = decodeError(WorkerMessage.decode, CoordinatorMessage.heartbeat.encode()) else { return }
        #expect(error.code == .unknownType)
        #expect(error.message.contains("coordinator message"))
    }
}
