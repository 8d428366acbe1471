import ArachneEventLoop
import ArachneZMQ
import Foundation

/// How a coordinator secures its `tcp://` endpoints (`arachne coordinator --keys DIR`): CURVE with its key pair, a
/// ZAP handler that checks every peer's key against the allow-list of the endpoint's role, and limits on what a
/// peer can cost. `ipc://` endpoints stay plain: the data directory's permissions guard them.
public struct CoordinatorSecurity: Sendable {
    public var keys: CoordinatorKeys
    /// A handshake not finished within this drops the connection (libzmq's default is 30 s).
    public static let handshakeTimeoutMs: Int32 = 5_000
    /// The largest frame a worker may send: a `results` message's bodies travel in one frame, and a worker sends one
    /// when it holds 256 results or 16 MiB (`WorkerRuntime`); a larger frame drops the connection.
    public static let maxWorkerMessageBytes: Int64 = 256 << 20
    /// The largest frame a control client may send (a submitted chunk is at most 1 MiB of URLs).
    public static let maxControlMessageBytes: Int64 = 16 << 20

    public init(keys: CoordinatorKeys) {
        self.keys = keys
    }

    /// Whether an endpoint is secured (CURVE) under this configuration: every `tcp://` endpoint.
    public static func isSecured(_ endpoint: String) -> Bool { endpoint.hasPrefix("tcp://") }

    /// Makes `socket` a CURVE server of `domain`, with the limits. Set before `bind`. Throws when libzmq does not
    /// take an option.
    func secure(_ socket: ZMQSocket, domain: ZAPDomain) throws {
        _ = try socket.makeCurveServer(secretKey: keys.keyPair.secretKey, zapDomain: domain.rawValue)
        try Self.limit(socket, domain: domain)
    }

    /// What any `tcp://` endpoint's peers may cost, secured or not: the handshake timeout and the largest frame of
    /// the endpoint's role.
    static func limit(_ socket: ZMQSocket, domain: ZAPDomain) throws {
        try socket.limit(
            handshakeTimeoutMs: handshakeTimeoutMs,
            maxMessageBytes: domain == .workers ? maxWorkerMessageBytes : maxControlMessageBytes)
    }
}

/// The coordinator's ZAP handler (ZeroMQ RFC 27): a ROUTER bound to `inproc://zeromq.zap.01` in the coordinator's
/// ZeroMQ context, on the coordinator's loop. libzmq asks it about every CURVE handshake on a socket of that
/// context; it answers from `ZAPPolicy` and the allow-lists (`DIR/workers/`, `DIR/clients/`, read again when they
/// change), and logs each refused key once, with the peer's address.
///
/// It is bound before any secured socket, and those sockets enforce their ZAP domain, so a handshake is never
/// accepted without its answer. Loop-confined.
final class ZAPHandler {
    static let endpoint = "inproc://zeromq.zap.01"

    private var channel: ZMQChannel?
    private var workers: AllowList
    private var clients: AllowList
    /// Keys whose refusal is expected (the start-up probe's) and not logged.
    private var quietKeys: Set<String> = []
    /// (domain, key) pairs already logged as refused.
    private var logged: Set<String> = []
    private static let maxLogged = 1_024
    private let log: (String) -> Void
    private(set) var refusedCount = 0
    private(set) var allowedCount = 0

    init(keys: CoordinatorKeys, context: ZMQContext, loop: EventLoop, log: @escaping (String) -> Void) throws {
        workers = AllowList(directory: keys.workersDirectory)
        clients = AllowList(directory: keys.clientsDirectory)
        self.log = log
        for problem in workers.refresh() + clients.refresh() { log("keys: \(problem)") }
        log("keys: \(keys.name) (\(keys.directory)); \(workers.count) worker key(s) in \(keys.workersDirectory)/, "
            + "\(clients.count) client key(s) in \(keys.clientsDirectory)/; these folders are read again when "
            + "they change")
        let socket = try ZMQSocket(context: context, type: .router)
        do {
            try socket.bind(Self.endpoint)
        } catch {
            throw CoordinatorError("cannot start the ZAP handler (\(Self.endpoint)): \(error)")
        }
        channel = try ZMQChannel(socket: socket, loop: loop) { [unowned self] frames in
            self.received(frames)
        }
    }

    /// Refusals of `key` are expected and not logged.
    func expectRefusal(of key: String) { quietKeys.insert(key) }

    func close() {
        channel?.close()
        channel = nil
    }

    private func received(_ frames: [[UInt8]]) {
        // Envelope: the requesting pipe's routing id and an empty delimiter (libzmq speaks to us as a REQ socket).
        guard frames.count >= 3, frames[1].isEmpty, let request = ZAPRequest.decode(Array(frames.dropFirst(2))) else {
            log("keys: ignoring a malformed ZAP request (\(frames.count) frames)")
            return
        }
        for problem in workers.refresh() + clients.refresh() { log("keys: \(problem)") }
        let reply = ZAPPolicy.decide(request) { [workers, clients] domain, key in
            domain == .workers ? workers.name(of: key) : clients.name(of: key)
        }
        if reply.allowed {
            allowedCount += 1
            if request.domain == ZAPDomain.workers.rawValue {
                log("keys: worker key '\(reply.userID)' connected from \(request.address)")
            }
        } else {
            refusedCount += 1
            noteRefusal(request, reply)
        }
        try? channel?.send([frames[0], []] + reply.encode())
    }

    private func noteRefusal(_ request: ZAPRequest, _ reply: ZAPReply) {
        let key = request.curveKey ?? "(no CURVE key)"
        guard !quietKeys.contains(key) else { return }
        let id = request.domain + " " + key
        guard !logged.contains(id) else { return }
        if logged.count == Self.maxLogged {
            logged.insert(id)
            log("keys: \(Self.maxLogged) different refused keys logged; further refusals are not logged")
            return
        }
        guard logged.count < Self.maxLogged else { return }
        logged.insert(id)
        let role = request.domain == ZAPDomain.workers.rawValue ? "a worker" :
            request.domain == ZAPDomain.control.rawValue ? "a control client" : "a peer"
        let folder = request.domain == ZAPDomain.workers.rawValue ? workers.directory
            : request.domain == ZAPDomain.control.rawValue ? clients.directory : nil
        let hint = reply.text == "key not allowed" && folder != nil
            ? "its key is not in \(folder!)/" : reply.text
        log("keys: refused \(role) from \(request.address) with key \(key): \(hint) (logged once per key)")
    }
}
