import ArachneTestSupport
import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneProtocol
import ArachneReport
import Foundation
import Testing

/// The long-running coordinator end to end: real `arachne coordinator` processes with worker children, the real CLI,
/// the demo site on loopback, a temporary data dir per test.
@Suite("Long-running coordinator", .serialized)
struct CoordinatorServiceTests {
    @Test("submit --wait, status, jobs, report (running and final), cancel, unknown job, graceful stop")
    func roundTrips() async throws {
        let site = try ServiceSite()
        defer { site.stop() }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let coordinator = try await CoordinatorProcess(dataDirectory: data)
        do {
            // submit --wait: the id first, then the summary of the final report.
            let urls = (0..<20).map { "\(site.site.baseURL)/bytes/\(100 + $0)" }
            let submitted = try runCLI(["submit", "--data-dir", data, "--repeat", "5", "--wait"] + urls)
            #expect(submitted.status == 0, "\(submitted.stderr)")
            let lines = submitted.stdout.split(separator: "\n").map(String.init)
            let job = try #require(lines.first)
            #expect(job.wholeMatch(of: /j-\d{8}-\d{4}/) != nil, "job id '\(job)'")
            #expect(submitted.stdout.contains("Arachne report: job \(job) (completed)"))
            #expect(submitted.stdout.contains("report: \(data)/jobs/\(job)/report.json"))
            try expectOneRecordPerKey("\(data)/jobs/\(job)", urls: urls, repeatCount: 5)
            try expectValidReport("\(data)/jobs/\(job)/report.json")

            let status = try runCLI(["status", "--data-dir", data, job, "--json"])
            #expect(status.status == 0, "\(status.stderr)")
            let decoded = try JSONDecoder().decode(JobStatus.self, from: Data(status.stdout.utf8))
            #expect(decoded.state == .completed && decoded.done == 100 && decoded.total == 100)
            #expect(decoded.outputDir == "\(data)/jobs/\(job)")

            let jobs = try runCLI(["jobs", "--data-dir", data])
            #expect(jobs.status == 0)
            #expect(jobs.stdout.contains(job) && jobs.stdout.contains("completed") && jobs.stdout.contains("100/100"))

            // report JOB --json finds the job through $ARACHNE_DATA_DIR.
            let report = try runCLI(["report", job, "--json"], environment: ["ARACHNE_DATA_DIR": data])
            #expect(report.status == 0, "\(report.stderr)")
            let final = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
            #expect((final?["job"] as? [String: Any])?["state"] as? String == "completed")
            #expect((final?["summary"] as? [String: Any])?["requests"] as? Int == 100)

            // A slow job: its report while it runs, then cancel.
            let slow = site.urls(200, path: "/delay/40", tag: "slow")
            let slowJob = try #require(try runCLI(["submit", "--data-dir", data, "--repeat", "5"] + slow).stdout
                .split(separator: "\n").first.map(String.init))
            try await coordinator.waitFor(slowJob) { $0.done >= 20 }
            let running = try runCLI(["report", slowJob, "--json"], environment: ["ARACHNE_DATA_DIR": data])
            #expect(running.status == 0, "report of a running job: \(running.stderr)")
            let live = try JSONSerialization.jsonObject(with: Data(running.stdout.utf8)) as? [String: Any]
            #expect((live?["job"] as? [String: Any])?["state"] as? String == "running")
            #expect(((live?["summary"] as? [String: Any])?["requests"] as? Int ?? 0) >= 20)

            let cancel = try runCLI(["cancel", "--data-dir", data, slowJob])
            #expect(cancel.status == 0, "\(cancel.stderr)")
            #expect(cancel.stdout.contains("cancelled"))
            let cancelled = try await coordinator.waitFor(slowJob) { $0.state == .cancelled }
            #expect(cancelled.done == 1000 && cancelled.cancelled > 0 && cancelled.cancelled < 1000)
            let records = try expectOneRecordPerKey("\(data)/jobs/\(slowJob)", urls: slow, repeatCount: 5)
            #expect(records.filter { $0.error?.kind == .cancelled }.count == cancelled.cancelled)

            let unknown = try runCLI(["status", "--data-dir", data, "j-00000000-9999"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no job 'j-00000000-9999'"))
            let cancelUnknown = try runCLI(["cancel", "--data-dir", data, "nope"])
            #expect(cancelUnknown.status == 1 && cancelUnknown.stderr.contains("no job 'nope'"))

            coordinator.signal(SIGTERM)
            #expect(await coordinator.waitForExit(timeout: 10) == 0, "\(coordinator.log)")
        } catch {
            await coordinator.stop()
            throw error
        }

        // Nobody home: fast, clear failures naming where the coordinator was looked for.
        let down = try runCLI(["jobs", "--data-dir", data], timeout: 10)
        #expect(down.status == 1)
        #expect(down.stderr.contains("no coordinator is running on data dir \(data)"))
        let missing = try runCLI(["status", "--control", "ipc://\(data)/none.sock"], timeout: 10)
        #expect(missing.status == 1 && missing.stderr.contains("ipc://\(data)/none.sock"))
        let silent = try runCLI(["status", "--control", "tcp://127.0.0.1:9"], timeout: 10)
        #expect(silent.status == 1)
        #expect(silent.stderr.contains("no answer from a coordinator at tcp://127.0.0.1:9 within 3 s"))
        let usage = try runCLI(["submit", "--data-dir", data])
        #expect(usage.status == 2)
    }

    @Test("cancel: requests in flight finish and their results are kept; only requests never fetched are cancelled")
    func cancelKeepsInFlightResults() async throws {
        try await withServiceCoordinator(workers: 1, concurrency: 4) { site, data, coordinator in
            // 400 ms per request, 4 at a time: once the site has answered the first 4, the next 4 are in its hands.
            let urls = site.urls(40, path: "/delay/400", tag: "inflight")
            let job = try await coordinator.submit(JobSpec(urls: urls, repeatCount: 1, concurrency: 4))
            let deadline = Date().addingTimeInterval(15)
            while site.served < 4 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
            let servedAtCancel = site.served
            let cancel = try runCLI(["cancel", "--data-dir", data, job])
            #expect(cancel.status == 0, "\(cancel.stderr)")
            let final = try await coordinator.waitFor(job) { $0.state == .cancelled }
            let records = try expectOneRecordPerKey("\(data)/jobs/\(job)", urls: urls, repeatCount: 1)
            let fetched = records.filter { $0.error == nil && $0.status == 200 }
            // Every request the site answered, those in flight at the cancel included, has its fetched record.
            #expect(site.served > servedAtCancel, "no request was in flight when the job was cancelled")
            #expect(fetched.count == site.served, "fetched records \(fetched.count), requests served \(site.served)")
            #expect(final.cancelled == 40 - fetched.count)
            let cancelled = records.filter { $0.error?.kind == .cancelled }
            #expect(cancelled.count == 40 - fetched.count)
            #expect(cancelled.allSatisfy { $0.status == 0 })

            // The report counts the cancelled requests apart from the failed ones, as `jobs`/`status` do: no
            // failure, no error kind, no nameless worker row, and a rate over the fetched requests only.
            let json = try runCLI(["report", job, "--json"], environment: ["ARACHNE_DATA_DIR": data])
            #expect(json.status == 0, "\(json.stderr)")
            let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
            #expect(report.summary.cancelled == final.cancelled && report.summary.failed == final.failed)
            #expect(report.summary.failed == 0 && report.summary.errors.isEmpty, "\(report.summary)")
            #expect(report.workers.allSatisfy { !$0.id.isEmpty }, "\(report.workers.map(\.id))")
            #expect(report.timeline.map(\.completed).reduce(0, +) == fetched.count)
            #expect(report.summary.requestsPerSecond <= Double(fetched.count) / report.summary.wallSeconds + 0.01)
            try expectValidReport("\(data)/jobs/\(job)/report.json")
            let text = try runCLI(["report", job], environment: ["ARACHNE_DATA_DIR": data])
            #expect(text.stdout.contains("\(fetched.count) succeeded, 0 failed (0.0%), \(final.cancelled) cancelled"),
                    "\(text.stdout)")

            // A restarted coordinator reads the cancelled count of a finished job back from its report.
            await coordinator.stop()
            let restarted = try await CoordinatorProcess(dataDirectory: data, workers: 1)
            let again = try? await restarted.status(job)
            await restarted.stop()
            #expect(again?.state == .cancelled && again?.cancelled == final.cancelled, "\(String(describing: again))")
            // Its rate counts fetched requests only, like the report's req/s: cancelling is no burst of work.
            #expect((again?.rate ?? .infinity) <= Double(fetched.count) / report.summary.wallSeconds * 1.05 + 0.1,
                    "status rate \(again?.rate ?? -1), report \(report.summary.requestsPerSecond) req/s")
        }
    }

    @Test("Ctrl-C during submit --wait stops waiting, not the job; report and diff take --data-dir")
    func ctrlCDuringSubmitWait() async throws {
        try await withServiceCoordinator(workers: 1) { site, data, coordinator in
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "ARACHNE_CONTROL")
            let waiting = try RunningArachne(
                ["submit", "--data-dir", data, "--wait", "--repeat", "100"]
                    + site.urls(5, path: "/delay/200", tag: "w"),
                environment: environment)
            var job = ""
            let deadline = Date().addingTimeInterval(15)
            while job.isEmpty && Date() < deadline {
                if case .status(let jobs)? = try? await coordinator.client().send(.status(job: nil)),
                    let running = jobs.first(where: { $0.state == .running && $0.done > 0 })
                {
                    job = running.id
                } else {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(!job.isEmpty, "the job did not start")
            waiting.signal(SIGINT)
            let result = waiting.wait(timeout: 10)
            #expect(result.status == 130, "\(result.stdout) \(result.stderr)")
            #expect(result.stdout.hasPrefix(job + "\n"))
            #expect(result.stderr.contains("stopped waiting; job \(job) continues on the coordinator"),
                    "\(result.stderr)")
            #expect(result.stderr.contains("arachne cancel \(job)"))
            #expect(try await coordinator.status(job).state == .running)

            // report and diff find a job by id in --data-dir, like every other job command.
            let report = try runCLI(["report", "--data-dir", data, job, "--json"], environment: ["HOME": data])
            #expect(report.status == 0, "\(report.stderr)")
            let running = report.stdout.contains("\"state\" : \"running\"")
                || report.stdout.contains("\"state\":\"running\"")
            #expect(running,
                    "\(report.stdout.prefix(400))")
            let diff = try runCLI(["diff", "--data-dir", data, job, job], environment: ["HOME": data])
            #expect(diff.status == 0 && diff.stdout.contains("requests"), "\(diff.stderr)")
            let elsewhere = try runCLI(["report", "--data-dir", data + "/none", job], environment: ["HOME": data])
            #expect(elsewhere.status == 1 && elsewhere.stderr.contains("\(data)/none/jobs/\(job)"),
                    "\(elsewhere.stderr)")
            _ = try await coordinator.client().send(.cancel(job: job))
        }
    }

    @Test("status tells a waiting client that no worker is connected")
    func statusCountsConnectedWorkers() async throws {
        let site = try ServiceSite()
        defer { site.stop() }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        // No local worker and none joins (no --listen: a random TCP port could be taken by another test).
        let coordinator = try await CoordinatorProcess(dataDirectory: data, workers: 0)
        do {
            let job = try await coordinator.submit(JobSpec(urls: site.urls(3, path: "/bytes/10", tag: "idle"),
                                                           repeatCount: 1, concurrency: 4))
            let status = try runCLI(["status", "--data-dir", data, job, "--json"])
            #expect(status.status == 0, "\(status.stderr)")
            let decoded = try JSONDecoder().decode(JobStatus.self, from: Data(status.stdout.utf8))
            #expect(decoded.workers == 0 && decoded.done == 0, "\(status.stdout)")
            _ = try await coordinator.client().send(.cancel(job: job))
        } catch {
            await coordinator.stop()
            throw error
        }
        await coordinator.stop()
    }

    @Test("coordinator --workers 0 without --listen starts, and a worker joins at its ipc endpoint")
    func noLocalWorkersAndNoListen() async throws {
        try await withServiceCoordinator(workers: 0) { site, data, coordinator in
            let endpoint = CoordinatorDefaults.workerEndpoint(dataDirectory: data)
            #expect(coordinator.log.contains(endpoint), "\(coordinator.log)")
            let worker = Process()
            worker.executableURL = ArachneBinary.url
            worker.arguments = ["worker", "--connect", endpoint,
                                "--concurrency", "4"]
            worker.standardInput = FileHandle.nullDevice
            worker.standardOutput = FileHandle.nullDevice
            worker.standardError = FileHandle.nullDevice
            try worker.run()
            defer {
                if worker.isRunning { kill(worker.processIdentifier, SIGKILL) }
                worker.waitUntilExit()
            }
            let urls = site.urls(10, path: "/bytes/20", tag: "joined")
            let job = try await coordinator.submit(JobSpec(urls: urls, repeatCount: 2, concurrency: 4))
            try await coordinator.waitFor(job, timeout: 30) { $0.state == .completed }
            try expectOneRecordPerKey("\(data)/jobs/\(job)", urls: urls, repeatCount: 2)
            kill(worker.processIdentifier, SIGTERM)
        }
    }

    @Test("a small job submitted after a big one finishes first: workers are shared fairly")
    func fairSharing() async throws {
        try await withServiceCoordinator() { site, data, coordinator in
            let bigURLs = site.urls(300, path: "/delay/20", tag: "big")
            let smallURLs = site.urls(20, path: "/delay/20", tag: "small")
            let big = try await coordinator.submit(JobSpec(urls: bigURLs, repeatCount: 4, concurrency: 4))
            try await coordinator.waitFor(big) { $0.done >= 40 }
            let small = try await coordinator.submit(JobSpec(urls: smallURLs, repeatCount: 1, concurrency: 4))
            try await coordinator.waitFor(small) { $0.state == .completed }
            // The moment the small job is complete, the big one still has most of its work ahead: it was not
            // served first-come-first-served.
            let bigThen = try await coordinator.status(big)
            #expect(bigThen.state == .running && bigThen.done < bigThen.total / 2, "big job at \(bigThen.done)")
            let bigDone = try await coordinator.waitFor(big) { $0.state == .completed }
            let smallDone = try await coordinator.status(small)
            #expect((smallDone.finishedAt ?? .infinity) < (bigDone.finishedAt ?? 0))
            try expectOneRecordPerKey("\(data)/jobs/\(big)", urls: bigURLs, repeatCount: 4)
            try expectOneRecordPerKey("\(data)/jobs/\(small)", urls: smallURLs, repeatCount: 1)
        }
    }

    @Test("a job's --concurrency below the workers' caps its requests in flight on each worker")
    func jobConcurrencyIsACap() async throws {
        try await withServiceCoordinator(workers: 1, concurrency: 16) { site, data, coordinator in
            /// The most requests of the job that were ever in flight at once, from each record's start and end.
            func peakInFlight(_ job: String, _ urls: [String]) throws -> Int {
                let records = try expectOneRecordPerKey("\(data)/jobs/\(job)", urls: urls, repeatCount: 1)
                var edges: [(Double, Int)] = []
                for record in records {
                    edges.append((record.finishedAt - Double(record.timings.total) / 1e6, 1))
                    edges.append((record.finishedAt, -1))
                }
                var current = 0
                var peak = 0
                for (_, change) in edges.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
                    current += change
                    peak = max(peak, current)
                }
                return peak
            }
            let politeURLs = site.urls(12, path: "/delay/150", tag: "polite")
            let polite = try await coordinator.submit(JobSpec(urls: politeURLs, concurrency: 2))
            try await coordinator.waitFor(polite) { $0.state == .completed }
            #expect(try peakInFlight(polite, politeURLs) <= 2)
            // The same job at the workers' concurrency runs many at once: the measure sees concurrency.
            let openURLs = site.urls(12, path: "/delay/150", tag: "open")
            let open = try await coordinator.submit(JobSpec(urls: openURLs, concurrency: 16))
            try await coordinator.waitFor(open) { $0.state == .completed }
            #expect(try peakInFlight(open, openURLs) >= 6)
        }
    }

    @Test("garbage and unknown control messages get an error reply; the coordinator keeps answering")
    func malformedControlMessages() async throws {
        try await withServiceCoordinator(workers: 1) { _, data, coordinator in
            let client = try coordinator.client()
            let version = ProtocolVersion.current.rawValue
            let header: (UInt8) -> [UInt8] = { [0x41, 0x52, UInt8(version & 0xFF), UInt8(version >> 8), $0] }
            let cases: [(frames: [[UInt8]], expected: String)] = [
                ([[0xDE, 0xAD, 0xBE, 0xEF]], "not an Arachne message"),
                ([[]], "frame 0 is 0 bytes long"),
                ([header(0x5E)], "unknown message type 0x5e"),
                ([header(0x01)], "worker message"),
                ([header(0x41) + Array("{not json".utf8)], "invalid JSON payload"),
                ([header(0x42) + Array("{}".utf8), [1, 2, 3]], "must have exactly 1"),
                ([[0x41, 0x52, 0x63, 0x00, 0x42] + Array("{}".utf8)], "protocol version 99 not supported"),
                (ControlRequest.submit(JobSpec(urls: ["ftp://example.test/x"])).encode(), "job refused"),
                (ControlRequest.submit(JobSpec(urls: [])).encode(), "at least one URL"),
                (ControlRequest.cancel(job: "j-none").encode(), "no job 'j-none'"),
                (ControlRequest.report(job: "j-none").encode(), "no job 'j-none'"),
            ]
            for (frames, expected) in cases {
                let answer = try await client.exchange(frames)
                let reply = try ControlReply.decode(answer)
                guard case .error(let message) = reply else {
                    Issue.record("\(frames) got \(reply), not an error")
                    continue
                }
                #expect(message.contains(expected), "\(frames.map { $0.prefix(8) }) → \(message)")
            }
            let reply = try await client.send(.status(job: nil))
            guard case .status(let jobs) = reply else {
                Issue.record("status after garbage: \(reply)")
                return
            }
            #expect(jobs.isEmpty)
            #expect(coordinator.process.isRunning)
            #expect(coordinator.log.contains("rejected a malformed request"))
        }
    }

    @Test("a second coordinator on the same data dir is refused")
    func exclusiveDataDirectory() async throws {
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let coordinator = try await CoordinatorProcess(dataDirectory: data, workers: 1)
        let second = try runCLI(["coordinator", "--data-dir", data, "--workers", "1"], timeout: 10)
        #expect(second.status == 1)
        #expect(second.stderr.contains("another coordinator (pid \(coordinator.pid)) is already running on data dir"))
        #expect(coordinator.process.isRunning)
        await coordinator.stop()
    }
}
