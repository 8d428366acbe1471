import ArachneCore
import Dispatch
import Foundation
import Synchronization

/// Step 2: one thread per request, each with its own blocking socket, at most `concurrency` alive at once. The waits
/// overlap, so N requests take about N / C round trips, paid for with a thread creation per request, a stack per
/// live request, and the kernel switching between them.
public struct ThreadsModel: IOModel {
    public let name = "threads"
    public let summary = "one thread per request (bounded by --concurrency), blocking sockets"

    public init() {}

    public func run(_ job: LadderJob, budget: Duration) async -> ModelRun {
        await onOwnThread(name: "ladder-threads") {
            let meter = RunMeter()
            let deadline = LadderDeadline(after: budget)
            let tally = Mutex(LadderTally())
            // A slot per live thread: a thread takes one before it starts and gives it back when it ends.
            let slots = DispatchSemaphore(value: job.concurrency)
            // The core loop: wait for a free slot, start a thread for the next request.
            for _ in 0..<job.requests {
                guard slots.wait(timeout: .now() + deadline.dispatchInterval) == .success else { break }
                guard !deadline.expired else {
                    slots.signal()
                    break
                }
                let thread = Thread {
                    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
                    let end = BlockingFetch.fetch(job, deadline: deadline, buffer: buffer)
                    buffer.deallocate()
                    tally.withLock { end.record(into: &$0, job: job) }
                    slots.signal()
                }
                thread.stackSize = 256 * 1024
                thread.start()
            }
            // Wait for the live threads: every blocking call in them ends by the deadline (socket timeouts).
            for _ in 0..<job.concurrency { slots.wait() }
            // A semaphore must be back at its initial value when it is freed.
            for _ in 0..<job.concurrency { slots.signal() }
            return tally.withLock { $0 }.run(model: name, job: job, meter: meter)
        }
    }
}

extension LadderDeadline {
    /// Time left as a Dispatch interval (zero once expired).
    var dispatchInterval: DispatchTimeInterval {
        guard let left = remaining else { return .nanoseconds(0) }
        let (seconds, attoseconds) = left.components
        return .nanoseconds(Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
