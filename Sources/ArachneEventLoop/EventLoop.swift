import ArachneCore
import ArachneSystem
import CArachneLinux
import Glibc
import Synchronization

/// One thread running one epoll loop: descriptor readiness callbacks, timers, and work submitted from any thread.
///
/// The loop is also a Swift `SerialExecutor` and `TaskExecutor` (see `EventLoop+Executor.swift`): an actor whose
/// `unownedExecutor` is this loop runs on the loop thread, and a task that prefers this loop as its executor resumes
/// there after every `await` instead of hopping through the global pool.
///
/// Descriptor and timer methods are loop-thread only (they check); `execute(_:)` and the executor entry points may be
/// called from anywhere.
public final class EventLoop: @unchecked Sendable {
    // Safety: `remote` is guarded by its mutex; `threadID` is written once before any work is accepted (the start
    // semaphore orders it); every other stored property is touched only on the loop thread.

    /// Work waiting to run on the loop, submitted from other threads.
    enum RemoteWork: Sendable {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    /// Work submitted on the loop thread itself: no lock, no wake-up.
    enum LocalWork {
        case job(UnownedJob)
        case closure(() -> Void)
    }

    private struct RemoteState {
        var queue: [RemoteWork] = []
        /// True while the loop is (about to be) blocked in epoll_wait and needs an eventfd write to wake.
        var sleeping = false
        /// True once the loop thread has finished and closed its descriptors.
        var closed = false
        /// True once `shutdown()` was called.
        var shutdownRequested = false
    }

    private struct Registration {
        var generation: UInt32
        var handler: (Readiness) -> Void
    }

    public let name: String
    private let epollFD: Int32
    private let wakeFD: Int32
    private let remote = Mutex(RemoteState())
    private var threadID = pthread_t()
    private var local = FIFO<LocalWork>()
    private var registrations: [Registration?] = []
    private var generation: UInt32 = 0
    private var timers = TimerHeap<() -> Void>()
    private var stopping = false
    private let finished = DispatchSemaphoreLite()

    private static let wakeToken: UInt64 = UInt64.max

    /// Starts a loop on a new thread named `name`.
    public init(name: String = "arachne-loop") throws(SystemError) {
        self.name = name
        epollFD = try Syscall.epollCreate()
        do {
            wakeFD = try Syscall.eventfd()
            try Syscall.epollControl(epollFD, EPOLL_CTL_ADD, wakeFD, events: EPOLLIN.rawValue, data: Self.wakeToken)
        } catch {
            try? Syscall.close(epollFD)
            throw error
        }
        let started = DispatchSemaphoreLite()
        let box = Unmanaged.passRetained(ThreadStart { [self] in
            threadID = pthread_self()
            c_arachne_set_thread_name(name)
            started.signal()
            runLoop()
        })
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let start = Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue()
            start.body()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "pthread_create failed: \(result)")
        pthread_detach(thread)
        started.wait()
    }


    /// True when called on this loop's thread.
    public var inEventLoop: Bool { pthread_equal(pthread_self(), threadID) != 0 }

    /// Traps unless called on the loop thread: for loop-only state.
    public func preconditionInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inEventLoop, "must be called on event loop \(name)", file: file, line: line)
    }

    // MARK: Submitting work

    /// Runs `work` on the loop thread, soon. Safe from any thread.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        // Work submitted after shutdown cannot run; accepting it would leak it silently in a dead queue.
        precondition(executeIfRunning(work), "work submitted to event loop \(name) after shutdown")
    }

    /// Runs `work` on the loop after the work now running. Loop thread only, so `work` need not be `Sendable`.
    public func runSoon(_ work: @escaping () -> Void) {
        preconditionInEventLoop()
        local.append(.closure(work))
    }

    func enqueueJob(_ job: UnownedJob) {
        if inEventLoop {
            local.append(.job(job))
        } else {
            precondition(trySubmitRemote(.job(job)), "a task resumed on event loop \(name) after shutdown")
        }
    }

    /// Queues work from another thread; false once the loop has finished.
    private func trySubmitRemote(_ work: RemoteWork) -> Bool {
        let wake: Bool? = remote.withLock { state in
            if state.closed { return nil }
            state.queue.append(work)
            let wake = state.sleeping
            state.sleeping = false
            return wake
        }
        guard let wake else { return false }
        if wake { try? Syscall.eventfdSignal(wakeFD) }
        return true
    }

    /// Runs `work` on the loop unless the loop has shut down; returns whether it was accepted.
    @discardableResult
    public func executeIfRunning(_ work: @escaping @Sendable () -> Void) -> Bool {
        if inEventLoop {
            local.append(.closure(work))
            return true
        }
        return trySubmitRemote(.closure(work))
    }

    // MARK: Descriptors (loop thread only)

    /// Watches `fd` for `interest`; `handler` runs on the loop with what epoll reported. One registration per fd.
    public func register(fd: Int32, interest: Interest, handler: @escaping (Readiness) -> Void) throws(SystemError) {
        preconditionInEventLoop()
        let index = Int(fd)
        if index >= registrations.count {
            registrations.append(contentsOf: repeatElement(nil, count: index + 1 - registrations.count))
        }
        precondition(registrations[index] == nil, "fd \(fd) is already registered")
        generation &+= 1
        try Syscall.epollControl(
            epollFD, EPOLL_CTL_ADD, fd, events: interest.rawValue | EPOLLRDHUP.rawValue,
            data: UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd)))
        registrations[index] = Registration(generation: generation, handler: handler)
    }

    /// Changes what a registered descriptor is watched for.
    public func modify(fd: Int32, interest: Interest) throws(SystemError) {
        preconditionInEventLoop()
        guard let registration = registrations[Int(fd)] else { preconditionFailure("fd \(fd) is not registered") }
        try Syscall.epollControl(
            epollFD, EPOLL_CTL_MOD, fd, events: interest.rawValue | EPOLLRDHUP.rawValue,
            data: UInt64(registration.generation) << 32 | UInt64(UInt32(bitPattern: fd)))
    }

    /// Stops watching `fd`. Call before closing it. Events already gathered for it are not delivered.
    public func deregister(fd: Int32) {
        preconditionInEventLoop()
        guard Int(fd) < registrations.count, registrations[Int(fd)] != nil else { return }
        registrations[Int(fd)] = nil
        // ENOENT/EBADF here mean the fd was closed first: epoll forgot it already.
        var event = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    }

    /// True when `fd` is registered.
    public func isRegistered(fd: Int32) -> Bool {
        preconditionInEventLoop()
        return Int(fd) < registrations.count && registrations[Int(fd)] != nil
    }

    // MARK: Timers (loop thread only)

    /// Monotonic time in nanoseconds, the clock timers use.
    public static func now() -> UInt64 { c_arachne_monotonic_ns() }

    /// Runs `handler` on the loop once `nanoseconds` have passed.
    @discardableResult
    public func scheduleTimer(afterNanoseconds nanoseconds: UInt64, _ handler: @escaping () -> Void) -> TimerID {
        preconditionInEventLoop()
        return timers.schedule(at: Self.now() &+ nanoseconds, handler)
    }

    /// Runs `handler` on the loop once `milliseconds` have passed.
    @discardableResult
    public func scheduleTimer(afterMilliseconds milliseconds: Int, _ handler: @escaping () -> Void) -> TimerID {
        scheduleTimer(afterNanoseconds: UInt64(max(0, milliseconds)) * 1_000_000, handler)
    }

    /// Cancels a timer; false if it already fired or was cancelled.
    @discardableResult
    public func cancelTimer(_ timer: TimerID) -> Bool {
        preconditionInEventLoop()
        return timers.cancel(timer)
    }

    // MARK: Shutdown

    /// Stops the loop after the work already submitted has run, and waits for its thread to finish.
    /// Registered descriptors are forgotten, not closed: their owners close them. Must not be called on the loop.
    /// Calling it again (from anywhere but the loop) just waits for the same end.
    public func shutdown() {
        precondition(!inEventLoop, "shutdown() would wait for its own thread")
        let alreadyStopping = remote.withLock { state in
            defer { state.shutdownRequested = true }
            return state.shutdownRequested
        }
        if alreadyStopping {
            // Someone else asked first: wait for the loop to finish all the same.
            finished.wait()
            finished.signal()
            return
        }
        execute { [self] in stopping = true }
        finished.wait()
        finished.signal()
    }

    // MARK: The loop

    private func runLoop() {
        let capacity: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer {
            events.deallocate()
            registrations.removeAll()
            try? Syscall.close(wakeFD)
            try? Syscall.close(epollFD)
            finished.signal()
        }
        while true {
            runLocalWork()
            takeRemoteWork(sleepIfEmpty: false)
            runLocalWork()
            if stopping && local.isEmpty {
                // Close the door under the lock; run whatever slipped in before it closed, then leave.
                let leftover: [RemoteWork] = remote.withLock { state in
                    state.closed = true
                    defer { state.queue.removeAll() }
                    return state.queue
                }
                if leftover.isEmpty { return }
                for work in leftover {
                    switch work {
                    case .job(let job): local.append(.job(job))
                    case .closure(let closure): local.append(.closure(closure))
                    }
                }
                continue
            }

            let timeout = pollTimeout()
            var sleeping = false
            if timeout != 0 {
                sleeping = takeRemoteWork(sleepIfEmpty: true)
            }
            let count: Int
            do {
                count = try Syscall.epollWait(epollFD, events, maxEvents: capacity, timeoutMs: sleeping ? timeout : 0)
            } catch {
                fatalError("event loop \(name): \(error)")
            }
            if sleeping { remote.withLock { $0.sleeping = false } }
            for index in 0..<count {
                dispatch(events[index])
            }
            fireTimers()
        }
    }

    private func dispatch(_ event: epoll_event) {
        var event = event
        let data = c_arachne_epoll_event_data(&event)
        if data == Self.wakeToken {
            try? Syscall.eventfdDrain(wakeFD)
            return
        }
        let fd = Int(UInt32(truncatingIfNeeded: data))
        let generation = UInt32(truncatingIfNeeded: data >> 32)
        guard fd < registrations.count, let registration = registrations[fd],
              registration.generation == generation
        else { return }
        registration.handler(Readiness(rawValue: c_arachne_epoll_event_events(&event)))
    }

    /// Moves remote work into the local queue. With `sleepIfEmpty`, marks the loop asleep when there was none and
    /// returns true (the caller may block); otherwise returns false.
    @discardableResult
    private func takeRemoteWork(sleepIfEmpty: Bool) -> Bool {
        let batch: [RemoteWork]? = remote.withLock { state in
            if state.queue.isEmpty {
                if sleepIfEmpty { state.sleeping = true }
                return nil
            }
            let batch = state.queue
            state.queue.removeAll(keepingCapacity: true)
            return batch
        }
        guard let batch else { return sleepIfEmpty }
        for work in batch {
            switch work {
            case .job(let job): local.append(.job(job))
            case .closure(let closure): local.append(.closure(closure))
            }
        }
        return false
    }

    /// Runs the local queue, including work the running work adds, up to a bound so I/O is not starved.
    private func runLocalWork() {
        var budget = 4096
        while budget > 0, let work = local.popFirst() {
            budget -= 1
            switch work {
            case .job(let job): runJob(job)
            case .closure(let closure): closure()
            }
        }
    }

    private func pollTimeout() -> Int32 {
        if !local.isEmpty { return 0 }
        guard let deadline = timers.nextDeadline() else { return -1 }
        let now = Self.now()
        if deadline <= now { return 0 }
        let milliseconds = (deadline - now + 999_999) / 1_000_000
        return Int32(min(milliseconds, 60_000))
    }

    private func fireTimers() {
        guard !timers.isEmpty else { return }
        let now = Self.now()
        while let handler = timers.popExpired(now: now) {
            handler()
        }
    }
}

/// Carries the loop thread's body through pthread_create's context pointer.
private final class ThreadStart {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// A counting semaphore on a pthread mutex and condition, for the loop's start and finish hand-offs.
final class DispatchSemaphoreLite: @unchecked Sendable {
    // Safety: every field is touched only with `mutex` held.
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var count = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func signal() {
        pthread_mutex_lock(&mutex)
        count += 1
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func wait() {
        pthread_mutex_lock(&mutex)
        while count == 0 { pthread_cond_wait(&condition, &mutex) }
        count -= 1
        pthread_mutex_unlock(&mutex)
    }
}
