import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneSystem
import Foundation
import Synchronization

/// Rung 7, `cluster`: the same job through a coordinator and `--workers N` worker processes over ZeroMQ, each an
/// async fetcher on its own loop. Records are written as in any cluster job (bodies are not kept).
///
/// The spend time is the job's, from its submission to its last record, with the workers already joined, as on a
/// running coordinator; the time the worker processes took to start and join is shown in the note. The CPU column
/// counts everything, start-up included, and the workers' CPU (they are this process's children, counted once they
/// exit).
public struct ClusterModel: IOModel {
    public let name = "cluster"
    public let summary = "a coordinator and N worker processes over ZeroMQ, each an async fetcher"
    public let supportsHTTPS = true
    /// The `arachne` binary the workers run.
    public let executable: URL

    public init(executable: URL = LocalWorkerPool.currentExecutable) {
        self.executable = executable
    }

    public func run(_ job: LadderJob, budget: Duration) async -> ModelRun {
        let meter = RunMeter()
        let childrenBefore = Syscall.childrenCPUSeconds()
        var tally = LadderTally()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("arachne-ladder-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let perWorker = max(1, job.concurrency / job.workers)
        let spec = JobSpec(
            urls: [job.url.string], repeatCount: job.requests, concurrency: perWorker,
            settings: FetchSettings(totalTimeoutMs: max(1, Int(budget.components.seconds) * 1000), maxRedirects: 0,
                                    keepBodies: false))
        let stop = StopSignal()
        let timer = Task {
            try? await Task.sleep(for: budget)
            stop.set()
        }
        defer { timer.cancel() }
        let times = Mutex<(startup: Double, job: Double)?>(nil)
        do {
            var options = ClusterRun.Options(
                id: "ladder", spec: spec, outputDirectory: directory, workers: job.workers, executable: executable)
            options.awaitWorkers = true
            options.onTimes = { startup, job in times.withLock { $0 = (startup, job) } }
            _ = try await ClusterRun.run(options, stop: stop)
            let reader = try RecordsReader(path: directory + "/" + RecordsWriter.fileName)
            while let record = try reader.next() {
                if let error = record.error {
                    if error.kind != .cancelled { tally.record(error) }
                } else {
                    tally.record(ResponseSummary(status: record.status, bodyLength: Int(record.bytes),
                                                 declaredLength: nil), for: job)
                }
            }
        } catch {
            tally.record(FetchFailure(kind: .other, message: "cluster run failed: \(error)"))
        }
        let measured = times.withLock { $0 }
        var note = tally.completed < job.requests ? "over budget" : job.workers == 1 ? "1 worker" : "\(job.workers) workers"
        if let measured { note += String(format: ", +%.2f s to start", measured.startup) }
        var run = tally.run(model: name, job: job, meter: meter, note: note)
        if let measured, measured.job > 0 { run.wallSeconds = measured.job }
        run.cpuSeconds += Syscall.childrenCPUSeconds() - childrenBefore
        return run
    }
}
