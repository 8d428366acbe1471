import ArachneCluster
import ArgumentParser

/// `--keys` and `--insecure` for `arachne coordinator`: CURVE for every `tcp://` endpoint, and the rule that an
/// endpoint other machines can reach needs keys or an explicit `--insecure`.
struct CoordinatorSecurityOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "CURVE keys for tcp:// endpoints: this coordinator's key pair, and workers/ and clients/, the public keys "
            + "it accepts.", valueName: "dir"))
    var keys: String?

    @Flag(help: "Allow a tcp:// endpoint off loopback without --keys: anyone who reaches it can join or submit.")
    var insecure = false

    func check(listen: [String], control: String?) throws {
        try ListenRule.check(listen: listen, control: control, keys: keys, insecure: insecure, flag: "--insecure")
    }

    func load() throws -> CoordinatorSecurity? { try ListenRule.load(keys) }
}

/// The same for the one-shot clusters `run` and `crawl`, whose `--insecure` already means "do not verify TLS
/// certificates": there the flag is `--insecure-listen`.
struct ClusterSecurityOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "CURVE keys for tcp:// --listen endpoints: this coordinator's key pair, and workers/, the public keys it "
            + "accepts.", valueName: "dir"))
    var keys: String?

    @Flag(name: .customLong("insecure-listen"),
          help: "Allow a --listen tcp:// endpoint off loopback without --keys: anyone who reaches it can join.")
    var insecureListen = false

    func check(listen: [String]) throws {
        try ListenRule.check(listen: listen, control: nil, keys: keys, insecure: insecureListen,
                             flag: "--insecure-listen")
    }

    func load() throws -> CoordinatorSecurity? { try ListenRule.load(keys) }
}

enum ListenRule {
    /// Refuses an endpoint that other machines can reach when there are no keys and no `flag`.
    static func check(listen: [String], control: String?, keys: String?, insecure: Bool, flag: String) throws {
        guard keys == nil && !insecure else { return }
        let endpoints = listen.map { ("--listen", $0) } + (control.map { [("--control", $0)] } ?? [])
        guard let (option, endpoint) = endpoints.first(where: { CoordinatorDefaults.isExposed(endpoint: $0.1) })
        else { return }
        let power = option == "--listen"
            ? "join as a worker and see every job's URLs and headers" : "submit and cancel jobs"
        throw ValidationError(
            "\(option) \(endpoint) is reachable from other machines, and without --keys anyone who reaches it could "
                + "\(power): give --keys DIR (see `arachne keys generate`), or \(flag) on a network you trust")
    }

    /// The coordinator's security, read from `--keys`; nil without it. Exit 1 naming the problem.
    static func load(_ keys: String?) throws -> CoordinatorSecurity? {
        guard let keys else { return nil }
        do {
            return CoordinatorSecurity(keys: try CoordinatorKeys(directory: keys))
        } catch {
            throw JobCannotRun("--keys: \(error)")
        }
    }
}
