import ArachneTestSupport
import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneProtocol
import Foundation
import Testing

/// Durability: the coordinator killed at any moment, or stopped gracefully, resumes every unfinished job with exactly
/// one record per key and fetches no stored key again.
@Suite("Long-running coordinator: crash and stop", .serialized)
struct CoordinatorServiceCrashTests {
    @Test("coordinator and a worker SIGKILLed mid-job: the restarted coordinator completes it exactly once")
    func killedMidJob() async throws {
        let site = try ServiceSite()
        defer { site.stop() }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        // The first URL is listed again last: its records must keep their listing's url_index through the resume.
        let listed = site.urls(150, path: "/delay/25", tag: "k")
        let urls = listed + [listed[0]]
        let total = urls.count * 4
        let first = try await CoordinatorProcess(dataDirectory: data)
        let job: String
        let workers: [Int32]
        var downSince = Date()
        do {
            job = try await first.submit(JobSpec(urls: urls, repeatCount: 4, concurrency: 4))
            try await first.waitFor(job) { $0.done >= 120 }
            workers = first.workers
            try #require(workers.count == 2, "workers of the first coordinator: \(workers)")
            kill(workers[0], SIGKILL)
            first.signal(SIGKILL)
            downSince = Date()
        } catch {
            await first.stop()
            throw error
        }
        #expect(await first.waitForExit(timeout: 5) != nil)
        let jobDirectory = "\(data)/jobs/\(job)"
        let orphan = workers[1]
        // The orphan holds no file of the data dir: it has nothing to write with.
        #expect(openFiles(of: orphan, under: data).isEmpty)
        let afterKill = fileSizes(under: data)
        #expect(await waitUntilGone(workers, timeout: 5), "an orphaned worker did not exit by itself")
        // Let responses to requests of the dead processes drain out of the site before counting.
        try await Task.sleep(for: .milliseconds(300))
        #expect(fileSizes(under: data) == afterKill, "something wrote to the data dir after the coordinator died")

        let stored = try readStore(data, job: job)
        #expect(stored.integrity == ["ok"])
        #expect(stored.row?.state == .running)
        #expect(stored.records > 0 && stored.records < total)
        let servedBefore = site.served

        let downtime = Date().timeIntervalSince(downSince)
        let second = try await CoordinatorProcess(dataDirectory: data)
        do {
            #expect(second.log.contains("resumed job \(job): \(stored.records)/\(total) already done"))
            let done = try await second.waitFor(job, timeout: 20) { $0.state == .completed }
            #expect(done.done == total)
            let records = try expectOneRecordPerKey(jobDirectory, urls: urls, repeatCount: 4)
            #expect(records.allSatisfy { $0.status == 200 })
            // Only keys without a stored record were fetched after the restart.
            let servedAfter = site.served - servedBefore
            let missing = total - stored.records
            #expect(servedAfter <= missing, "fetched \(servedAfter) after restart, \(missing) keys were missing")
            let report = try ReportReader.read(jobDirectory).report
            #expect(report.summary.requests == total && report.job.state == .completed)
            // As docs/report.md says: the spend time of a job that spans a restart includes the downtime.
            #expect(report.summary.wallSeconds >= downtime, "wall \(report.summary.wallSeconds) s, down \(downtime) s")
            #expect(report.bodies.count >= 2, "bodies of both runs: \(report.bodies)")
            // Every body reference of the resumed job points into a WARC file that is there.
            for body in records.compactMap(\.body) {
                let size = (try FileManager.default.attributesOfItem(atPath: jobDirectory + "/" + body.file)[.size]
                    as? NSNumber)?.int64Value ?? 0
                #expect(body.offset + body.length <= size, "\(body.file) ends before \(body.offset + body.length)")
            }
            second.signal(SIGTERM)
            #expect(await second.waitForExit(timeout: 10) == 0)
        } catch {
            await second.stop()
            throw error
        }
        let final = try readStore(data, job: job)
        #expect(final.integrity == ["ok"] && final.row?.state == .completed && final.records == total)
    }

    @Test("SIGTERM: in-flight results drained, store consistent, workers gone; the job resumes and completes once")
    func gracefulStop() async throws {
        let site = try ServiceSite()
        defer { site.stop() }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let urls = site.urls(100, path: "/delay/30", tag: "g")
        let first = try await CoordinatorProcess(dataDirectory: data)
        let job: String
        let workers: [Int32]
        var downSince = Date()
        do {
            job = try await first.submit(JobSpec(urls: urls, repeatCount: 5, concurrency: 4))
            try await first.waitFor(job) { $0.done >= 100 }
            workers = first.workers
            first.signal(SIGTERM)
        } catch {
            await first.stop()
            throw error
        }
        #expect(await first.waitForExit(timeout: 10) == 0, "\(first.log)")
        #expect(!workers.contains(where: processIsAlive), "workers left behind: \(workers)")
        #expect(first.log.contains("1 unfinished job will resume at the next start: \(job)"))
        #expect(first.log.contains("drained: the results of all"), "\(first.log)")

        let stored = try readStore(data, job: job)
        #expect(stored.integrity == ["ok"])
        #expect(stored.row?.state == .running)
        #expect(stored.row?.counters.done == stored.records)
        // Everything the store holds is in records.ndjson and the report, which were flushed on the way out.
        let lines = try RecordsReader.readAll(path: "\(data)/jobs/\(job)/records.ndjson")
        #expect(lines.count == stored.records)
        let report = try ReportReader.read("\(data)/jobs/\(job)").report
        #expect(report.job.state == .running && report.summary.requests == stored.records)

        let second = try await CoordinatorProcess(dataDirectory: data)
        do {
            try await second.waitFor(job, timeout: 20) { $0.state == .completed }
            try expectOneRecordPerKey("\(data)/jobs/\(job)", urls: urls, repeatCount: 5)
        } catch {
            await second.stop()
            throw error
        }
        await second.stop()
        #expect(try readStore(data, job: job).row?.state == .completed)
    }
}
