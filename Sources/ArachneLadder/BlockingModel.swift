import ArachneCore
import ArachneSystem

/// Step 1: one blocking socket after another. Every request waits for connect, then for the whole response, while
/// the process does nothing else; N requests take N round trips.
public struct BlockingModel: IOModel {
    public let name = "blocking"
    public let summary = "one blocking socket after another"

    public init() {}

    public func run(_ job: LadderJob, budget: Duration) async -> ModelRun {
        await onOwnThread(name: "ladder-blocking") {
            let meter = RunMeter()
            let deadline = LadderDeadline(after: budget)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            var tally = LadderTally()
            // The core loop: fetch, wait, fetch, wait.
            for _ in 0..<job.requests {
                let end = BlockingFetch.fetch(job, deadline: deadline, buffer: buffer)
                if case .abandoned = end { break }
                end.record(into: &tally, job: job)
            }
            return tally.run(model: name, job: job, meter: meter)
        }
    }
}

/// One GET on a blocking socket: connect, send, read until the server closes. Shared by `blocking` and `threads`.
///
/// Blocking calls would wait forever on a server that stalls, so the socket carries `SO_SNDTIMEO` (which also bounds
/// connect) and `SO_RCVTIMEO`, each set to the time left before the deadline; once the deadline has passed the
/// request is abandoned.
enum BlockingFetch {
    static func fetch(_ job: LadderJob, deadline: LadderDeadline, buffer: UnsafeMutableRawBufferPointer)
        -> RequestEnd
    {
        guard let left = deadline.remaining else { return .abandoned }
        let fd: Int32
        do {
            fd = try Syscall.tcpSocket(nonBlocking: false)
        } catch {
            return .failure(FetchFailure(error))
        }
        defer { try? Syscall.close(fd) }
        do {
            try Syscall.setTimeout(fd, .send, left)
            guard try Syscall.connect(fd, job.address) else {
                // A blocking connect that returns "in progress" ran out of SO_SNDTIMEO.
                return deadline.expired ? .abandoned : .failure(.timedOut("connecting"))
            }
            var sent = 0
            while sent < job.requestBytes.count {
                guard deadline.remaining != nil else { return .abandoned }
                let result = try job.requestBytes.withUnsafeBytes { bytes in
                    try Syscall.write(fd, from: UnsafeRawBufferPointer(rebasing: bytes[sent...]))
                }
                if case .processed(let count) = result { sent += count }
            }
            var reader = ResponseReader()
            while true {
                guard let left = deadline.remaining else { return .abandoned }
                try Syscall.setTimeout(fd, .receive, left)
                switch try Syscall.read(fd, into: buffer) {
                case .processed(0):
                    return .response(try reader.finish())
                case .processed(let count):
                    try reader.consume(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                case .wouldBlock:
                    continue  // SO_RCVTIMEO ran out: the loop's guard decides whether time is left
                }
            }
        } catch let error as SystemError {
            return .failure(FetchFailure(error))
        } catch let failure as FetchFailure {
            return .failure(failure)
        } catch {
            return .failure(FetchFailure(kind: .other, message: "\(error)"))
        }
    }
}
