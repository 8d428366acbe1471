import ArachneTestSupport
import Foundation
import Testing

// The coordinator's control loop answers `status`, `jobs`, `cancel` and `report` at real-time priority, so an
// answer does not wait behind the workers' threads for a CPU (decision 0021). Real processes; threads are read
// from /proc.

@Suite("Control loop priority", .serialized)
struct ControlPriorityTests {
    /// A thread of a process: its name and scheduling policy (0 ordinary, 1 FIFO, 2 round-robin).
    private struct ThreadPolicy {
        var name: String
        var policy: Int
    }

    private func threads(of pid: Int32) -> [ThreadPolicy] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { task in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { return nil }
            let name = String(stat[stat.index(after: open)..<close])
            // After the name come fields 3 onwards; the policy is field 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, let policy = Int(fields[38]) else { return nil }
            return ThreadPolicy(name: name, policy: policy)
        }
    }

    @Test("the control loop and its I/O thread run real-time (as root); the data path and workers stay ordinary")
    func controlThreadIsRealTime() async throws {
        try await withServiceCoordinator(workers: 1) { _, _, coordinator in
            let threads = threads(of: coordinator.pid)
            let control = threads.filter { $0.name == "arachne-control" }
            #expect(control.count == 1, "threads: \(threads.map(\.name))")
            guard geteuid() == 0 else {
                // Without CAP_SYS_NICE the coordinator says so and answers at the ordinary priority.
                #expect(control.map(\.policy) == [0])
                #expect(coordinator.log.contains("control: answering at the ordinary priority"))
                return
            }
            #expect(control.map(\.policy) == [2])
            let io = threads.filter { $0.name.hasPrefix("ZMQbg/IO") }
            #expect(io.filter { $0.policy == 2 }.count == 1, "the control context's I/O thread: \(io)")
            #expect(io.filter { $0.policy == 0 }.count >= 1, "the workers' context stays ordinary: \(io)")
            // libzmq gives a context's reaper thread (which closes its sockets) the same scheduling.
            let reapers = threads.filter { $0.name.hasPrefix("ZMQbg/Reaper") }
            #expect(reapers.filter { $0.policy == 2 }.count <= 1)
            let others = threads.filter {
                $0.name != "arachne-control" && !$0.name.hasPrefix("ZMQbg/IO") && !$0.name.hasPrefix("ZMQbg/Reaper")
            }
            #expect(others.allSatisfy { $0.policy == 0 }, "\(others.filter { $0.policy != 0 }.map(\.name))")
            for worker in coordinator.workers {
                let workerThreads = self.threads(of: worker)
                #expect(!workerThreads.isEmpty)
                #expect(workerThreads.allSatisfy { $0.policy == 0 }, "worker \(worker) has a real-time thread")
            }
        }
    }
}
