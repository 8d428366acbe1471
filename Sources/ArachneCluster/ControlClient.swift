import ArachneEventLoop
import ArachneProtocol
import ArachneZMQ
import Foundation

/// Why a control request got no usable answer.
public struct ControlClientError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// Nothing listens at the endpoint, or it did not answer in time.
        case unreachable
        /// The answer was not a control reply.
        case badReply
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// A client of the coordinator's control socket: a ZeroMQ DEALER on a small loop of its own. One request at a time;
/// a request with no answer within `timeout` fails as `unreachable`, naming the endpoint, and the socket is
/// replaced so a late answer is never taken for the next one.
public final class ControlClient: Sendable {
    public let endpoint: String
    /// Seconds to wait for each answer.
    public let timeout: Double
    private let loop: EventLoop
    private let context = ZMQContext()
    private let state = LoopBox(ClientState())

    /// Loop-confined state: the socket and the request waiting for its answer.
    private final class ClientState {
        var channel: ZMQChannel?
        var waiting: ((Result<[[UInt8]], ControlClientError>) -> Void)?
        var timer: TimerID?
    }

    public init(endpoint: String, timeout: Double = 3) throws {
        self.endpoint = endpoint
        self.timeout = timeout
        loop = try EventLoop(name: "arachne-control-client")
    }

    deinit {
        let state = state
        loop.execute {
            state.value.channel?.close()
            state.value.channel = nil
        }
        loop.shutdown()
    }

    /// Sends a request and returns the coordinator's reply (which may be `.error`).
    public func send(_ request: ControlRequest) async throws(ControlClientError) -> ControlReply {
        let frames = try await exchange(request.encode())
        do {
            return try ControlReply.decode(frames)
        } catch {
            throw ControlClientError(.badReply, "the coordinator at \(endpoint) sent an unreadable reply: \(error)")
        }
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
        let frames = try box.result!.get()
        do {
            return try ControlReply.decode(frames)
        } catch {
            throw ControlClientError(.badReply, "the coordinator at \(endpoint) sent an unreadable reply: \(error)")
        }
    }

    /// Sends frames as they are and returns the answer's frames: for tools and tests that speak the wire format.
    public func exchange(_ frames: [[UInt8]]) async throws(ControlClientError) -> [[UInt8]] {
        let result: Result<[[UInt8]], ControlClientError> = await withCheckedContinuation { continuation in
            start(frames) { continuation.resume(returning: $0) }
        }
        return try result.get()
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
        let timeoutMs = Int(timeout * 1000)
        loop.execute { [context, loop] in
            let client = state.value
            precondition(client.waiting == nil, "ControlClient sends one request at a time")
            do {
                if client.channel == nil {
                    let socket = try ZMQSocket(context: context, type: .dealer)
                    try socket.connect(endpoint)
                    client.channel = try ZMQChannel(socket: socket, loop: loop) { frames in
                        guard let waiting = client.waiting else { return }
                        client.waiting = nil
                        if let timer = client.timer { loop.cancelTimer(timer) }
                        client.timer = nil
                        waiting(.success(frames))
                    }
                }
                client.waiting = done
                client.timer = loop.scheduleTimer(afterMilliseconds: timeoutMs) {
                    client.timer = nil
                    guard let waiting = client.waiting else { return }
                    client.waiting = nil
                    // A late answer must not be read as the next request's: start over with a new socket.
                    client.channel?.close()
                    client.channel = nil
                    waiting(.failure(ControlClientError(
                        .unreachable,
                        "no answer from a coordinator at \(endpoint) within \(Self.seconds(timeoutMs)); "
                            + "is `arachne coordinator` running there?")))
                }
                try client.channel?.send(frames)
            } catch {
                client.waiting = nil
                if let timer = client.timer { loop.cancelTimer(timer) }
                client.timer = nil
                client.channel?.close()
                client.channel = nil
                done(.failure(ControlClientError(.unreachable, "cannot connect to \(endpoint): \(error)")))
            }
        }
    }

    private static func seconds(_ milliseconds: Int) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : String(format: "%.1f s", Double(milliseconds) / 1000)
    }
}
