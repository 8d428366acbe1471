import ArachneEventLoop
import ArachneZMQ
import Foundation
import Testing

@Suite struct CurveKeyTests {
    @Test func libzmqHasCurve() {
        #expect(CurveKey.isAvailable)
    }

    @Test func generatedPairsAreZ85AndThePublicKeyFollowsFromTheSecret() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.utf8.count == 40 && pair.secretKey.utf8.count == 40)
        #expect(CurveKey.isValid(pair.publicKey) && CurveKey.isValid(pair.secretKey))
        #expect(CurveKeyPair(secretKey: pair.secretKey) == pair)
        #expect(try CurveKeyPair.generate() != pair)
        let bytes = try #require(CurveKey.decode(pair.publicKey))
        #expect(bytes.count == 32 && CurveKey.encode(bytes) == pair.publicKey)
    }

    @Test(arguments: [
        "", "short", String(repeating: "a", count: 39), String(repeating: "a", count: 41),
        String(repeating: "\"", count: 40), String(repeating: " ", count: 40),
    ])
    func malformedKeysAreRejected(_ text: String) {
        #expect(!CurveKey.isValid(text))
        #expect(CurveKeyPair(secretKey: text) == nil)
    }
}

@Suite struct CurveCertificateTests {
    @Test func publicAndSecretCertificatesRoundTrip() throws {
        let pair = try CurveKeyPair.generate()
        let certificate = CurveCertificate(name: "crawler-3", publicKey: pair.publicKey, secretKey: pair.secretKey)
        let secret = try #require(certificate.secretText(generated: "2024-05-01T10:00:00Z"))
        #expect(try CurveCertificate.parse(secret) == certificate)
        let publicText = certificate.publicText(generated: "2024-05-01T10:00:00Z")
        #expect(!publicText.contains(pair.secretKey))
        #expect(try CurveCertificate.parse(publicText)
            == CurveCertificate(name: "crawler-3", publicKey: pair.publicKey, secretKey: nil))
    }

    /// A secret certificate as CZMQ's `zcert_save` writes it (keys from the ZeroMQ guide's examples).
    @Test func readsCZMQCertificates() throws {
        let text = """
            #   ****  Generated on 2015-01-01 00:00:00 by CZMQ  ****
            #   ZeroMQ CURVE **Secret** Certificate
            #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

            metadata
                name = "server"
                email = "ops@example.org"
            curve
                public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
                secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"

            """
        let certificate = try CurveCertificate.parse(text)
        #expect(certificate.name == "server")
        #expect(certificate.publicKey == "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")
        #expect(certificate.secretKey == "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6")
    }

    @Test(arguments: [
        ("metadata\n    name = \"x\"\n", "no 'public-key'"),
        ("curve\n    public-key = \"tooshort\"\n", "not a Z85 CURVE key"),
        ("curve\n    public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n", "unterminated"),
        ("curve\n    public-key\n", "expected 'name = \"value\"'"),
        // The secret key of the guide's *client* beside the server's public key.
        ("curve\n    public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n"
            + "    secret-key = \"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs\"\n", "does not belong"),
        // A public key at the top level is not in the curve section.
        ("public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n", "no 'public-key'"),
    ])
    func malformedCertificatesSayWhy(_ text: String, _ expected: String) {
        #expect {
            try CurveCertificate.parse(text)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }
}

@Suite struct ZMQSocketEventTests {
    @Test func decodesMonitorMessages() {
        // ZMQ_EVENT_HANDSHAKE_FAILED_AUTH (0x4000), value 400.
        let event = ZMQSocketEvent.decode([[0x00, 0x40, 0x90, 0x01, 0x00, 0x00], Array("tcp://10.0.0.1:5555".utf8)])
        #expect(event == ZMQSocketEvent(kind: .handshakeFailedAuth, value: 400, endpoint: "tcp://10.0.0.1:5555"))
        #expect(event?.detail == "ZAP status 400")
        // ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL with ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH.
        let mismatch = ZMQSocketEvent.decode([[0x00, 0x20, 0x02, 0x00, 0x00, 0x11], []])
        #expect(mismatch?.isMechanismMismatch == true)
        #expect(ZMQSocketEvent.decode([[0x01, 0x00, 0, 0, 0, 0], []])?.kind == .connected)
        #expect(ZMQSocketEvent.decode([[0x01, 0x00, 0, 0, 0], []]) == nil)
        #expect(ZMQSocketEvent.decode([[0x01, 0x00, 0, 0, 0, 0]]) == nil)
    }
}

/// Holds loop-confined objects for a test; touched only on the loop.
final class SecurityBox: @unchecked Sendable {
    var sockets: [ZMQSocket] = []
    var monitors: [ZMQMonitor] = []
    var events: [ZMQSocketEvent.Kind] = []
}

@Suite struct CurveSocketTests {
    /// With `ZMQ_ZAP_ENFORCE_DOMAIN` and no ZAP handler in the context, a CURVE server refuses a client whose key it
    /// cannot check: the option that makes a missing handler fail closed is taken by this libzmq.
    @Test func aCurveServerWithoutZAPHandlerRefusesEveryone() async throws {
        let events = try await handshake(enforce: true)
        #expect(!events.contains(.handshakeSucceeded), "\(events)")
        #expect(events.contains(.handshakeFailedNoDetail) || events.contains(.handshakeFailedProtocol), "\(events)")
    }

    /// Without it, libzmq accepts any key when no handler answers ("Stonehouse"): what the start-up probe guards
    /// against if the option ever stops being honoured.
    @Test func withoutEnforcementAMissingHandlerAcceptsAnyKey() async throws {
        let events = try await handshake(enforce: false)
        #expect(events.contains(.handshakeSucceeded), "\(events)")
    }

    private func handshake(enforce: Bool) async throws -> [ZMQSocketEvent.Kind] {
        let context = ZMQContext()
        let loop = try EventLoop(name: "curve-test")
        defer { loop.shutdown() }
        let box = SecurityBox()
        let server = try CurveKeyPair.generate()
        let client = try CurveKeyPair.generate()
        try await loop.submit {
            let router = try ZMQSocket(context: context, type: .router)
            if enforce {
                #expect(try router.makeCurveServer(secretKey: server.secretKey, zapDomain: "test"))
            } else {
                try router.setOption(47, 1)  // ZMQ_CURVE_SERVER
                try router.setOption(49, string: server.secretKey)  // ZMQ_CURVE_SECRETKEY
            }
            try router.bind("tcp://127.0.0.1:*")
            let endpoint = try router.lastEndpoint()
            let dealer = try ZMQSocket(context: context, type: .dealer)
            try dealer.makeCurveClient(keys: client, serverKey: server.publicKey)
            box.monitors.append(try ZMQMonitor(socket: dealer, context: context, loop: loop) { event in
                box.events.append(event.kind)
            })
            try dealer.connect(endpoint)
            box.sockets += [router, dealer]
        }
        try await Task.sleep(for: .milliseconds(400))
        return try await loop.submit {
            for monitor in box.monitors { monitor.close() }
            for socket in box.sockets { socket.close() }
            return box.events
        }
    }
}
