import ArachneCore
import ArachneSystem

/// Step 3: non-blocking sockets polled in a busy loop. No call waits, so one thread keeps up to `concurrency`
/// requests going, but nothing tells it when a socket is ready: it asks every socket, again and again, and spends a
/// whole core doing so. The tutorial calls this step "cheating"; the CPU column shows the bill. With
/// `--concurrency 1` it is exactly the tutorial's version: one socket, spun on until its response is in.
public struct NonBlockingModel: IOModel {
    public let name = "nonblocking"
    public let summary = "non-blocking sockets polled in a busy loop (burns a core)"

    public init() {}

    /// One request in flight: its socket and how far it got.
    private struct PolledRequest {
        let fd: Int32
        var sent = 0
        var reader = ResponseReader()
    }

    public func run(_ job: LadderJob, budget: Duration) async -> ModelRun {
        await onOwnThread(name: "ladder-nonblock") {
            let meter = RunMeter()
            let deadline = LadderDeadline(after: budget)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            var tally = LadderTally()
            var active: [PolledRequest] = []
            var started = 0
            while true {
                while active.count < job.concurrency && started < job.requests {
                    started += 1
                    do throws(FetchFailure) {
                        active.append(PolledRequest(fd: try NonBlockingIO.open(job)))
                    } catch {
                        tally.record(error)
                    }
                }
                if active.isEmpty { break }
                if deadline.expired {
                    for request in active { try? Syscall.close(request.fd) }
                    break
                }
                // The core loop: ask every socket whether it can make progress; never wait.
                var index = 0
                while index < active.count {
                    if let end = poll(&active[index], job: job, buffer: buffer) {
                        end.record(into: &tally, job: job)
                        try? Syscall.close(active[index].fd)
                        active.swapAt(index, active.count - 1)
                        active.removeLast()
                    } else {
                        index += 1
                    }
                }
            }
            return tally.run(model: name, job: job, meter: meter)
        }
    }

    /// Tries to move one request forward; returns how it ended, or nil if it is still going.
    private func poll(_ request: inout PolledRequest, job: LadderJob, buffer: UnsafeMutableRawBufferPointer)
        -> RequestEnd?
    {
        do throws(FetchFailure) {
            if request.sent < job.requestBytes.count {
                // While the connect is in progress the send would block: keep asking.
                request.sent = try NonBlockingIO.send(request.fd, job, sent: request.sent)
                return nil
            }
            switch try NonBlockingIO.receive(request.fd, into: &request.reader, buffer: buffer) {
            case .wouldBlock: return nil
            case .finished(let response): return .response(response)
            }
        } catch {
            return .failure(error)
        }
    }
}
