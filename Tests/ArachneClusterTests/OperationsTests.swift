import ArachneTestSupport
import ArachneCluster
import ArachneCore
import ArachneProtocol
import ArachneStore
import Foundation
import Testing

// Operating a long-running coordinator: seeing its workers (`arachne workers`, the join/leave log) and removing
// finished jobs (`arachne jobs rm`, `arachne jobs prune`). Real processes on a temporary data dir.

@Suite("Operating a coordinator", .serialized)
struct OperationsTests {
    /// `arachne workers --json`, decoded.
    private func workers(_ data: String) throws -> [WorkerStatus] {
        let listed = try runCLI(["workers", "--json", "--data-dir", data])
        guard listed.status == 0 else {
            throw ServiceTestTimeout(description: "arachne workers failed (\(listed.status)): \(listed.stderr)")
        }
        return try JSONDecoder().decode([WorkerStatus].self, from: Data(listed.stdout.utf8))
    }

    private func waitForWorkers(_ data: String, timeout: Double = 15, _ predicate: ([WorkerStatus]) -> Bool)
        async throws -> [WorkerStatus]
    {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [WorkerStatus] = []
        while Date() < deadline {
            if let listed = try? workers(data) {
                last = listed
                if predicate(listed) { return listed }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServiceTestTimeout(description: "workers never matched; last \(last)")
    }

    private func waitForLog(_ coordinator: CoordinatorProcess, _ text: String, after: String? = nil,
                            timeout: Double = 10) async throws {
        try await waitForLog(coordinator.logPath, text, after: after, timeout: timeout)
    }

    /// Waits for a line of `path` holding `text`, and starting with `after` when given (after a `NAME: ` prefix).
    private func waitForLog(_ path: String, _ text: String, after: String? = nil, timeout: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var log = ""
        while Date() < deadline {
            log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if log.split(separator: "\n").contains(where: { line in
                guard let range = line.range(of: text) else { return false }
                guard let after else { return true }
                return line[..<range.lowerBound].contains(": " + after)
            }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServiceTestTimeout(description: "\(path) never said '\(text)':\n\(log.suffix(3000))")
    }

    @Test("arachne workers lists each worker's id, host, pid, capacity, in flight, done, last heartbeat and state")
    func workersListing() async throws {
        try await withServiceCoordinator(workers: 2, concurrency: 4) { site, data, coordinator in
            let listed = try await waitForWorkers(data) { $0.count == 2 }
            let pids = Set(coordinator.workers.map(Int.init))
            #expect(Set(listed.map(\.pid)) == pids, "workers \(listed) against children \(pids)")
            for worker in listed {
                #expect(worker.capacity == 4)
                #expect(!worker.host.isEmpty)
                #expect(worker.endpoint.hasPrefix("ipc://") && worker.endpoint.contains("/local-"))
                #expect(worker.state == .idle && worker.inFlight == 0 && worker.done == 0)
                #expect(abs(worker.lastHeartbeat - Date().timeIntervalSince1970) < 5)
            }

            // While a slow job runs, its requests are in flight on the workers.
            let slow = site.urls(40, path: "/delay/200", tag: "w")
            let job = try await coordinator.submit(JobSpec(urls: slow, repeatCount: 1, concurrency: 64))
            let busy = try await waitForWorkers(data) { $0.reduce(0) { $0 + $1.inFlight } > 0 }
            #expect(busy.contains { $0.state == .busy && $0.inFlight > 0 && $0.inFlight <= 4 * 4 })
            try await coordinator.waitFor(job, timeout: 30) { $0.state == .completed }
            let done = try await waitForWorkers(data) { $0.reduce(0) { $0 + $1.done } == 40 }
            #expect(done.allSatisfy { $0.state == .idle && $0.inFlight == 0 })

            // The table names the columns and each worker.
            let table = try runCLI(["workers", "--data-dir", data])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.hasPrefix("ID  "))
            for column in ["HOST", "PID", "CAPACITY", "IN FLIGHT", "DONE", "LAST HEARD", "STATE", "ENDPOINT"] {
                #expect(table.stdout.contains(column))
            }
            for worker in done { #expect(table.stdout.contains(worker.id) && table.stdout.contains("\(worker.pid)")) }
        }
    }

    @Test("the coordinator logs workers joining and leaving; a worker logs connecting, losing it, stopping")
    func joinAndLeaveLog() async throws {
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let coordinator = try await CoordinatorProcess(dataDirectory: data, workers: 1, concurrency: 3)
        let remoteLog = data + "-remote.log"
        defer { try? FileManager.default.removeItem(atPath: remoteLog) }
        var remote: Process?
        defer { if let remote, remote.isRunning { kill(remote.processIdentifier, SIGKILL) } }
        do {
            let local = try await waitForWorkers(data) { $0.count == 1 }[0]
            try await waitForLog(coordinator, "worker joined: \(local.id) (host \(local.host), pid \(local.pid), "
                + "capacity 3, endpoint \(local.endpoint))")
            try await waitForLog(coordinator, "arachne worker \(local.id): connected to \(local.endpoint)")

            // A worker of its own on the shared socket, with a log of its own.
            let process = Process()
            process.executableURL = ArachneBinary.url
            process.arguments = ["worker", "--connect", "ipc://\(data)/workers.sock", "--concurrency", "5", "--id",
                                 "ops-remote"]
            _ = FileManager.default.createFile(atPath: remoteLog, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: remoteLog))
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try? handle.close()
            remote = process
            try await waitForLog(coordinator, "worker joined: ops-remote (host ")
            try await waitForLog(
                coordinator, "pid \(process.processIdentifier), capacity 5, endpoint ipc://\(data)/workers.sock)")
            try await waitForLog(remoteLog, "arachne worker ops-remote: connected to ipc://\(data)/workers.sock")

            // The local worker killed: it leaves (replaced by its restart under the same id, or declared lost
            // first), named with its pid; its replacement joins.
            kill(Int32(local.pid), SIGKILL)
            try await waitForLog(
                coordinator, ": \(local.id) (host \(local.host), pid \(local.pid), capacity 3", after: "worker l")
            _ = try await waitForWorkers(data) { $0.count == 2 && !$0.contains { $0.pid == local.pid } }

            // The coordinator killed: the remote worker notices it is gone and says so; the local one stops.
            coordinator.signal(SIGKILL)
            _ = await coordinator.waitForExit(timeout: 5)
            try await waitForLog(
                remoteLog, "arachne worker ops-remote: lost the coordinator at ipc://\(data)/workers.sock")
            try await waitForLog(coordinator, "arachne worker local-")
            try await waitForLog(coordinator, ": lost the coordinator at ")
            try await waitForLog(coordinator, ": stopping: ")
        } catch {
            await coordinator.stop()
            throw error
        }
        await coordinator.stop()
    }

    @Test("a worker that says goodbye is logged as leaving")
    func goodbyeLog() async throws {
        try await withServiceCoordinator(workers: 1, concurrency: 2) { _, data, coordinator in
            let process = Process()
            process.executableURL = ArachneBinary.url
            // SIGTERM: the worker stops gracefully and says goodbye.
            process.arguments = ["worker", "--connect", "ipc://\(data)/workers.sock", "--id", "ops-leaving"]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            _ = try await waitForWorkers(data) { $0.contains { $0.id == "ops-leaving" } }
            kill(process.processIdentifier, SIGTERM)
            try await waitForLog(coordinator, "worker left: ops-leaving (host ")
        }
    }

    @Test("jobs rm removes finished jobs and their directories and refuses running ones; prune by age")
    func removeAndPrune() async throws {
        try await withServiceCoordinator(workers: 2, concurrency: 4) { site, data, coordinator in
            let first = try await coordinator.submit(JobSpec(urls: site.urls(20, path: "/", tag: "a")))
            let second = try await coordinator.submit(JobSpec(urls: site.urls(10, path: "/", tag: "b")))
            for job in [first, second] { try await coordinator.waitFor(job) { $0.state == .completed } }
            let slow = try await coordinator.submit(JobSpec(urls: site.urls(400, path: "/delay/100", tag: "s")))
            try await coordinator.waitFor(slow) { $0.state == .running && $0.done > 0 }
            #expect(FileManager.default.fileExists(atPath: "\(data)/jobs/\(first)/report.json"))

            // One finished, one running, one unknown: the finished one goes, the others are named.
            let rm = try runCLI(["jobs", "rm", "--data-dir", data, first, slow, "j-00000000-0404"])
            #expect(rm.status == 1)
            #expect(rm.stdout == "removed \(first)\n")
            #expect(rm.stderr.contains("job \(slow) is running"), "\(rm.stderr)")
            #expect(rm.stderr.contains("no job 'j-00000000-0404'"), "\(rm.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(data)/jobs/\(first)"))
            #expect(FileManager.default.fileExists(atPath: "\(data)/jobs/\(slow)"))
            let gone = try await coordinator.client().send(.status(job: first))
            guard case .error(let message) = gone else { Issue.record("status of a removed job: \(gone)"); return }
            #expect(message.contains("no job '\(first)'"))
            #expect(try storeRows(data, "SELECT count(*) FROM records") == 0 + (try storeRows(
                data, "SELECT count(*) FROM records r JOIN jobs j ON r.job = j.seq WHERE j.id <> '\(first)'")))
            #expect(try storeRows(data, "SELECT count(*) FROM jobs WHERE id = '\(first)'") == 0)

            // `jobs` (the default subcommand) still lists; the removed job is not there.
            let listed = try runCLI(["jobs", "--data-dir", data])
            #expect(listed.status == 0 && listed.stdout.contains(second) && !listed.stdout.contains(first))

            // Prune: nothing finished a day ago; a running job is never pruned; 0s takes every finished one.
            let none = try runCLI(["jobs", "prune", "--older-than", "1d", "--data-dir", data])
            #expect(none.status == 0 && none.stdout.contains("no finished job older than 1d"), "\(none)")
            #expect(FileManager.default.fileExists(atPath: "\(data)/jobs/\(second)"))
            let all = try runCLI(["jobs", "prune", "--older-than", "0s", "--data-dir", data])
            #expect(all.status == 0, "\(all.stderr)")
            #expect(all.stdout == "removed \(second)\n")
            #expect(!FileManager.default.fileExists(atPath: "\(data)/jobs/\(second)"))
            #expect((try await coordinator.status(slow)).state == .running)

            let bad = try runCLI(["jobs", "prune", "--older-than", "soon", "--data-dir", data])
            #expect(bad.status == 2)
            _ = try runCLI(["cancel", "--data-dir", data, slow])
            try await coordinator.waitFor(slow) { $0.state == .cancelled }
            let last = try runCLI(["jobs", "rm", "--data-dir", data, slow])
            #expect(last.status == 0 && last.stdout == "removed \(slow)\n", "\(last)")
            #expect(try storeRows(data, "SELECT count(*) FROM records") == 0)
            #expect(try storeRows(data, "SELECT count(*) FROM jobs") == 0)
            #expect(try storeRows(data, "SELECT count(*) FROM job_specs") == 0)
        }
    }
}

/// The first column of the first row of `sql` on the data dir's store (a second connection; WAL lets it read).
private func storeRows(_ data: String, _ sql: String) throws -> Int {
    let database = try SQLiteDatabase(path: "\(data)/\(JobStore.fileName)")
    defer { database.close() }
    return try database.first(sql) { $0.int(at: 0) } ?? -1
}
