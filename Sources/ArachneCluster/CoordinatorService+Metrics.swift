import ArachneProtocol
import Foundation
import Synchronization

extension CoordinatorService {
    /// Starts the `/metrics` listener on `listen` (`HOST:PORT`). A scrape runs on the listener's own thread: it asks
    /// this actor for a fresh snapshot of the gauges (waiting at most 2 s, else it serves the last one), then
    /// renders every metric. Counters are fed by the coordinator's loop as records are accepted.
    func startMetrics(listen: String) async throws {
        let metrics = CoordinatorMetrics()
        await coordinator.attach(metrics: metrics)
        let refresh: @Sendable () -> Void = { [weak self] in
            guard let self else { return }
            let done = DispatchSemaphore(value: 0)
            Task {
                await self.refreshMetrics(metrics)
                done.signal()
            }
            _ = done.wait(timeout: .now() + 2)
        }
        let server = try MetricsServer(listen: listen) {
            refresh()
            return metrics.render()
        }
        metricsEndpoint = (server, metrics)
        log("metrics on http://\(server.address)/metrics")
    }

    /// Sets the gauges from what the service knows now: jobs by state (as `arachne jobs` shows them), workers,
    /// running crawls' frontier and pages, and the results not yet written.
    func refreshMetrics(_ metrics: CoordinatorMetrics) async {
        var snapshot = CoordinatorMetrics.Snapshot()
        if case .status(let jobs)? = desk.statusFromMemory(nil) {
            for job in jobs { snapshot.jobs[job.state, default: 0] += 1 }
        }
        snapshot.workers = await coordinator.workerCounts().current
        for job in board.all {
            if job.spec.isCrawl {
                snapshot.frontierURLs += max(0, job.progress.total - job.progress.done)
                snapshot.crawlPages += job.progress.done
            }
            snapshot.writerBacklogBytes += job.recorder.backlog.pendingBytes
            snapshot.storeBacklogRecords += max(0, job.progress.done - job.tally.counters.done)
        }
        metrics.update(snapshot)
    }
}
