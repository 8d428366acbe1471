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
    /// `gate`, when given, is asked before each request starts: with no room the lanes start nothing until it calls
    /// back. Cancelling the task cancels every transfer of `fetcher` (the lanes own it while
    /// they run): one cancellation handler for the job, not one per request.
    @discardableResult
    public static func run(
        fetcher: Fetcher, urls: [String], cursor: Cursor, concurrency: Int, profile: FetchProfile,
        shouldStop: @escaping () -> Bool = { false },
        gate: (any LaneGate)? = nil,
        deliver: @escaping (RequestKey, FetchOutcome) -> Void
    ) async -> Cursor {
        await run(fetcher: fetcher, url: { urls[$0.urlIndex] }, cursor: cursor, concurrency: concurrency,
                  profile: profile, shouldStop: shouldStop, gate: gate) { key, _, outcome in deliver(key, outcome) }
    }

    /// As `run(fetcher:urls:…)`, for a list not held in memory: `url` gives each key's URL as its lane takes it
    /// (on the loop thread, in cursor order), and `deliver` gets it back with the outcome, so no URL is looked up
    /// twice.
    ///
    /// The lanes are a `LanePump`: no task per request, the next request starts in the completion callback of the
    /// last.
    @discardableResult
    public static func run(
        fetcher: Fetcher, url: @escaping @Sendable (RequestKey) -> String, cursor: Cursor, concurrency: Int,
        profile: FetchProfile, shouldStop: @escaping () -> Bool = { false },
        gate: (any LaneGate)? = nil,
        deliver: @escaping (RequestKey, String, FetchOutcome) -> Void
    ) async -> Cursor {
        let state = LoopBound(LaneState(cursor: cursor, deliver: deliver, shouldStop: shouldStop, gate: gate))
        let lanes = max(1, min(concurrency, cursor.total))
        let loop = fetcher.loop
        await withTaskExecutorPreference(loop) {
            let feed = state.value
            let pump = LanePump(fetcher: fetcher, lanes: lanes) { feed.next(url: url, profile: profile) }
            feed.pump = pump
            await withTaskCancellationHandler {
                await pump.run()
            } onCancel: {
                loop.executeIfRunning {
                    state.value.cancelled = true
                    fetcher.assumeIsolated { $0.cancelAll() }
                }
            }
        }
        return state.value.cursor
    }
}

/// What holds fetch lanes back while whoever takes their outcomes is behind (a records writer's `WriteBacklog`).
public protocol LaneGate: AnyObject, Sendable {
    /// Whether a request may start now.
    var hasRoom: Bool { get }
    /// Runs `handler` once there is room: at once (on the calling thread) if there is, else later from any thread.
    func whenRoom(_ handler: @escaping @Sendable () -> Void)
}

/// The lanes' shared cursor and what they ask before each request. Touched only on the fetcher's loop thread.
private final class LaneState {
    var cursor: FetchLanes.Cursor
    let deliver: (RequestKey, String, FetchOutcome) -> Void
    let shouldStop: () -> Bool
    let gate: (any LaneGate)?
    weak var pump: LanePump?
    /// The task running the lanes was cancelled: start nothing more.
    var cancelled = false
    /// The gate had no room and will call back: ask it nothing until then.
    private var waitingForRoom = false

    init(cursor: FetchLanes.Cursor, deliver: @escaping (RequestKey, String, FetchOutcome) -> Void,
         shouldStop: @escaping () -> Bool, gate: (any LaneGate)?)
    {
        self.cursor = cursor
        self.deliver = deliver
        self.shouldStop = shouldStop
        self.gate = gate
    }

    func next(url: (RequestKey) -> String, profile: FetchProfile) -> LanePump.Next {
        if cancelled || shouldStop() { return .done }
        if let gate {
            if waitingForRoom { return .wait }
            if !gate.hasRoom, let loop = pump?.loop {
                waitingForRoom = true
                // Held until the gate calls back (the writer always drains), then the lanes go on, on the loop.
                let state = LoopBound(self)
                gate.whenRoom {
                    _ = loop.executeIfRunning {
                        state.value.waitingForRoom = false
                        state.value.pump?.pump()
                    }
                }
                return .wait
            }
        }
        guard let key = cursor.next() else { return .done }
        let target = url(key)
        return .fetch(url: target, profile: profile, enqueuedAt: nil) { [deliver] outcome in
            deliver(key, target, outcome)
        }
    }
}
