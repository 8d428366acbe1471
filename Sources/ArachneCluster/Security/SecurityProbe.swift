import ArachneEventLoop
import ArachneZMQ
import Foundation

/// The start-up check that a secured endpoint fails closed: a throwaway CURVE key that no allow-list holds must be
/// refused by the ZAP handler (status 400), and a plaintext (NULL) peer must fail its handshake. The coordinator
/// runs it on each secured endpoint after binding and before reading any message from it, and refuses to start
/// if either peer gets through — a ZAP handler that is not answering, a socket that lost its CURVE option, or an
/// allow-list that admits anyone.
///
/// Loop-confined: runs on the loop whose ZAP handler answers the endpoint's handshakes.
final class SecurityProbe {
    private let loop: EventLoop
    private let done: (Result<Void, CoordinatorError>) -> Void
    private var sockets: [ZMQSocket] = []
    private var monitors: [ZMQMonitor] = []
    private var timer: TimerID?
    private var unknownKeyRefused = false
    private var plaintextRefused = false
    private var finished = false
    private let endpoint: String
    private let context: ZMQContext
    /// The probe keeps itself alive until it has a verdict (its sockets' callbacks hold it unowned).
    private var keepAlive: SecurityProbe?

    /// Starts the probe of `endpoint` (as bound); `done` is called once, on the loop.
    @discardableResult
    init(endpoint bound: String, serverKey: String, context: ZMQContext, loop: EventLoop, zap: ZAPHandler?,
         timeoutMs: Int = 5_000, done: @escaping (Result<Void, CoordinatorError>) -> Void)
    {
        self.loop = loop
        self.done = done
        self.context = context
        endpoint = Self.connectable(bound)
        keepAlive = self
        do {
            let throwaway = try CurveKeyPair.generate()
            zap?.expectRefusal(of: throwaway.publicKey)
            let unknown = try ZMQSocket(context: context, type: .dealer)
            try unknown.makeCurveClient(keys: throwaway, serverKey: serverKey)
            try watch(unknown) { [unowned self] event in
                switch event.kind {
                case .handshakeFailedAuth: unknownKeyRefused = true
                case .handshakeSucceeded: fail("it accepted a CURVE key that no allow-list holds")
                default: return
                }
                check()
            }
            let plaintext = try ZMQSocket(context: context, type: .dealer)
            try watch(plaintext) { [unowned self] event in
                switch event.kind {
                case .handshakeFailedProtocol, .handshakeFailedNoDetail, .handshakeFailedAuth: plaintextRefused = true
                case .handshakeSucceeded: fail("it accepted a plaintext (NULL) peer")
                default: return
                }
                check()
            }
            timer = loop.scheduleTimer(afterMilliseconds: timeoutMs) { [unowned self] in
                timer = nil
                fail("no verdict within \(timeoutMs) ms (unknown key refused: \(unknownKeyRefused), plaintext "
                    + "peer refused: \(plaintextRefused))")
            }
        } catch {
            fail("cannot start the check: \(error)")
        }
    }

    private func watch(_ socket: ZMQSocket, onEvent: @escaping (ZMQSocketEvent) -> Void) throws {
        sockets.append(socket)
        monitors.append(try ZMQMonitor(socket: socket, context: context, loop: loop, onEvent: onEvent))
        try socket.connect(endpoint)
    }

    private func check() {
        if unknownKeyRefused && plaintextRefused { finish(.success(())) }
    }

    private func fail(_ reason: String) {
        finish(.failure(CoordinatorError(
            "the secured endpoint \(endpoint) does not fail closed: \(reason); refusing to start")))
    }

    private func finish(_ result: Result<Void, CoordinatorError>) {
        guard !finished else { return }
        finished = true
        if let timer { loop.cancelTimer(timer) }
        for monitor in monitors { monitor.close() }
        for socket in sockets { socket.close() }
        monitors.removeAll()
        sockets.removeAll()
        // On a later turn of the loop: never from inside init (a failure there), and never while a socket callback
        // that holds this probe unowned is still running.
        loop.runSoon { [self] in
            done(result)
            keepAlive = nil
        }
    }

    /// Where to connect to reach a bound endpoint: a wildcard address becomes loopback.
    static func connectable(_ bound: String) -> String {
        if bound.hasPrefix("tcp://0.0.0.0:") { return "tcp://127.0.0.1:" + bound.dropFirst("tcp://0.0.0.0:".count) }
        if bound.hasPrefix("tcp://[::]:") { return "tcp://[::1]:" + bound.dropFirst("tcp://[::]:".count) }
        if bound.hasPrefix("tcp://*:") { return "tcp://127.0.0.1:" + bound.dropFirst("tcp://*:".count) }
        return bound
    }
}
