import ArachneCore
import ArachneEventLoop

/// A ZeroMQ socket living on an event loop: its `ZMQ_FD` sits in the loop's epoll set, incoming messages are
/// delivered to a handler on the loop thread, and sends that would block are queued and retried when the socket
/// becomes writable.
///
/// `ZMQ_FD` is edge-triggered: after every wake-up and after every send the channel drains the socket while
/// `ZMQ_EVENTS` reports input, or it would stall silently.
///
/// Not thread-safe: create, use and close it on its loop's thread.
public final class ZMQChannel {
    public let socket: ZMQSocket
    public let loop: EventLoop
    private let fd: Int32
    private var handler: ([[UInt8]], String?) -> Void
    /// The metadata property read with each message, if any.
    private let property: String?
    private var pending = FIFO<[[UInt8]]>()
    private var closed = false
    private var draining = false

    /// Registers `socket` with `loop`; `onMessage` receives each multipart message.
    public convenience init(socket: ZMQSocket, loop: EventLoop, onMessage: @escaping ([[UInt8]]) -> Void) throws {
        try self.init(socket: socket, loop: loop, property: nil) { frames, _ in onMessage(frames) }
    }

    /// Registers `socket` with `loop`; `onMessage` receives each multipart message with the value of its metadata
    /// `property` (e.g. `User-Id`, the name a ZAP handler gave the authenticated peer), nil when it has none.
    public init(socket: ZMQSocket, loop: EventLoop, property: String?,
                onMessage: @escaping ([[UInt8]], String?) -> Void) throws
    {
        loop.preconditionInEventLoop()
        self.socket = socket
        self.loop = loop
        self.handler = onMessage
        self.property = property
        fd = try socket.descriptor()
        try loop.register(fd: fd, interest: [.readable, .edgeTriggered]) { [unowned self] _ in
            self.service()
        }
        // Messages may have arrived before registration; the edge would never come for them.
        loop.runSoon { [weak self] in self?.service() }
    }

    /// Messages queued because the socket was full.
    public var backlog: Int { pending.count }

    /// Sends a message, or queues it if the socket would block. Throws if the socket refuses it (e.g. a ROUTER
    /// sending to a peer that is gone).
    public func send(_ frames: [[UInt8]]) throws(ZMQError) {
        guard !closed else { return }
        if backlog == 0, try socket.send(frames) {
            serviceSoon()
            return
        }
        pending.append(frames)
        serviceSoon()
    }

    /// Stops watching the socket and closes it. Queued messages are dropped.
    public func close() {
        guard !closed else { return }
        closed = true
        loop.deregister(fd: fd)
        socket.close()
        pending.removeAll()
    }

    private var serviceScheduled = false

    private func serviceSoon() {
        guard !serviceScheduled else { return }
        serviceScheduled = true
        loop.runSoon { [weak self] in
            guard let self else { return }
            self.serviceScheduled = false
            self.service()
        }
    }

    /// Flushes queued sends and drains input while the socket reports it.
    private func service() {
        guard !closed, !draining else { return }
        draining = true
        defer { draining = false }
        while !closed {
            let (readable, writable) = socket.events()
            var progressed = false
            if writable && backlog > 0 {
                progressed = flushPending() || progressed
            }
            if readable {
                var received = 0
                while received < 256, !closed, let message = try? socket.receive(property: property) {
                    received += 1
                    handler(message.frames, message.property)
                }
                progressed = progressed || received > 0
            }
            if !progressed { break }
        }
    }

    private func flushPending() -> Bool {
        var sent = false
        while let frames = pending.first {
            do {
                guard try socket.send(frames) else { break }
            } catch {
                // The peer is gone; the message cannot be delivered. Drop it and go on.
            }
            _ = pending.popFirst()
            sent = true
        }
        return sent
    }
}
