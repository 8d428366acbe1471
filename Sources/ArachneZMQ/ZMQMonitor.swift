import ArachneEventLoop
import CArachneZMQ
import Synchronization

/// One event of a monitored socket (`zmq_socket_monitor`): what happened, libzmq's value for it, and the endpoint.
public struct ZMQSocketEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case connected, connectDelayed, connectRetried, listening, bindFailed, accepted, acceptFailed, closed
        case closeFailed, disconnected, monitorStopped
        /// The handshake failed with no detail (the value is an errno, e.g. EPIPE when the peer hung up on it).
        case handshakeFailedNoDetail
        case handshakeSucceeded
        /// The handshake broke the protocol (the value is a `ZMQ_PROTOCOL_ERROR_*` code, e.g. a mechanism mismatch).
        case handshakeFailedProtocol
        /// The peer's ZAP handler refused us (the value is its status code: 300, 400 or 500).
        case handshakeFailedAuth
        case other(UInt16)
    }

    public var kind: Kind
    public var value: UInt32
    public var endpoint: String

    public init(kind: Kind, value: UInt32, endpoint: String) {
        self.kind = kind
        self.value = value
        self.endpoint = endpoint
    }

    /// Reads a monitor message (libzmq's version 1 format): frame 0 is a 16-bit event id and a 32-bit value, little
    /// endian; frame 1 is the endpoint. Nil for anything else.
    public static func decode(_ frames: [[UInt8]]) -> ZMQSocketEvent? {
        guard frames.count == 2, frames[0].count == 6 else { return nil }
        let head = frames[0]
        let id = UInt16(head[0]) | UInt16(head[1]) << 8
        let value = UInt32(head[2]) | UInt32(head[3]) << 8 | UInt32(head[4]) << 16 | UInt32(head[5]) << 24
        return ZMQSocketEvent(kind: Kind(id), value: value, endpoint: String(decoding: frames[1], as: UTF8.self))
    }

    /// The value of a failed handshake in words.
    public var detail: String {
        switch kind {
        case .handshakeFailedProtocol: Self.protocolError(value)
        case .handshakeFailedAuth: "ZAP status \(value)"
        case .handshakeFailedNoDetail, .connectRetried, .acceptFailed, .bindFailed, .closeFailed:
            kind == .connectRetried ? "retrying in \(value) ms" : "errno \(value)"
        default: "\(value)"
        }
    }

    /// Whether a protocol failure is the mechanism mismatch of a CURVE peer and a NULL (plaintext) one.
    public var isMechanismMismatch: Bool {
        kind == .handshakeFailedProtocol && value == UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
    }

    static func protocolError(_ code: UInt32) -> String {
        switch Int32(bitPattern: code) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: "security mechanism mismatch (CURVE against NULL)"
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: "cryptographic error (a wrong server key?)"
        case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE: "key exchange failed"
        case ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND: "unexpected handshake command"
        case ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED, ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY,
             ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID, ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION,
             ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE, ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA:
            "the ZAP handler's answer was unusable"
        default: "protocol error 0x" + String(code, radix: 16)
        }
    }
}

extension ZMQSocketEvent.Kind {
    init(_ id: UInt16) {
        switch Int32(id) {
        case ZMQ_EVENT_CONNECTED: self = .connected
        case ZMQ_EVENT_CONNECT_DELAYED: self = .connectDelayed
        case ZMQ_EVENT_CONNECT_RETRIED: self = .connectRetried
        case ZMQ_EVENT_LISTENING: self = .listening
        case ZMQ_EVENT_BIND_FAILED: self = .bindFailed
        case ZMQ_EVENT_ACCEPTED: self = .accepted
        case ZMQ_EVENT_ACCEPT_FAILED: self = .acceptFailed
        case ZMQ_EVENT_CLOSED: self = .closed
        case ZMQ_EVENT_CLOSE_FAILED: self = .closeFailed
        case ZMQ_EVENT_DISCONNECTED: self = .disconnected
        case ZMQ_EVENT_MONITOR_STOPPED: self = .monitorStopped
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: self = .handshakeFailedNoDetail
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: self = .handshakeSucceeded
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: self = .handshakeFailedProtocol
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: self = .handshakeFailedAuth
        default: self = .other(id)
        }
    }
}

/// Watches a socket's events on an event loop: a PAIR socket connected to the socket's monitor endpoint, read like
/// any other channel. Used to learn why a connection does not come up (refused key, wrong mechanism, unreachable),
/// which the socket itself never says.
///
/// Not thread-safe: create, use and close it on its loop's thread, before closing the watched socket.
public final class ZMQMonitor {
    private let watched: ZMQSocket
    private var channel: ZMQChannel?
    private static let counter = Atomic<Int>(0)

    /// Starts monitoring `socket` (made from `context`); `onEvent` gets each event on the loop thread.
    public init(socket: ZMQSocket, context: ZMQContext, loop: EventLoop,
                onEvent: @escaping (ZMQSocketEvent) -> Void) throws
    {
        loop.preconditionInEventLoop()
        watched = socket
        let endpoint = "inproc://arachne-monitor-\(Self.counter.add(1, ordering: .relaxed).newValue)"
        try socket.startMonitor(endpoint)
        let pair = try ZMQSocket(context: context, type: .pair)
        try pair.connect(endpoint)
        do {
            channel = try ZMQChannel(socket: pair, loop: loop) { frames in
                if let event = ZMQSocketEvent.decode(frames) { onEvent(event) }
            }
        } catch {
            socket.stopMonitor()
            pair.close()
            throw error
        }
    }

    /// Stops monitoring and closes the PAIR socket.
    public func close() {
        guard let channel else { return }
        self.channel = nil
        watched.stopMonitor()
        channel.close()
    }
}
