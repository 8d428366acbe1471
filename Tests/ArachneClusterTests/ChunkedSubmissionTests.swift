import ArachneTestSupport
import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneProtocol
import ArachneStore
import Foundation
import Synchronization
import Testing

/// Chunked submission against real `arachne coordinator` processes: URL lists streamed in acknowledged chunks, the
/// control socket answering between them, retries that never make a second job, and no half job after a client or
/// the coordinator is killed mid-way.
@Suite("Chunked submission", .serialized)
struct ChunkedSubmissionTests {
    /// Every record of the job, by URL: each URL of `urls` exactly once, nothing else.
    func expectEachURLOnce(_ directory: String, _ urls: [String], sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let records = try RecordsReader.readAll(path: directory + "/" + RecordsWriter.fileName)
        #expect(records.count == urls.count, "records in \(directory)", sourceLocation: sourceLocation)
        var seen: [String: Int] = [:]
        for record in records { seen[record.url, default: 0] += 1 }
        #expect(seen.count == urls.count && urls.allSatisfy { seen[$0] == 1 },
                "URLs with no record or several: \(urls.filter { seen[$0] != 1 }.prefix(5))",
                sourceLocation: sourceLocation)
    }

    func submissionState(_ reply: ControlReply) throws -> SubmissionState {
        guard case .submission(let state) = reply else {
            throw ServiceTestTimeout(description: "expected a submission reply, got \(reply)")
        }
        return state
    }

    @Test("200,000 URLs in 20 acknowledged chunks, a status answered between chunks; every key's URL is the one sent")
    func twoHundredThousandURLs() async throws {
        try await withServiceCoordinator(workers: 2, concurrency: 16) { site, data, coordinator in
            let urls = site.urls(200_000, path: "/page/3", tag: "c")
            let client = try coordinator.client(timeout: 10)
            let other = try coordinator.client()
            let submission = "s-test-200k"
            let spec = JobSpec(urls: [], repeatCount: 1, concurrency: 16)
            let begun = try submissionState(try await client.send(.submitBegin(submission: submission, spec: spec)))
            #expect(begun == SubmissionState(submission: submission, chunks: 0, count: 0))
            for seq in 0..<20 {
                let chunk = Array(urls[(seq * 10_000)..<((seq + 1) * 10_000)])
                let ack = try submissionState(
                    try await client.send(.submitChunk(submission: submission, seq: seq, urls: chunk)))
                #expect(ack.chunks == seq + 1 && ack.count == (seq + 1) * 10_000 && ack.job == nil)
                // The control socket answers between chunks, and no job exists before the end.
                guard case .status(let jobs) = try await other.send(.status(job: nil)) else {
                    Issue.record("no status between chunks")
                    return
                }
                #expect(jobs.isEmpty, "a job exists before its submission ended: \(jobs.map(\.id))")
            }
            let reply = try await client.send(.submitEnd(submission: submission, chunks: 20, count: 200_000))
            guard case .submitted(let job) = reply else {
                Issue.record("end of submission answered \(reply)")
                return
            }
            // Let a few thousand run, then cancel: the cancelled keys' records still carry their URLs, which are
            // read from the store window by window, so every key's URL is checked.
            try await coordinator.waitFor(job, timeout: 30) { $0.done >= 2_000 }
            _ = try await client.send(.cancel(job: job))
            let final = try await coordinator.waitFor(job, timeout: 60) { $0.state == .cancelled }
            #expect(final.total == 200_000 && final.done == 200_000)
            try expectEachURLOnce("\(data)/jobs/\(job)", urls)
        }
    }

    @Test("status answers while the writer thread is stuck behind a lock on the store, mid-way through a large job")
    func statusDoesNotWaitOnTheWriter() async throws {
        try await withServiceCoordinator(workers: 2, concurrency: 16) { site, data, coordinator in
            let urls = site.urls(60_000, path: "/page/2", tag: "w")
            let client = try coordinator.client(timeout: 10)
            let id = "s-test-writer-blocked"
            _ = try await client.send(.submitBegin(submission: id, spec: JobSpec(urls: [], repeatCount: 1,
                                                                                  concurrency: 16)))
            for seq in 0..<6 {
                _ = try await client.send(.submitChunk(submission: id, seq: seq,
                                                       urls: Array(urls[(seq * 10_000)..<((seq + 1) * 10_000)])))
            }
            guard case .submitted(let job) = try await client.send(.submitEnd(submission: id, chunks: 6,
                                                                               count: 60_000))
            else {
                Issue.record("the submission did not end in a job")
                return
            }
            try await coordinator.waitFor(job, timeout: 30) { $0.done >= 1_000 }
            // Another connection takes the store's write lock: the coordinator's writer thread, writing the job's
            // records, now waits on it (its busy timeout is 5 s; the lock is let go well before). `status` — of the
            // live job and of every job — must still answer: it never reads behind the writer.
            let blocker = try SQLiteDatabase(path: "\(data)/\(JobStore.fileName)", busyTimeoutMilliseconds: 10_000)
            try blocker.execute("BEGIN IMMEDIATE")
            let probe = try coordinator.client(timeout: 3)
            var answered = 0
            for _ in 0..<5 {
                guard case .status(let one) = try await probe.send(.status(job: job)), one.first?.id == job,
                    case .status(let all) = try await probe.send(.status(job: nil)), all.contains(where: { $0.id == job })
                else {
                    Issue.record("status did not answer while the writer was held")
                    break
                }
                answered += 1
            }
            try blocker.execute("ROLLBACK")
            blocker.close()
            #expect(answered == 5)
            let final = try await coordinator.waitFor(job, timeout: 120) { $0.state == .completed }
            #expect(final.done == 60_000 && final.failed == 0)
            try expectEachURLOnce("\(data)/jobs/\(job)", urls)
        }
    }

    @Test("a retried begin, chunk or end with the same submission id never makes a second job")
    func retriesAreIdempotent() async throws {
        try await withServiceCoordinator { site, data, coordinator in
            let urls = site.urls(30, path: "/page/1", tag: "r")
            let client = try coordinator.client()
            let id = "s-test-retry"
            let spec = JobSpec(urls: [], repeatCount: 2, concurrency: 4)
            _ = try await client.send(.submitBegin(submission: id, spec: spec))
            _ = try await client.send(.submitChunk(submission: id, seq: 0, urls: Array(urls[0..<20])))
            // The same chunk again (its acknowledgement was lost, say): acknowledged, not stored twice.
            let again = try submissionState(
                try await client.send(.submitChunk(submission: id, seq: 0, urls: Array(urls[0..<20]))))
            #expect(again.chunks == 1 && again.count == 20)
            // A chunk from the future is not stored: the answer says where the submission stands.
            let skipped = try await client.send(.submitChunk(submission: id, seq: 5, urls: ["http://127.0.0.1/x"]))
            #expect(skipped == .submission(SubmissionState(submission: id, chunks: 1, count: 20)))
            _ = try await client.send(.submitChunk(submission: id, seq: 1, urls: Array(urls[20...])))
            guard case .submitted(let job) = try await client.send(.submitEnd(submission: id, chunks: 2, count: 30))
            else {
                Issue.record("no job")
                return
            }
            // A retried end, a retried begin and a whole retried upload all name the first job.
            #expect(try await client.send(.submitEnd(submission: id, chunks: 2, count: 30)) == .submitted(job: job))
            #expect(try submissionState(try await client.send(.submitBegin(submission: id, spec: spec))).job == job)
            var remaining = urls[...]
            let uploaded = try await SubmissionUploader(submission: id, spec: spec).upload(with: client) {
                remaining.popFirst()
            }
            #expect(uploaded == job)
            // The same id for other options is refused.
            let other = JobSpec(urls: [], repeatCount: 3, concurrency: 4)
            guard case .error(let reused) = try await client.send(.submitBegin(submission: id, spec: other)) else {
                Issue.record("an id reused for another spec was accepted")
                return
            }
            #expect(reused.contains("already used"))
            let done = try await coordinator.waitFor(job, timeout: 20) { $0.state == .completed }
            #expect(done.total == 60 && done.done == 60)
            guard case .status(let jobs) = try await client.send(.status(job: nil)) else { return }
            #expect(jobs.map(\.id) == [job])
            try expectOneRecordPerKey("\(data)/jobs/\(job)", urls: urls, repeatCount: 2)
        }
    }

    @Test("a client SIGKILLed mid-submission leaves no job; run again with its id, it resumes and the job runs once")
    func clientKilledMidSubmission() async throws {
        try await withServiceCoordinator(workers: 2, concurrency: 16) { site, data, coordinator in
            let urls = site.urls(14_000, path: "/page/2", tag: "k")
            let file = data + "-urls.txt"
            defer { try? FileManager.default.removeItem(atPath: file) }
            try (urls.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let id = "s-test-killed-client"
            // The client reads standard input from a pipe we hold open: it sends one chunk, then waits for more.
            let input = Pipe()
            let client = Process()
            client.executableURL = ArachneBinary.url
            client.arguments = ["submit", "--data-dir", data, "--url-file", "-", "--submission-id", id]
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "ARACHNE_CONTROL")
            client.environment = environment
            client.standardInput = input
            client.standardOutput = FileHandle.nullDevice
            client.standardError = FileHandle.nullDevice
            try client.run()
            input.fileHandleForWriting.write(Data((urls[0..<12_000].joined(separator: "\n") + "\n").utf8))
            let control = try coordinator.client()
            // Wait until the coordinator holds the first chunk (asking the store, read-only, after each try).
            let deadline = Date().addingTimeInterval(15)
            var held = 0
            while Date() < deadline, held < 1 {
                try await Task.sleep(for: .milliseconds(50))
                let store = try JobStore(dataDirectory: data)
                held = try store.submission(id)?.chunks ?? 0
                store.close()
            }
            try #require(held == 1, "the coordinator never held the first chunk")
            kill(client.processIdentifier, SIGKILL)
            client.waitUntilExit()
            try? input.fileHandleForWriting.close()
            guard case .status(let before) = try await control.send(.status(job: nil)) else { return }
            #expect(before.isEmpty, "a half submission became a job: \(before.map(\.id))")

            let rerun = try runCLI(["submit", "--data-dir", data, "--url-file", file, "--submission-id", id])
            #expect(rerun.status == 0, "\(rerun.stderr)")
            let job = rerun.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let done = try await coordinator.waitFor(job, timeout: 60) { $0.state == .completed }
            #expect(done.done == 14_000)
            try expectEachURLOnce("\(data)/jobs/\(job)", urls)
            guard case .status(let after) = try await control.send(.status(job: nil)) else { return }
            #expect(after.map(\.id) == [job])
        }
    }

    @Test("the coordinator SIGKILLed mid-submission: no half job; restarted, the client's retry resumes it")
    func coordinatorKilledMidSubmission() async throws {
        let site = try ServiceSite()
        defer { site.stop() }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let urls = site.urls(24_000, path: "/page/4", tag: "s")
        let first = try await CoordinatorProcess(dataDirectory: data, workers: 2, concurrency: 16)
        let firstWorkers = first.workers
        let client = try first.client(timeout: 2)
        var setup = SubmissionUploader(submission: "s-test-killed-coordinator",
                                       spec: JobSpec(urls: [], repeatCount: 1, concurrency: 16))
        setup.patience = 60
        let uploader = setup
        let killAt = 15_000
        let killed = ManagedFlag()
        let upload = Task {
            var index = 0
            return try await uploader.upload(with: client) {
                guard index < urls.count else { return nil }
                if index == killAt {
                    // The first chunk is sent, the second is being read: the coordinator dies here.
                    first.signal(SIGKILL)
                    killed.set()
                }
                index += 1
                return urls[index - 1]
            }
        }
        while !killed.isSet { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await first.waitForExit(timeout: 5) != nil)
        #expect(await waitUntilGone(firstWorkers, timeout: 5))
        let stored = try JobStore(dataDirectory: data)
        #expect(try stored.jobs().isEmpty, "a job exists before its submission ended")
        #expect(try stored.integrityCheck() == ["ok"])
        stored.close()

        let second = try await CoordinatorProcess(dataDirectory: data, workers: 2, concurrency: 16)
        do {
            let job = try await upload.value
            let done = try await second.waitFor(job, timeout: 60) { $0.state == .completed }
            #expect(done.done == urls.count)
            try expectEachURLOnce("\(data)/jobs/\(job)", urls)
            guard case .status(let jobs) = try await second.client().send(.status(job: nil)) else { return }
            #expect(jobs.map(\.id) == [job])
        } catch {
            upload.cancel()
            await second.stop()
            throw error
        }
        await second.stop()
    }

    @Test("submit --url-file - streams standard input; bad lines are reported by number")
    func standardInput() async throws {
        try await withServiceCoordinator { site, data, coordinator in
            let urls = site.urls(12, path: "/page/5", tag: "i")
            let text = "# a comment\n" + urls[0..<6].joined(separator: "\n") + "\nnot a url\n\n"
                + urls[6...].joined(separator: "\n") + "\n"
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "ARACHNE_CONTROL")
            let result = try runArachne(["submit", "--data-dir", data, "--url-file", "-", "--wait"], timeout: 30,
                                        stdin: text, environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("<stdin>:8: URL contains white space: not a url"), "\(result.stderr)")
            let job = try #require(result.stdout.split(separator: "\n").first.map(String.init))
            let status = try await coordinator.status(job)
            #expect(status.state == .completed && status.done == 12)
            try expectEachURLOnce("\(data)/jobs/\(job)", urls)
        }
    }
}

/// A flag set from a synchronous closure and read from a test's task.
final class ManagedFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
