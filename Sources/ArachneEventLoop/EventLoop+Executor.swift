/// The loop as a Swift executor: actors pinned to it and tasks preferring it run on the loop thread.
extension EventLoop: SerialExecutor, TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueueJob(UnownedJob(job))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: EventLoop) -> Bool {
        self === other
    }

    public func checkIsolated() {
        preconditionInEventLoop()
    }

    func runJob(_ job: UnownedJob) {
        job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
    }
}

extension EventLoop {
    /// Runs `body` on the loop thread and returns its result to the caller, wherever it runs.
    /// Throws `EventLoopShutDown` if the loop has finished.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = executeIfRunning { continuation.resume(with: Result { try body() }) }
            if !accepted { continuation.resume(throwing: EventLoopShutDown(name: name)) }
        }
    }
}

/// Work was submitted to an event loop that has already shut down.
public struct EventLoopShutDown: Error, CustomStringConvertible, Sendable {
    public let name: String
    public var description: String { "event loop \(name) has shut down" }
}
