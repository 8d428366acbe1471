import CArachneZMQ

/// A CURVE key pair as libzmq's socket options and certificate files take it: Z85 text, 40 characters for the 32
/// bytes of each key.
public struct CurveKeyPair: Sendable, Hashable {
    public var publicKey: String
    public var secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A new key pair from libzmq (`zmq_curve_keypair`, libsodium's or tweetnacl's random source).
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw .last("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: String(z85: publicKey), secretKey: String(z85: secretKey))
    }

    /// The pair of a secret key, its public key derived by libzmq (`zmq_curve_public`); nil when `secretKey` is not
    /// a Z85 key.
    public init?(secretKey: String) {
        guard CurveKey.isValid(secretKey) else { return nil }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secretKey) == 0 else { return nil }
        self.init(publicKey: String(z85: publicKey), secretKey: secretKey)
    }
}

/// Checks and converts CURVE keys.
public enum CurveKey {
    /// Whether this libzmq was built with CURVE (`zmq_has("curve")`).
    public static var isAvailable: Bool { zmq_has("curve") != 0 }

    /// Whether `text` is a Z85 key: 40 characters that decode to 32 bytes.
    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 40 && decode(text) != nil
    }

    /// The 32 bytes of a Z85 key; nil when `text` is not one.
    public static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.count == 40 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&bytes, text) != nil else { return nil }
        return bytes
    }

    /// The Z85 text of a 32-byte key (as a ZAP request carries it); nil for any other length.
    public static func encode(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, bytes, bytes.count) != nil else { return nil }
        return String(z85: text)
    }
}

extension String {
    /// A NUL-terminated Z85 buffer from libzmq (ASCII only).
    fileprivate init(z85 buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
