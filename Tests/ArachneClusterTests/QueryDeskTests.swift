import ArachneTestSupport
@testable import ArachneCluster
import ArachneCore
import ArachneProtocol
import Dispatch
import Foundation
import Testing

/// The query desk: `status`, `jobs`, `cancel` and `report` answered on a thread of their own, with a service running
/// in this process so the test can hold the coordinator's loop and Swift's shared pool.
@Suite("Query desk", .serialized)
struct QueryDeskTests {
    @Test("status, jobs, report and cancel answer while the coordinator's loop and the shared pool are held")
    func queriesDoNotWaitOnTheLoopOrThePool() async throws {
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let service = try await CoordinatorService.start(.init(dataDirectory: data, workers: 0))
        let stop = StopSignal()
        let running = Task { await service.run(until: stop) }
        let client = try ControlClient(endpoint: service.controlEndpoint, timeout: 10)
        // No worker ever takes this job: it stays live until cancelled.
        let spec = JobSpec(urls: (0..<300).map { "http://127.0.0.1:9/\($0)" }, repeatCount: 1, concurrency: 4)
        guard case .submitted(let job) = try await client.send(.submit(spec)) else {
            Issue.record("the job was not submitted")
            return
        }

        let hold = 2.5
        let answers = Answers()
        let asked = DispatchSemaphore(value: 0)
        let asker = Thread {
            usleep(300_000)  // the loop and the pool are held by now
            let requests: [ControlRequest] = [
                .status(job: nil), .status(job: job), .report(job: job), .cancel(job: job),
            ]
            for request in requests {
                let started = Date()
                let reply = try? client.sendBlocking(request)
                answers.add(request, reply, seconds: Date().timeIntervalSince(started))
            }
            asked.signal()
        }
        // The coordinator's loop sleeps, and so does every thread of the shared pool (this test's task included,
        // once it awaits): a query that needed either would take seconds.
        service.coordinator.loop.execute { usleep(useconds_t(hold * 1_000_000)) }
        asker.start()
        for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
            Task.detached { usleep(useconds_t(hold * 1_000_000)) }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                asked.wait()
                continuation.resume()
            }
        }

        let all = answers.all
        #expect(all.count == 4)
        for (request, reply, seconds) in all {
            #expect(seconds < 1.0, "\(request) took \(seconds) s")
            switch (request, reply) {
            case (.status(nil), .status(let jobs)?): #expect(jobs.map(\.id) == [job])
            case (.status(_?), .status(let jobs)?): #expect(jobs.first?.state == .queued)
            case (.report, .report(let id, let path)?): #expect(id == job && path == "\(data)/jobs/\(job)")
            case (.cancel, .cancelled(let id)?): #expect(id == job)
            default: Issue.record("\(request) answered \(String(describing: reply))")
            }
        }
        // The cancel was taken: once the loop is free the job ends cancelled, every key with its record.
        let deadline = Date().addingTimeInterval(30)
        var state: JobStatus.State?
        while Date() < deadline {
            if case .status(let jobs) = try await client.send(.status(job: job)), let first = jobs.first {
                state = first.state
                if state == .cancelled {
                    #expect(first.done == 300 && first.cancelled == 300)
                    break
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(state == .cancelled)
        // Every job, from memory too: the desk read the final row before the job left the live board.
        if case .status(let jobs) = try await client.send(.status(job: nil)) {
            #expect(jobs.map(\.id) == [job] && jobs.first?.state == .cancelled && jobs.first?.cancelled == 300)
        } else {
            Issue.record("no status of every job")
        }
        stop.set()
        await running.value
    }
}

/// Replies and their times, from the asking thread.
private final class Answers: @unchecked Sendable {
    // Safety: guarded by `lock`.
    private let lock = NSLock()
    private var found: [(ControlRequest, ControlReply?, Double)] = []
    func add(_ request: ControlRequest, _ reply: ControlReply?, seconds: Double) {
        lock.withLock { found.append((request, reply, seconds)) }
    }
    var all: [(ControlRequest, ControlReply?, Double)] { lock.withLock { found } }
}
