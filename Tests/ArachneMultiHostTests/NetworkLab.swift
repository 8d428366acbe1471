import ArachneTestSupport
import Foundation
import Testing

/// Machines for a test, made of Linux network namespaces: a *bridge namespace* holding a bridge, and one namespace
/// per host, joined to the bridge by a veth pair (`eth0` in the host, `v-NAME` on the bridge) with an address of
/// 10.77.0.0/24. Nothing is created in the root namespace: no interface, no address, no route, so the test's
/// traffic never leaves its own namespaces, and the addresses cannot clash with the machine's.
///
/// Namespace names carry this process's pid and a random tag (`arn-PID-TAG-HOST`), so parallel runs do not meet,
/// and a run that died leaves names the next run recognises (its pid is gone) and deletes. Processes started on a
/// host are remembered by pid; `tearDown()` stops exactly those, then deletes every namespace of the lab — call it
/// in a `defer`, so it runs when the test fails too.
///
/// Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2: `NetworkLab.unavailableReason` says why not.
final class NetworkLab: @unchecked Sendable {
    // Safety: used from one test's task at a time.

    /// A host: its namespace, address, and the bridge port that is its link.
    struct Host: Sendable {
        var name: String
        var namespace: String
        var address: String
        var bridgePort: String
    }

    /// A process started on a host, by its pid.
    final class LabProcess: @unchecked Sendable {
        // Safety: used from the test's task only.
        let label: String
        let process: Process
        let logPath: String

        init(label: String, process: Process, logPath: String) {
            self.label = label
            self.process = process
            self.logPath = logPath
        }

        var pid: Int32 { process.processIdentifier }
        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        var isRunning: Bool { process.isRunning }

        /// Its exit status, or nil if it still runs after `timeout` seconds.
        func exitStatus(within timeout: Double) async -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            return process.isRunning ? nil : process.terminationStatus
        }

        /// Waits until its log contains `text`; false after `timeout` seconds or when it exited first.
        func waitForLog(_ text: String, timeout: Double = 20) async -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if log.contains(text) { return true }
                if !process.isRunning { return log.contains(text) }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        /// SIGTERM, then SIGKILL after `grace` seconds; only this pid.
        func stop(grace: Double = 5) {
            guard process.isRunning else { return }
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(grace)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
    }

    static let prefix = "arn-"
    let tag: String
    /// Files of this lab (logs, keys, data dirs).
    let directory: String
    private let bridgeNamespace: String
    private(set) var hosts: [String: Host] = [:]
    private var processes: [LabProcess] = []
    private var namespaces: [String] = []
    private var nextAddress = 1

    /// Why the lab cannot run here, or nil.
    static let unavailableReason: String? = {
        guard getuid() == 0 else {
            return "multi-host tests build hosts from network namespaces and need root (CI runs them as root)"
        }
        guard ipPath != nil else { return "multi-host tests need iproute2's `ip` (apt-get install iproute2)" }
        let probe = "\(prefix)\(getpid())-probe"
        guard (try? ip(["netns", "add", probe])) != nil else {
            return "multi-host tests need `ip netns add` (CAP_SYS_ADMIN and CAP_NET_ADMIN); it failed here"
        }
        _ = try? ip(["netns", "del", probe])
        return nil
    }()

    static var isAvailable: Bool { unavailableReason == nil }

    /// CI sets `ARACHNE_REQUIRE_NETNS=1`: there the tests must run, and an unusable lab fails them instead of
    /// skipping them.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["ARACHNE_REQUIRE_NETNS"] == "1" }

    private static let ipPath: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    init() throws {
        if let reason = Self.unavailableReason { throw LabError(reason) }
        Self.deleteStaleNamespaces()
        tag = String(UUID().uuidString.prefix(4)).lowercased()
        directory = "/tmp/arachne-lab-\(getpid())-\(tag)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        bridgeNamespace = "\(Self.prefix)\(getpid())-\(tag)-br"
        do {
            try addNamespace(bridgeNamespace)
            try Self.ip(["-n", bridgeNamespace, "link", "add", "br0", "type", "bridge"])
            try Self.ip(["-n", bridgeNamespace, "link", "set", "br0", "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    /// Adds a host on the bridge, with the next address of 10.77.0.0/24.
    @discardableResult
    func addHost(_ name: String) throws -> Host {
        precondition(name.count <= 12 && hosts[name] == nil, "host names are short and unique")
        let namespace = "\(Self.prefix)\(getpid())-\(tag)-\(name)"
        let port = "v-\(name)"
        let address = "10.77.0.\(nextAddress)"
        nextAddress += 1
        try addNamespace(namespace)
        try Self.ip(["-n", bridgeNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
                     namespace])
        try Self.ip(["-n", bridgeNamespace, "link", "set", port, "master", "br0", "up"])
        try Self.ip(["-n", namespace, "addr", "add", address + "/24", "dev", "eth0"])
        try Self.ip(["-n", namespace, "link", "set", "eth0", "up"])
        try Self.ip(["-n", namespace, "link", "set", "lo", "up"])
        let host = Host(name: name, namespace: namespace, address: address, bridgePort: port)
        hosts[name] = host
        return host
    }

    /// Cuts a host off: its bridge port goes down (its `eth0` loses carrier; nothing it sends arrives).
    func linkDown(_ host: Host) throws {
        try Self.ip(["-n", bridgeNamespace, "link", "set", host.bridgePort, "down"])
    }

    /// Plugs a host back in.
    func linkUp(_ host: Host) throws {
        try Self.ip(["-n", bridgeNamespace, "link", "set", host.bridgePort, "up"])
    }

    /// Starts `arachne ARGUMENTS` on `host` (`ip netns exec`, which execs in place: the pid is arachne's); its
    /// standard output and error go to a log file.
    func spawn(on host: Host, _ arguments: [String], label: String) throws -> LabProcess {
        let logPath = directory + "/\(label).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ipPath!)
        process.arguments = ["netns", "exec", host.namespace, ArachneBinary.url.path] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "ARACHNE_CONTROL")
        environment.removeValue(forKey: "ARACHNE_DATA_DIR")
        process.environment = environment
        try process.run()
        try? log.close()
        let started = LabProcess(label: label, process: process, logPath: logPath)
        processes.append(started)
        return started
    }

    /// Runs `arachne ARGUMENTS` on `host` to completion (killed after `timeout` seconds).
    func run(on host: Host, _ arguments: [String], timeout: Double = 60) async throws
        -> (status: Int32, output: String)
    {
        let label = "run-\(processes.count)-" + (arguments.first ?? "")
        let process = try spawn(on: host, arguments, label: label)
        guard let status = await process.exitStatus(within: timeout) else {
            process.stop(grace: 0)
            Issue.record("arachne \(arguments.joined(separator: " ")) on \(host.name) ran over \(timeout) s")
            return (-1, process.log)
        }
        return (status, process.log)
    }

    /// Stops every process this lab started (by pid), deletes its namespaces and files. Safe to call twice.
    func tearDown() {
        for process in processes.reversed() { process.stop(grace: 3) }
        processes.removeAll()
        for namespace in namespaces.reversed() { _ = try? Self.ip(["netns", "del", namespace]) }
        namespaces.removeAll()
        if ProcessInfo.processInfo.environment["ARACHNE_KEEP_LAB"] == nil {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    private func addNamespace(_ name: String) throws {
        try Self.ip(["netns", "add", name])
        namespaces.append(name)
    }

    /// Deletes namespaces left by lab runs whose process is gone (a crashed test run).
    private static func deleteStaleNamespaces() {
        guard let listing = try? ip(["netns", "list"]) else { return }
        for line in listing.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }),
                  pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            _ = try? ip(["netns", "del", name])
        }
    }

    /// Runs `ip ARGUMENTS`; its standard output, or an error with its standard error.
    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        guard let ipPath else { throw LabError("no `ip` command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ipPath)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LabError("ip \(arguments.joined(separator: " ")): \(String(decoding: error, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

struct LabError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
