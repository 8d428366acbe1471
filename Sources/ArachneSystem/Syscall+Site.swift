import CArachneLinux
import Glibc

/// The calls the demo site needs beyond the core set: closing with a reset, and half-closing.
extension Syscall {
    /// Sets `SO_LINGER` to {on, 0 s}: the next `close` of `fd` discards unsent data and sends a TCP RST.
    public static func setLingerZero(_ fd: Int32) throws(SystemError) {
        var value = linger(l_onoff: 1, l_linger: 0)
        _ = try call("setsockopt(SO_LINGER)") {
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
        }
    }

    /// Shuts down the sending side of a connected socket: the peer reads end-of-file after the data already sent.
    /// A peer that has already gone (`ENOTCONN`) is not an error.
    public static func shutdownWrite(_ fd: Int32) throws(SystemError) {
        do {
            _ = try call("shutdown(SHUT_WR)") { Glibc.shutdown(fd, Int32(SHUT_WR)) }
        } catch {
            if error.errno == ENOTCONN { return }
            throw error
        }
    }
}
