import Dispatch
import Foundation
import Synchronization

/// A request to stop, set from a signal handler or another thread and read anywhere.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    private let signalNumber = Atomic<Int32>(0)
    private let handlers = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    public var isSet: Bool { flag.load(ordering: .relaxed) }

    /// The process signal (SIGINT, SIGTERM) that set the flag, if one did.
    public var receivedSignal: Int32? {
        let number = signalNumber.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// Sets the flag and runs the handlers (once).
    public func set() {
        guard !flag.exchange(true, ordering: .relaxed) else { return }
        for handler in handlers.withLock({ $0 }) { handler() }
    }

    /// Runs `handler` when the signal is set (at once if it already is).
    public func onSet(_ handler: @escaping @Sendable () -> Void) {
        if isSet {
            handler()
            return
        }
        handlers.withLock { $0.append(handler) }
        if isSet { handler() }
    }

    /// Sets this signal on SIGINT and SIGTERM. The returned sources must be kept alive.
    public func installProcessSignalHandlers() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                _ = signalNumber.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                set()
            }
            source.resume()
            return source
        }
    }
}
