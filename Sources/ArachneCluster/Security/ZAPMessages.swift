import ArachneZMQ

/// A ZAP request (ZeroMQ RFC 27) as libzmq sends it to `inproc://zeromq.zap.01` for each handshake on a socket
/// with a ZAP domain: version `1.0`, request id, domain, peer address, routing id, mechanism, then the mechanism's
/// credentials (CURVE: the client's 32-byte public key). Pure.
struct ZAPRequest: Sendable, Hashable {
    var version: String
    var requestID: [UInt8]
    var domain: String
    var address: String
    var identity: [UInt8]
    var mechanism: String
    var credentials: [[UInt8]]

    /// Reads the frames after the envelope (the handler's ROUTER adds a routing id and an empty delimiter);
    /// nil when there are too few.
    static func decode(_ frames: [[UInt8]]) -> ZAPRequest? {
        guard frames.count >= 6 else { return nil }
        func text(_ index: Int) -> String { String(decoding: frames[index], as: UTF8.self) }
        return ZAPRequest(version: text(0), requestID: frames[1], domain: text(2), address: text(3),
                          identity: frames[4], mechanism: text(5), credentials: Array(frames.dropFirst(6)))
    }

    /// The client's public key in Z85, for a CURVE request with one 32-byte credential.
    var curveKey: String? {
        guard mechanism == "CURVE", credentials.count == 1 else { return nil }
        return CurveKey.encode(credentials[0])
    }
}

/// The answer to a ZAP request: status 200 (allowed, with the user id libzmq attaches to every message of the
/// connection as `User-Id`), 300 (temporary failure) or 400 (refused). Pure.
struct ZAPReply: Sendable, Hashable {
    var requestID: [UInt8]
    var status: Int
    var text: String
    var userID: String

    var allowed: Bool { status == 200 }

    /// Version, request id, status code, status text, user id, and empty metadata.
    func encode() -> [[UInt8]] {
        [Array("1.0".utf8), requestID, Array(String(status).utf8), Array(text.utf8), Array(userID.utf8), []]
    }
}

/// The ZAP domains Arachne's secured sockets declare: each names the allow-list its peers' keys are checked
/// against. Any other domain is refused.
enum ZAPDomain: String, Sendable, CaseIterable {
    case workers = "arachne-workers"
    case control = "arachne-control"
}

/// Decides a ZAP request. It fails closed: a request is allowed only when it is version 1.0, for one of Arachne's
/// domains, uses CURVE with one well-formed key, and that key is in the domain's allow-list. Pure: `lookup` is the
/// allow-list.
enum ZAPPolicy {
    static func decide(_ request: ZAPRequest, lookup: (ZAPDomain, String) -> String?) -> ZAPReply {
        func refuse(_ text: String, status: Int = 400) -> ZAPReply {
            ZAPReply(requestID: request.requestID, status: status, text: text, userID: "")
        }
        guard request.version == "1.0" else { return refuse("unsupported ZAP version \(request.version)", status: 500) }
        guard let domain = ZAPDomain(rawValue: request.domain) else {
            return refuse("unknown ZAP domain '\(request.domain)'")
        }
        guard request.mechanism == "CURVE" else { return refuse("mechanism \(request.mechanism) is not allowed") }
        guard let key = request.curveKey else { return refuse("malformed CURVE credentials") }
        guard let name = lookup(domain, key) else { return refuse("key not allowed") }
        return ZAPReply(requestID: request.requestID, status: 200, text: "OK", userID: name)
    }
}
