import ArachneZMQ
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The public keys allowed in one role (workers, control clients): a directory of public certificates, one per
/// machine or person, named by its file (`workers/crawler-3.key` → `crawler-3`). It is read again whenever the
/// directory or one of its files changed (name, size, modification time), so adding or removing a key needs no
/// restart. Files that are not certificates are skipped and reported.
///
/// Loop-confined: refreshed and read by the ZAP handler on the coordinator's loop.
struct AllowList {
    let directory: String
    /// Public key → the name of its file.
    private(set) var names: [String: String] = [:]
    private var signature: [String] = []
    private var loaded = false

    init(directory: String) {
        self.directory = directory
    }

    /// The name a key is allowed under, or nil.
    func name(of publicKey: String) -> String? { names[publicKey] }

    var count: Int { names.count }

    /// Reads the directory again if anything in it changed. Returns what could not be read (empty when nothing
    /// changed), to log.
    mutating func refresh() -> [String] {
        let current = Self.signature(of: directory)
        if loaded && current == signature { return [] }
        loaded = true
        signature = current
        var names: [String: String] = [:]
        var problems: [String] = []
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            self.names = [:]
            return ["cannot read \(directory): no key is allowed there"]
        }
        for file in files.sorted() where !file.hasPrefix(".") {
            let path = directory + "/" + file
            if file.hasSuffix(CurveCertificate.secretSuffix) {
                problems.append("\(path) is a secret key: only public keys (NAME.key) belong here; skipped")
                continue
            }
            guard file.hasSuffix(CurveCertificate.publicExtension) else {
                problems.append("\(path) is not a public key file (NAME.key); skipped")
                continue
            }
            let name = String(file.dropLast(CurveCertificate.publicExtension.count))
            do {
                let certificate = try KeyDirectory.read(path)
                if names[certificate.publicKey] == nil { names[certificate.publicKey] = name }
            } catch {
                problems.append("\(error); skipped")
            }
        }
        self.names = names
        return problems
    }

    /// What identifies the directory's state: its own change time and each entry's name, inode, size and
    /// modification time.
    private static func signature(of directory: String) -> [String] {
        var info = stat()
        guard stat(directory, &info) == 0 else { return ["missing"] }
        var parts = ["\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for file in files.sorted() {
            var entry = stat()
            guard stat(directory + "/" + file, &entry) == 0 else { continue }
            parts.append("\(file):\(entry.st_ino):\(entry.st_size):\(entry.st_mtim.tv_sec).\(entry.st_mtim.tv_nsec)")
        }
        return parts
    }
}
