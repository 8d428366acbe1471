import ArachneCore
import ArachneEventLoop

/// Runs the (URL, repetition) keys of a job through a `Fetcher` with a fixed number of lanes: each lane is a task
/// that fetches one key after another, so at most `concurrency` requests are in flight and none waits in a queue.
/// Lanes run with the fetcher's loop as their executor preference, so the whole job stays on the loop thread.
public enum FetchLanes {
    /// The order keys are handed out in: every URL once (repetition 0), then every URL again, and so on.
    public struct Cursor: Sendable {
        public let urlCount: Int
        public let repeatCount: Int
        public private(set) var position = 0

        public init(urlCount: Int, repeatCount: Int) {
            self.urlCount = urlCount
            self.repeatCount = repeatCount
        }

        public var total: Int { urlCount * repeatCount }

        public mutating func next() -> RequestKey? {
            guard position < total else { return nil }
            defer { position += 1 }
            return RequestKey(urlIndex: position % urlCount, repetition: position / urlCount)
        }
    }

    /// Fetches every key of `cursor` and calls `deliver` on the loop thread with each outcome as it completes.
    /// Returns when every key has been delivered, or early when the task is cancelled or `shouldStop` says so;
    /// the returned cursor's `position` tells which keys were started (those before it, each delivered once).
    /// `admit`, when given, is awaited before each request starts. Cancelling the task cancels every transfer of
    /// `fetcher` (the lanes own it while they run): one cancellation handler for the job, not one per request.
    @discardableResult
    public static func run(
        fetcher: Fetcher, urls: [String], cursor: Cursor, concurrency: Int, profile: FetchProfile,
        shouldStop: @escaping () -> Bool = { false },
        admit: (@Sendable () async -> Void)? = nil,
        deliver: @escaping (RequestKey, FetchOutcome) -> Void
    ) async -> Cursor {
        await run(fetcher: fetcher, url: { urls[$0.urlIndex] }, cursor: cursor, concurrency: concurrency,
                  profile: profile, shouldStop: shouldStop, admit: admit) { key, _, outcome in deliver(key, outcome) }
    }

    /// As `run(fetcher:urls:…)`, for a list not held in memory: `url` gives each key's URL as its lane takes it
    /// (on the loop thread, in cursor order), and `deliver` gets it back with the outcome, so no URL is looked up
    /// twice.
    @discardableResult
    public static func run(
        fetcher: Fetcher, url: @escaping @Sendable (RequestKey) -> String, cursor: Cursor, concurrency: Int,
        profile: FetchProfile, shouldStop: @escaping () -> Bool = { false },
        admit: (@Sendable () async -> Void)? = nil,
        deliver: @escaping (RequestKey, String, FetchOutcome) -> Void
    ) async -> Cursor {
        let state = LoopBound(LaneState(cursor: cursor, deliver: deliver, shouldStop: shouldStop))
        let lanes = max(1, min(concurrency, cursor.total))
        await withTaskExecutorPreference(fetcher.loop) {
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<lanes {
                        group.addTask {
                            while !Task.isCancelled {
                                // Backpressure: wait while whoever takes the outcomes is behind (a writer thread).
                                if let admit { await admit() }
                                guard let key = state.value.next() else { break }
                                let target = url(key)
                                let outcome = await fetcher.fetchIgnoringTaskCancellation(target, profile: profile)
                                state.value.deliver(key, target, outcome)
                            }
                        }
                    }
                }
            } onCancel: {
                fetcher.loop.executeIfRunning { fetcher.assumeIsolated { $0.cancelAll() } }
            }
        }
        return state.value.cursor
    }
}

/// The lanes' shared cursor. Touched only on the fetcher's loop thread, where every lane runs.
private final class LaneState {
    var cursor: FetchLanes.Cursor
    let deliver: (RequestKey, String, FetchOutcome) -> Void
    let shouldStop: () -> Bool

    init(cursor: FetchLanes.Cursor, deliver: @escaping (RequestKey, String, FetchOutcome) -> Void,
         shouldStop: @escaping () -> Bool)
    {
        self.cursor = cursor
        self.deliver = deliver
        self.shouldStop = shouldStop
    }

    func next() -> RequestKey? {
        shouldStop() ? nil : cursor.next()
    }
}
