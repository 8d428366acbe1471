import ArachneCore
import ArachneSystem
import Foundation

/// A command-line value `arachne ladder` cannot use (exit code 2), with what was wrong.
public struct LadderUsageError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Why the ladder could not run at all (exit code 1): the host did not resolve or the URL could not be reached.
public struct LadderError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The experiment: prepare one job (resolve, probe), then run every chosen model on it for every N.
public enum Ladder {
    /// The largest N accepted, so a typo cannot start an endless run.
    public static let maximumRequests = 1_000_000

    /// Parses `--requests` values: each a number or a comma-separated list ("10,20,300"), all ≥ 1. Keeps the order
    /// given and drops repeats.
    public static func requestCounts(_ values: [String]) throws(LadderUsageError) -> [Int] {
        var counts: [Int] = []
        for item in values.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let text = item.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
            guard let count = Int(text), (1...maximumRequests).contains(count) else {
                throw LadderUsageError(
                    "--requests: '\(item)' is not a whole number from 1 to \(maximumRequests)")
            }
            if !counts.contains(count) { counts.append(count) }
        }
        guard !counts.isEmpty else { throw LadderUsageError("--requests: no request count given") }
        return counts
    }

    /// Validates the URL for the chosen models: the raw-socket models speak plain http only.
    public static func target(_ text: String, models: [any IOModel]) throws(LadderUsageError) -> TargetURL {
        let url: TargetURL
        do {
            url = try TargetURL(validating: text)
        } catch {
            throw LadderUsageError("bad URL '\(text)': \(error.reason)")
        }
        let plainOnly = models.filter { !$0.supportsHTTPS }.map(\.name)
        if url.scheme == "https" && !plainOnly.isEmpty {
            throw LadderUsageError(
                "the \(plainOnly.joined(separator: ", ")) model(s) speak plain HTTP over raw sockets and cannot "
                    + "fetch https URLs; use an http:// URL or choose other models with --model")
        }
        return url
    }

    /// Resolves the URL's host once and checks that the URL answers: one blocking GET (a TCP connect for https).
    /// The probe's body length, when its status is 2xx, becomes the length every response must have.
    public static func prepare(
        url: TargetURL, concurrency: Int, workers: Int, probeTimeout: Duration = .seconds(10)
    ) async throws(LadderError) -> (job: LadderJob, warning: String?) {
        let address: IPv4Address
        do {
            address = try Syscall.resolveIPv4(host: url.host, port: UInt16(url.port))
        } catch {
            throw LadderError("\(error)")
        }
        var job = LadderJob(url: url, address: address, requests: 1, concurrency: concurrency, workers: workers)
        let probe = job
        let end = await onOwnThread(name: "ladder-probe") { () -> RequestEnd in
            let deadline = LadderDeadline(after: probeTimeout)
            if url.scheme == "https" { return connectOnly(probe, deadline: deadline) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            return BlockingFetch.fetch(probe, deadline: deadline, buffer: buffer)
        }
        switch end {
        case .abandoned:
            throw LadderError("\(url) (\(address)) did not answer within \(probeTimeout)")
        case .failure(let failure) where failure.kind == .connect || failure.kind == .timeout:
            throw LadderError("cannot reach \(url) (\(address)): \(failure.message)")
        case .failure(let failure):
            return (job, "the probe request failed (\(failure.kind.rawValue): \(failure.message)); running anyway")
        case .response where url.scheme == "https":
            return (job, nil)  // only connected: the async and cluster models check lengths against Content-Length
        case .response(let response):
            guard (200..<300).contains(response.status) else {
                return (job, "the probe got HTTP status \(response.status): every request will count as failed")
            }
            job.expectedBodyLength = response.bodyLength
            return (job, nil)
        }
    }

    /// Runs each model on `job` for each N, N by N in the order given and models in ladder order, calling `progress`
    /// after each run.
    public static func run(
        _ job: LadderJob, counts: [Int], models: [any IOModel], budget: Duration,
        progress: (ModelRun) -> Void = { _ in }
    ) async -> [ModelRun] {
        var runs: [ModelRun] = []
        for count in counts {
            var sized = job
            sized.requests = count
            for model in models {
                let run = await model.run(sized, budget: budget)
                progress(run)
                runs.append(run)
            }
        }
        return runs
    }

    private static func connectOnly(_ job: LadderJob, deadline: LadderDeadline) -> RequestEnd {
        do {
            let fd = try Syscall.tcpSocket(nonBlocking: false)
            defer { try? Syscall.close(fd) }
            if let left = deadline.remaining { try Syscall.setTimeout(fd, .send, left) }
            guard try Syscall.connect(fd, job.address) else { return .abandoned }
            return .response(ResponseSummary(status: 200, bodyLength: 0, declaredLength: nil))
        } catch {
            return .failure(FetchFailure(error))
        }
    }
}
