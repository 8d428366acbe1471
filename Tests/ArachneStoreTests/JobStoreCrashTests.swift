import ArachneCore
import Foundation
import Testing

@testable import ArachneStore

/// Kills a writer with SIGKILL in the middle of its work and checks what the store holds afterwards. The writer is a
/// separate process (python3's sqlite3 module on the same libsqlite3), so the kill is a real crash, not a simulation.
@Suite("JobStore crash safety")
struct JobStoreCrashTests {
    static let batchSize = 100
    static let maxBatches = 100
    static let killInBatch = 30

    /// Appends batches of rows to the job in the `records` table, one transaction per batch, printing each batch's
    /// number once its COMMIT has returned. Half-way through batch `kill_in` it prints "inside" and sleeps so the
    /// test can kill it there, inside an open transaction. A tiny page cache makes SQLite write that transaction's
    /// pages to the WAL before it commits, so recovery has uncommitted frames to discard. Bounded: without a kill
    /// it finishes after `max_batches`.
    static let writer = """
        import sqlite3, sys, time
        path, job_id, batch_size, max_batches, kill_in = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
        db = sqlite3.connect(path, isolation_level=None, timeout=5)
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA cache_size = 2")
        (job,) = db.execute("SELECT seq FROM jobs WHERE id = ?", (job_id,)).fetchone()
        insert = "INSERT INTO records VALUES (" + ", ".join(["?"] * 26) + ")"
        def row(i):
            url = "http://127.0.0.1:8080/page/%d" % i
            return (job, i, 0, url, "py-writer", 1, 200, i * 3, url, 0, i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6,
                    None, None, "bodies-00001.warc.gz", i * 100, 99, "sha1:D%d" % i, 0, 1764000000.5 + i, None)
        for batch in range(max_batches):
            first, half, end = batch * batch_size, batch * batch_size + batch_size // 2, (batch + 1) * batch_size
            db.execute("BEGIN IMMEDIATE")
            db.executemany(insert, [row(i) for i in range(first, half)])
            if batch == kill_in:
                print("inside", flush=True)
                time.sleep(30)
            db.executemany(insert, [row(i) for i in range(half, end)])
            db.execute("COMMIT")
            print(batch, flush=True)
        """

    /// The record the writer stores for key (i, 0).
    static func writtenRecord(_ i: Int) -> FetchRecord {
        let url = "http://127.0.0.1:8080/page/\(i)"
        let n = Int64(i)
        return FetchRecord(
            url: url, urlIndex: i, repetition: 0, worker: "py-writer", attempts: 1, status: 200, bytes: n * 3,
            finalURL: url, redirects: 0,
            timings: PhaseTimings(
                queue: n, namelookup: n + 1, connect: n + 2, appconnect: n + 3, pretransfer: n + 4,
                starttransfer: n + 5, total: n + 6),
            error: nil,
            body: BodyReference(
                file: "bodies-00001.warc.gz", offset: n * 100, length: 99, digest: "sha1:D\(i)", truncated: false),
            finishedAt: 1_764_000_000.5 + Double(i))
    }

    @Test("a writer SIGKILLed mid-way leaves a sound database with every committed batch whole")
    func sigkillMidWrite() throws {
        try withTemporaryDirectory { dir in
            let total = Self.batchSize * Self.maxBatches
            let jobID: String
            do {
                let store = try JobStore(dataDirectory: dir)
                jobID = try store.createJob(spec: loopbackSpec(urls: total)).id
                store.close()
            }
            let script = dir + "/writer.py"
            try Self.writer.write(toFile: script, atomically: true, encoding: .utf8)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", script, dir + "/" + JobStore.fileName, jobID, String(Self.batchSize),
                String(Self.maxBatches), String(Self.killInBatch),
            ]
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()

            // Read committed batch numbers until the writer is inside its open transaction, then kill it there.
            var lines: [String] = []
            var pending: [UInt8] = []
            func takeLines() {
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
            while lines.last != "inside" {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }  // the writer exited on its own: reported below
                pending += chunk
                takeLines()
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)

            try #require(
                process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
                "the writer was not killed mid-way (exit \(process.terminationStatus)): \(stderr)")
            try #require(lines.last == "inside", "the writer stopped before its last batch: \(stderr)")
            #expect(Array(lines.dropLast()) == (0..<Self.killInBatch).map(String.init), "each earlier batch committed")
            let committed = Self.killInBatch * Self.batchSize

            let store = try JobStore(dataDirectory: dir)
            #expect(try store.integrityCheck() == ["ok"])
            let stored = try store.recordCount(jobID)
            #expect(stored == committed, "committed batches lost, or part of the open one kept: \(stored) rows")

            var next = 0
            try store.forEachRecord(jobID) { key, record in
                #expect(key == RequestKey(urlIndex: next, repetition: 0))
                #expect(record == Self.writtenRecord(next), "row \(next) damaged")
                next += 1
            }
            #expect(next == stored)
            #expect(try store.completedKeys(jobID).count == stored)

            // The recovered store takes new writes.
            let key = RequestKey(urlIndex: total - 1, repetition: 0)
            #expect(try store.appendRecords(jobID, [(key, Self.writtenRecord(total - 1))]) == 1)
            #expect(try store.recordCount(jobID) == stored + 1)
        }
    }
}
