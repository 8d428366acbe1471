import ArachneCore
import Foundation
import Testing

@testable import ArachneStore

@Suite("JobStore removal")
struct JobStoreRemovalTests {
    private func count(_ store: JobStore, _ sql: String) throws -> Int {
        try store.database.first(sql) { $0.int(at: 0) } ?? -1
    }

    @Test("removeJob deletes a finished job's row, spec, records and submission URLs; other jobs keep theirs")
    func removesFinished() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            let kept = try store.createJob(spec: loopbackSpec(urls: 3))
            _ = try store.beginSubmission(id: "s-1", spec: JobSpec(urls: [], repeatCount: 2))
            _ = try store.appendSubmissionChunk(id: "s-1", seq: 0, urls: ["http://127.0.0.1/a", "http://127.0.0.1/b"])
            let gone = try store.endSubmission(id: "s-1", chunks: 1, count: 2).job
            let keys = [RequestKey(urlIndex: 0, repetition: 0), RequestKey(urlIndex: 1, repetition: 1)]
            try store.appendRecords(gone.id, keys.map { ($0, sampleRecord($0)) })
            try store.appendRecords(kept.id, [(keys[0], sampleRecord(keys[0]))])

            // Unfinished: refused, nothing deleted.
            try store.setState(gone.id, .running)
            let refused = try #require(throws: JobStoreError.self) { try store.removeJob(gone.id) }
            #expect(refused.kind == .illegalTransition && refused.description.contains("running"))
            #expect(try store.recordCount(gone.id) == 2)

            try store.setState(gone.id, .completed)
            let row = try store.removeJob(gone.id)
            #expect(row.id == gone.id && row.state == .completed)
            #expect(try store.job(gone.id) == nil)
            #expect(try count(store, "SELECT count(*) FROM records") == 1)
            #expect(try count(store, "SELECT count(*) FROM job_specs") == 1)
            #expect(try count(store, "SELECT count(*) FROM job_urls") == 0)
            #expect(try count(store, "SELECT count(*) FROM submissions") == 0)
            #expect(try store.recordCount(kept.id) == 1)
            let unknown = try #require(throws: JobStoreError.self) { try store.removeJob(gone.id) }
            #expect(unknown.kind == .unknownJob)
            #expect(try store.integrityCheck() == ["ok"])
        }
    }

    @Test("finishedJobs(before:) lists terminal jobs finished before a date, first finished first")
    func finishedBefore() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            let day = Date(timeIntervalSince1970: 1_795_521_600)
            let old = try store.createJob(spec: loopbackSpec(urls: 1), at: day)
            let older = try store.createJob(spec: loopbackSpec(urls: 1), at: day)
            let recent = try store.createJob(spec: loopbackSpec(urls: 1), at: day)
            let running = try store.createJob(spec: loopbackSpec(urls: 1), at: day)
            try store.setState(older.id, .cancelled, at: day.addingTimeInterval(10))
            try store.setState(old.id, .completed, at: day.addingTimeInterval(20))
            try store.setState(recent.id, .failed, at: day.addingTimeInterval(100))
            try store.setState(running.id, .running, at: day)
            let listed = try store.finishedJobs(before: day.addingTimeInterval(50)).map(\.id)
            #expect(listed == [older.id, old.id])
        }
    }
}
