import ArachneTestSupport
import ArachneArchive
import ArachneCluster
import ArachneCore
import ArachneProtocol
import ArachneReport
import Foundation
import Testing

/// A free TCP port on loopback (the kernel's pick; a tiny race with other processes is accepted).
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw ServiceTestTimeout(description: "no free port: errno \(errno)") }
    return UInt16(bigEndian: address.sin_port)
}

/// The key directories of a secured cluster on one machine: a coordinator that allows one worker key and one
/// client key, and a worker, a client and an intruder that each hold the coordinator's public key.
struct TestKeys {
    let root: String
    var coordinator: String { root + "/coordinator" }
    var worker: String { root + "/worker" }
    var client: String { root + "/client" }
    var intruder: String { root + "/intruder" }
    let intruderKey: String

    init() throws {
        root = "/tmp/arachne-curve-\(UUID().uuidString.prefix(8))"
        let hub = try KeyDirectory.generate(in: root + "/coordinator", name: "hub")
        _ = try CoordinatorKeys(directory: root + "/coordinator")
        let worker = try KeyDirectory.generate(in: root + "/worker", name: "crawler-1")
        let client = try KeyDirectory.generate(in: root + "/client", name: "ops")
        intruderKey = try KeyDirectory.generate(in: root + "/intruder", name: "intruder").keyPair.publicKey
        let files = FileManager.default
        try files.copyItem(atPath: worker.publicPath, toPath: coordinator + "/workers/crawler-1.key")
        try files.copyItem(atPath: client.publicPath, toPath: coordinator + "/clients/ops.key")
        for peer in [self.worker, self.client, intruder] {
            try files.copyItem(atPath: hub.publicPath, toPath: peer + "/coordinator.key")
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// A process this test started and must stop (by its pid only).
final class TestProcess: @unchecked Sendable {
    // Safety: used from the test's task only.
    let process = Process()
    let errorPath: String

    init(_ arguments: [String]) throws {
        errorPath = "/tmp/arachne-proc-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        process.executableURL = ArachneBinary.url
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
    }

    var output: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Its exit status, or nil if it still runs after `timeout` seconds.
    func exitStatus(within timeout: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: errorPath)
    }
}

/// A coordinator with `--keys` on loopback TCP: CURVE for workers and control clients, allow-lists read again when
/// they change, refusals that say why. (The same across network namespaces: Tests/ArachneMultiHostTests.)
@Suite("Secured coordinator", .serialized)
struct SecuredCoordinatorTests {
    @Test("only allowed keys join or submit; refused peers exit non-zero saying why; allow-lists reload")
    func curveEndToEnd() async throws {
        let keys = try TestKeys()
        defer { keys.remove() }
        let site = try ServiceSite()
        defer { site.stop() }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let workers = "tcp://127.0.0.1:\(try freeLoopbackPort())"
        let control = "tcp://127.0.0.1:\(try freeLoopbackPort())"
        let coordinator = try await CoordinatorProcess(
            dataDirectory: data, workers: 0, extra: ["--listen", workers, "--keys", keys.coordinator],
            control: control, controlKeys: try PeerKeys(directory: keys.client))
        var started: [TestProcess] = []
        defer { started.forEach { $0.stop() } }
        do {
            // An unknown key, and a worker with no keys at all: refused at the handshake, exit 1, saying why.
            let intruder = try TestProcess(["worker", "--connect", workers, "--keys", keys.intruder])
            let plaintext = try TestProcess(["worker", "--connect", workers])
            started += [intruder, plaintext]
            #expect(await intruder.exitStatus(within: 10) == 1, "\(intruder.output)")
            #expect(intruder.output.contains("refused this worker: its key 'intruder' is not allowed"),
                    "\(intruder.output)")
            #expect(await plaintext.exitStatus(within: 10) == 1, "\(plaintext.output)")
            #expect(plaintext.output.contains("requires CURVE authentication"), "\(plaintext.output)")
            #expect(coordinator.log.contains("refused a worker from 127.0.0.1 with key \(keys.intruderKey)"),
                    "\(coordinator.log)")

            // Clients: no key, or a worker's key used as a client's, cannot submit.
            let urls = (0..<10).map { "\(site.site.baseURL)/bytes/\(100 + $0)" }
            let anonymous = try runCLI(["submit", "--control", control] + urls)
            #expect(anonymous.status == 1 && anonymous.stderr.contains("requires CURVE"), "\(anonymous.stderr)")
            let wrongRole = try runCLI(["submit", "--control", control, "--keys", keys.worker] + urls)
            #expect(wrongRole.status == 1 && wrongRole.stderr.contains("is not allowed"), "\(wrongRole.stderr)")
            let allowedClient = try runCLI(["jobs", "--control", control, "--keys", keys.client])
            #expect(allowedClient.status == 0, "\(allowedClient.stderr)")

            // The allowed worker joins; the allowed client submits and waits; the report names the worker's key.
            let worker = try TestProcess(["worker", "--connect", workers, "--keys", keys.worker, "--concurrency", "4"])
            started.append(worker)
            let submitted = try runCLI(["submit", "--control", control, "--keys", keys.client, "--repeat", "3",
                                        "--wait"] + urls, timeout: 30)
            #expect(submitted.status == 0, "\(submitted.stderr)\n\(coordinator.log)")
            let job = try #require(submitted.stdout.split(separator: "\n").first.map(String.init))
            try expectOneRecordPerKey("\(data)/jobs/\(job)", urls: urls, repeatCount: 3)
            try expectValidReport("\(data)/jobs/\(job)/report.json")
            let report = try ReportReader.read("\(data)/jobs/\(job)/report.json").report
            #expect(report.workers.map(\.key) == ["crawler-1"])
            #expect(submitted.stdout.contains("crawler-1"), "the terminal report's workers table shows the key")

            // Adding the intruder's key to workers/ lets it in without a restart.
            try FileManager.default.copyItem(atPath: keys.intruder + "/intruder.key",
                                             toPath: keys.coordinator + "/workers/intruder.key")
            let admitted = try TestProcess(["worker", "--connect", workers, "--keys", keys.intruder])
            started.append(admitted)
            let deadline = Date().addingTimeInterval(10)
            while !coordinator.log.contains("worker key 'intruder' connected") && Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(coordinator.log.contains("worker key 'intruder' connected"), "\(coordinator.log)")
            #expect(await admitted.exitStatus(within: 1) == nil, "\(admitted.output)")
        } catch {
            await coordinator.stop()
            throw error
        }
        await coordinator.stop()
    }

    @Test("a tcp:// endpoint off loopback needs --keys or --insecure; bad key directories stop the start")
    func exposedEndpointsNeedKeys() throws {
        let listen = try runCLI(["coordinator", "--workers", "0", "--listen", "tcp://0.0.0.0:5555"])
        #expect(listen.status == 2)
        #expect(listen.stderr.contains("--listen tcp://0.0.0.0:5555 is reachable from other machines"))
        #expect(listen.stderr.contains("--keys DIR") && listen.stderr.contains("--insecure"))
        let control = try runCLI(["status", "--control", "tcp://10.1.1.1:5556", "--keys", "/nonexistent"])
        #expect(control.status == 1 && control.stderr.contains("--keys: cannot read the key directory"))
        let controlExposed = try runCLI(["coordinator", "--control", "tcp://*:5556"])
        #expect(controlExposed.status == 2 && controlExposed.stderr.contains("submit and cancel jobs"))
        // The one-shot clusters take remote workers too, under the same rule.
        for command in ["run", "crawl"] {
            let exposed = try runCLI([command, "http://127.0.0.1:1/", "--listen", "tcp://0.0.0.0:5555"])
            #expect(exposed.status == 2 && exposed.stderr.contains("reachable from other machines"), "\(command)")
            #expect(exposed.stderr.contains("--insecure-listen"), "\(command): its --insecure is TLS")
        }
        let data = serviceDataDirectory()
        defer { removeServiceDataDirectory(data) }
        let empty = try runCLI(["coordinator", "--data-dir", data, "--workers", "0", "--listen", "tcp://127.0.0.1:0",
                                "--keys", data])
        #expect(empty.status == 1 && empty.stderr.contains("has no secret key"), "\(empty.stderr)")
        let ipcKeys = try runCLI(["worker", "--connect", "ipc:///tmp/x.sock", "--keys", data])
        #expect(ipcKeys.status == 2)
    }
}
