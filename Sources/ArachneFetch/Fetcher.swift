import ArachneCore
import ArachneEventLoop

/// Fetches URLs with libcurl on an event loop. The actor is pinned to its loop (`unownedExecutor`), so curl's
/// handles, its sockets and the loop's registrations are touched on one thread with no locks; each transfer
/// resumes one continuation when it completes.
///
/// Callers that await many fetches should run with the loop as their task executor preference
/// (`withTaskExecutorPreference(fetcher.loop)`): then a resumed fetch continues on the loop thread instead of
/// hopping through the global pool.
public actor Fetcher {
    public nonisolated let loop: EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    private let driver: CurlMultiDriver

    /// - Parameters:
    ///   - maxConnections: the concurrency the callers will use; sizes curl's cache of idle connections (four times
    ///     this, at least 256). The callers bound how many requests are in flight (`FetchLanes`, a worker's lanes).
    ///   - maxHostConnections: connections to one host at once; 0 for no limit.
    public init(loop: EventLoop, maxConnections: Int = 64, maxHostConnections: Int = 0) {
        self.loop = loop
        driver = CurlMultiDriver(loop: loop, maxConnections: maxConnections, maxHostConnections: maxHostConnections)
    }

    /// Fetches `url` and returns what happened. Never throws: failures are classified in the outcome.
    /// - Parameter enqueuedAt: when the request entered a local queue (`EventLoop.now()`), for the `queue` phase.
    public func fetch(_ url: String, profile: FetchProfile, enqueuedAt: UInt64? = nil) async -> FetchOutcome {
        let queued = enqueuedAt.map { EventLoop.now() &- $0 } ?? 0
        let serial = SerialBox()
        let driver = LoopBound(driver)
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                serial.value = driver.value.start(url: url, profile: profile, queuedNanoseconds: queued) {
                    continuation.resume(returning: $0)
                }
            }
        } onCancel: {
            loop.execute { driver.value.cancel(serial: serial.value) }
        }
    }

    /// Transfers in flight right now.
    public var inFlight: Int { driver.inFlight }

    /// Ends every transfer in flight with a `cancelled` failure.
    public func cancelAll() {
        driver.cancelAll()
    }

    /// Cancels what is in flight and releases curl and its sockets. Later fetches fail as cancelled.
    public func close() {
        driver.close()
    }
}

/// A value that is only ever touched on one event loop thread, carried through a `@Sendable` closure.
struct LoopBound<Value>: @unchecked Sendable {
    // Safety: created on the loop and used only inside closures the same loop runs.
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The serial of a started transfer, written on the loop and read by a cancellation hop to the same loop.
final class SerialBox: @unchecked Sendable {
    // Safety: written and read on the loop thread only (the cancel handler reads it inside `loop.execute`).
    var value: UInt64 = 0
}
