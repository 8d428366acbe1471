import ArachneCore
import ArachneFetch
import ArachneSystem
import Foundation

/// The moment a model must stop: its start plus its budget.
public struct LadderDeadline: Sendable {
    public let instant: ContinuousClock.Instant

    public init(after budget: Duration) { instant = .now + budget }

    public var expired: Bool { ContinuousClock.now >= instant }

    /// Time left, or nil once the deadline has passed.
    public var remaining: Duration? {
        let left = instant - .now
        return left > .zero ? left : nil
    }

    /// Time left in whole milliseconds, rounded up (so a wait never ends just short of the deadline), for epoll.
    public var remainingMilliseconds: Int32 {
        guard let left = remaining else { return 0 }
        let (seconds, attoseconds) = left.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}

/// Wall and CPU time from its creation: what a `ModelRun` reports.
public struct RunMeter: Sendable {
    private let started = ContinuousClock.now
    private let cpuStarted = RunMeter.cpuSeconds()

    public init() {}

    public var wallSeconds: Double {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Process CPU seconds (user + system) used since the meter started.
    public var cpuSeconds: Double { RunMeter.cpuSeconds() - cpuStarted }

    private static func cpuSeconds() -> Double {
        let usage = Syscall.processCPUSeconds()
        return usage.user + usage.system
    }
}

/// Running counts of a model's outcomes.
public struct LadderTally: Sendable {
    public private(set) var succeeded = 0
    public private(set) var failed = 0
    public private(set) var bytesReceived = 0
    public private(set) var errors: [FetchErrorKind: Int] = [:]
    public private(set) var firstError: FetchFailure?

    public init() {}

    public var completed: Int { succeeded + failed }

    /// Records a response, checked against the job: a bad status or length counts as a failure.
    public mutating func record(_ response: ResponseSummary, for job: LadderJob) {
        if let problem = job.check(response) {
            record(problem)
        } else {
            succeeded += 1
            bytesReceived += response.bodyLength
        }
    }

    public mutating func record(_ failure: FetchFailure) {
        failed += 1
        errors[failure.kind, default: 0] += 1
        if firstError == nil { firstError = failure }
    }

    /// The run these counts and the meter's times make.
    public func run(model: String, job: LadderJob, meter: RunMeter, note: String? = nil) -> ModelRun {
        ModelRun(
            model: model, requests: job.requests, succeeded: succeeded, failed: failed,
            wallSeconds: meter.wallSeconds, cpuSeconds: meter.cpuSeconds, bytesReceived: bytesReceived,
            errors: Dictionary(uniqueKeysWithValues: errors.map { ($0.key.rawValue, $0.value) }),
            firstError: firstError.map { "\($0.kind.rawValue): \($0.message)" }, note: note)
    }
}

extension FetchFailure {
    /// Classifies a failed socket call the way reports count failures (the fetch path's classification).
    init(_ error: SystemError) {
        self.init(kind: FetchErrorKind(socketErrno: error.errno, connecting: error.call == "connect"),
                  message: error.description)
    }

    static func timedOut(_ what: String) -> FetchFailure {
        FetchFailure(kind: .timeout, message: "timed out \(what)")
    }
}

/// Runs `body` on a thread of its own and returns its result: the raw-socket models block or spin, which must not
/// happen on Swift's cooperative pool (two threads on this machine).
func onOwnThread<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.name = name
        thread.start()
    }
}

/// How a raw-socket request ended.
enum RequestEnd {
    case response(ResponseSummary)
    case failure(FetchFailure)
    /// Cut off by the model's deadline: neither a success nor a failure, just not completed.
    case abandoned

    func record(into tally: inout LadderTally, job: LadderJob) {
        switch self {
        case .response(let response): tally.record(response, for: job)
        case .failure(let failure): tally.record(failure)
        case .abandoned: break
        }
    }
}
