import ArachneZMQ

/// What a worker or CLI client learns about its connection to the coordinator from its socket's events
/// (`ZMQMonitor`), and what to tell the user: a refused key or a security mismatch is final (say why, exit
/// non-zero); an unreachable coordinator is reported after a few seconds while ZeroMQ keeps retrying. Pure: events
/// and the clock come in, verdicts go out.
struct ConnectionWatch {
    /// Who is connecting, for the messages: "worker" or "client".
    enum Role: String, Sendable {
        case worker, client

        var folder: String { self == .worker ? KeyDirectory.workersFolder : KeyDirectory.clientsFolder }
    }

    enum Verdict: Equatable {
        /// Nothing to say.
        case none
        /// The coordinator will never accept this peer as configured: stop, with this reason.
        case refused(String)
        /// The connection came up after a reported problem.
        case connected
    }

    let endpoint: String
    let role: Role
    /// The peer's keys when it uses CURVE; nil for a plaintext peer.
    let keys: PeerKeys?
    /// Delay before the first report of a connection that is not up, and between later ones (ns).
    var firstReportAfter: UInt64 = 3_000_000_000
    var reportEvery: UInt64 = 30_000_000_000

    private(set) var up = false
    private var since: UInt64
    private var lastReport: UInt64?
    private var problem: String?

    init(endpoint: String, role: Role, keys: PeerKeys?, now: UInt64) {
        self.endpoint = endpoint
        self.role = role
        self.keys = keys
        since = now
    }

    /// Takes one socket event.
    mutating func note(_ event: ZMQSocketEvent, now: UInt64) -> Verdict {
        switch event.kind {
        case .handshakeSucceeded:
            return cameUp()
        case .handshakeFailedAuth:
            let name = keys?.name ?? "?"
            let file = keys.map { $0.directory + "/" + $0.name + CurveCertificate.publicExtension } ?? "its public key"
            return .refused("its key '\(name)' is not allowed (\(event.detail)): copy \(file) into the coordinator's "
                + "keys directory, in \(role.folder)/")
        case .handshakeFailedProtocol where event.isMechanismMismatch:
            if keys != nil {
                return .refused("the coordinator does not use CURVE (it was started without --keys), but this "
                    + "\(role.rawValue) was given keys")
            }
            return .refused("the coordinator requires CURVE authentication: give this \(role.rawValue) --keys DIR "
                + "(its key pair and the coordinator's public key)")
        case .handshakeFailedProtocol:
            problem = "the handshake failed: \(event.detail)"
        case .handshakeFailedNoDetail:
            problem = keys.map {
                "the coordinator hangs up during the CURVE handshake: is \($0.serverKeyPath) its public key?"
            } ?? "the coordinator hangs up during the handshake"
        case .connectDelayed, .connectRetried:
            if !up && problem == nil { problem = "no connection yet (refused, or no route to the host)" }
            if event.kind == .connectRetried && !up {
                problem = "no connection (refused, or no route to the host)"
            }
        case .disconnected, .closed:
            if up {
                up = false
                since = now
                lastReport = nil
            }
            problem = "the connection dropped"
        default:
            break
        }
        return .none
    }

    /// A message arrived from the coordinator: the connection is up whatever events said.
    mutating func heardFromCoordinator() -> Verdict {
        up ? .none : cameUp()
    }

    private mutating func cameUp() -> Verdict {
        let wasReported = lastReport != nil
        up = true
        problem = nil
        lastReport = nil
        return wasReported ? .connected : .none
    }

    /// A new connection attempt (the peer reconnected): reports count from now.
    mutating func restart(now: UInt64) {
        up = false
        since = now
        lastReport = nil
        problem = nil
    }

    /// What to log now about a connection that is not up, if it is time to.
    mutating func report(now: UInt64) -> String? {
        guard !up, now &- since >= firstReportAfter else { return nil }
        if let lastReport, now &- lastReport < reportEvery { return nil }
        lastReport = now
        let seconds = (now &- since) / 1_000_000_000
        return "cannot reach the coordinator at \(endpoint) after \(seconds) s: \(problem ?? "no answer"); "
            + "still trying"
    }
}
