import ArachneProtocol
import ArachneStore
import Foundation

extension CoordinatorService {
    /// `arachne jobs rm`: removes each finished job from the store (its rows, records, frontier and submission) and
    /// its directory, on the writer thread. A live job, an unfinished one or an unknown id is refused, naming why;
    /// the others are still removed.
    func removeJobs(_ ids: [String]) async -> ControlReply {
        var result = RemovedJobs()
        for id in ids {
            if board[id] != nil {
                result.refused.append(.init(job: id, reason: "job \(id) is running; cancel it and wait until it ends"))
                continue
            }
            do {
                try await removeFinished(id)
                result.removed.append(id)
            } catch let error as JobStoreError where error.kind == .unknownJob {
                result.refused.append(.init(job: id, reason: unknownJob(id)))
            } catch {
                result.refused.append(.init(job: id, reason: "\(error)"))
            }
        }
        return .removed(result)
    }

    /// `arachne jobs prune --older-than`: removes every finished job that finished more than `olderThan` seconds ago.
    func pruneJobs(olderThan: Double) async -> ControlReply {
        let store = store
        let cutoff = Date().addingTimeInterval(-olderThan)
        do {
            let rows = try await writer.submit { try store.store.finishedJobs(before: cutoff) }
            return await removeJobs(rows.map(\.id).filter { board[$0] == nil })
        } catch {
            return .error(message: "cannot read the job store: \(error)")
        }
    }

    /// Deletes a finished job's rows, then its directory when it is the default `DATA_DIR/jobs/ID` (a directory
    /// elsewhere is the user's, and stays).
    private func removeFinished(_ id: String) async throws {
        let store = store
        let standard = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
        let expected = standard(((dataDirectory as NSString).appendingPathComponent("jobs") as NSString)
            .appendingPathComponent(id))
        let row = try await writer.submit { try store.store.removeJob(id) }
        let directory = row.outputDirectory
        if standard(directory) == expected {
            try? await writer.submit { try FileManager.default.removeItem(atPath: directory) }
        }
        log("job \(id): removed (\(row.state.rawValue), \(row.counters.done) records)")
    }
}
