import ArachneEventLoop
import ArachneSystem
import Glibc
import Synchronization
import Testing

/// An actor pinned to a loop: every method runs on the loop thread.
actor PinnedCounter {
    nonisolated let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
    private(set) var count = 0

    init(loop: EventLoop) { self.loop = loop }

    func increment() -> Bool {
        count += 1
        return loop.inEventLoop
    }
}

@Suite struct EventLoopTests {
    @Test func timersFireInDeadlineOrderAndCancelledOnesDoNot() async throws {
        let loop = try EventLoop(name: "test-timers")
        defer { loop.shutdown() }
        let fired = Mutex<[Int]>([])
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            loop.execute {
                for (delay, label) in [(30, 3), (10, 1), (20, 2), (0, 0)] {
                    loop.scheduleTimer(afterMilliseconds: delay) { fired.withLock { $0.append(label) } }
                }
                let cancelled = loop.scheduleTimer(afterMilliseconds: 15) { fired.withLock { $0.append(99) } }
                loop.cancelTimer(cancelled)
                loop.scheduleTimer(afterMilliseconds: 50) { done.resume() }
            }
        }
        #expect(fired.withLock { $0 } == [0, 1, 2, 3])
    }

    @Test func socketPairReadinessIsDelivered() async throws {
        let loop = try EventLoop(name: "test-fds")
        defer { loop.shutdown() }
        let (a, b) = try Syscall.socketPair()
        try Syscall.setNonBlocking(a)
        defer {
            try? Syscall.close(a)
            try? Syscall.close(b)
        }
        let received: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            loop.execute {
                do {
                    try loop.register(fd: a, interest: .readable) { readiness in
                        var buffer = [UInt8](repeating: 0, count: 16)
                        let result = buffer.withUnsafeMutableBytes { try? Syscall.read(a, into: $0) }
                        loop.deregister(fd: a)
                        guard readiness.contains(.readable), case .processed(let n)? = result else {
                            continuation.resume(throwing: SystemError(call: "test read", errno: EIO))
                            return
                        }
                        continuation.resume(returning: Array(buffer[0..<n]))
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            let message: [UInt8] = [1, 2, 3]
            _ = message.withUnsafeBytes { try? Syscall.write(b, from: $0) }
        }
        #expect(received == [1, 2, 3])
    }

    @Test func pinnedActorRunsOnTheLoopThread() async throws {
        let loop = try EventLoop(name: "test-actor")
        defer { loop.shutdown() }
        let counter = PinnedCounter(loop: loop)
        var allOnLoop = true
        for _ in 0..<100 {
            allOnLoop = await counter.increment() && allOnLoop
        }
        #expect(allOnLoop)
        #expect(await counter.count == 100)
    }

    @Test func taskWithLoopPreferenceResumesOnTheLoop() async throws {
        let loop = try EventLoop(name: "test-pref")
        defer { loop.shutdown() }
        let onLoop = await withTaskExecutorPreference(loop) { () async -> Bool in
            var all = true
            for _ in 0..<10 {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    loop.execute { c.resume() }
                }
                all = all && loop.inEventLoop
            }
            return all
        }
        #expect(onLoop)
    }

    @Test func workFromManyThreadsRunsExactlyOnceAndShutdownDrainsIt() throws {
        let loop = try EventLoop(name: "test-remote")
        let count = Mutex(0)
        let threads = 4
        let perThread = 2_000
        DispatchLite.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<perThread { loop.execute { count.withLock { $0 += 1 } } }
        }
        loop.shutdown()
        #expect(count.withLock { $0 } == threads * perThread)
    }

    @Test func shutdownReleasesDescriptorsItOwns() throws {
        let before = Syscall.openDescriptorCount()
        for index in 0..<5 {
            let loop = try EventLoop(name: "test-close-\(index)")
            loop.shutdown()
        }
        #expect(Syscall.openDescriptorCount() == before)
    }
}

/// Runs a closure on several threads at once and waits for all (no Dispatch needed).
enum DispatchLite {
    static func concurrentPerform(iterations: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var threads: [pthread_t] = []
        for index in 0..<iterations {
            let box = Unmanaged.passRetained(Box { body(index) }).toOpaque()
            var thread = pthread_t()
            pthread_create(&thread, nil, { raw in
                Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, box)
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
    }

    final class Box {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
}
