import Foundation

extension JobStore {
    /// Deletes a finished job (`completed`, `cancelled` or `failed`) with its spec, its records, its crawl frontier
    /// and the chunked submission it came from, in one transaction; returns its row (its output directory is the
    /// caller's to remove). An unfinished job is refused with `illegalTransition`: the coordinator may be running it.
    @discardableResult
    public func removeJob(_ id: String) throws -> JobRow {
        try database.transaction {
            guard let row = try job(id) else { throw Self.unknown(id) }
            guard row.state.isTerminal else {
                throw JobStoreError(.illegalTransition, jobID: id, "job \(id) is \(row.state.rawValue); only a "
                    + "finished job (completed, cancelled or failed) can be removed")
            }
            let key = try resolve(id).key
            let urlList = try database.first("SELECT url_list FROM jobs WHERE seq = ?", .integer(key)) {
                $0.optionalInt64(at: 0)
            } ?? nil
            try database.run("DELETE FROM records WHERE job = ?", .integer(key))
            try database.run("DELETE FROM job_specs WHERE job = ?", .integer(key))
            for table in ["frontier_urls", "frontier_counts", "frontier_robots", "frontier_politeness"]
            where try tableExists(table) {
                try database.run("DELETE FROM \(table) WHERE job = ?", .integer(key))
            }
            if let urlList {
                try database.run("DELETE FROM job_urls WHERE list = ?", .integer(urlList))
                try database.run("DELETE FROM submissions WHERE seq = ?", .integer(urlList))
            }
            try database.run("DELETE FROM jobs WHERE seq = ?", .integer(key))
            forgetResolved(id)
            return row
        }
    }

    /// Finished jobs whose `finished_at` is before `date`, the first finished first.
    public func finishedJobs(before date: Date) throws -> [JobRow] {
        try jobs().filter { row in
            guard row.state.isTerminal, let finished = row.finishedAt else { return false }
            return finished < date
        }.sorted { ($0.finishedAt!, $0.id) < ($1.finishedAt!, $1.id) }
    }

    private func tableExists(_ name: String) throws -> Bool {
        try database.first("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", .text(name)) { _ in true }
            ?? false
    }
}
