import ArachneCore
import Foundation

/// A fresh directory under the system temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("arachne-store-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// A spec of `count` loopback URLs.
func loopbackSpec(urls count: Int, repeat repeatCount: Int = 1, name: String? = nil) -> JobSpec {
    JobSpec(urls: (0..<count).map { "http://127.0.0.1:8080/page/\($0)" }, repeatCount: repeatCount, name: name)
}

/// A record for `key` whose fields all derive from the key, so a read-back can be checked exactly. Every third key
/// failed (no body), the others carry a body reference.
func sampleRecord(_ key: RequestKey, worker: String = "w-1") -> FetchRecord {
    let n = Int64(key.urlIndex * 10 + key.repetition)
    let failed = key.urlIndex % 3 == 2
    return FetchRecord(
        url: "http://127.0.0.1:8080/page/\(key.urlIndex)", urlIndex: key.urlIndex, repetition: key.repetition,
        worker: worker,
        attempts: 1 + key.urlIndex % 2, status: failed ? 0 : 200, bytes: failed ? 0 : 1000 + n,
        finalURL: failed ? "" : "http://127.0.0.1:8080/page/\(key.urlIndex)?é=✓", redirects: key.urlIndex % 4,
        timings: PhaseTimings(
            queue: n, namelookup: n + 1, connect: n + 2, appconnect: 0, pretransfer: n + 3, starttransfer: n + 4,
            total: n + 5),
        error: failed ? FetchFailure(kind: .connect, message: "Connection refused #\(n)") : nil,
        body: failed
            ? nil
            : BodyReference(
                file: "bodies-00001.warc.gz", offset: n * 100, length: 99, digest: "sha1:DIGEST\(n)",
                truncated: key.repetition == 1),
        finishedAt: 1_764_000_000.25 + Double(n))
}
