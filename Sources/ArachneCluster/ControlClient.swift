import ArachneEventLoop
import ArachneProtocol
import ArachneZMQ
import Foundation
import Synchronization

/// Why a control request got no usable answer.
public struct ControlClientError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// Nothing listens at the endpoint, or it did not answer in time.
        case unreachable
        /// The answer was not a control reply.
        case badReply
        /// The coordinator refused this client's key, or the two disagree on security (CURVE against plaintext).
        case refused
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// A client of the coordinator's control socket: a ZeroMQ DEALER on a small loop of its own. Requests may be
/// pipelined (`enqueue`): the coordinator answers one client's requests in the order it got them, so answers are
/// matched first in, first out. A request with no answer within `timeout` fails as `unreachable`, naming the
/// endpoint, together with every request still waiting, and the socket is replaced so a late answer is never
/// taken for a later request's.
public final class ControlClient: Sendable {
    public let endpoint: String
    /// Seconds to wait for each answer.
    public let timeout: Double
    /// Its CURVE keys for a secured `tcp://` endpoint; nil: plaintext.
    public let keys: PeerKeys?
    private let loop: EventLoop
    private let context = ZMQContext()
    private let state = LoopBox(ClientState())

    /// Loop-confined state: the socket and the requests waiting for their answers, oldest first.
    private final class ClientState {
        var channel: ZMQChannel?
        var monitor: ZMQMonitor?
        var waiting: [Waiting] = []
        var nextID = 0
    }

    private struct Waiting {
        var id: Int
        var done: (Result<[[UInt8]], ControlClientError>) -> Void
        var timer: TimerID?
    }

    public init(endpoint: String, timeout: Double = 3, keys: PeerKeys? = nil) throws {
        self.endpoint = endpoint
        self.timeout = timeout
        self.keys = keys
        loop = try EventLoop(name: "arachne-control-client")
    }

    deinit {
        let state = state
        loop.execute {
            state.value.monitor?.close()
            state.value.monitor = nil
            state.value.channel?.close()
            state.value.channel = nil
        }
        loop.shutdown()
    }

    /// Sends a request and returns the coordinator's reply (which may be `.error`).
    public func send(_ request: ControlRequest) async throws(ControlClientError) -> ControlReply {
        let frames = try await exchange(request.encode())
        return try decode(frames)
    }

    /// Sends a request now and returns its answer to await later: requests enqueued one after another leave in that
    /// order, and may wait for their answers together.
    public func enqueue(_ request: ControlRequest) -> PendingReply {
        let pending = PendingReply(endpoint: endpoint)
        start(request.encode()) { pending.complete($0) }
        return pending
    }

    /// Sends a request, blocking the calling thread (never a loop thread) until the reply or the timeout.
    public func sendBlocking(_ request: ControlRequest) throws(ControlClientError) -> ControlReply {
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResultBox()
        start(request.encode()) { result in
            box.result = result
            semaphore.signal()
        }
        semaphore.wait()
        return try decode(try box.result!.get())
    }

    /// Sends frames as they are and returns the answer's frames: for tools and tests that speak the wire format.
    public func exchange(_ frames: [[UInt8]]) async throws(ControlClientError) -> [[UInt8]] {
        let result: Result<[[UInt8]], ControlClientError> = await withCheckedContinuation { continuation in
            start(frames) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    private func decode(_ frames: [[UInt8]]) throws(ControlClientError) -> ControlReply {
        do {
            return try ControlReply.decode(frames)
        } catch {
            throw ControlClientError(.badReply, "the coordinator at \(endpoint) sent an unreadable reply: \(error)")
        }
    }

    private final class ResultBox: @unchecked Sendable {
        // Safety: written once on the loop before the semaphore is signalled, read after the wait.
        var result: Result<[[UInt8]], ControlClientError>?
    }

    private func start(_ frames: [[UInt8]],
                       _ done: @escaping @Sendable (Result<[[UInt8]], ControlClientError>) -> Void)
    {
        if endpoint.hasPrefix("ipc://") {
            let path = String(endpoint.dropFirst("ipc://".count))
            if !FileManager.default.fileExists(atPath: path) {
                done(.failure(ControlClientError(
                    .unreachable,
                    "no coordinator at \(endpoint) (no socket file); start one with `arachne coordinator`")))
                return
            }
        }
        let state = state
        let endpoint = endpoint
        let keys = endpoint.hasPrefix("tcp://") ? keys : nil
        let timeoutMs = Int(timeout * 1000)
        loop.execute { [context, loop] in
            let client = state.value
            /// Fails every waiting request and drops the socket: a late answer must not be read as a later one's.
            func failAll(_ error: ControlClientError) {
                let waiting = client.waiting
                client.waiting.removeAll()
                for entry in waiting { if let timer = entry.timer { loop.cancelTimer(timer) } }
                client.monitor?.close()
                client.monitor = nil
                client.channel?.close()
                client.channel = nil
                for entry in waiting { entry.done(.failure(error)) }
            }
            do {
                if client.channel == nil {
                    let socket = try ZMQSocket(context: context, type: .dealer)
                    if let keys { try socket.makeCurveClient(keys: keys.keyPair, serverKey: keys.serverKey) }
                    // A refused key or a security mismatch fails the waiting requests at once, saying why, rather
                    // than at the timeout.
                    var watch = ConnectionWatch(endpoint: endpoint, role: .client, keys: keys, now: EventLoop.now())
                    client.monitor = try ZMQMonitor(socket: socket, context: context, loop: loop) { event in
                        if case .refused(let reason) = watch.note(event, now: EventLoop.now()) {
                            failAll(ControlClientError(.refused, reason))
                        }
                    }
                    try socket.connect(endpoint)
                    client.channel = try ZMQChannel(socket: socket, loop: loop) { frames in
                        guard !client.waiting.isEmpty else { return }
                        let first = client.waiting.removeFirst()
                        if let timer = first.timer { loop.cancelTimer(timer) }
                        first.done(.success(frames))
                    }
                }
                let id = client.nextID
                client.nextID += 1
                let timer = loop.scheduleTimer(afterMilliseconds: timeoutMs) {
                    guard let index = client.waiting.firstIndex(where: { $0.id == id }) else { return }
                    client.waiting[index].timer = nil
                    failAll(ControlClientError(
                        .unreachable,
                        "no answer from a coordinator at \(endpoint) within \(Self.seconds(timeoutMs)); "
                            + "is `arachne coordinator` running there?"))
                }
                client.waiting.append(Waiting(id: id, done: done, timer: timer))
                try client.channel?.send(frames)
            } catch {
                failAll(ControlClientError(.unreachable, "cannot connect to \(endpoint): \(error)"))
            }
        }
    }

    private static func seconds(_ milliseconds: Int) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : String(format: "%.1f s", Double(milliseconds) / 1000)
    }
}

/// The answer to a request sent with `ControlClient.enqueue`, to await once.
public final class PendingReply: Sendable {
    private let endpoint: String
    private let state = Mutex<(result: Result<[[UInt8]], ControlClientError>?,
                               waiter: CheckedContinuation<Result<[[UInt8]], ControlClientError>, Never>?)>((nil, nil))

    init(endpoint: String) { self.endpoint = endpoint }

    func complete(_ result: Result<[[UInt8]], ControlClientError>) {
        let waiter = state.withLock { state in
            state.result = result
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: result)
    }

    /// The coordinator's reply, once it came.
    public func reply() async throws(ControlClientError) -> ControlReply {
        let result = await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let ready { continuation.resume(returning: ready) }
        }
        do {
            return try ControlReply.decode(try result.get())
        } catch let error as ControlClientError {
            throw error
        } catch {
            throw ControlClientError(.badReply, "the coordinator at \(endpoint) sent an unreadable reply: \(error)")
        }
    }
}
