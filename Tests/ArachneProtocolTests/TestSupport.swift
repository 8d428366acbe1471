import ArachneCore
import ArachneTestSupport
import Testing

@testable import ArachneProtocol

/// A result with every field set to something other than its default.
func sampleResult(index: Int = 0, failed: Bool = false) -> FetchResult {
    var outcome = FetchOutcome(
        status: failed ? 0 : 200 + index % 3,
        body: failed ? [] : Array("<html>\(index) ünïcødé</html>".utf8),
        bytesReceived: failed ? 0 : 1_234_567_890_123 + Int64(index),
        truncated: index % 2 == 1,
        finalURL: "https://example.test/page/\(index)?q=a%20b",
        redirects: index % 4,
        timings: PhaseTimings(
            queue: 17, namelookup: 1, connect: 250, appconnect: 4_000, pretransfer: 4_100, starttransfer: 90_000,
            total: Int64(index) + 1_000_000
        ),
        httpVersion: failed ? "" : "2"
    )
    outcome.rawHeader = failed ? [] : Array("HTTP/2 200\r\ncontent-type: text/html\r\nx-é: ✓\r\n\r\n".utf8)
    if failed {
        outcome.failure = FetchFailure(kind: .connect, message: "Failed to connect to example.test port 443")
    }
    return FetchResult(
        job: "job-\(index % 2)", batch: UInt64(index) << 40, key: RequestKey(urlIndex: index * 1000, repetition: index),
        outcome: outcome, finishedAt: 1_732_000_000.123456 + Double(index)
    )
}

/// Compares two results field by field (FetchOutcome is not Equatable).
func expectSame(_ a: FetchResult, _ b: FetchResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.job == b.job, sourceLocation: sourceLocation)
    #expect(a.batch == b.batch, sourceLocation: sourceLocation)
    #expect(a.key == b.key, sourceLocation: sourceLocation)
    #expect(a.finishedAt == b.finishedAt, sourceLocation: sourceLocation)
    let x = a.outcome
    let y = b.outcome
    #expect(x.status == y.status, sourceLocation: sourceLocation)
    #expect(x.body == y.body, sourceLocation: sourceLocation)
    #expect(x.rawHeader == y.rawHeader, sourceLocation: sourceLocation)
    #expect(x.bytesReceived == y.bytesReceived, sourceLocation: sourceLocation)
    #expect(x.truncated == y.truncated, sourceLocation: sourceLocation)
    #expect(x.finalURL == y.finalURL, sourceLocation: sourceLocation)
    #expect(x.redirects == y.redirects, sourceLocation: sourceLocation)
    #expect(x.timings == y.timings, sourceLocation: sourceLocation)
    #expect(x.failure == y.failure, sourceLocation: sourceLocation)
    #expect(x.httpVersion == y.httpVersion, sourceLocation: sourceLocation)
    #expect(a.archived == b.archived, sourceLocation: sourceLocation)
}

/// A result as a worker that keeps bodies sends it: the body archived as WARC members, no raw body or header.
func archivedResult(index: Int = 0) -> FetchResult {
    var result = sampleResult(index: index)
    let members = (0..<(300 + index * 7)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ index) }
    result.archived = ArchivedBody(members: members, requestLength: 120 + index, digest: "sha1:ABCDEFGH\(index)")
    result.outcome.body = []
    result.outcome.rawHeader = []
    return result
}

/// Runs a decoder and returns the ProtocolError it threw, recording an issue if it decoded instead.
func decodeError<T>(
    _ decode: ([[UInt8]]) throws(ProtocolError) -> T, _ frames: [[UInt8]],
    sourceLocation: SourceLocation = #_sourceLocation
) -> ProtocolError? {
    do {
        let value = try decode(frames)
        Issue.record("decoded \(value) where an error was expected", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Frames with the version bytes of frame 0 replaced.
func withVersion(_ version: UInt16, _ frames: [[UInt8]]) -> [[UInt8]] {
    var frames = frames
    frames[0][2] = UInt8(version & 0xFF)
    frames[0][3] = UInt8(version >> 8)
    return frames
}
