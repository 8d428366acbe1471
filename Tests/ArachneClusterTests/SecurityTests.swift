import ArachneEventLoop
import ArachneZMQ
import Foundation
import Testing

@testable import ArachneCluster

/// A fresh directory for key files.
private func keyDirectory(_ label: String) -> String {
    let path = "/tmp/arachne-keys-\(label)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func mode(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int ?? -1) & 0o777
}

@Suite("ZAP policy and messages")
struct ZAPPolicyTests {
    static let worker = try! CurveKeyPair.generate()
    static let client = try! CurveKeyPair.generate()

    static func request(domain: String = "arachne-workers", mechanism: String = "CURVE",
                        credentials: [[UInt8]]? = nil, version: String = "1.0") -> ZAPRequest
    {
        ZAPRequest(version: version, requestID: [7], domain: domain, address: "10.0.0.9", identity: [],
                   mechanism: mechanism, credentials: credentials ?? [CurveKey.decode(worker.publicKey)!])
    }

    static func lookup(_ domain: ZAPDomain, _ key: String) -> String? {
        switch domain {
        case .workers: key == worker.publicKey ? "crawler-1" : nil
        case .control: key == client.publicKey ? "ops" : nil
        }
    }

    @Test("only a known CURVE key, in its own domain, is allowed", arguments: [
        (request(), 200, "crawler-1"),
        (request(domain: "arachne-control"), 400, ""),
        (request(domain: "arachne-control", credentials: [CurveKey.decode(client.publicKey)!]), 200, "ops"),
        (request(credentials: [CurveKey.decode(client.publicKey)!]), 400, ""),
        (request(domain: ""), 400, ""),
        (request(domain: "global"), 400, ""),
        (request(mechanism: "NULL", credentials: []), 400, ""),
        (request(mechanism: "PLAIN", credentials: [Array("crawler-1".utf8), Array("pw".utf8)]), 400, ""),
        (request(credentials: [[1, 2, 3]]), 400, ""),
        (request(credentials: []), 400, ""),
        (request(version: "2.0"), 500, ""),
    ])
    func decisions(_ request: ZAPRequest, _ status: Int, _ user: String) {
        let reply = ZAPPolicy.decide(request, lookup: Self.lookup)
        #expect(reply.status == status, "\(reply.text)")
        #expect(reply.userID == user)
        #expect(reply.requestID == [7])
    }

    @Test func requestsDecodeAndRepliesEncodeAsRFC27Says() {
        let key = CurveKey.decode(Self.worker.publicKey)!
        let frames: [[UInt8]] = [Array("1.0".utf8), [0, 1], Array("arachne-workers".utf8), Array("10.1.2.3".utf8),
                                 [], Array("CURVE".utf8), key]
        let request = ZAPRequest.decode(frames)
        #expect(request?.address == "10.1.2.3" && request?.curveKey == Self.worker.publicKey)
        #expect(ZAPRequest.decode(Array(frames.prefix(5))) == nil)
        let reply = ZAPReply(requestID: [0, 1], status: 200, text: "OK", userID: "crawler-1").encode()
        #expect(reply == [Array("1.0".utf8), [0, 1], Array("200".utf8), Array("OK".utf8), Array("crawler-1".utf8), []])
    }
}

@Suite("Key files")
struct KeyDirectoryTests {
    @Test func generateWritesAPublicAndA0600SecretCertificateAndNeverOverwrites() throws {
        let directory = keyDirectory("gen") + "/new"
        let generated = try KeyDirectory.generate(in: directory, name: "crawler-1")
        #expect(generated.publicPath == directory + "/crawler-1.key")
        #expect(generated.secretPath == directory + "/crawler-1.key_secret")
        #expect(mode(directory) == 0o700)
        #expect(mode(generated.secretPath) == 0o600)
        #expect(mode(generated.publicPath) == 0o644)
        let publicText = try String(contentsOfFile: generated.publicPath, encoding: .utf8)
        #expect(!publicText.contains(generated.keyPair.secretKey))
        #expect(try CurveCertificate.parse(publicText).publicKey == generated.keyPair.publicKey)
        #expect(throws: KeyError.self) { try KeyDirectory.generate(in: directory, name: "crawler-1") }
        #expect(try KeyDirectory.ownPair(in: directory).keyPair == generated.keyPair)
        for bad in ["", ".hidden", "a/b", "with space", String(repeating: "x", count: 65)] {
            #expect(KeyDirectory.problem(withName: bad) != nil, "\(bad)")
        }
    }

    @Test func aPeerFindsItsPairAndTheCoordinatorsKey() throws {
        let coordinatorDirectory = keyDirectory("coord")
        let coordinator = try KeyDirectory.generate(in: coordinatorDirectory, name: "hub")
        let directory = keyDirectory("peer")
        #expect { try PeerKeys(directory: directory) } throws: { "\($0)".contains("no secret key") }
        let own = try KeyDirectory.generate(in: directory, name: "crawler-1")
        #expect { try PeerKeys(directory: directory) } throws: { "\($0)".contains("no coordinator public key") }
        // The one other public key is the coordinator's, whatever its name.
        try FileManager.default.copyItem(atPath: coordinator.publicPath, toPath: directory + "/hub.key")
        var keys = try PeerKeys(directory: directory)
        #expect(keys.name == "crawler-1" && keys.keyPair == own.keyPair)
        #expect(keys.serverKey == coordinator.keyPair.publicKey)
        // Two others: ambiguous, unless one is coordinator.key.
        let other = try KeyDirectory.generate(in: keyDirectory("other"), name: "other")
        try FileManager.default.copyItem(atPath: other.publicPath, toPath: directory + "/other.key")
        #expect { try PeerKeys(directory: directory) } throws: { "\($0)".contains("several public keys") }
        try FileManager.default.copyItem(atPath: coordinator.publicPath, toPath: directory + "/coordinator.key")
        keys = try PeerKeys(directory: directory)
        #expect(keys.serverKeyPath == directory + "/coordinator.key")
        // A secret key others can read is refused.
        chmod(own.secretPath, 0o644)
        #expect { try PeerKeys(directory: directory) } throws: { "\($0)".contains("chmod 600") }
    }

    @Test func aCoordinatorMakesItsAllowListFolders() throws {
        let directory = keyDirectory("hub")
        try KeyDirectory.generate(in: directory, name: "hub")
        let keys = try CoordinatorKeys(directory: directory)
        #expect(keys.name == "hub")
        #expect(mode(keys.workersDirectory) == 0o700 && mode(keys.clientsDirectory) == 0o700)
        try KeyDirectory.generate(in: directory, name: "second")
        #expect { try CoordinatorKeys(directory: directory) } throws: { "\($0)".contains("several secret keys") }
    }

    /// The allow-list follows its directory: a key added, replaced or removed counts at the next handshake.
    @Test func allowListsAreReadAgainWhenTheyChange() throws {
        let directory = keyDirectory("allow")
        var list = AllowList(directory: directory)
        #expect(list.refresh().isEmpty && list.count == 0)
        let first = try KeyDirectory.generate(in: keyDirectory("a"), name: "a")
        let second = try KeyDirectory.generate(in: keyDirectory("b"), name: "b")
        try FileManager.default.copyItem(atPath: first.publicPath, toPath: directory + "/crawler-1.key")
        #expect(list.refresh().isEmpty)
        #expect(list.name(of: first.keyPair.publicKey) == "crawler-1")
        // Replaced in place with another machine's key.
        try FileManager.default.removeItem(atPath: directory + "/crawler-1.key")
        try FileManager.default.copyItem(atPath: second.publicPath, toPath: directory + "/crawler-1.key")
        _ = list.refresh()
        #expect(list.name(of: first.keyPair.publicKey) == nil)
        #expect(list.name(of: second.keyPair.publicKey) == "crawler-1")
        // A secret key or a stray file is skipped and reported; a removed key is gone.
        try FileManager.default.copyItem(atPath: first.secretPath, toPath: directory + "/oops.key_secret")
        try "hello".write(toFile: directory + "/notes.txt", atomically: true, encoding: .utf8)
        let problems = list.refresh()
        #expect(problems.count == 2 && problems.contains { $0.contains("is a secret key") })
        try FileManager.default.removeItem(atPath: directory + "/crawler-1.key")
        _ = list.refresh()
        #expect(list.count == 0)
        #expect(list.refresh().isEmpty, "nothing changed, nothing read")
    }
}

@Suite("Connection watch")
struct ConnectionWatchTests {
    static let second: UInt64 = 1_000_000_000

    func event(_ kind: ZMQSocketEvent.Kind, _ value: UInt32 = 0) -> ZMQSocketEvent {
        ZMQSocketEvent(kind: kind, value: value, endpoint: "tcp://10.0.0.1:5555")
    }

    @Test func aRefusedKeyOrASecurityMismatchIsFinal() throws {
        var plain = ConnectionWatch(endpoint: "tcp://10.0.0.1:5555", role: .worker, keys: nil, now: 0)
        let mismatch = event(.handshakeFailedProtocol, 0x1100_0002)
        guard case .refused(let reason) = plain.note(mismatch, now: 1) else {
            Issue.record("a plaintext worker against CURVE must stop")
            return
        }
        #expect(reason.contains("requires CURVE") && reason.contains("--keys"))
        var client = ConnectionWatch(endpoint: "tcp://10.0.0.1:5556", role: .client, keys: nil, now: 0)
        guard case .refused(let refused) = client.note(event(.handshakeFailedAuth, 400), now: 1) else {
            Issue.record("a refused key must stop")
            return
        }
        #expect(refused.contains("ZAP status 400") && refused.contains("clients/"))
    }

    @Test func anUnreachableCoordinatorIsReportedAfterAFewSecondsThenEvery30() {
        var watch = ConnectionWatch(endpoint: "tcp://10.0.0.1:5555", role: .worker, keys: nil, now: 0)
        #expect(watch.note(event(.connectDelayed), now: 1) == .none)
        #expect(watch.note(event(.connectRetried, 100), now: 2) == .none)
        #expect(watch.report(now: 2 * Self.second) == nil)
        let first = watch.report(now: 3 * Self.second)
        #expect(first?.contains("after 3 s: no connection") == true && first?.contains("still trying") == true)
        #expect(watch.report(now: 4 * Self.second) == nil)
        #expect(watch.report(now: 33 * Self.second) != nil)
        // It comes up: said once, then silence.
        #expect(watch.note(event(.handshakeSucceeded), now: 34 * Self.second) == .connected)
        #expect(watch.report(now: 60 * Self.second) == nil)
        // It drops: a new count starts.
        _ = watch.note(event(.disconnected), now: 61 * Self.second)
        #expect(watch.report(now: 63 * Self.second) == nil)
        #expect(watch.report(now: 64 * Self.second)?.contains("the connection dropped") == true)
        // A connection that comes up before the first report is never mentioned.
        var quick = ConnectionWatch(endpoint: "tcp://10.0.0.1:5555", role: .worker, keys: nil, now: 0)
        #expect(quick.note(event(.handshakeSucceeded), now: Self.second) == .none)
        #expect(quick.report(now: 10 * Self.second) == nil)
    }
}

/// Loop-confined test state.
private final class ProbeBox: @unchecked Sendable {
    var sockets: [ZMQSocket] = []
    var zap: ZAPHandler?
}

@Suite("Start-up probe")
struct SecurityProbeTests {
    /// A CURVE server that accepts any key (no ZAP handler in its context, no enforced domain: libzmq's
    /// "Stonehouse" mode) must fail the probe; the same socket secured as the coordinator secures it must pass.
    @Test(arguments: [false, true])
    func theProbeFailsAnEndpointThatDoesNotFailClosed(secured: Bool) async throws {
        let directory = keyDirectory("probe")
        try KeyDirectory.generate(in: directory, name: "hub")
        let keys = try CoordinatorKeys(directory: directory)
        let context = ZMQContext()
        let loop = try EventLoop(name: "probe-test")
        defer { loop.shutdown() }
        let box = ProbeBox()
        let endpoint: String = try await loop.submit {
            let router = try ZMQSocket(context: context, type: .router)
            if secured {
                box.zap = try ZAPHandler(keys: keys, context: context, loop: loop) { _ in }
                try CoordinatorSecurity(keys: keys).secure(router, domain: .workers)
            } else {
                try router.setOption(47, 1)  // ZMQ_CURVE_SERVER, with no ZAP domain
                try router.setOption(49, string: keys.keyPair.secretKey)
            }
            try router.bind("tcp://0.0.0.0:*")
            box.sockets.append(router)
            return try router.lastEndpoint()
        }
        let result: Result<Void, CoordinatorError> = await withCheckedContinuation { continuation in
            loop.execute {
                SecurityProbe(endpoint: endpoint, serverKey: keys.keyPair.publicKey, context: context, loop: loop,
                              zap: box.zap, timeoutMs: 3_000) { continuation.resume(returning: $0) }
            }
        }
        try await loop.submit {
            box.zap?.close()
            for socket in box.sockets { socket.close() }
        }
        switch result {
        case .success: #expect(secured, "an endpoint that accepts any key passed the probe")
        case .failure(let error):
            #expect(!secured, "\(error)")
            #expect(error.description.contains("accepted a CURVE key that no allow-list holds"), "\(error)")
        }
    }

    @Test func wildcardEndpointsAreProbedOnLoopback() {
        #expect(SecurityProbe.connectable("tcp://0.0.0.0:5555") == "tcp://127.0.0.1:5555")
        #expect(SecurityProbe.connectable("tcp://[::]:5555") == "tcp://[::1]:5555")
        #expect(SecurityProbe.connectable("tcp://10.0.0.1:5555") == "tcp://10.0.0.1:5555")
    }

    @Test func exposedEndpoints() {
        for exposed in ["tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://10.0.0.1:5555", "tcp://[::]:1", "tcp://eth0:1"] {
            #expect(CoordinatorDefaults.isExposed(endpoint: exposed), "\(exposed)")
        }
        for local in ["tcp://127.0.0.1:5555", "tcp://127.1.2.3:1", "tcp://[::1]:1", "tcp://localhost:1",
                      "ipc:///tmp/x.sock"]
        {
            #expect(!CoordinatorDefaults.isExposed(endpoint: local), "\(local)")
        }
    }
}
