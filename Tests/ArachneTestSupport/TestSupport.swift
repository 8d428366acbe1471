import ArachneArchive
import ArachneCore
import ArachneEventLoop
import ArachneSite
import Foundation
import Testing

/// The `arachne` binary `swift test` built beside the test bundle.
public enum ArachneBinary {
    public static var url: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        for directory in candidates {
            let candidate = directory.appendingPathComponent("arachne")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return candidates[0].appendingPathComponent("arachne")
    }
}

/// Helpers shared by the integration tests: the built binary, a demo site, temp dirs, exact-once checks.

/// A demo site on its own loop, for the length of a test.
public final class SiteFixture: @unchecked Sendable {
    // Safety: immutable after init.
    public let loop: EventLoop
    public let site: DemoSite

    public init() throws {
        loop = try EventLoop(name: "test-site")
        site = try DemoSite.start(on: loop)
    }

    public func url(_ path: String) -> String { site.baseURL + path }

    public func stop() {
        site.stop()
        loop.shutdown()
    }
}

/// A fresh temporary directory.
public func temporaryDirectory(_ label: String) -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("arachne-test-\(label)-\(UUID().uuidString.prefix(8))").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Reads records.ndjson and checks every (URL, repetition) of the job appears exactly once.
@discardableResult
public func expectExactlyOnce(
    directory: String, urls: [String], repeatCount: Int, sourceLocation: SourceLocation = #_sourceLocation
) throws -> [FetchRecord] {
    let records = try RecordsReader.readAll(path: directory + "/records.ndjson")
    expectOneRecordPerKey(records, urls: urls, repeatCount: repeatCount, sourceLocation: sourceLocation)
    return records
}

/// Checks that every key of a list job — (URL index, repetition) — has exactly one record, and that each record's
/// `url_index` names its own URL: a URL listed twice has a record per listing and repetition, told apart by index.
public func expectOneRecordPerKey(
    _ records: [FetchRecord], urls: [String], repeatCount: Int, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(records.count == urls.count * repeatCount, "\(records.count) records", sourceLocation: sourceLocation)
    var seen: [RequestKey: Int] = [:]
    var wrong: [String] = []
    for record in records {
        guard let index = record.urlIndex, urls.indices.contains(index), urls[index] == record.url else {
            wrong.append("\(record.url) with url_index \(record.urlIndex.map(String.init) ?? "none")")
            continue
        }
        seen[RequestKey(urlIndex: index, repetition: record.repetition), default: 0] += 1
    }
    #expect(wrong.isEmpty, "records whose url_index is not their URL's: \(wrong.prefix(5))",
            sourceLocation: sourceLocation)
    let duplicated = seen.filter { $0.value > 1 }.keys.sorted()
    #expect(duplicated.isEmpty, "duplicated keys: \(duplicated.prefix(5))", sourceLocation: sourceLocation)
    var missing: [String] = []
    for index in urls.indices {
        for repetition in 0..<repeatCount where seen[RequestKey(urlIndex: index, repetition: repetition)] == nil {
            missing.append("\(urls[index]) (url_index \(index)) #\(repetition)")
        }
    }
    #expect(missing.isEmpty, "missing keys: \(missing.prefix(5))", sourceLocation: sourceLocation)
}

/// Direct children of this process (from /proc), to find the workers a test's cluster spawned.
public func childProcesses(of pid: Int32 = getpid()) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    var children: [Int32] = []
    for task in tasks {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else {
            continue
        }
        children += text.split(separator: " ").compactMap { Int32($0) }
    }
    return children
}

/// The command line of a process, to tell our workers apart from other children.
public func commandLine(of pid: Int32) -> [String] {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
}

/// Runs the binary to completion with a time limit; returns exit status, stdout and stderr.
public func runArachne(
    _ arguments: [String], timeout: Double = 60, stdin: String? = nil, environment: [String: String]? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = ArachneBinary.url
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(timeout)
    // Read while it runs so a full pipe never blocks it.
    let outData = LockedData()
    let errData = LockedData()
    let readers = [(out, outData), (err, errData)].map { pipe, sink in
        Thread { sink.append(pipe.fileHandleForReading.readDataToEndOfFile()) }
    }
    readers.forEach { $0.start() }
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        Issue.record("arachne \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
    }
    process.waitUntilExit()
    while !(outData.done && errData.done) { usleep(5_000) }
    return (process.terminationStatus, outData.string, errData.string)
}

final class LockedData: @unchecked Sendable {
    // Safety: guarded by `lock`.
    private let lock = NSLock()
    private var data = Data()
    private var finished = false

    func append(_ more: Data) {
        lock.withLock {
            data.append(more)
            finished = true
        }
    }

    var done: Bool { lock.withLock { finished } }
    var string: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// Validates a report file against docs/report.schema.json with Python's jsonschema.
public func expectValidReport(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    // Tests/ArachneTestSupport/TestSupport.swift → the package root.
    let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/report.schema.json").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1])); report = json.load(open(sys.argv[2]))
        jsonschema.validate(report, schema, cls=jsonschema.Draft202012Validator)
        """, schema, path]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    process.waitUntilExit()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 0, "report \(path) does not validate: \(message)", sourceLocation: sourceLocation)
}

/// A small seeded generator (SplitMix64), so simulations, fuzz tests and "random" fixtures are the same every run.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// An `arachne` process running in the background, for tests that signal it midway (Ctrl-C is SIGINT).
public final class RunningArachne: @unchecked Sendable {
    // Safety: used from the test's task only; the readers write into LockedData, which has its own lock.
    public let process = Process()
    private let outData = LockedData()
    private let errData = LockedData()

    public init(_ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = ArachneBinary.url
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            Thread { sink.append(pipe.fileHandleForReading.readDataToEndOfFile()) }.start()
        }
    }

    public func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits for it to exit (SIGKILL after `timeout`, recorded as an issue): exit status, stdout, stderr.
    public func wait(timeout: Double = 30) -> (status: Int32, stdout: String, stderr: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("arachne \(process.arguments?.joined(separator: " ") ?? "") did not exit within \(timeout) s")
        }
        process.waitUntilExit()
        while !(outData.done && errData.done) { usleep(5_000) }
        return (process.terminationStatus, outData.string, errData.string)
    }
}

/// Waits until `condition` holds (polling every 20 ms); false after `timeout` seconds.
public func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
