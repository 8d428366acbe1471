import ArachneCore
import Foundation

/// The coordinator's durable memory: jobs, their state and counters, and the log of terminal records that says which
/// (URL, repetition) keys are complete. Lives in `DATA_DIR/arachne.sqlite`. Every method returns only once its
/// change is committed to the write-ahead log, so it survives the coordinator being killed at any moment.
///
/// Not thread-safe by design, like the `SQLiteDatabase` under it: the coordinator actor that opens it owns it.
public final class JobStore {
    /// The schema this code writes, kept in `PRAGMA user_version`.
    public static let schemaVersion = 3
    /// `PRAGMA application_id` of an Arachne store: "ARAC".
    public static let applicationID: Int32 = 0x4152_4143
    /// The database's file name inside the data directory.
    public static let fileName = "arachne.sqlite"

    /// The data directory given at open.
    public let dataDirectory: String
    /// `dataDirectory/arachne.sqlite`.
    public let databasePath: String
    let database: SQLiteDatabase
    /// Job ids resolved to their row key and size; a job's size never changes.
    private var resolved: [String: ResolvedJob] = [:]

    struct ResolvedJob {
        var key: Int64
        var urlCount: Int
        var repeatCount: Int
    }

    /// Opens the store in `dataDirectory` (created if missing), creating the schema on first use.
    public init(dataDirectory: String) throws {
        self.dataDirectory = dataDirectory
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        databasePath = (dataDirectory as NSString).appendingPathComponent(Self.fileName)
        database = try SQLiteDatabase(path: databasePath)
        // A big spec or a long checkpoint-free stretch can grow the WAL; truncate it back after checkpoints.
        try database.pragma("journal_size_limit", String(16 << 20))
        try migrate()
    }

    /// Closes the database. Further use is a programmer error.
    public func close() { database.close() }

    /// `PRAGMA integrity_check`: `["ok"]` when the file is sound, otherwise SQLite's list of problems.
    public func integrityCheck() throws -> [String] { try database.integrityCheck() }

    // MARK: Jobs

    /// Stores a new `queued` job and returns it. Its id is "j-YYYYMMDD-NNNN": the UTC date of `date`, then the next
    /// number of that day (four digits, more after 9999). `outputDirectory` defaults to `DATA_DIR/jobs/ID`; the store
    /// does not create it.
    public func createJob(spec: JobSpec, outputDirectory: String? = nil, at date: Date = Date()) throws -> JobRow {
        guard !spec.urls.isEmpty else { throw JobStoreError(.invalidSpec, "a job needs at least one URL") }
        guard spec.repeatCount >= 1 else {
            throw JobStoreError(.invalidSpec, "a job's repeat count must be at least 1, not \(spec.repeatCount)")
        }
        guard !spec.urls.count.multipliedReportingOverflow(by: spec.repeatCount).overflow else {
            throw JobStoreError(.invalidSpec, "\(spec.urls.count) URLs × \(spec.repeatCount) repetitions is too many")
        }
        return try database.transaction {
            try insertJob(spec: spec, urlList: nil, outputDirectory: outputDirectory, at: date)
        }
    }

    /// Inserts a `queued` job (inside the caller's transaction).
    func insertJob(spec: JobSpec, urlList: Int64?, outputDirectory: String?, at date: Date) throws -> JobRow {
        let specBytes = try [UInt8](JSONEncoder().encode(spec))
        let prefix = "j-\(Self.dayStamp(date))-"
        let last = try database.first(
            "SELECT max(CAST(substr(id, 12) AS INTEGER)) FROM jobs WHERE id LIKE ?", .text(prefix + "%")
        ) { $0.optionalInt64(at: 0) } ?? nil
        let number = String((last ?? 0) + 1)
        let id = prefix + String(repeating: "0", count: max(0, 4 - number.count)) + number
        let directory = outputDirectory ?? (dataDirectory as NSString).appendingPathComponent("jobs/\(id)")
        try database.run(
            """
            INSERT INTO jobs (id, state, name, url_count, repeat_count, submitted_at, output_dir, url_list)
            VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)
            """,
            .text(id), spec.name.map(SQLiteValue.text) ?? .null, .integer(Int64(spec.urlCount)),
            .integer(Int64(spec.repeatCount)), .real(date.timeIntervalSince1970), .text(directory),
            urlList.map(SQLiteValue.integer) ?? .null)
        let key = database.lastInsertRowID
        try database.run("INSERT INTO job_specs (job, spec) VALUES (?, ?)", .integer(key), .blob(specBytes))
        return JobRow(
            id: id, state: .queued, name: spec.name, urlCount: spec.urlCount, repeatCount: spec.repeatCount,
            submittedAt: Date(timeIntervalSince1970: date.timeIntervalSince1970), startedAt: nil, finishedAt: nil,
            outputDirectory: directory, counters: .zero, message: nil)
    }

    /// The job with this id, or nil when there is none.
    public func job(_ id: String) throws -> JobRow? {
        try database.first("\(Self.selectJob) WHERE id = ?", .text(id)) { try Self.jobRow($0) }
    }

    /// Every job, newest first.
    public func jobs() throws -> [JobRow] { try jobRows("\(Self.selectJob) ORDER BY seq DESC") }

    /// Jobs still `queued` or `running`, oldest first: what a restarted coordinator resumes.
    public func unfinishedJobs() throws -> [JobRow] {
        try jobRows("\(Self.selectJob) WHERE state IN ('queued', 'running') ORDER BY seq")
    }

    /// The job's spec as submitted. Throws `corruptJob`, naming the job, when the stored bytes are not a spec.
    public func spec(_ id: String) throws -> JobSpec {
        let job = try resolve(id)
        guard let bytes = try database.first("SELECT spec FROM job_specs WHERE job = ?", .integer(job.key), read: {
            $0.blob(at: 0)
        }) else {
            throw JobStoreError(.corruptJob, jobID: id, "job \(id) has no stored spec")
        }
        do {
            return try JSONDecoder().decode(JobSpec.self, from: Data(bytes))
        } catch {
            throw JobStoreError(
                .corruptJob, jobID: id,
                "job \(id): its stored spec (\(bytes.count) bytes) is not a valid job spec: \(error)")
        }
    }

    /// Moves a job to `state` and returns it. Going `running` sets `startedAt` the first time; a terminal state sets
    /// `finishedAt`. Setting the state a job already has changes nothing. Leaving a terminal state throws
    /// `illegalTransition`: a finished job stays finished.
    @discardableResult
    public func setState(_ id: String, _ state: JobState, at date: Date = Date(), message: String? = nil) throws
        -> JobRow
    {
        try database.transaction {
            guard let current = try job(id) else { throw Self.unknown(id) }
            if current.state == state { return current }
            guard !current.state.isTerminal else {
                throw JobStoreError(
                    .illegalTransition, jobID: id, "job \(id) is already \(current.state); it cannot become \(state)")
            }
            let time = SQLiteValue.real(date.timeIntervalSince1970)
            try database.run(
                """
                UPDATE jobs SET state = ?1,
                    started_at = CASE WHEN ?1 = 'running' THEN coalesce(started_at, ?2) ELSE started_at END,
                    finished_at = CASE WHEN ?1 IN ('completed', 'cancelled', 'failed') THEN ?2 ELSE NULL END,
                    message = coalesce(?3, message)
                WHERE id = ?4
                """,
                .text(state.rawValue), time, message.map(SQLiteValue.text) ?? .null, .text(id))
            guard let updated = try job(id) else { throw Self.unknown(id) }
            return updated
        }
    }

    /// Replaces the job's counters.
    public func updateCounters(_ id: String, _ counters: JobCounters) throws {
        let job = try resolve(id)
        try writeCounters(counters, job: job.key)
    }

    func writeCounters(_ counters: JobCounters, job: Int64) throws {
        try database.run(
            "UPDATE jobs SET done = ?, failed = ?, reassigned_batches = ?, retries = ? WHERE seq = ?",
            .integer(Int64(counters.done)), .integer(Int64(counters.failed)),
            .integer(Int64(counters.reassignedBatches)), .integer(Int64(counters.retries)), .integer(job))
    }

    // MARK: Helpers

    func resolve(_ id: String) throws -> ResolvedJob {
        if let job = resolved[id] { return job }
        let sql = "SELECT seq, url_count, repeat_count FROM jobs WHERE id = ?"
        guard let job = try database.first(sql, .text(id), read: {
            ResolvedJob(key: $0.int64(at: 0), urlCount: $0.int(at: 1), repeatCount: $0.int(at: 2))
        }) else { throw Self.unknown(id) }
        resolved[id] = job
        return job
    }

    func cacheResolved(_ id: String, _ job: ResolvedJob) { resolved[id] = job }

    func forgetResolved(_ id: String) { resolved[id] = nil }

    static func unknown(_ id: String) -> JobStoreError {
        JobStoreError(.unknownJob, jobID: id, "no job with id '\(id)'")
    }

    private func jobRows(_ sql: String) throws -> [JobRow] {
        let statement = try database.cachedStatement(sql)
        defer { statement.reset() }
        var rows: [JobRow] = []
        while try statement.step() { rows.append(try Self.jobRow(statement)) }
        return rows
    }

    private static let selectJob = """
        SELECT id, state, name, url_count, repeat_count, submitted_at, started_at, finished_at, output_dir,
            done, failed, reassigned_batches, retries, message
        FROM jobs
        """

    private static func jobRow(_ row: SQLiteStatement) throws -> JobRow {
        let id = row.text(at: 0)
        guard let state = JobState(rawValue: row.text(at: 1)) else {
            throw JobStoreError(.corruptJob, jobID: id, "job \(id) has an unknown state '\(row.text(at: 1))'")
        }
        return JobRow(
            id: id, state: state, name: row.optionalText(at: 2), urlCount: row.int(at: 3),
            repeatCount: row.int(at: 4), submittedAt: Date(timeIntervalSince1970: row.double(at: 5)),
            startedAt: row.optionalDouble(at: 6).map(Date.init(timeIntervalSince1970:)),
            finishedAt: row.optionalDouble(at: 7).map(Date.init(timeIntervalSince1970:)),
            outputDirectory: row.text(at: 8),
            counters: JobCounters(
                done: row.int(at: 9), failed: row.int(at: 10), reassignedBatches: row.int(at: 11),
                retries: row.int(at: 12)),
            message: row.optionalText(at: 13))
    }

    /// "YYYYMMDD" of `date` in UTC.
    private static func dayStamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        let month = parts.month!, day = parts.day!
        return "\(parts.year!)\(month < 10 ? "0" : "")\(month)\(day < 10 ? "0" : "")\(day)"
    }
}

/// Must not cross threads: the coordinator actor that opens it owns it.
@available(*, unavailable)
extension JobStore: Sendable {}
