import CArachneZMQ

/// The socket types Arachne uses.
public enum ZMQSocketType: Sendable {
    case router, dealer
    /// The receiving end of a socket monitor (`ZMQMonitor`).
    case pair

    var raw: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .pair: ZMQ_PAIR
        }
    }
}

/// A ZeroMQ socket with non-blocking multipart send and receive. Frames are byte arrays: bodies travel as raw
/// frames. Not thread-safe (libzmq sockets are not): owned by one event loop — see `ZMQChannel`.
public final class ZMQSocket {
    private var raw: UnsafeMutableRawPointer?
    public let type: ZMQSocketType

    public init(context: ZMQContext, type: ZMQSocketType) throws(ZMQError) {
        guard let raw = zmq_socket(context.raw, type.raw) else { throw .last("zmq_socket") }
        self.raw = raw
        self.type = type
        try setOption(ZMQ_LINGER, 0)
        // Our own credits bound what is in flight; the high-water marks are a safety net, not flow control.
        try setOption(ZMQ_SNDHWM, 100_000)
        try setOption(ZMQ_RCVHWM, 100_000)
        if type == .router {
            // Sending to a peer that is gone fails loudly instead of silently dropping.
            try setOption(ZMQ_ROUTER_MANDATORY, 1)
        }
    }

    deinit { close() }

    public func close() {
        if let raw { zmq_close(raw) }
        raw = nil
    }

    /// Whether `close()` has not been called yet.
    public var isOpen: Bool { raw != nil }

    private var socket: UnsafeMutableRawPointer {
        guard let raw else { preconditionFailure("ZeroMQ socket used after close") }
        return raw
    }

    public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        if zmq_setsockopt(socket, option, &value, MemoryLayout<Int32>.size) != 0 { throw .last("zmq_setsockopt") }
    }

    public func setOption(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        let result = bytes.withUnsafeBytes { zmq_setsockopt(socket, option, $0.baseAddress, $0.count) }
        if result != 0 { throw .last("zmq_setsockopt") }
    }

    public func setOption(_ option: Int32, string: String) throws(ZMQError) {
        try setOption(option, bytes: Array(string.utf8))
    }

    /// Sets the identity a ROUTER sees this socket as.
    public func setRoutingID(_ id: String) throws(ZMQError) {
        try setOption(ZMQ_ROUTING_ID, bytes: Array(id.utf8))
    }

    public func bind(_ endpoint: String) throws(ZMQError) {
        if zmq_bind(socket, endpoint) != 0 { throw .last("zmq_bind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws(ZMQError) {
        if zmq_connect(socket, endpoint) != 0 { throw .last("zmq_connect(\(endpoint))") }
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to the chosen port).
    public func lastEndpoint() throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        if zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, &buffer, &size) != 0 { throw .last("zmq_getsockopt") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The descriptor that signals (edge-triggered) that `events` may have changed.
    public func descriptor() throws(ZMQError) -> Int32 {
        var fd: Int32 = -1
        var size = MemoryLayout<Int32>.size
        if zmq_getsockopt(socket, ZMQ_FD, &fd, &size) != 0 { throw .last("zmq_getsockopt(ZMQ_FD)") }
        return fd
    }

    /// What the socket can do now without blocking.
    public func events() -> (readable: Bool, writable: Bool) {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(socket, ZMQ_EVENTS, &value, &size) == 0 else { return (false, false) }
        return (value & Int32(ZMQ_POLLIN) != 0, value & Int32(ZMQ_POLLOUT) != 0)
    }

    /// Sends a multipart message without blocking. Returns false when it would block (high-water mark).
    /// A ROUTER's first frame is the peer's routing id.
    public func send(_ frames: [[UInt8]]) throws(ZMQError) -> Bool {
        precondition(!frames.isEmpty, "a message has at least one frame")
        for (index, frame) in frames.enumerated() {
            var flags = ZMQ_DONTWAIT
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            let result = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
            if result < 0 {
                let error = ZMQError.last("zmq_send")
                // Only the first frame can block: once it is queued, the rest of the message goes with it.
                if error.wouldBlock && index == 0 { return false }
                throw error
            }
        }
        return true
    }

    /// Receives one whole multipart message without blocking; nil when none is waiting.
    public func receive() throws(ZMQError) -> [[UInt8]]? {
        try receive(property: nil)?.frames
    }

    /// Receives one whole multipart message without blocking, with one of its metadata properties (`User-Id`: what
    /// the ZAP handler said the authenticated peer is; `Peer-Address`); nil when no message is waiting.
    public func receive(property: String?) throws(ZMQError) -> (frames: [[UInt8]], property: String?)? {
        var value: String?
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while true {
            if zmq_msg_recv(&message, socket, frames.isEmpty ? ZMQ_DONTWAIT : 0) < 0 {
                let error = ZMQError.last("zmq_msg_recv")
                if error.wouldBlock && frames.isEmpty { return nil }
                throw error
            }
            let size = zmq_msg_size(&message)
            let data = zmq_msg_data(&message)
            frames.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: data, count: size)))
            if let property, value == nil, let found = zmq_msg_gets(&message, property) {
                value = String(cString: found)
            }
            if zmq_msg_more(&message) == 0 { return (frames, value) }
        }
    }
}

// MARK: CURVE security and monitoring

extension ZMQSocket {
    /// Makes this socket a CURVE server with `secretKey`: every peer must complete a CURVE handshake (a NULL,
    /// plaintext peer fails at the mechanism mismatch), and the context's ZAP handler is asked about each peer's key
    /// under `zapDomain`. Set before `bind`.
    ///
    /// Returns whether libzmq enforces the domain (`ZMQ_ZAP_ENFORCE_DOMAIN`, a draft option): when it does, a
    /// handshake with no ZAP handler to answer fails instead of being accepted.
    @discardableResult
    public func makeCurveServer(secretKey: String, zapDomain: String) throws(ZMQError) -> Bool {
        try setOption(ZMQ_CURVE_SERVER, 1)
        try setOption(ZMQ_CURVE_SECRETKEY, string: secretKey)
        try setOption(ZMQ_ZAP_DOMAIN, string: zapDomain)
        do {
            try setOption(ZMQ_ZAP_ENFORCE_DOMAIN, 1)
            return true
        } catch {
            return false
        }
    }

    /// Makes this socket a CURVE client of the server whose public key is `serverKey`. Set before `connect`.
    public func makeCurveClient(keys: CurveKeyPair, serverKey: String) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVERKEY, string: serverKey)
        try setOption(ZMQ_CURVE_PUBLICKEY, string: keys.publicKey)
        try setOption(ZMQ_CURVE_SECRETKEY, string: keys.secretKey)
    }

    /// Bounds what a peer can cost before and after its handshake: a handshake not finished within
    /// `handshakeTimeoutMs` drops the connection, and a frame over `maxMessageBytes` drops the peer (libzmq checks
    /// the length a frame announces before reading it).
    public func limit(handshakeTimeoutMs: Int32, maxMessageBytes: Int64) throws(ZMQError) {
        try setOption(ZMQ_HANDSHAKE_IVL, handshakeTimeoutMs)
        var size = maxMessageBytes
        if zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &size, MemoryLayout<Int64>.size) != 0 {
            throw .last("zmq_setsockopt(ZMQ_MAXMSGSIZE)")
        }
    }

    /// Starts publishing this socket's events on `endpoint` (an `inproc://` address a PAIR socket connects to).
    func startMonitor(_ endpoint: String) throws(ZMQError) {
        if zmq_socket_monitor(socket, endpoint, ZMQ_EVENT_ALL) != 0 { throw .last("zmq_socket_monitor") }
    }

    /// Stops publishing events (nothing happens when the socket is closed).
    func stopMonitor() {
        guard let raw else { return }
        zmq_socket_monitor(raw, nil, 0)
    }
}
