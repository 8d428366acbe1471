import ArachneTestSupport
import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneProtocol
import ArachneScheduling
import ArachneZMQ
import Foundation
import Synchronization
import Testing

@Suite(.serialized) struct ClusterRunTests {
    /// Fast failure detection for tests: heartbeats every 100 ms, a worker silent for 800 ms is lost.
    static let quickScheduling = Scheduler.Configuration(heartbeatIntervalMs: 100, leaseTimeoutMs: 800)

    /// Waits (at most 20 s) until `count` workers have a session, and expects that they do.
    static func waitForWorkers(_ count: Int, on coordinator: Coordinator) async throws {
        let deadline = Date().addingTimeInterval(20)
        while await coordinator.workerCounts().current < count && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await coordinator.workerCounts().current == count)
    }

    /// Waits (at most 20 s) for a process to leave by itself, then kills it if it has not.
    static func waitForExit(of process: Process) async throws {
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    @Test func twoWorkersFetchFiveThousandRequestsExactlyOnce() async throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let urls = (0..<50).map { site.url("/bytes/\(200 + $0)") }
        let directory = temporaryDirectory("run5000")
        let spec = JobSpec(urls: urls, repeatCount: 100, concurrency: 16)
        let report = try await ClusterRun.run(ClusterRun.Options(
            id: "t-5000", spec: spec, outputDirectory: directory, workers: 2, executable: ArachneBinary.url))
        #expect(report.summary.requests == 5000)
        #expect(report.summary.succeeded == 5000)
        #expect(report.job.state == .completed)
        #expect(Set(report.workers.map(\.id)) == ["local-1", "local-2"])
        let records = try expectExactlyOnce(directory: directory, urls: urls, repeatCount: 100)
        #expect(records.allSatisfy { $0.status == 200 && $0.bytes == Int64(200 + (urls.firstIndex(of: $0.url) ?? 0)) })
        #expect(report.bodies.count >= 1)
    }

    @Test func finalURLsAreTheRequestsOwnUnlessRedirectedWithAndWithoutBodies() async throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let urls = [site.url("/bytes/10"), site.url("/redirect/2")]
        for keepBodies in [false, true] {
            let directory = temporaryDirectory("final-url-\(keepBodies)")
            let spec = JobSpec(urls: urls, repeatCount: 3, concurrency: 4, settings: FetchSettings(keepBodies: keepBodies))
            _ = try await ClusterRun.run(ClusterRun.Options(
                id: "t-final-url", spec: spec, outputDirectory: directory, workers: 1, executable: ArachneBinary.url))
            let records = try expectExactlyOnce(directory: directory, urls: urls, repeatCount: 3)
            for record in records {
                let redirected = record.url == urls[1]
                #expect(record.finalURL == (redirected ? site.url("/redirect/0") : record.url), "\(record)")
                #expect(record.redirects == (redirected ? 2 : 0))
            }
        }
    }

    /// The same URL listed twice is two keys: worker processes fetch both, and each record names its listing with
    /// `url_index` (0-based in the job's URL list), so the two can be told apart.
    @Test func aURLListedTwiceGetsARecordPerListingToldApartByItsIndex() async throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let twice = site.url("/bytes/10")
        let urls = [twice, twice, site.url("/bytes/20")]
        let directory = temporaryDirectory("listed-twice")
        let spec = JobSpec(urls: urls, repeatCount: 2, concurrency: 4)
        let report = try await ClusterRun.run(ClusterRun.Options(
            id: "t-twice", spec: spec, outputDirectory: directory, workers: 2, executable: ArachneBinary.url))
        #expect(report.summary.requests == 6 && report.summary.succeeded == 6)
        let records = try expectExactlyOnce(directory: directory, urls: urls, repeatCount: 2)
        let keys = records.filter { $0.url == twice }
            .map { "\($0.urlIndex.map(String.init) ?? "none")#\($0.repetition)" }
        #expect(keys.sorted() == ["0#0", "0#1", "1#0", "1#1"])
        let text = try String(contentsOfFile: directory + "/records.ndjson", encoding: .utf8)
        #expect(text.contains(#"{"url":"\#(twice)","url_index":1,"repetition":1,"#))
        #expect(text.contains(#"{"url":"\#(urls[2])","url_index":2,"repetition":0,"#))
    }

    @Test func aWorkerKilledMidJobIsReplacedAndEveryKeyEndsOnce() async throws {
        let site = try SiteFixture()
        defer { site.stop() }
        // Slow responses keep the job running for a few seconds, so the kill lands mid-job.
        let urls = (0..<20).map { site.url("/delay/\(20 + $0)") }
        let directory = temporaryDirectory("kill")
        let spec = JobSpec(urls: urls, repeatCount: 30, concurrency: 8)
        let killed = Mutex<Int32?>(nil)
        let stop = StopSignal()
        let report = try await ClusterRun.run(
            ClusterRun.Options(id: "t-kill", spec: spec, outputDirectory: directory, workers: 2,
                               executable: ArachneBinary.url, scheduling: Self.quickScheduling),
            stop: stop,
            progress: { progress in
                guard progress.done > 60, killed.withLock({ $0 == nil }) else { return }
                let workers = childProcesses().filter { commandLine(of: $0).contains("worker") }
                guard let victim = workers.first else { return }
                killed.withLock { $0 = victim }
                kill(victim, SIGKILL)
            })
        #expect(killed.withLock { $0 } != nil)
        #expect(report.summary.requests == 600)
        #expect(report.job.state == .completed)
        #expect(report.summary.reassignedBatches >= 1)
        let records = try expectExactlyOnce(directory: directory, urls: urls, repeatCount: 30)
        #expect(records.filter { $0.attempts > 1 }.count >= 1)
        #expect(records.allSatisfy { $0.status == 200 })
    }

    @Test func aWorkerOfAnotherProtocolVersionIsRefusedWithBothVersionsNamed() async throws {
        let coordinator = try await Coordinator(listen: ["tcp://127.0.0.1:*"])
        defer { Task { await coordinator.shutdown() } }
        let result = try runArachne(
            ["worker", "--connect", coordinator.endpoints[0], "--protocol-version", "99", "--id", "old"], timeout: 20)
        #expect(result.status == 1)
        #expect(result.stderr.contains("99"))
        #expect(result.stderr.contains("speaks \(ProtocolVersion.current)"))
        await coordinator.shutdown()
    }

    /// The coordinator's sockets close (lingering 0) only once the workers have had their shutdown message, which
    /// their goodbye shows: a worker hears why it was stopped, and the coordinator hears it leave. Shutdown returns
    /// on the goodbye, long before its grace period ends.
    @Test func shutdownWaitsForTheWorkersGoodbyeBeforeClosingTheSockets() async throws {
        let coordinator = try await Coordinator(listen: ["tcp://127.0.0.1:*"], configuration: Self.quickScheduling)
        let events = Mutex<[String]>([])
        await coordinator.logWorkerEvents { line in events.withLock { $0.append(line) } }
        let process = Process()
        process.executableURL = ArachneBinary.url
        process.arguments = ["worker", "--connect", coordinator.endpoints[0], "--id", "real-1", "--concurrency", "2"]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        try await Self.waitForWorkers(1, on: coordinator)

        let asked = Date()
        await coordinator.shutdown(reason: "test shutdown 7f3a", grace: 30)
        #expect(Date().timeIntervalSince(asked) < 25, "shutdown waited out its grace period: no goodbye heard")
        #expect(events.withLock { $0 }.contains { $0.contains("real-1") && $0.contains("said goodbye") },
                "\(events.withLock { $0 })")
        try await Self.waitForExit(of: process)
        let said = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(said.contains("stopping: test shutdown 7f3a"), "\(said)")
    }

    /// A peer that said hello and then never answers holds a shutdown up for the grace period only.
    @Test func aSilentPeerHoldsAShutdownUpForItsGracePeriodOnly() async throws {
        let coordinator = try await Coordinator(listen: ["tcp://127.0.0.1:*"], configuration: Self.quickScheduling)
        let context = ZMQContext()
        let silent = try ZMQSocket(context: context, type: .dealer)
        defer { silent.close() }
        try silent.setRoutingID("silent-1")
        try silent.connect(coordinator.endpoints[0])
        #expect(try silent.send(WorkerMessage.hello(
            WorkerHello(workerID: "silent-1", host: "test", pid: 1, capacity: 1)).encode()))
        try await Self.waitForWorkers(1, on: coordinator)
        let asked = Date()
        await coordinator.shutdown(reason: "stopping", grace: 0.3)
        #expect(Date().timeIntervalSince(asked) >= 0.25, "shutdown did not wait for the silent peer's goodbye")
    }

    @Test func aWorkerJoiningOverTCPDoesTheJob() async throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let coordinator = try await Coordinator(listen: ["tcp://127.0.0.1:*"], configuration: Self.quickScheduling)
        let process = Process()
        process.executableURL = ArachneBinary.url
        process.arguments = ["worker", "--connect", coordinator.endpoints[0], "--id", "remote-1", "--concurrency", "8"]
        try process.run()
        let urls = (0..<10).map { site.url("/page/\($0)") }
        let directory = temporaryDirectory("tcp")
        let recorder = try JobRecorder(directory: directory, keepBodies: false)
        try await coordinator.submit(id: "t-tcp", spec: JobSpec(urls: urls, repeatCount: 10, concurrency: 8),
                                     recorder: recorder)
        let completion = await coordinator.wait(for: "t-tcp")
        try await recorder.flush()
        try await recorder.close()
        #expect(completion.outcome == .completed)
        #expect(completion.workers.map(\.id) == ["remote-1"])
        let records = try expectExactlyOnce(directory: directory, urls: urls, repeatCount: 10)
        #expect(records.allSatisfy { $0.worker == "remote-1" && $0.status == 200 })
        await coordinator.shutdown()
        // Told to shut down, the worker leaves by itself.
        try await Self.waitForExit(of: process)
        #expect(process.terminationStatus == 0)
    }
}
