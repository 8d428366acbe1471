import ArachneCore
import ArachneEventLoop

/// Keeps up to `lanes` requests in flight on a fetcher's loop without a Swift task per request: when a request
/// completes, its continuation runs and the next request starts, all in the driver's completion callback on the loop
/// thread. A lane written as `while let work = await next() { await fetch(work) }` costs, per request, a task
/// suspension and resumption (an executor enqueue, a job run, a preferred-executor lookup under the task's status
/// lock) and a hop onto the fetcher actor; the pump costs a closure call. Profiles of `fetch --no-bodies` put those
/// runtime costs at about a twentieth of its CPU per request (docs/performance.md, issue 16).
///
/// The feed (`next`) is asked on the loop for what to start; it answers with a request, `.wait` (nothing now: it calls
/// `pump()` when there is) or `.done` (no more, ever). `run()` returns once the feed said done and every request
/// started has completed. Ending early is the feed's business (answer `.done`, then cancel the fetcher's transfers).
///
/// Loop-confined: `run`'s body, `pump()` and every callback run on the fetcher's loop thread. `@unchecked Sendable`
/// only so that a wake-up can be carried to the loop in a `@Sendable` closure.
public final class LanePump: @unchecked Sendable {
    /// What the feed says when asked for the next request.
    public enum Next {
        /// Start `url`; `then` gets its outcome on the loop thread (before the lane takes its next request).
        case fetch(url: String, profile: FetchProfile, enqueuedAt: UInt64?, then: (FetchOutcome) -> Void)
        /// Nothing to start now; the feed calls `pump()` when there is.
        case wait
        /// Nothing more will come.
        case done
    }

    /// One lane: the continuation of its request in flight, and the completion handed to the fetcher for every
    /// request it runs — made once per lane, so a request costs only the feed's `then`, not a second closure.
    private final class Lane {
        var then: ((FetchOutcome) -> Void)?
        var completion: ((FetchOutcome) -> Void)?
    }

    private let fetcher: Fetcher
    private let next: () -> Next
    /// At most this many lanes; they are made as the feed first fills them.
    private let laneLimit: Int
    /// Every lane made (what keeps the ones in flight alive), and those without a request in flight.
    private var lanes: [Lane] = []
    private var idle: [Lane] = []
    private var isDone = false
    /// Set while `pump()` runs: a completion inside it (a request that fails before `start` returns) only frees its
    /// lane, and the running loop takes it, instead of recursing once per request.
    private var pumping = false
    private var finished: UnsafeContinuation<Void, Never>?

    /// The loop the lanes run on.
    public var loop: EventLoop { fetcher.loop }

    public init(fetcher: Fetcher, lanes: Int, next: @escaping () -> Next) {
        self.fetcher = fetcher
        self.next = next
        laneLimit = max(1, lanes)
    }

    /// An idle lane, made if there is none and the limit allows.
    private func takeLane() -> Lane {
        if let lane = idle.popLast() { return lane }
        let lane = Lane()
        lane.completion = { [unowned self, unowned lane] outcome in
            let then = lane.then
            lane.then = nil
            then?(outcome)
            idle.append(lane)
            pump()
        }
        lanes.append(lane)
        return lane
    }

    /// Pumps until the feed says done and every request has completed. Call it from a task on the fetcher's loop.
    public func run() async {
        fetcher.loop.preconditionInEventLoop()
        await withUnsafeContinuation { continuation in
            finished = continuation
            pump()
        }
    }

    /// Starts requests on idle lanes while the feed has them. Loop thread only; safe to call at any time (also from
    /// inside a completion, and after the pump finished, when it does nothing).
    public func pump() {
        guard !pumping, finished != nil else { return }
        pumping = true
        while !isDone, !idle.isEmpty || lanes.count < laneLimit {
            switch next() {
            case .fetch(let url, let profile, let enqueuedAt, let then):
                let lane = takeLane()
                lane.then = then
                fetcher.start(url, profile: profile, enqueuedAt: enqueuedAt, completion: lane.completion!)
            case .wait:
                pumping = false
                return
            case .done:
                isDone = true
            }
        }
        pumping = false
        if isDone, idle.count == lanes.count, let continuation = finished {
            finished = nil
            continuation.resume()
        }
    }
}
