import CArachneZMQ
import Glibc

/// A libzmq context: its I/O thread and the sockets made from it. One per process is enough.
public final class ZMQContext: @unchecked Sendable {
    // Safety: libzmq contexts are thread-safe.
    let raw: UnsafeMutableRawPointer

    /// - Parameter realTimePriority: when set, the I/O threads run under `SCHED_RR` at this priority. Only pass it
    ///   when the process is known to be allowed (`LatencyPriority.raiseCallingThread()` succeeded): libzmq aborts
    ///   the process if the I/O thread cannot take it.
    public init(ioThreads: Int32 = 1, realTimePriority: Int32? = nil) {
        guard let raw = zmq_ctx_new() else { fatalError("zmq_ctx_new failed: out of memory") }
        zmq_ctx_set(raw, ZMQ_IO_THREADS, ioThreads)
        if let realTimePriority {
            // Read by each I/O thread as it starts, which is at the first socket: set before any.
            zmq_ctx_set(raw, ZMQ_THREAD_SCHED_POLICY, Int32(SCHED_RR))
            zmq_ctx_set(raw, ZMQ_THREAD_PRIORITY, realTimePriority)
        }
        // Terminating must not wait for unsent messages of sockets someone forgot to close.
        zmq_ctx_set(raw, ZMQ_BLOCKY, 0)
        self.raw = raw
    }

    deinit {
        zmq_ctx_term(raw)
    }

    /// The libzmq version, e.g. "4.3.4".
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
