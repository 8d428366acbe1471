@testable import ArachneCluster
import ArachneArchive
import ArachneCore
import ArachneEventLoop
import ArachneTestSupport
import Foundation
import Testing

/// `RecordBatcher` hands records to the writer thread at most every `intervalMs`: on its timer, or at once when a
/// batch is full or flushed.
@Suite(.serialized) struct RecordBatcherTests {
    private static func entry(_ index: Int) -> RecordEntry {
        let url = "http://batcher.test/\(index)"
        return RecordEntry(key: RequestKey(urlIndex: index, repetition: 0), url: url, worker: "local", attempts: 1,
                           outcome: .failed(.other, "not fetched", url: url), finishedAt: 1_700_000_000)
    }

    @Test func theTimerHandsOverWhatNoFlushDid() async throws {
        let directory = temporaryDirectory("batcher-timer")
        let recorder = try JobRecorder(directory: directory, keepBodies: false)
        let loop = try EventLoop(name: "test-batcher")
        defer { loop.shutdown() }
        let batcher = try await loop.submit { LoopBox(RecordBatcher(loop: loop, recorder: recorder)) }
        try await loop.submit { for index in 0..<3 { batcher.value.add(Self.entry(index)) } }
        try await Task.sleep(for: .milliseconds(RecordBatcher.intervalMs * 5))
        try await recorder.close()
        let records = try RecordsReader.readAll(path: directory + "/records.ndjson")
        #expect(records.map(\.urlIndex) == [0, 1, 2])
    }

    /// A job's batcher is released when the job ends, possibly with a hand-off still due: the timer must not reach
    /// the released batcher (it read an unowned reference and crashed the process, one `fetch` in thirty).
    @Test func aBatcherReleasedWithAHandOffDueIsNotReachedByItsTimer() async throws {
        let directory = temporaryDirectory("batcher-release")
        let recorder = try JobRecorder(directory: directory, keepBodies: false)
        let loop = try EventLoop(name: "test-batcher-release")
        defer { loop.shutdown() }
        try await loop.submit {
            let batcher = RecordBatcher(loop: loop, recorder: recorder)
            batcher.add(Self.entry(0))
            batcher.flush()  // what a job does last; the timer it had armed is cancelled
            batcher.add(Self.entry(1))  // and a hand-off armed again, then the batcher goes
        }
        try await Task.sleep(for: .milliseconds(RecordBatcher.intervalMs * 5))
        // The loop is still alive and the timer has passed: nothing was handed over after the release.
        #expect(try await loop.submit { true })
        try await recorder.close()
        let records = try RecordsReader.readAll(path: directory + "/records.ndjson")
        #expect(records.map(\.urlIndex) == [0])
    }
}
