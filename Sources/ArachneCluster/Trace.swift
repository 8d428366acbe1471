import ArachneProtocol
import Foundation

/// Protocol-level tracing to standard error, on when `ARACHNE_TRACE=1`: for diagnosing a cluster by hand.
enum Trace {
    static let enabled = ProcessInfo.processInfo.environment["ARACHNE_TRACE"] == "1"

    @inline(__always)
    static func log(_ message: @autoclosure () -> String) {
        guard enabled else { return }
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds) / 1e6
        let line = String(format: "[trace %d %.3f] ", getpid(), milliseconds) + message() + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}


extension WorkerMessage {
    /// A short name for traces: the message type and its size.
    var traceName: String {
        switch self {
        case .hello(let hello): "hello (capacity \(hello.capacity))"
        case .credit(let n): "credit \(n)"
        case .results(let results): "results \(results.count)"
        case .batchDone(let batch): "batchDone \(batch)"
        case .heartbeat: "heartbeat"
        case .goodbye(let reason): "goodbye (\(reason))"
        case .robots(let report): "robots \(report.origin) (\(report.status))"
        case .hostAudits(let job, let audits): "hostAudits \(job) (\(audits.count) hosts)"
        }
    }
}
