import ArachneProtocol
import Synchronization

/// The statuses of every job in the store, newest first, as the query desk last read them, so that `status` and
/// `jobs` are answered on the control loop from memory: no SQLite read and no hop to another thread per query.
///
/// Only jobs that are not live are answered from here (a live job's status comes from `LiveJobBoard`), and a
/// stored job's row changes only when it starts, ends or fails. The desk reads the store again whenever that
/// happens (before a job leaves the board, so it never shows its last running state) and every few seconds besides.
final class StoredJobStatuses: Sendable {
    private struct Snapshot {
        var order: [String] = []
        var byID: [String: JobStatus] = [:]
    }

    private let snapshot = Mutex(Snapshot())

    /// Replaces the statuses with `statuses`, newest first.
    func publish(_ statuses: [JobStatus]) {
        var next = Snapshot()
        next.order = statuses.map(\.id)
        next.byID.reserveCapacity(statuses.count)
        for status in statuses { next.byID[status.id] = status }
        snapshot.withLock { $0 = next }
    }

    /// Every job's status, newest first: live jobs from `board` (those not read from the store yet come first),
    /// the others as last read.
    func all(with board: LiveJobBoard) -> [JobStatus] {
        let (order, byID) = snapshot.withLock { ($0.order, $0.byID) }
        let live = board.all
        let known = Set(order)
        var statuses = live.filter { !known.contains($0.row.id) }.reversed().map { $0.status() }
        statuses.reserveCapacity(order.count + statuses.count)
        for id in order {
            if let job = board[id] {
                statuses.append(job.status())
            } else if let status = byID[id] {
                statuses.append(status)
            }
        }
        return statuses
    }

    /// One job's status, or nil when neither the board nor the last reading knows it (ask the store).
    func status(of id: String, with board: LiveJobBoard) -> JobStatus? {
        if let job = board[id] { return job.status() }
        return snapshot.withLock { $0.byID[id] }
    }
}
