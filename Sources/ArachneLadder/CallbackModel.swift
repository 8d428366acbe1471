import ArachneCore
import ArachneSystem
import CArachneLinux

/// Step 4: non-blocking sockets and an epoll loop that calls back whoever registered for a ready descriptor. The
/// thread sleeps in `epoll_wait` until the kernel says some socket can make progress, so waiting costs no CPU and one
/// thread keeps `concurrency` requests going. The price is the shape of the code: one request's story is cut into
/// callbacks (connected, then response readable) that hand each other on through the loop.
public struct CallbackModel: IOModel {
    public let name = "callbacks"
    public let summary = "non-blocking sockets, an epoll loop dispatching readiness callbacks"

    public init() {}

    public func run(_ job: LadderJob, budget: Duration) async -> ModelRun {
        await onOwnThread(name: "ladder-callback") {
            let meter = RunMeter()
            let deadline = LadderDeadline(after: budget)
            guard let reactor = try? Reactor() else {
                var tally = LadderTally()
                tally.record(FetchFailure(kind: .io, message: "epoll_create1 failed"))
                return tally.run(model: name, job: job, meter: meter)
            }
            let run = CallbackRun(job: job, reactor: reactor)
            run.fillSlots()
            reactor.runUntil(deadline) { run.isDone }
            run.abandonAll()
            reactor.close()
            return run.tally.run(model: name, job: job, meter: meter)
        }
    }
}

/// A minimal reactor: an epoll descriptor and, for each watched descriptor, the callback to call when it is ready.
/// Used on one thread only.
private final class Reactor {
    typealias Callback = (_ events: UInt32) -> Void

    private let epollFD: Int32
    /// Indexed by descriptor: descriptors are small integers.
    private var callbacks: [Callback?] = []
    private let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 256)

    init() throws(SystemError) {
        epollFD = try Syscall.epollCreate()
    }

    /// Calls `callback` whenever `fd` is ready for `events` (EPOLLIN or EPOLLOUT); replaces an earlier registration.
    func register(_ fd: Int32, for events: UInt32, _ callback: @escaping Callback) throws(SystemError) {
        let index = Int(fd)
        if index >= callbacks.count { callbacks += Array(repeating: nil, count: index + 1 - callbacks.count) }
        let operation = callbacks[index] == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
        try Syscall.epollControl(epollFD, operation, fd, events: events, data: UInt64(fd))
        callbacks[index] = callback
    }

    /// Stops watching `fd`. Call before closing it.
    func unregister(_ fd: Int32) {
        guard Int(fd) < callbacks.count, callbacks[Int(fd)] != nil else { return }
        callbacks[Int(fd)] = nil
        try? Syscall.epollControl(epollFD, EPOLL_CTL_DEL, fd, events: 0, data: 0)
    }

    /// The event loop: wait for readiness, call the callbacks, until `done()` or the deadline.
    func runUntil(_ deadline: LadderDeadline, done: () -> Bool) {
        while !done() && !deadline.expired {
            let count: Int
            do {
                count = try Syscall.epollWait(
                    epollFD, events, maxEvents: 256, timeoutMs: deadline.remainingMilliseconds)
            } catch {
                return
            }
            for index in 0..<count {
                let fd = Int(c_arachne_epoll_event_data(events + index))
                // A callback may have unregistered a descriptor whose event is later in this batch.
                guard fd < callbacks.count, let callback = callbacks[fd] else { continue }
                callback(c_arachne_epoll_event_events(events + index))
            }
        }
    }

    func close() {
        events.deallocate()
        try? Syscall.close(epollFD)
    }
}

/// The requests of one run. Used on the reactor's thread only.
private final class CallbackRun {
    let job: LadderJob
    let reactor: Reactor
    var tally = LadderTally()
    /// Shared by every request: only one callback runs at a time.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var started = 0
    private var inFlight: Set<Int32> = []
    private var filling = false

    init(job: LadderJob, reactor: Reactor) {
        self.job = job
        self.reactor = reactor
    }

    deinit { buffer.deallocate() }

    var isDone: Bool { started == job.requests && inFlight.isEmpty }

    /// Starts requests until `concurrency` are in flight or all N have started.
    func fillSlots() {
        // A request that fails at once finishes inside this loop; it must not start a nested one.
        guard !filling else { return }
        filling = true
        defer { filling = false }
        while inFlight.count < job.concurrency && started < job.requests {
            started += 1
            do throws(FetchFailure) {
                let fetcher = Fetcher(fd: try NonBlockingIO.open(job), run: self)
                inFlight.insert(fetcher.fd)
                fetcher.start()
            } catch {
                tally.record(error)
            }
        }
    }

    /// Records how a request ended, closes its socket and starts the next request.
    func finish(_ fetcher: Fetcher, _ end: RequestEnd) {
        end.record(into: &tally, job: job)
        reactor.unregister(fetcher.fd)
        try? Syscall.close(fetcher.fd)
        inFlight.remove(fetcher.fd)
        fillSlots()
    }

    /// Closes the requests still in flight when the deadline passed.
    func abandonAll() {
        for fd in inFlight {
            reactor.unregister(fd)
            try? Syscall.close(fd)
        }
        inFlight.removeAll()
    }
}

/// One request as the tutorial's `Fetcher`: its state in fields, its story in two callbacks the reactor calls.
/// The reactor's registration keeps it alive until it finishes.
private final class Fetcher {
    let fd: Int32
    unowned let run: CallbackRun
    private var reader = ResponseReader()

    init(fd: Int32, run: CallbackRun) {
        self.fd = fd
        self.run = run
    }

    /// Asks to be called back once the socket is writable: the connect has finished.
    func start() {
        do {
            try run.reactor.register(fd, for: EPOLLOUT.rawValue) { _ in self.connected() }
        } catch {
            run.finish(self, .failure(FetchFailure(error)))
        }
    }

    /// Callback 1: connected. Send the request, then ask to be called back when the response is readable.
    private func connected() {
        if let failure = NonBlockingIO.connectFailure(fd) { return run.finish(self, .failure(failure)) }
        do throws(FetchFailure) {
            // A request of a few hundred bytes fits the empty send buffer of a fresh connection.
            guard try NonBlockingIO.send(fd, run.job, sent: 0) == run.job.requestBytes.count else {
                let failure = FetchFailure(kind: .io, message: "the request did not fit the send buffer")
                return run.finish(self, .failure(failure))
            }
        } catch {
            return run.finish(self, .failure(error))
        }
        do {
            try run.reactor.register(fd, for: EPOLLIN.rawValue) { _ in self.readResponse() }
        } catch {
            run.finish(self, .failure(FetchFailure(error)))
        }
    }

    /// Callback 2, once per readable event: read what arrived; when the server closes, the response is complete.
    private func readResponse() {
        do throws(FetchFailure) {
            if case .finished(let response) = try NonBlockingIO.receive(fd, into: &reader, buffer: run.buffer) {
                run.finish(self, .response(response))
            }
        } catch {
            run.finish(self, .failure(error))
        }
    }
}
