import ArachneTestSupport
import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneEventLoop
import ArachneProtocol
import ArachneSite
import ArachneStore
import Foundation
import Testing

// Support for the long-running coordinator's tests: real `arachne coordinator` processes on a temporary data dir,
// the real CLI, a demo site on loopback. Every wait is bounded; only pids these helpers started are signalled.

/// Something a test waited for did not happen in time.
struct ServiceTestTimeout: Error, CustomStringConvertible {
    var description: String
}

/// A demo site on its own loop, for one test.
final class ServiceSite: @unchecked Sendable {
    // Safety: immutable after init; DemoSite is thread-safe for `requestsServed` and `stop`.
    let loop: EventLoop
    let site: DemoSite

    init() throws {
        loop = try EventLoop(name: "svc-test-site")
        site = try DemoSite.start(on: loop)
    }

    func urls(_ count: Int, path: String, tag: String) -> [String] {
        (0..<count).map { "\(site.baseURL)\(path)?\(tag)=\($0)" }
    }

    var served: Int { site.requestsServed }

    func stop() {
        site.stop()
        loop.shutdown()
    }
}

/// Runs `body` with the demo site, a fresh data directory and a coordinator on it, then stops the coordinator
/// (SIGTERM, then SIGKILL for anything left) whether `body` threw or not, and removes the directory.
func withServiceCoordinator(
    workers: Int = 2, concurrency: Int = 4, extra: [String] = [],
    _ body: (ServiceSite, String, CoordinatorProcess) async throws -> Void
) async throws {
    let site = try ServiceSite()
    defer { site.stop() }
    let data = serviceDataDirectory()
    defer { removeServiceDataDirectory(data) }
    let coordinator = try await CoordinatorProcess(
        dataDirectory: data, workers: workers, concurrency: concurrency, extra: extra)
    do {
        try await body(site, data, coordinator)
    } catch {
        await coordinator.stop()
        throw error
    }
    await coordinator.stop()
}

/// A short temporary data directory (ipc socket paths must stay under 108 bytes).
func serviceDataDirectory() -> String {
    let path = "/tmp/arachne-svc-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Removes a test's data dir and the coordinator log beside it.
func removeServiceDataDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
    try? FileManager.default.removeItem(atPath: path + "-coordinator.log")
}

/// A running `arachne coordinator` process.
final class CoordinatorProcess: @unchecked Sendable {
    // Safety: `process` is used from the test's task only; Process itself is thread-safe for these calls.
    let dataDirectory: String
    let process: Process
    let logPath: String
    /// Where and how its control socket is reached (default: the data dir's ipc socket, no keys).
    let control: String?
    let controlKeys: PeerKeys?

    /// Starts a coordinator with quick heartbeats (a lost worker is noticed within a second) and waits until it is
    /// ready: its control socket answers and it has logged "ready" (queries are answered while unfinished jobs are
    /// being resumed, so an answer alone does not mean the resume is over). A `control` endpoint is passed on as
    /// `--control`.
    init(dataDirectory: String, workers: Int = 2, concurrency: Int = 4, extra: [String] = [],
         control: String? = nil, controlKeys: PeerKeys? = nil) async throws
    {
        self.dataDirectory = dataDirectory
        self.control = control
        self.controlKeys = controlKeys
        // Beside the data dir, not in it: workers inherit the coordinator's stderr, and tests compare the dir's files.
        logPath = dataDirectory + "-coordinator.log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process = Process()
        process.executableURL = ArachneBinary.url
        process.arguments = [
            "coordinator", "--data-dir", dataDirectory, "--workers", String(workers), "--concurrency",
            String(concurrency), "--heartbeat-ms", "100", "--lease-timeout-ms", "1000", "--drain-grace", "2",
        ] + (control.map { ["--control", $0] } ?? []) + extra
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
        try await waitUntilAnswering()
    }

    var pid: Int32 { process.processIdentifier }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func client(timeout: Double = 3) throws -> ControlClient {
        try ControlClient(
            endpoint: control ?? CoordinatorDefaults.controlEndpoint(dataDirectory: dataDirectory, environment: [:]),
            timeout: timeout, keys: controlKeys)
    }

    private func waitUntilAnswering() async throws {
        let deadline = Date().addingTimeInterval(15)
        let client = try client(timeout: 1)
        while Date() < deadline {
            guard process.isRunning else {
                throw ServiceTestTimeout(description: "coordinator exited at start: \(log)")
            }
            if case .status? = try? await client.send(.status(job: nil)), log.contains("ready (pid \(pid))") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServiceTestTimeout(description: "coordinator did not answer within 15 s: \(log)")
    }

    /// The worker processes it spawned (its direct children).
    var workers: [Int32] { childProcesses(of: pid) }

    func signal(_ number: Int32) {
        if process.isRunning { kill(pid, number) }
    }

    /// Waits for the process to exit; its status, or nil (and SIGKILL) after `timeout`.
    func waitForExit(timeout: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops it (SIGTERM, then SIGKILL) and kills any worker still alive: for test clean-up.
    func stop() async {
        let children = workers
        signal(SIGTERM)
        _ = await waitForExit(timeout: 8)
        for child in children where processIsAlive(child) { kill(child, SIGKILL) }
    }

    /// One job's status over the control socket.
    func status(_ job: String) async throws -> JobStatus {
        let reply = try await client().send(.status(job: job))
        guard case .status(let jobs) = reply, jobs.count == 1 else {
            throw ServiceTestTimeout(description: "status of \(job): unexpected reply \(reply)")
        }
        return jobs[0]
    }

    /// Polls `job` until `predicate` holds, within `timeout` seconds; returns the last status.
    @discardableResult
    func waitFor(_ job: String, timeout: Double = 15, pollMs: Int = 50, _ predicate: (JobStatus) -> Bool)
        async throws -> JobStatus
    {
        let deadline = Date().addingTimeInterval(timeout)
        var last: JobStatus?
        while Date() < deadline {
            if let status = try? await status(job) {
                last = status
                if predicate(status) { return status }
            }
            try await Task.sleep(for: .milliseconds(pollMs))
        }
        throw ServiceTestTimeout(
            description: "job \(job) did not get there within \(timeout) s; last status \(String(describing: last))"
                + "\ncoordinator log:\n\(log.suffix(3000))")
    }

    func submit(_ spec: JobSpec) async throws -> String {
        let reply = try await client().send(.submit(spec))
        guard case .submitted(let job) = reply else {
            throw ServiceTestTimeout(description: "submit: unexpected reply \(reply)")
        }
        return job
    }
}

/// True while the process exists and is not a zombie (an exited child not yet reaped still has a /proc entry).
func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// Waits until none of `pids` is alive; false after `timeout`.
func waitUntilGone(_ pids: [Int32], timeout: Double) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if !pids.contains(where: processIsAlive) { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return !pids.contains(where: processIsAlive)
}

/// Files a process has open under `directory` (from /proc/PID/fd).
func openFiles(of pid: Int32, under directory: String) -> [String] {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
    return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
        .filter { $0 == directory || $0.hasPrefix(directory + "/") }
}

/// Runs the CLI to completion (bounded); exit status, stdout, stderr. `ARACHNE_CONTROL` from the test's own
/// environment is dropped so the data dir decides where the coordinator is.
func runCLI(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 20) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    var merged = ProcessInfo.processInfo.environment
    merged.removeValue(forKey: "ARACHNE_CONTROL")
    for (key, value) in environment { merged[key] = value }
    return try runArachne(arguments, timeout: timeout, stdin: "", environment: merged)
}

/// Parses records.ndjson and checks every key of the job has exactly one record, with its own URL index.
@discardableResult
func expectOneRecordPerKey(
    _ directory: String, urls: [String], repeatCount: Int, sourceLocation: SourceLocation = #_sourceLocation
) throws -> [FetchRecord] {
    let records = try RecordsReader.readAll(path: directory + "/" + RecordsWriter.fileName)
    expectOneRecordPerKey(records, urls: urls, repeatCount: repeatCount, sourceLocation: sourceLocation)
    return records
}

/// What the job store in `dataDirectory` says about a job (the coordinator must not be running, or be idle).
struct StoredJob {
    var integrity: [String]
    var row: JobRow?
    var records: Int
}

func readStore(_ dataDirectory: String, job: String) throws -> StoredJob {
    let store = try JobStore(dataDirectory: dataDirectory)
    defer { store.close() }
    let row = try store.job(job)
    return StoredJob(integrity: try store.integrityCheck(), row: row,
                     records: row == nil ? 0 : try store.recordCount(job))
}

/// Sizes of the files in a directory tree, to tell whether anything wrote there.
func fileSizes(under directory: String) -> [String: Int64] {
    var sizes: [String: Int64] = [:]
    guard let walker = FileManager.default.enumerator(atPath: directory) else { return sizes }
    while let path = walker.nextObject() as? String {
        let full = directory + "/" + path
        if let size = (try? FileManager.default.attributesOfItem(atPath: full))?[.size] as? NSNumber {
            sizes[path] = size.int64Value
        }
    }
    return sizes
}

@Suite("Coordinator service support")
struct CoordinatorServiceSupportTests {
    @Test("the test binary is found next to the test bundle")
    func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: ArachneBinary.url.path), "\(ArachneBinary.url.path)")
    }
}
