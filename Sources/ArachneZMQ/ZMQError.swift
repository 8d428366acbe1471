import CArachneZMQ

/// A failed libzmq call: which call, zmq's errno and its message.
public struct ZMQError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    static func last(_ call: String) -> ZMQError { ZMQError(call: call, errno: c_arachne_zmq_errno()) }

    public var wouldBlock: Bool { errno == EAGAIN }
    public var description: String { "\(call) failed: \(String(cString: zmq_strerror(errno)))" }
}
