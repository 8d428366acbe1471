@testable import ArachneCluster
import Synchronization
import Testing

@Suite struct WriteBacklogTests {
    @Test func producersWaitAboveTheLimitAndResumeBelowHalfOfIt() async {
        let backlog = WriteBacklog(limit: 1000)
        let woken = Mutex(0)
        backlog.whenRoom { woken.withLock { $0 += 1 } }
        #expect(woken.withLock { $0 } == 1, "room at once: the handler runs at once")

        backlog.added(1500)
        #expect(!backlog.hasRoom)
        backlog.whenRoom { woken.withLock { $0 += 1 } }
        backlog.finished(400)  // 1,100 pending: still above the limit
        #expect(woken.withLock { $0 } == 1)
        backlog.finished(200)  // 900: under the limit but not under half of it
        #expect(woken.withLock { $0 } == 1)
        backlog.finished(500)  // 400: under half, the waiter runs once
        #expect(woken.withLock { $0 } == 2)
        backlog.finished(400)
        #expect(woken.withLock { $0 } == 2)
        #expect(backlog.pendingBytes == 0)
    }

    @Test func waitForRoomSuspendsUntilTheWriterCatchesUp() async {
        let backlog = WriteBacklog(limit: 10)
        backlog.added(100)
        let waiter = Task { await backlog.waitForRoom() }
        try? await Task.sleep(for: .milliseconds(20))
        backlog.finished(100)
        await waiter.value
        #expect(backlog.hasRoom)
    }
}
