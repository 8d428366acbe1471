import Foundation
import Synchronization

/// Spawns the coordinator's local workers as child processes of the same binary and restarts one that exits
/// unexpectedly, with exponential back-off (0.25 s doubling to 8 s; reset after a worker lives for 30 s).
public final class LocalWorkerPool: Sendable {
    /// What the pool knows about one worker slot.
    public struct Slot: Sendable {
        public var id: String
        public var pid: Int32?
        public var restarts: Int
    }

    private struct State {
        var processes: [String: Process] = [:]
        var restarts: [String: Int] = [:]
        var backoff: [String: Double] = [:]
        var startedAt: [String: Date] = [:]
        var stopping = false
    }

    private let executable: URL
    private let endpoint: String
    private let concurrency: Int
    private let extraArguments: [String]
    private let state = Mutex(State())
    private let onEvent: @Sendable (String) -> Void

    /// - Parameters:
    ///   - executable: the `arachne` binary (by default the running one).
    ///   - endpoint: where the workers connect.
    ///   - onEvent: told about crashes and restarts, for logs.
    public init(executable: URL = LocalWorkerPool.currentExecutable, endpoint: String, concurrency: Int,
                extraArguments: [String] = [], onEvent: @escaping @Sendable (String) -> Void = { _ in })
    {
        self.executable = executable
        self.endpoint = endpoint
        self.concurrency = concurrency
        self.extraArguments = extraArguments
        self.onEvent = onEvent
    }

    /// The binary this process runs.
    public static var currentExecutable: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0])
    }

    /// Starts workers `local-1` … `local-N` (none for 0: workers join from elsewhere, or run in this process).
    public func start(count: Int) throws {
        guard count > 0 else { return }
        for index in 1...count {
            try spawn(id: "local-\(index)")
        }
    }

    /// The pids of the live workers, by id.
    public var slots: [Slot] {
        state.withLock { state in
            state.processes.keys.sorted().map { id in
                Slot(id: id, pid: state.processes[id].map { $0.processIdentifier }, restarts: state.restarts[id] ?? 0)
            }
        }
    }

    private func spawn(id: String) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "worker", "--connect", endpoint, "--concurrency", String(concurrency), "--id", id,
            "--parent-pid", String(getpid()),
        ] + extraArguments
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [weak self] finished in
            self?.exited(id: id, process: finished)
        }
        try process.run()
        state.withLock {
            $0.processes[id] = process
            $0.startedAt[id] = Date()
        }
    }

    private func exited(id: String, process: Process) {
        let delay: Double? = state.withLock { state in
            guard !state.stopping, state.processes[id] === process else { return nil }
            let lived = Date().timeIntervalSince(state.startedAt[id] ?? Date())
            var backoff = state.backoff[id] ?? 0.25
            if lived > 30 { backoff = 0.25 }
            state.backoff[id] = min(backoff * 2, 8)
            state.restarts[id, default: 0] += 1
            return backoff
        }
        guard let delay else { return }
        let how = process.terminationReason == .uncaughtSignal ? "signal" : "status"
        onEvent("worker \(id) (pid \(process.processIdentifier)) exited with \(how) \(process.terminationStatus); "
            + "restarting in \(delay) s")
        Thread.detachNewThread { [weak self] in
            Thread.sleep(forTimeInterval: delay)
            guard let self, !self.state.withLock({ $0.stopping }) else { return }
            do {
                try self.spawn(id: id)
            } catch {
                self.onEvent("worker \(id) could not be restarted: \(error)")
            }
        }
    }

    /// Stops restarting workers that exit (call before telling them to shut down).
    public func stopRestarting() {
        state.withLock { $0.stopping = true }
    }

    /// `stop(grace:)` on a thread of its own, for async callers: it sleeps while it waits.
    public func stopped(grace: Double = 3) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                self.stop(grace: grace)
                done.resume()
            }
        }
    }

    /// Stops every worker: SIGTERM, then SIGKILL for any still alive after `grace` seconds. Waits for them.
    public func stop(grace: Double = 3) {
        let processes = state.withLock { state in
            state.stopping = true
            return Array(state.processes.values)
        }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        for process in processes {
            // Workers told to shut down exit within a few milliseconds: poll finely, a run's end waits on it.
            while process.isRunning && Date() < deadline { usleep(1_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }
}
