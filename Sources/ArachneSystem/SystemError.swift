import Glibc

/// A failed system call: which call and the errno it set. Its description is what `strerror` says.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call that failed, e.g. "epoll_ctl".
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// True when the call failed only because it would have blocked.
    public var wouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }

    public var description: String { "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The result of a read or write on a non-blocking descriptor.
public enum IOResult<Value: Sendable>: Sendable {
    case processed(Value)
    case wouldBlock
}
