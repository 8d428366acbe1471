import ArachneCore
import ArachneEventLoop
import ArachneFetch
import Synchronization

/// Rung 6, `async`: Swift async/await on the project's own epoll event loop with the actor-isolated `Fetcher`, the
/// production path. `--concurrency` lanes each await one fetch after another; connections are kept alive, so most
/// requests cost no connect at all — the rungs below open one connection per request.
public struct AsyncModel: IOModel {
    public let name = "async"
    public let summary = "async/await lanes on an epoll event loop, Fetcher actor over libcurl (keep-alive)"
    public let supportsHTTPS = true

    public init() {}

    public func run(_ job: LadderJob, budget: Duration) async -> ModelRun {
        let meter = RunMeter()
        let deadline = LadderDeadline(after: budget)
        let loop: EventLoop
        do {
            loop = try EventLoop(name: "ladder-async")
        } catch {
            var tally = LadderTally()
            tally.record(FetchFailure(kind: .io, message: "cannot start an event loop: \(error)"))
            return tally.run(model: name, job: job, meter: meter)
        }
        let fetcher = Fetcher(loop: loop, maxConnections: job.concurrency)
        let settings = FetchSettings(
            totalTimeoutMs: max(1, Int(budget.components.seconds) * 1000), maxRedirects: 0, keepBodies: false)
        let tally = Mutex(LadderTally())
        let record: @Sendable (FetchOutcome) -> Void = { outcome in
            tally.withLock { tally in
                if let failure = outcome.failure {
                    tally.record(failure)
                } else {
                    // curl checks the body against Content-Length itself (a short body is a `reset` failure).
                    tally.record(ResponseSummary(status: outcome.status, bodyLength: Int(outcome.bytesReceived),
                                                 declaredLength: nil), for: job)
                }
            }
        }
        // The rung's point: each lane is a task that awaits one fetch after another. (Arachne's own `fetch` and
        // workers drive the same fetcher from completion callbacks instead, `LanePump`, to save the task machinery
        // per request; this rung keeps the async/await shape the ladder compares.)
        let started = Atomic<Int>(0)
        let claim: @Sendable () -> Bool = { started.add(1, ordering: .relaxed).newValue <= job.requests }
        let profile = FetchProfile(settings: settings)
        await withTaskExecutorPreference(loop) {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<max(1, min(job.concurrency, job.requests)) {
                    group.addTask {
                        while !deadline.expired, claim() {
                            record(await fetcher.fetchIgnoringTaskCancellation(job.url.string, profile: profile))
                        }
                    }
                }
            }
        }
        await fetcher.close()
        loop.shutdown()
        let final = tally.withLock { $0 }
        return final.run(model: name, job: job, meter: meter,
                         note: final.completed < job.requests ? "over budget" : nil)
    }
}
