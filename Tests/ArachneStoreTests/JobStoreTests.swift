import ArachneCore
import Foundation
import Testing

@testable import ArachneStore

@Suite("JobStore")
struct JobStoreTests {
    /// 2026-11-24 12:00 UTC.
    let day = Date(timeIntervalSince1970: 1_795_521_600)

    @Test("creates the schema on first open and finds it again on reopen")
    func schemaAndReopen() throws {
        try withTemporaryDirectory { dir in
            let dataDir = dir + "/data/nested"
            var store: JobStore? = try JobStore(dataDirectory: dataDir)
            #expect(store?.databasePath == dataDir + "/arachne.sqlite")
            #expect(FileManager.default.fileExists(atPath: dataDir + "/arachne.sqlite"))
            let job = try #require(try store?.createJob(spec: loopbackSpec(urls: 3), at: day))
            store?.close()
            store = nil

            let reopened = try JobStore(dataDirectory: dataDir)
            #expect(try reopened.database.pragma("user_version") == String(JobStore.schemaVersion))
            #expect(try reopened.database.pragma("application_id") == String(JobStore.applicationID))
            #expect(try reopened.job(job.id) == job)
            #expect(try reopened.integrityCheck() == ["ok"])
        }
    }

    @Test("refuses a database that is not an Arachne store, or is newer than this code")
    func foreignAndNewer() throws {
        try withTemporaryDirectory { dir in
            let foreign = try SQLiteDatabase(path: dir + "/arachne.sqlite")
            try foreign.execute("CREATE TABLE notes (text TEXT)")
            foreign.close()
            let notAStore = try #require(throws: JobStoreError.self) { try JobStore(dataDirectory: dir) }
            #expect(notAStore.kind == .notAStore)
            #expect(notAStore.message.contains(dir + "/arachne.sqlite"))
        }
        try withTemporaryDirectory { dir in
            try JobStore(dataDirectory: dir).close()
            let db = try SQLiteDatabase(path: dir + "/arachne.sqlite")
            try db.pragma("user_version", "99")
            db.close()
            let tooNew = try #require(throws: JobStoreError.self) { try JobStore(dataDirectory: dir) }
            #expect(tooNew.kind == .schemaTooNew)
            #expect(tooNew.message.contains("version 99"))
        }
    }

    @Test("job lifecycle: ids, listing order, states, timestamps, counters, unfinished jobs")
    func lifecycle() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            let first = try store.createJob(spec: loopbackSpec(urls: 4, repeat: 2, name: "first"), at: day)
            let second = try store.createJob(spec: loopbackSpec(urls: 1), outputDirectory: "/tmp/out-2", at: day)
            let nextDay = try store.createJob(spec: loopbackSpec(urls: 1), at: day.addingTimeInterval(86_400))
            #expect(first.id == "j-20261124-0001")
            #expect(second.id == "j-20261124-0002")
            #expect(nextDay.id == "j-20261125-0001")
            #expect(first.state == .queued)
            #expect(first.name == "first")
            #expect(first.totalRequests == 8)
            #expect(first.outputDirectory == dir + "/jobs/j-20261124-0001")
            #expect(second.outputDirectory == "/tmp/out-2")
            #expect(try store.jobs().map(\.id) == [nextDay.id, second.id, first.id])
            #expect(try store.job("j-nope") == nil)
            #expect(try store.spec(first.id) == loopbackSpec(urls: 4, repeat: 2, name: "first"))

            let started = day.addingTimeInterval(5)
            let running = try store.setState(first.id, .running, at: started)
            #expect(running.state == .running)
            #expect(running.startedAt == started)
            #expect(running.finishedAt == nil)
            try store.setState(first.id, .running, at: started.addingTimeInterval(9))
            #expect(try store.job(first.id)?.startedAt == started, "startedAt is set once")

            let counters = JobCounters(done: 8, failed: 1, reassignedBatches: 2, retries: 3)
            try store.updateCounters(first.id, counters)
            let finished = try store.setState(first.id, .completed, at: day.addingTimeInterval(60))
            #expect(finished.counters == counters)
            #expect(finished.startedAt == started)
            #expect(finished.finishedAt == day.addingTimeInterval(60))

            let cancelled = try store.setState(second.id, .cancelled, at: day, message: "cancelled by user")
            #expect(cancelled.message == "cancelled by user")
            #expect(cancelled.startedAt == nil)

            #expect(try store.unfinishedJobs().map(\.id) == [nextDay.id])

            let illegal = try #require(throws: JobStoreError.self) { try store.setState(first.id, .running) }
            #expect(illegal.kind == .illegalTransition)
            #expect(illegal.message.contains(first.id))
            let unknown = try #require(throws: JobStoreError.self) { try store.setState("j-missing", .running) }
            #expect(unknown.kind == .unknownJob)
            #expect(unknown.message.contains("j-missing"))
        }
    }

    @Test("rejects specs it cannot track")
    func invalidSpecs() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            #expect(throws: JobStoreError.self) { try store.createJob(spec: JobSpec(urls: [])) }
            let error = try #require(throws: JobStoreError.self) {
                try store.createJob(spec: loopbackSpec(urls: 2, repeat: 0))
            }
            #expect(error.kind == .invalidSpec)
            #expect(error.message.contains("repeat"))
            #expect(try store.jobs().isEmpty)
        }
    }

    @Test("appendRecords keeps the first record of a key and reports how many were new")
    func deduplicates() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            let job = try store.createJob(spec: loopbackSpec(urls: 10, repeat: 2))
            let key = RequestKey(urlIndex: 3, repetition: 1)
            #expect(try store.appendRecords(job.id, [(key, sampleRecord(key, worker: "w-first"))]) == 1)
            let again = [(key, sampleRecord(key, worker: "w-late")), (key, sampleRecord(key, worker: "w-later"))]
            let other = RequestKey(urlIndex: 0, repetition: 0)
            #expect(try store.appendRecords(job.id, again + [(other, sampleRecord(other))]) == 1)
            #expect(try store.recordCount(job.id) == 2)
            var workers: [RequestKey: String] = [:]
            try store.forEachRecord(job.id) { key, record in workers[key] = record.worker }
            #expect(workers[key] == "w-first")
        }
    }

    @Test("appendRecords rejects keys outside the job, atomically, naming the job")
    func rejectsForeignKeys() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            let job = try store.createJob(spec: loopbackSpec(urls: 2, repeat: 1))
            let good = RequestKey(urlIndex: 0, repetition: 0)
            let bad = RequestKey(urlIndex: 0, repetition: 1)
            let error = try #require(throws: JobStoreError.self) {
                try store.appendRecords(job.id, [(good, sampleRecord(good)), (bad, sampleRecord(bad))])
            }
            #expect(error.kind == .invalidRecord)
            #expect(error.message.contains(job.id))
            #expect(try store.recordCount(job.id) == 0)
            let mismatch = try #require(throws: JobStoreError.self) {
                try store.appendRecords(job.id, [(good, sampleRecord(RequestKey(urlIndex: 0, repetition: 3)))])
            }
            #expect(mismatch.kind == .invalidRecord)
            // A record naming another URL index than its key is refused too.
            var elsewhere = sampleRecord(good)
            elsewhere.urlIndex = good.urlIndex + 1
            let wrongIndex = try #require(throws: JobStoreError.self) {
                try store.appendRecords(job.id, [(good, elsewhere)])
            }
            #expect(wrongIndex.kind == .invalidRecord && wrongIndex.message.contains("says URL index"))
            #expect(throws: JobStoreError.self) { try store.appendRecords("j-missing", [(good, sampleRecord(good))]) }
        }
    }

    @Test("records and counters written together survive a reopen; completedKeys is rebuilt from them")
    func completedKeysAfterReopen() throws {
        try withTemporaryDirectory { dir in
            let jobID: String
            var written: [RequestKey] = []
            do {
                let store = try JobStore(dataDirectory: dir)
                let job = try store.createJob(spec: loopbackSpec(urls: 100, repeat: 3))
                let other = try store.createJob(spec: loopbackSpec(urls: 100, repeat: 3))
                jobID = job.id
                for urlIndex in stride(from: 0, to: 100, by: 7) {
                    for repetition in 0..<3 where (urlIndex + repetition) % 2 == 0 {
                        written.append(RequestKey(urlIndex: urlIndex, repetition: repetition))
                    }
                }
                let counters = JobCounters(done: written.count, failed: 0, reassignedBatches: 1, retries: 0)
                try store.appendRecords(job.id, written.map { ($0, sampleRecord($0)) }, counters: counters)
                let unrelated = RequestKey(urlIndex: 1, repetition: 1)
                try store.appendRecords(other.id, [(unrelated, sampleRecord(unrelated))])
                store.close()
            }
            let store = try JobStore(dataDirectory: dir)
            let keys = try store.completedKeys(jobID)
            #expect(keys.count == written.count)
            #expect(keys.total == 300)
            for urlIndex in 0..<100 {
                for repetition in 0..<3 {
                    let key = RequestKey(urlIndex: urlIndex, repetition: repetition)
                    #expect(keys.contains(key) == written.contains(key), "key \(key)")
                }
            }
            #expect(Array(keys.missingKeys).count == 300 - written.count)
            #expect(try store.job(jobID)?.counters.done == written.count)
            #expect(try store.job(jobID)?.counters.reassignedBatches == 1)
        }
    }

    @Test("forEachRecord streams every record intact, in insertion or key order")
    func streamsRecords() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            let job = try store.createJob(spec: loopbackSpec(urls: 500, repeat: 2))
            // Insert in an order that is neither key order nor its reverse.
            let keys = (0..<1000).map { i in
                let scrambled = (i * 337) % 1000
                return RequestKey(urlIndex: scrambled / 2, repetition: scrambled % 2)
            }
            for start in stride(from: 0, to: keys.count, by: 128) {
                let slice = keys[start..<min(keys.count, start + 128)]
                try store.appendRecords(job.id, slice.map { ($0, sampleRecord($0)) })
            }
            var inserted: [RequestKey] = []
            try store.forEachRecord(job.id) { key, record in
                #expect(record == sampleRecord(key), "record \(key) read back differently")
                inserted.append(key)
            }
            #expect(inserted == keys)
            var sorted: [RequestKey] = []
            try store.forEachRecord(job.id, order: .key) { key, _ in sorted.append(key) }
            #expect(sorted == keys.sorted())
            #expect(try store.recordCount(job.id) == 1000)
        }
    }

    @Test("a garbage spec blob gives a clear error naming the job, and the rest of the store still works")
    func garbageSpec() throws {
        try withTemporaryDirectory { dir in
            let store = try JobStore(dataDirectory: dir)
            let job = try store.createJob(spec: loopbackSpec(urls: 2))
            let sabotage = try SQLiteDatabase(path: store.databasePath)
            try sabotage.run("UPDATE job_specs SET spec = ? WHERE job = 1", .blob(Array("{\"urls\": 12".utf8)))
            sabotage.close()

            let error = try #require(throws: JobStoreError.self) { try store.spec(job.id) }
            #expect(error.kind == .corruptJob)
            #expect(error.jobID == job.id)
            #expect(error.message.contains(job.id))
            #expect(error.message.contains("not a valid job spec"))
            #expect(try store.unfinishedJobs().map(\.id) == [job.id])
        }
    }
}
