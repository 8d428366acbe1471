import ArachneCore
import Testing

@testable import ArachneProtocol

@Suite("Coordinator messages")
struct CoordinatorMessageTests {
    static let messages: [CoordinatorMessage] = [
        .welcome(Welcome(workerID: "local-2", heartbeatIntervalMs: 1000, leaseTimeoutMs: 4000)),
        .refuse(reason: "protocol version 5 not supported; this coordinator speaks 4"),
        .jobSettings(
            job: "j-1",
            settings: FetchSettings(
                connectTimeoutMs: 1500, maxRedirects: 0, userAgent: "arachne-test/1 ✓",
                resolve: ["a.test:80:127.0.0.1"],
                caCertPath: "/etc/ca.pem", headers: ["X-A: b"], forbidReuse: true
            )
        ),
        .jobSettings(
            job: "j-crawl", settings: FetchSettings(maxRedirects: 0),
            crawl: CrawlJobSettings(
                options: CrawlOptionsSpec(scope: .domain, include: ["^https?://a\\."], exclude: ["\\.pdf$"],
                                          maxDepth: 3, maxPages: 100, maxPagesPerHost: 10, trapDefences: false,
                                          followNofollow: true),
                seeds: ["http://a.test/", "https://b.test/x"])
        ),
        .lease(
            BatchLease(
                batch: 77, job: "j-1", deadlineMs: 4000,
                items: (0..<8).map {
                    LeaseItem(key: RequestKey(urlIndex: $0 * 1_000, repetition: $0 % 3), url: "http://x.test/\($0)")
                }
            )
        ),
        .lease(BatchLease(batch: 0, job: "", deadlineMs: 0, items: [])),
        .cancelJob(job: "j-1"),
        .heartbeat,
        .shutdown(reason: "coordinator stopping (SIGTERM)"),
        .error(message: "unknown worker 'w9': send hello first"),
    ]

    @Test("every message round-trips", arguments: messages)
    func roundTrip(message: CoordinatorMessage) throws {
        let frames = message.encode()
        #expect(frames.count == 1)
        #expect(try CoordinatorMessage.decode(frames) == message)
    }

    @Test("a refusal names both versions")
    func refusalText() {
        #expect(
            CoordinatorMessage.refusal(peerVersion: ProtocolVersion(5))
                == .refuse(reason: "protocol version 5 not supported; this coordinator speaks 4")
        )
    }

    @Test("a refuse from a coordinator of another version is still readable, even with fields this version lacks")
    func refuseFromOtherVersion() throws {
        var frames = withVersion(9, CoordinatorMessage.refuse(reason: "protocol version 1 not supported").encode())
        frames[0] += [1, 2, 3]
        #expect(try CoordinatorMessage.decode(frames) == .refuse(reason: "protocol version 1 not supported"))
    }

    @Test("any other message from another version is a version mismatch")
    func otherVersion() {
        let frames = withVersion(5, CoordinatorMessage.heartbeat.encode())
        guard let error = decodeError(CoordinatorMessage.decode, frames) else { return }
        #expect(error.code == .versionMismatch)
        #expect(error.peerVersion == ProtocolVersion(5))
    }

    @Test("job settings with broken JSON name the problem")
    func badSettings() {
        var writer = WireWriter(.jobSettings)
        writer.string("j-1")
        writer.blob(Array(#"{"connectTimeoutMs": "soon"}"#.utf8))
        guard let error = decodeError(CoordinatorMessage.decode, [writer.bytes]) else { return }
        #expect(error.code == .invalidJSON)
        #expect(error.message.contains("connectTimeoutMs"))
    }
}
