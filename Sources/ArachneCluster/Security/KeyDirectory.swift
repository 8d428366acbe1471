import ArachneZMQ
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CURVE key pairs on disk, in ZeroMQ's certificate format: `NAME.key` (the public certificate, to hand out) and
/// `NAME.key_secret` (mode 0600, never leaves the machine). `--keys DIR` names a directory laid out as:
///
/// - a coordinator's: its own pair, `workers/` (public keys that may join as workers) and `clients/` (public keys
///   that may use a `tcp://` control socket);
/// - a worker's or a CLI client's: its own pair and the coordinator's public key (`coordinator.key`, or the one
///   other `*.key` file).
public enum KeyDirectory {
    /// The allow-list of workers inside a coordinator's key directory.
    public static let workersFolder = "workers"
    /// The allow-list of control clients inside a coordinator's key directory.
    public static let clientsFolder = "clients"
    /// The name a worker's or client's directory gives the coordinator's public key, when it holds several.
    public static let coordinatorKeyName = "coordinator"

    /// The files `generate` wrote.
    public struct Generated: Sendable {
        public var name: String
        public var keyPair: CurveKeyPair
        public var publicPath: String
        public var secretPath: String
    }

    /// Writes a new key pair (`zmq_curve_keypair`) as `DIR/NAME.key` and `DIR/NAME.key_secret` (0600), creating DIR
    /// (0700) if needed. Never overwrites: an existing file of either name is an error.
    public static func generate(in directory: String, name: String, now: Date = Date()) throws(KeyError) -> Generated {
        if let problem = problem(withName: name) { throw KeyError(problem) }
        guard CurveKey.isAvailable else { throw KeyError("this libzmq was built without CURVE (zmq_has(\"curve\"))") }
        let keyPair: CurveKeyPair
        do {
            keyPair = try CurveKeyPair.generate()
        } catch {
            throw KeyError("cannot generate a key pair: \(error)")
        }
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw KeyError("cannot create \(directory): \(error.localizedDescription)")
            }
        } else if !isDirectory.boolValue {
            throw KeyError("\(directory) exists and is not a directory")
        }
        let publicPath = directory + "/" + name + CurveCertificate.publicExtension
        let secretPath = publicPath + CurveCertificate.secretSuffix
        let certificate = CurveCertificate(name: name, publicKey: keyPair.publicKey, secretKey: keyPair.secretKey)
        let stamp = ISO8601DateFormatter().string(from: now)
        try write(certificate.secretText(generated: stamp)!, to: secretPath, mode: 0o600)
        do {
            try write(certificate.publicText(generated: stamp), to: publicPath, mode: 0o644)
        } catch {
            unlink(secretPath)
            throw error
        }
        return Generated(name: name, keyPair: keyPair, publicPath: publicPath, secretPath: secretPath)
    }

    /// Why `name` cannot name a key pair, or nil: 1 to 64 letters, digits, `.`, `_` or `-`, not starting with `.`.
    public static func problem(withName name: String) -> String? {
        let allowed = name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed, !name.hasPrefix(".") else {
            return "key name '\(name)' must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"
        }
        return nil
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws(KeyError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST {
                throw KeyError("\(path) already exists; remove it first or choose another --name")
            }
            throw KeyError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // The umask may have taken bits away from the public file; the secret one must be exactly 0600.
        fchmod(fd, mode)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            unlink(path)
            throw KeyError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The one key pair in `directory`: its `*.key_secret` file (there must be exactly one), checked to be
    /// readable by its owner only.
    static func ownPair(in directory: String) throws(KeyError) -> (name: String, keyPair: CurveKeyPair, path: String) {
        let names = try listing(directory)
        let secrets = names.filter { $0.hasSuffix(CurveCertificate.publicExtension + CurveCertificate.secretSuffix) }
        guard let file = secrets.first else {
            throw KeyError("\(directory) has no secret key (NAME.key_secret); make one with "
                + "`arachne keys generate \(directory) --name NAME`")
        }
        guard secrets.count == 1 else {
            throw KeyError("\(directory) has several secret keys (\(secrets.joined(separator: ", "))); keep one")
        }
        let path = directory + "/" + file
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw KeyError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o007 != 0 {
            throw KeyError("\(path) is accessible to other users (mode \(String(info.st_mode & 0o777, radix: 8))); "
                + "run `chmod 600 \(path)`")
        }
        let certificate = try read(path)
        guard let secretKey = certificate.secretKey else {
            throw KeyError("\(path) has no 'secret-key': it is a public certificate")
        }
        let stem = String(file.dropLast((CurveCertificate.publicExtension + CurveCertificate.secretSuffix).count))
        return (stem, CurveKeyPair(publicKey: certificate.publicKey, secretKey: secretKey), path)
    }

    /// Reads and parses a certificate file.
    static func read(_ path: String) throws(KeyError) -> CurveCertificate {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        do {
            return try CurveCertificate.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw KeyError("\(path) is not a CURVE certificate: \(error)")
        }
    }

    /// The file names in `directory`, sorted; throws when it cannot be listed.
    static func listing(_ directory: String) throws(KeyError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw KeyError("cannot read the key directory \(directory): it does not exist or is not readable")
        }
    }
}

/// A key file or key directory could not be used; the message says which and what to do.
public struct KeyError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A coordinator's keys (`arachne coordinator --keys DIR`): its own pair, and the directories of public keys allowed
/// as workers (`DIR/workers/`) and as control clients (`DIR/clients/`), which it creates (0700) when missing.
public struct CoordinatorKeys: Sendable {
    public var directory: String
    public var name: String
    public var keyPair: CurveKeyPair
    public var workersDirectory: String { directory + "/" + KeyDirectory.workersFolder }
    public var clientsDirectory: String { directory + "/" + KeyDirectory.clientsFolder }

    public init(directory: String) throws(KeyError) {
        guard CurveKey.isAvailable else { throw KeyError("this libzmq was built without CURVE (zmq_has(\"curve\"))") }
        self.directory = CoordinatorDefaults.absolute(directory)
        (name, keyPair, _) = try KeyDirectory.ownPair(in: self.directory)
        // Created only when missing: the directory may be a read-only mount (a Docker secret).
        for folder in [workersDirectory, clientsDirectory] where !FileManager.default.fileExists(atPath: folder) {
            if mkdir(folder, 0o700) != 0 && errno != EEXIST {
                throw KeyError("cannot create \(folder): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// A worker's or CLI client's keys (`--keys DIR`): its own pair and the coordinator's public key — the file
/// `coordinator.key`, or else the one `*.key` file that is not its own.
public struct PeerKeys: Sendable {
    public var directory: String
    public var name: String
    public var keyPair: CurveKeyPair
    /// The coordinator's public key, and the file it came from.
    public var serverKey: String
    public var serverKeyPath: String

    public init(directory: String) throws(KeyError) {
        guard CurveKey.isAvailable else { throw KeyError("this libzmq was built without CURVE (zmq_has(\"curve\"))") }
        self.directory = CoordinatorDefaults.absolute(directory)
        (name, keyPair, _) = try KeyDirectory.ownPair(in: self.directory)
        let own = name + CurveCertificate.publicExtension
        let others = try KeyDirectory.listing(self.directory)
            .filter { $0.hasSuffix(CurveCertificate.publicExtension) && $0 != own }
        let preferred = KeyDirectory.coordinatorKeyName + CurveCertificate.publicExtension
        let file: String
        if others.contains(preferred) {
            file = preferred
        } else if others.count == 1 {
            file = others[0]
        } else if others.isEmpty {
            throw KeyError("\(self.directory) has no coordinator public key: copy the coordinator's NAME.key there "
                + "(as \(preferred))")
        } else {
            throw KeyError("\(self.directory) has several public keys besides its own ("
                + others.joined(separator: ", ") + "); name the coordinator's \(preferred)")
        }
        serverKeyPath = self.directory + "/" + file
        let certificate = try KeyDirectory.read(serverKeyPath)
        guard certificate.publicKey != keyPair.publicKey else {
            throw KeyError("\(serverKeyPath) is this directory's own public key, not the coordinator's")
        }
        serverKey = certificate.publicKey
    }
}
