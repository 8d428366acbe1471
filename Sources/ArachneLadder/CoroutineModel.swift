import ArachneCore
import ArachneSystem
import CArachneLinux

/// Step 5: each request a coroutine. The tutorial turns its callbacks back into one straight function with Python
/// generators: the function runs until it must wait, `yield`s what it waits for, and is resumed there when the event
/// loop sees the socket ready. Swift has no generators, so here the request is what the compiler would make of one:
/// a resumable state machine whose `resume()` runs to the next wait and returns what it waits for. A small scheduler,
/// which knows nothing about HTTP, waits with epoll and resumes whichever coroutine's socket is ready.
public struct CoroutineModel: IOModel {
    public let name = "coroutines"
    public let summary = "each request a resumable state machine, resumed by an epoll scheduler"

    public init() {}

    public func run(_ job: LadderJob, budget: Duration) async -> ModelRun {
        await onOwnThread(name: "ladder-coroutine") {
            let meter = RunMeter()
            let deadline = LadderDeadline(after: budget)
            var tally = LadderTally()
            do throws(SystemError) {
                var scheduler = try CoroutineScheduler(job: job)
                scheduler.run(until: deadline, tally: &tally)
                scheduler.close()
            } catch {
                tally.record(FetchFailure(error))
            }
            return tally.run(model: name, job: job, meter: meter)
        }
    }
}

/// One GET as a resumable state machine. Its locals (bytes sent, the response so far) are fields; where it stopped
/// is `state`. Each case of `resume` is the code between two `yield`s of the tutorial's generator.
struct FetchCoroutine {
    enum State {
        case connecting
        case sending(sent: Int)
        case receiving
        case done
    }

    /// What the coroutine waits for when it returns from `resume`: the `yield`ed value.
    enum Suspension {
        case writable
        case readable
        case finished(RequestEnd)
    }

    let fd: Int32
    private(set) var state = State.connecting
    private var reader = ResponseReader()

    /// Starts a request: opens the socket and begins connecting. The coroutine first waits for the socket to turn
    /// writable, which is when the connect is done.
    init(_ job: LadderJob) throws(FetchFailure) {
        fd = try NonBlockingIO.open(job)
    }

    /// Runs until the request must wait again, or is over.
    mutating func resume(_ job: LadderJob, buffer: UnsafeMutableRawBufferPointer) -> Suspension {
        do throws(FetchFailure) {
            while true {
                switch state {
                case .connecting:
                    if let failure = NonBlockingIO.connectFailure(fd) { throw failure }
                    state = .sending(sent: 0)
                case .sending(let sent):
                    let total = try NonBlockingIO.send(fd, job, sent: sent)
                    if total < job.requestBytes.count {
                        state = .sending(sent: total)
                        return .writable  // yield: until the send buffer has room
                    }
                    state = .receiving
                    return .readable  // yield: until the response starts
                case .receiving:
                    switch try NonBlockingIO.receive(fd, into: &reader, buffer: buffer) {
                    case .wouldBlock:
                        return .readable  // yield: until more of the response arrives
                    case .finished(let response):
                        state = .done
                        return .finished(.response(response))
                    }
                case .done:
                    preconditionFailure("a finished coroutine was resumed")
                }
            }
        } catch {
            state = .done
            return .finished(.failure(error))
        }
    }
}

/// Runs up to `concurrency` coroutines on one thread: epoll says which socket is ready, the scheduler resumes its
/// coroutine and re-arms the socket for whatever the coroutine now waits for.
private struct CoroutineScheduler {
    private let job: LadderJob
    private let epollFD: Int32
    /// One slot per concurrent request; the slot index is the epoll event's data.
    private var slots: [FetchCoroutine?]
    /// What each slot's socket is registered for, to skip needless EPOLL_CTL_MODs.
    private var interest: [UInt32]
    private var freeSlots: [Int]
    private var started = 0
    private let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 256)
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    init(job: LadderJob) throws(SystemError) {
        self.job = job
        epollFD = try Syscall.epollCreate()
        let count = min(job.concurrency, job.requests)
        slots = Array(repeating: nil, count: count)
        interest = Array(repeating: 0, count: count)
        freeSlots = Array((0..<count).reversed())
    }

    mutating func run(until deadline: LadderDeadline, tally: inout LadderTally) {
        startCoroutines(tally: &tally)
        // The core loop: wait for readiness, resume the coroutine it belongs to, act on what it yields.
        while freeSlots.count < slots.count && !deadline.expired {
            let count: Int
            do {
                count = try Syscall.epollWait(
                    epollFD, events, maxEvents: 256, timeoutMs: deadline.remainingMilliseconds)
            } catch {
                tally.record(FetchFailure(error))
                break
            }
            for index in 0..<count {
                let slot = Int(c_arachne_epoll_event_data(events + index))
                guard slots[slot] != nil else { continue }
                let suspension = slots[slot]!.resume(job, buffer: buffer)
                switch suspension {
                case .writable: wait(slot, for: EPOLLOUT.rawValue, tally: &tally)
                case .readable: wait(slot, for: EPOLLIN.rawValue, tally: &tally)
                case .finished(let end): end.record(into: &tally, job: job); release(slot)
                }
            }
            startCoroutines(tally: &tally)
        }
        // Past the deadline: the coroutines still waiting are dropped (their sockets closed) uncounted.
        for slot in slots.indices where slots[slot] != nil { release(slot) }
    }

    /// Fills free slots with new requests, each first waiting for its connect.
    private mutating func startCoroutines(tally: inout LadderTally) {
        while started < job.requests, let slot = freeSlots.popLast() {
            started += 1
            do throws(FetchFailure) {
                slots[slot] = try FetchCoroutine(job)
                interest[slot] = 0
                try Self.control(epollFD, EPOLL_CTL_ADD, slots[slot]!.fd, EPOLLOUT.rawValue, slot: slot)
                interest[slot] = EPOLLOUT.rawValue
            } catch {
                tally.record(error)
                if slots[slot] != nil {
                    release(slot)
                } else {
                    freeSlots.append(slot)
                }
            }
        }
    }

    private mutating func wait(_ slot: Int, for events: UInt32, tally: inout LadderTally) {
        guard interest[slot] != events, let fd = slots[slot]?.fd else { return }
        do throws(FetchFailure) {
            try Self.control(epollFD, EPOLL_CTL_MOD, fd, events, slot: slot)
            interest[slot] = events
        } catch {
            tally.record(error)
            release(slot)
        }
    }

    private mutating func release(_ slot: Int) {
        guard let fd = slots[slot]?.fd else { return }
        try? Syscall.epollControl(epollFD, EPOLL_CTL_DEL, fd, events: 0, data: 0)
        try? Syscall.close(fd)
        slots[slot] = nil
        freeSlots.append(slot)
    }

    private static func control(_ epollFD: Int32, _ operation: Int32, _ fd: Int32, _ events: UInt32, slot: Int)
        throws(FetchFailure)
    {
        do {
            try Syscall.epollControl(epollFD, operation, fd, events: events, data: UInt64(slot))
        } catch {
            throw FetchFailure(error)
        }
    }

    func close() {
        events.deallocate()
        buffer.deallocate()
        try? Syscall.close(epollFD)
    }
}
