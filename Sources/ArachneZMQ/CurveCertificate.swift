/// A CURVE certificate in ZeroMQ's certificate format (CZMQ's `zcert`, a ZPL text file): a public certificate
/// (`NAME.key`: the name and the public key) or a secret one (`NAME.key_secret`: the same plus the secret key).
/// Files written here load in CZMQ and pyzmq (`zmq.auth.load_certificate`), and theirs load here.
///
/// Pure: formatting and parsing only; reading files and checking their modes is the caller's.
public struct CurveCertificate: Sendable, Hashable {
    /// The `metadata/name` entry; empty when the file has none.
    public var name: String
    public var publicKey: String
    /// Set in a secret certificate only.
    public var secretKey: String?

    public init(name: String, publicKey: String, secretKey: String? = nil) {
        self.name = name
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The suffix of a secret certificate's file name, after the public one's (`worker.key` → `worker.key_secret`).
    public static let secretSuffix = "_secret"
    /// The extension of a public certificate's file name.
    public static let publicExtension = ".key"

    /// The public certificate's text. `generated` is the comment's timestamp.
    public func publicText(generated: String) -> String {
        Self.text(title: "ZeroMQ CURVE Public Certificate", notes: [
            "Exchange securely, or use a secure mechanism to verify the contents",
            "of this file after exchange. Store public certificates in your home",
            "directory, in the .curve subdirectory.",
        ], generated: generated, name: name, keys: [("public-key", publicKey)])
    }

    /// The secret certificate's text; nil when there is no secret key.
    public func secretText(generated: String) -> String? {
        guard let secretKey else { return nil }
        return Self.text(title: "ZeroMQ CURVE **Secret** Certificate", notes: [
            "DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
        ], generated: generated, name: name, keys: [("public-key", publicKey), ("secret-key", secretKey)])
    }

    private static func text(title: String, notes: [String], generated: String, name: String,
                             keys: [(String, String)]) -> String
    {
        var lines = ["#   ****  Generated on \(generated) by Arachne  ****", "#   \(title)"]
        lines += notes.map { "#   \($0)" }
        lines += ["", "metadata", "    name = \"\(name)\"", "curve"]
        lines += keys.map { "    \($0.0) = \"\($0.1)\"" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads a certificate's text. Throws naming what is missing or malformed; keys are checked to be Z85 keys of
    /// 32 bytes, and a secret key to belong to the public key beside it.
    public static func parse(_ text: String) throws(CurveCertificateError) -> CurveCertificate {
        var section = ""
        var entries: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let indented = trimmed.count < line.count
            guard let equals = trimmed.firstIndex(of: "=") else {
                if indented { throw CurveCertificateError("line \(number + 1): expected 'name = \"value\"'") }
                section = String(trimmed).trimmingTrailingSpaces
                continue
            }
            let key = String(trimmed[..<equals]).trimmingTrailingSpaces
            var value = Substring(String(trimmed[trimmed.index(after: equals)...]).trimmingTrailingSpaces)
            value = value.drop { $0 == " " || $0 == "\t" }
            if let quote = value.first, quote == "\"" || quote == "'" {
                guard value.count >= 2, value.last == quote else {
                    throw CurveCertificateError("line \(number + 1): unterminated quoted value")
                }
                value = value.dropFirst().dropLast()
            }
            entries[(indented && !section.isEmpty ? section + "/" : "") + key] = String(value)
        }
        guard let publicKey = entries["curve/public-key"] else {
            throw CurveCertificateError("no 'public-key' in its 'curve' section")
        }
        guard CurveKey.isValid(publicKey) else {
            throw CurveCertificateError("'public-key' is not a Z85 CURVE key (40 characters)")
        }
        let secretKey = entries["curve/secret-key"]
        if let secretKey {
            guard let pair = CurveKeyPair(secretKey: secretKey) else {
                throw CurveCertificateError("'secret-key' is not a Z85 CURVE key (40 characters)")
            }
            guard pair.publicKey == publicKey else {
                throw CurveCertificateError("'secret-key' does not belong to its 'public-key'")
            }
        }
        return CurveCertificate(name: entries["metadata/name"] ?? "", publicKey: publicKey, secretKey: secretKey)
    }
}

/// A certificate's text could not be read; the message says why.
public struct CurveCertificateError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
