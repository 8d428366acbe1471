import ArachneCluster
import ArgumentParser
import Foundation

/// `arachne keys`: CURVE key pairs for coordinators, remote workers and CLI clients.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make CURVE key pairs for coordinators, remote workers and clients.",
        subcommands: [GenerateKeysCommand.self])
}

/// `arachne keys generate DIR [--name NAME]`.
struct GenerateKeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a new CURVE key pair: DIR/NAME.key (public) and DIR/NAME.key_secret (mode 0600).",
        discussion: """
            The files use ZeroMQ's certificate format (CZMQ's zcert; pyzmq reads them too); libzmq makes the keys \
            (zmq_curve_keypair). Existing files are never overwritten. A coordinator's directory holds its pair, \
            workers/ and clients/ (the public keys it accepts); a worker's or client's holds its pair and the \
            coordinator's public key (as coordinator.key). See docs/threat_model.md.
            """)

    @Argument(help: ArgumentHelp("The directory to write to (created, mode 0700, if missing).", valueName: "dir"))
    var directory: String

    @Option(help: ArgumentHelp("The key's name: its file names, and what the coordinator's log and reports call "
                                   + "it (default: this host's name)."))
    var name: String?

    func validate() throws {
        if let name, let problem = KeyDirectory.problem(withName: name) { throw ValidationError(problem) }
    }

    /// This host's name made fit for a key name.
    static var defaultName: String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "arachne"
        let cleaned = String(host.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(64))
        return KeyDirectory.problem(withName: cleaned) == nil ? cleaned : "arachne"
    }

    func run() throws {
        do {
            let generated = try KeyDirectory.generate(in: directory, name: name ?? Self.defaultName)
            print("""
                public key \(generated.keyPair.publicKey)
                wrote \(generated.publicPath)   public: copy it to the coordinator's keys directory, into \
                workers/ (a worker) or clients/ (a CLI client); a coordinator's goes to its workers and clients \
                as coordinator.key
                wrote \(generated.secretPath)   secret (mode 0600): it never leaves this machine
                """)
        } catch {
            throw JobCannotRun("\(error)")
        }
    }
}
