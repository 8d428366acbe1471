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

    private let fetcher: Fetcher
    private let lanes: Int
    private let next: () -> Next
    /// Lanes without a request in flight.
    private var idle: Int
    private var isDone = false
    /// Set while `pump()` runs: a completion inside it (a request that fails before `start` returns) only frees its
    /// lane, and the running loop takes it, instead of recursing once per request.
    private var pumping = false
    private var finished: UnsafeContinuation<Void, Never>?

    /// The loop the lanes run on.
    public var loop: EventLoop { fetcher.loop }

    public init(fetcher: Fetcher, lanes: Int, next: @escaping () -> Next) {
        self.fetcher = fetcher
        self.lanes = max(1, lanes)
        self.next = next
        idle = self.lanes
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
        while idle > 0, !isDone {
            switch next() {
            case .fetch(let url, let profile, let enqueuedAt, let then):
                idle -= 1
                fetcher.start(url, profile: profile, enqueuedAt: enqueuedAt) { [self] outcome in
                    then(outcome)
                    idle += 1
                    pump()
                }
            case .wait:
                pumping = false
                return
            case .done:
                isDone = true
            }
        }
        pumping = false
        if isDone, idle == lanes, let continuation = finished {
            finished = nil
            continuation.resume()
        }
    }
}
