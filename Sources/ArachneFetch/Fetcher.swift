import ArachneCore
import ArachneEventLoop

/// Fetches URLs on an event loop: plain-HTTP/1.1 URLs to an address with Arachne's own client (`HTTP1Driver`),
/// everything else with libcurl (`CurlMultiDriver`). The actor is pinned to its loop (`unownedExecutor`), so both
/// clients, their sockets and the loop's registrations are touched on one thread with no locks; each transfer
/// resumes one continuation when it completes.
///
/// Callers that await many fetches should run with the loop as their task executor preference
/// (`withTaskExecutorPreference(fetcher.loop)`): then a resumed fetch continues on the loop thread instead of
/// hopping through the global pool.
public actor Fetcher {
    public nonisolated let loop: EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
    public nonisolated let engine: FetchEngine

    // `nonisolated(unsafe)`: `start(_:profile:enqueuedAt:handle:completion:)` reaches them from completion callbacks
    // on the loop thread, which is this actor's executor, without a formal hop (see `LanePump`).
    private nonisolated(unsafe) let curl: CurlMultiDriver
    private nonisolated(unsafe) let native: HTTP1Driver

    /// - Parameters:
    ///   - maxConnections: the concurrency the callers will use; sizes both clients' caches of idle connections
    ///     (four times this, at least 256, at most 4096). The callers bound how many requests are in flight (`FetchLanes`, a worker's lanes).
    ///   - maxHostConnections: connections to one host at once; 0 for no limit.
    ///   - engine: which client fetches plain-HTTP URLs (`ARACHNE_HTTP_ENGINE` by default).
    public init(loop: EventLoop, maxConnections: Int = 64, maxHostConnections: Int = 0,
                engine: FetchEngine = .fromEnvironment)
    {
        self.loop = loop
        self.engine = engine
        curl = CurlMultiDriver(loop: loop, maxConnections: maxConnections, maxHostConnections: maxHostConnections)
        native = HTTP1Driver(
            loop: loop, maxHostConnections: maxHostConnections, maxIdle: min(4096, max(4 * maxConnections, 256)))
        native.continueElsewhere = { [curl] transfer, url in
            Self.continueWithCurl(curl, transfer, url)
        }
    }

    /// Fetches `url` and returns what happened. Never throws: failures are classified in the outcome.
    /// - Parameter enqueuedAt: when the request entered a local queue (`EventLoop.now()`), for the `queue` phase.
    public func fetch(_ url: String, profile: FetchProfile, enqueuedAt: UInt64? = nil) async -> FetchOutcome {
        let handle = TransferHandle()
        let drivers = LoopBound((native, curl))
        return await withTaskCancellationHandler {
            await start(url, profile: profile, enqueuedAt: enqueuedAt, handle: handle)
        } onCancel: {
            loop.execute {
                if handle.native {
                    drivers.value.0.cancel(serial: handle.serial)
                } else {
                    drivers.value.1.cancel(serial: handle.serial)
                }
            }
        }
    }

    /// `fetch` without a cancellation handler of its own, for callers that cancel the whole fetcher instead
    /// (`FetchLanes`, a worker's lanes): cancelling the task does not end the transfer, `cancelAll()` and `close()`
    /// do. Registering a handler per request costs a lock and two status-record updates on the task.
    public func fetchIgnoringTaskCancellation(_ url: String, profile: FetchProfile, enqueuedAt: UInt64? = nil) async
        -> FetchOutcome
    {
        await start(url, profile: profile, enqueuedAt: enqueuedAt, handle: nil)
    }

    private func start(_ url: String, profile: FetchProfile, enqueuedAt: UInt64?, handle: TransferHandle?) async
        -> FetchOutcome
    {
        await withUnsafeContinuation { continuation in
            start(url, profile: profile, enqueuedAt: enqueuedAt, handle: handle) { continuation.resume(returning: $0) }
        }
    }

    /// Starts `url` and calls `completion` with the outcome on the loop thread — possibly before returning, when
    /// the request fails at once. The callback form of `fetchIgnoringTaskCancellation`, for `LanePump`.
    /// Loop thread only: it is the actor's executor, so this runs isolated to the actor in all but name (checked in
    /// debug builds; the pump calls it from completion callbacks, where a formal `assumeIsolated` costs a check per
    /// request).
    nonisolated func start(_ url: String, profile: FetchProfile, enqueuedAt: UInt64?, handle: TransferHandle? = nil,
               completion: @escaping (FetchOutcome) -> Void)
    {
        assert(loop.inEventLoop, "Fetcher.start off its loop")
        let queued = enqueuedAt.map { EventLoop.now() &- $0 } ?? 0
        if engine == .auto, let serial = native.start(
            url: url, profile: profile, queuedNanoseconds: queued, handle: handle, completion: completion)
        {
            handle?.serial = serial
        } else {
            // Two statements: in `handle?.serial = curl.start(…)` the call would only run when there is a handle.
            let serial = curl.start(url: url, profile: profile, queuedNanoseconds: queued, completion: completion)
            handle?.native = false
            handle?.serial = serial
        }
    }

    /// The native client cannot go on (a redirect to https, a host without an IPv4 address): libcurl fetches the
    /// rest, with the redirects left, and the outcome counts every hop and the time from the start.
    private static func continueWithCurl(_ curl: CurlMultiDriver, _ transfer: HTTP1Transfer, _ url: String) {
        let settings = transfer.profile.settings
        let profile = transfer.redirects == 0
            ? transfer.profile : transfer.profile.allowing(redirects: max(0, settings.maxRedirects - transfer.redirects))
        let offset = Int64((EventLoop.now() &- transfer.startedAt) / 1000)
        let hops = transfer.redirects
        let completion = transfer.completion
        transfer.handle?.native = false
        transfer.handle?.serial = curl.start(
            url: url, profile: profile, queuedNanoseconds: transfer.queuedNanoseconds
        ) { outcome in
            var outcome = outcome
            outcome.redirects += hops
            for phase in Phase.curlPhases where outcome.timings[phase] > 0 || phase == .total {
                outcome.timings[phase] += offset
            }
            completion(outcome)
        }
    }

    /// Transfers in flight right now.
    public var inFlight: Int { curl.inFlight + native.inFlight }

    /// The native client's pools (one per authority it holds connections for) and idle connections.
    var nativePools: (pools: Int, idle: Int) { (native.poolCount, native.idleCount) }

    /// Ends every transfer in flight with a `cancelled` failure.
    public func cancelAll() {
        native.cancelAll()
        curl.cancelAll()
    }

    /// Cancels what is in flight and releases both clients and their sockets. Later fetches fail as cancelled.
    public func close() {
        native.close()
        curl.close()
    }
}

/// Which client runs a transfer, and its serial there: written on the loop when the transfer starts (or moves to
/// libcurl after a redirect), read by a cancellation hop to the same loop.
final class TransferHandle: @unchecked Sendable {
    // Safety: written and read on the loop thread only (the cancel handler reads it inside `loop.execute`).
    var native = true
    var serial: UInt64 = 0
}

/// A value that is only ever touched on one event loop thread, carried through a `@Sendable` closure.
struct LoopBound<Value>: @unchecked Sendable {
    // Safety: created on the loop and used only inside closures the same loop runs.
    let value: Value
    init(_ value: Value) { self.value = value }
}
