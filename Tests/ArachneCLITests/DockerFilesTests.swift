import ArachneTestSupport
import Foundation
import Testing

/// docker/ without a Docker engine: the compose file is valid for `docker-compose`, and the scripts the image runs
/// (make-keys, coordinator, worker, healthcheck) bring up a secured cluster on loopback that completes a job and
/// refuses an unknown worker key and a keyless client (`docker/scripts/smoke.sh`, on the binary under test).
@Suite(.serialized) struct DockerFilesTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func run(_ arguments: [String], timeout: Double = 120) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: repository)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = CollectedOutput()
        let collector = Thread { data.set(out.fileHandleForReading.readDataToEndOfFile()) }
        collector.start()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        while collector.isExecuting || !collector.isFinished { usleep(10_000) }
        return (process.terminationStatus, data.text)
    }

    @Test func theComposeFileIsValid() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-compose") else {
            Issue.record("docker-compose is not installed (apt-get install docker-compose; .ci/run installs it)")
            return
        }
        let result = try Self.run(["docker-compose", "-f", "docker/docker-compose.yml", "config", "-q"])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func theImagesScriptsRunASecuredClusterOnLoopback() throws {
        let result = try Self.run(["sh", "docker/scripts/smoke.sh", ArachneBinary.url.path], timeout: 180)
        #expect(result.status == 0, "\(result.output)")
    }
}

/// Output read on another thread.
private final class CollectedOutput: @unchecked Sendable {
    // Safety: guarded by `lock`.
    private let lock = NSLock()
    private var data = Data()
    func set(_ all: Data) { lock.withLock { data = all } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
