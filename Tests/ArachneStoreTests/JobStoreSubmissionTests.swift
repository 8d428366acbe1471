import ArachneCore
import Foundation
import Testing

@testable import ArachneStore

@Suite("JobStore: chunked submissions")
struct JobStoreSubmissionTests {
    let spec = JobSpec(urls: [], repeatCount: 2, concurrency: 8)

    func urls(_ range: Range<Int>) -> [String] { range.map { "http://127.0.0.1:8080/page/\($0)" } }

    @Test("chunks commit in order, retries change nothing, the job exists only once ended, and reads back by window")
    func lifecycle() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            defer { store.close() }
            let begun = try store.beginSubmission(id: "s-a", spec: spec)
            #expect(begun.chunks == 0 && begun.urlCount == 0 && begun.job == nil)
            #expect(try store.beginSubmission(id: "s-a", spec: spec) == begun)
            _ = try store.appendSubmissionChunk(id: "s-a", seq: 0, urls: urls(0..<5))
            #expect(try store.appendSubmissionChunk(id: "s-a", seq: 0, urls: urls(0..<5)).urlCount == 5)
            #expect(throws: JobStoreError.self) { try store.appendSubmissionChunk(id: "s-a", seq: 2, urls: urls(5..<6)) }
            _ = try store.appendSubmissionChunk(id: "s-a", seq: 1, urls: urls(5..<9))
            #expect(try store.jobs().isEmpty)
            #expect(throws: JobStoreError.self) { try store.endSubmission(id: "s-a", chunks: 2, count: 10) }
            let (job, created) = try store.endSubmission(id: "s-a", chunks: 2, count: 9)
            #expect(created && job.urlCount == 9 && job.totalRequests == 18)
            let again = try store.endSubmission(id: "s-a", chunks: 2, count: 9)
            #expect(again.job.id == job.id && !again.created)
            #expect(try store.jobs().map(\.id) == [job.id])
            let stored = try store.spec(job.id)
            #expect(stored.urls.isEmpty && stored.storedURLCount == 9 && stored.repeatCount == 2)
            let list = try #require(try store.urlList(of: job.id))
            let reader = try URLListReader(dataDirectory: dir, list: list)
            defer { reader.close() }
            #expect(try reader.urls(3..<7) == urls(3..<7))
            #expect(try reader.urls(7..<20) == urls(7..<9))
            // Another spec under a used id is refused; an over-large job is refused chunk by chunk.
            #expect(throws: JobStoreError.self) {
                try store.beginSubmission(id: "s-a", spec: JobSpec(urls: [], repeatCount: 3))
            }
            _ = try store.beginSubmission(id: "s-big", spec: spec)
            #expect(throws: JobStoreError.self) {
                try store.appendSubmissionChunk(id: "s-big", seq: 0, urls: urls(0..<6), maxRequests: 10)
            }
        }
    }

    @Test("submissions never ended are discarded after their lifetime, with their URLs; ended ones stay")
    func discard() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            defer { store.close() }
            let old = Date(timeIntervalSince1970: 1_700_000_000)
            _ = try store.beginSubmission(id: "s-old", spec: spec, at: old)
            _ = try store.appendSubmissionChunk(id: "s-old", seq: 0, urls: urls(0..<3), at: old)
            _ = try store.beginSubmission(id: "s-ended", spec: spec, at: old)
            _ = try store.appendSubmissionChunk(id: "s-ended", seq: 0, urls: urls(0..<3), at: old)
            _ = try store.endSubmission(id: "s-ended", chunks: 1, count: 3, at: old)
            _ = try store.beginSubmission(id: "s-new", spec: spec)
            #expect(try store.discardUnendedSubmissions(before: old.addingTimeInterval(60)) == ["s-old"])
            #expect(try store.submission("s-old") == nil && store.submission("s-ended") != nil)
            #expect(try store.submission("s-new") != nil)
            let left = try store.database.first("SELECT count(*) FROM job_urls") { $0.int(at: 0) }
            #expect(left == 3)
        }
    }
}
