import ArachneEventLoop
import ArachneProtocol
import ArachneSystem
import ArachneZMQ
import Foundation
import Synchronization

/// A decoded control request, with the envelope and the socket to answer it on: whoever handles it may answer
/// from any thread.
struct ControlCall: Sendable {
    var request: ControlRequest
    /// The ROUTER envelope: the client's routing id, plus an empty delimiter frame for REQ clients.
    var envelope: [[UInt8]]
    let responder: ControlResponder
    /// When the control loop decoded the request, and when its handler took it (`EventLoop.now()`), for the log
    /// of slow answers.
    var receivedAt: UInt64 = 0
    var takenAt: UInt64 = 0

    /// Answers the request (the frames leave from the control loop).
    func reply(_ reply: ControlReply) {
        responder.send(envelope + reply.encode(), answering: self, answeredAt: EventLoop.now())
    }

    /// The request's name, for the log.
    var name: String {
        switch request {
        case .submit: "submit"
        case .status(let job): job == nil ? "status (every job)" : "status"
        case .cancel: "cancel"
        case .report: "report"
        case .submitBegin: "submitBegin"
        case .submitChunk: "submitChunk"
        case .submitEnd: "submitEnd"
        case .workers: "workers"
        case .removeJobs: "removeJobs"
        case .pruneJobs: "pruneJobs"
        }
    }
}

/// Sends answers on the control socket from any thread: each hops to the control loop, which owns the socket. An
/// answer after the socket closed is dropped. A query (`status`, `cancel`, `report`) answered more than
/// `slowQueryMs` after it arrived is logged, with where the time went.
struct ControlResponder: Sendable {
    fileprivate let loop: EventLoop
    fileprivate let channel: LoopBox<ZMQChannel?>
    fileprivate let log: @Sendable (String) -> Void
    static let slowQueryMs: UInt64 = 100

    func send(_ frames: [[UInt8]], answering call: ControlCall, answeredAt: UInt64) {
        loop.executeIfRunning { [channel, log] in
            do {
                try channel.value?.send(frames)
            } catch {
                log("control: could not answer a client (it went away?): \(error)")
            }
            switch call.request {
            case .status, .cancel, .report:
                let sent = EventLoop.now()
                guard call.receivedAt > 0, sent &- call.receivedAt > Self.slowQueryMs * 1_000_000 else { return }
                func ms(_ from: UInt64, _ to: UInt64) -> String {
                    from == 0 || to < from ? "?" : String(format: "%.1f", Double(to - from) / 1e6)
                }
                log("control: slow answer to \(call.name): \(ms(call.receivedAt, sent)) ms (waiting for its handler "
                    + "\(ms(call.receivedAt, call.takenAt)) ms, handling \(ms(call.takenAt, answeredAt)) ms, "
                    + "back to the socket \(ms(answeredAt, sent)) ms)")
            default:
                return
            }
        }
    }
}

/// The coordinator's control socket: a ZeroMQ ROUTER on a loop of its own that decodes `ControlRequest`s and hands
/// them on in arrival order (`onCall`, called on the control loop; each call carries its way to answer). Anything
/// that does not decode is answered at once with an `error` reply naming what was wrong; the server goes on. It does
/// no store work and answers nothing itself: the service and the query desk do, on their threads.
///
/// Clients are DEALER sockets (one frame per request); a REQ client's empty delimiter frame is accepted and
/// echoed.
final class ControlServer: Sendable {
    let loop: EventLoop
    let endpoint: String
    private let context: ZMQContext
    private let channel: LoopBox<ZMQChannel?>
    /// When set, every well-formed request is refused with this message (the coordinator is stopping).
    private let refusal = Refusal()

    private final class Refusal: Sendable {
        let message = Mutex<String?>(nil)
    }
    private let log: @Sendable (String) -> Void

    /// How a `tcp://` control endpoint is secured: a CURVE server in the coordinator's context (whose ZAP handler
    /// checks clients' keys against `clients/`), checked by `verify` (the start-up probe) before it is read.
    struct Secured: Sendable {
        var context: ZMQContext
        var security: CoordinatorSecurity
        var verify: @Sendable (String) async throws -> Void
    }

    /// Binds the ROUTER on `endpoint` and starts answering.
    init(endpoint: String, secured: Secured? = nil, log: @escaping @Sendable (String) -> Void,
         onCall: @escaping @Sendable (ControlCall) -> Void) async throws
    {
        let loop = try EventLoop(name: "arachne-control")
        self.loop = loop
        self.log = log
        // Answers must not wait behind the workers' threads for a CPU: real-time scheduling for the loop and, when
        // the control socket has a context of its own, for that context's I/O thread (decision 0021).
        let refused = try await loop.submit { LatencyPriority.raiseCallingThread() }
        if let refused {
            log("control: answering at the ordinary priority, real-time scheduling \(refused): on a loaded machine "
                + "an answer can wait for a CPU")
        }
        let context = secured?.context
            ?? ZMQContext(realTimePriority: refused == nil ? LatencyPriority.realTimePriority : nil)
        self.context = context
        let channel = LoopBox<ZMQChannel?>(nil)
        self.channel = channel
        let bound = LoopBox<ZMQSocket?>(nil)
        let isSecured = secured != nil && CoordinatorSecurity.isSecured(endpoint)
        do {
            self.endpoint = try await loop.submit {
                let socket = try ZMQSocket(context: context, type: .router)
                if let secured, isSecured {
                    try secured.security.secure(socket, domain: .control)
                } else if endpoint.hasPrefix("tcp://") {
                    try CoordinatorSecurity.limit(socket, domain: .control)
                }
                try socket.bind(endpoint)
                bound.value = socket
                return try socket.lastEndpoint()
            }
            if let secured, isSecured { try await secured.verify(self.endpoint) }
            try await loop.submit { [refusal] in
                guard let socket = bound.value else { return }
                bound.value = nil
                let responder = ControlResponder(loop: loop, channel: channel, log: log)
                channel.value = try ZMQChannel(socket: socket, loop: loop) { frames in
                    Self.received(frames, responder: responder, onCall: onCall, refusal: refusal, log: log)
                }
            }
        } catch {
            _ = try? await loop.submit { bound.value?.close() }
            loop.shutdown()
            if let error = error as? CoordinatorError { throw error }
            throw CoordinatorError("cannot listen for control requests on \(endpoint): \(error)")
        }
    }

    /// Answers a request.
    func reply(_ reply: ControlReply, to call: ControlCall) {
        call.reply(reply)
    }

    /// From now on, answers every request with an error saying `message`.
    func refuseAll(_ message: String) {
        refusal.message.withLock { $0 = message }
    }

    /// Closes the socket and stops the loop.
    func close() {
        loop.execute { [channel] in
            channel.value?.close()
            channel.value = nil
        }
        loop.shutdown()
    }

    // MARK: Loop side

    private static func received(
        _ frames: [[UInt8]], responder: ControlResponder, onCall: (ControlCall) -> Void, refusal: Refusal,
        log: (String) -> Void
    ) {
        let channel = responder.channel
        guard let routingID = frames.first else { return }
        var envelope = [routingID]
        var body = Array(frames.dropFirst())
        if body.count >= 2, body[0].isEmpty {
            // A REQ client: routing id, empty delimiter, request.
            envelope.append([])
            body.removeFirst()
        }
        let reply: ControlReply
        do {
            let request = try ControlRequest.decode(body)
            if let message = refusal.message.withLock({ $0 }) {
                reply = .error(message: message)
            } else {
                onCall(ControlCall(request: request, envelope: envelope, responder: responder,
                                   receivedAt: EventLoop.now()))
                return
            }
        } catch {
            log("control: rejected a malformed request: \(error.message)")
            reply = ControlReply.rejecting(error)
        }
        do {
            try channel.value?.send(envelope + reply.encode())
        } catch {
            log("control: could not answer a client (it went away?): \(error)")
        }
    }
}
