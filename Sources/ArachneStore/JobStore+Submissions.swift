import ArachneCore
import Foundation

/// A chunked submission as the store holds it.
public struct StoredSubmission: Sendable, Hashable {
    /// The id its client chose.
    public var id: String
    /// Its key in `job_urls.list`.
    public var list: Int64
    /// Chunks committed (the next chunk's seq).
    public var chunks: Int
    /// URLs committed.
    public var urlCount: Int
    /// Fetches of each URL, from its spec.
    public var repeatCount: Int
    /// The job it became, once ended.
    public var job: String?
}

/// Chunked submissions: a job's URLs stream into `job_urls` one committed chunk at a time, and the job itself is
/// created only when the last chunk is in (`endSubmission`), so a submission cut short never runs. Every step is
/// idempotent under its client-chosen id: a retried begin finds the submission, a retried chunk is acknowledged
/// without being stored twice, a retried end returns the same job.
extension JobStore {
    /// Opens a submission, or finds the one already opened under `id`. Its spec must carry no URLs; a retry must
    /// carry the same spec (an id reused for another job is refused).
    public func beginSubmission(id: String, spec: JobSpec, at date: Date = Date()) throws -> StoredSubmission {
        guard spec.urls.isEmpty else {
            throw JobStoreError(.submission, "submission \(id): a chunked submission's spec carries no URLs")
        }
        var bare = spec
        bare.storedURLCount = nil
        let bytes = try [UInt8](Self.specEncoder.encode(bare))
        return try database.transaction {
            if let existing = try submissionRow(id) {
                guard existing.spec == bytes else {
                    throw JobStoreError(
                        .submission, "submission id '\(id)' was already used for a job with other options; "
                            + "choose another id")
                }
                return existing.submission
            }
            try database.run(
                """
                INSERT INTO submissions (id, spec, repeat_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                """, .text(id), .blob(bytes), .integer(Int64(spec.repeatCount)), .real(date.timeIntervalSince1970),
                .real(date.timeIntervalSince1970))
            return StoredSubmission(id: id, list: database.lastInsertRowID, chunks: 0, urlCount: 0,
                                    repeatCount: spec.repeatCount, job: nil)
        }
    }

    /// Commits chunk `seq` of submission `id`. A chunk already committed (a retry) changes nothing; a chunk past the
    /// next expected one is refused, naming the one expected; so is a chunk that would take the job past
    /// `maxRequests` (URLs × repetitions).
    public func appendSubmissionChunk(id: String, seq: Int, urls: [String], maxRequests: Int = .max,
                                      at date: Date = Date()) throws -> StoredSubmission
    {
        try database.transaction {
            guard var submission = try submissionRow(id)?.submission else {
                throw JobStoreError(
                    .submission, "no submission '\(id)' in progress (never begun, or discarded after a long pause)")
            }
            if submission.job != nil || seq < submission.chunks { return submission }
            guard seq == submission.chunks else {
                throw JobStoreError(
                    .chunkOutOfOrder, "submission \(id): chunk \(seq) arrived but chunk \(submission.chunks) is next")
            }
            let (requests, overflow) = (submission.urlCount + urls.count).multipliedReportingOverflow(
                by: submission.repeatCount)
            guard !overflow, requests <= maxRequests else {
                throw JobStoreError(
                    .submission, "submission \(id): \(submission.urlCount + urls.count) URLs × "
                        + "\(submission.repeatCount) repetitions is more than \(maxRequests) requests")
            }
            let insert = try database.cachedStatement("INSERT INTO job_urls (list, idx, url) VALUES (?, ?, ?)")
            for (offset, url) in urls.enumerated() {
                try insert.bind(submission.list, at: 1)
                try insert.bind(submission.urlCount + offset, at: 2)
                try insert.bind(url, at: 3)
                _ = try insert.step()
                insert.reset()
            }
            submission.chunks += 1
            submission.urlCount += urls.count
            try database.run(
                "UPDATE submissions SET chunks = ?, url_count = ?, updated_at = ? WHERE seq = ?",
                .integer(Int64(submission.chunks)), .integer(Int64(submission.urlCount)),
                .real(date.timeIntervalSince1970), .integer(submission.list))
            return submission
        }
    }

    /// Ends submission `id`: checks that the store holds the `chunks` chunks and `count` URLs the client sent, then
    /// creates its `queued` job, whose spec has `storedURLCount` and no URLs. Retried, returns the job created the
    /// first time; `created` tells which.
    public func endSubmission(id: String, chunks: Int, count: Int, at date: Date = Date()) throws
        -> (job: JobRow, created: Bool)
    {
        try database.transaction {
            guard let (submission, bytes) = try submissionRow(id) else {
                throw JobStoreError(
                    .submission, "no submission '\(id)' in progress (never begun, or discarded after a long pause)")
            }
            if let jobID = submission.job {
                guard let row = try job(jobID) else { throw Self.unknown(jobID) }
                return (row, false)
            }
            guard submission.chunks == chunks, submission.urlCount == count else {
                throw JobStoreError(
                    .submission, "submission \(id) was ended after \(chunks) chunks of \(count) URLs, but the "
                        + "coordinator holds \(submission.chunks) chunks of \(submission.urlCount) URLs")
            }
            guard count > 0 else { throw JobStoreError(.invalidSpec, "a job needs at least one URL") }
            var spec: JobSpec
            do {
                spec = try JSONDecoder().decode(JobSpec.self, from: Data(bytes))
            } catch {
                throw JobStoreError(.submission, "submission \(id): its stored spec cannot be read: \(error)")
            }
            spec.storedURLCount = count
            guard !count.multipliedReportingOverflow(by: spec.repeatCount).overflow else {
                throw JobStoreError(.invalidSpec, "\(count) URLs × \(spec.repeatCount) repetitions is too many")
            }
            let row = try insertJob(spec: spec, urlList: submission.list, outputDirectory: nil, at: date)
            try database.run("UPDATE submissions SET job = ?, updated_at = ? WHERE seq = ?", .text(row.id),
                             .real(date.timeIntervalSince1970), .integer(submission.list))
            return (row, true)
        }
    }

    /// The submission with this id, or nil.
    public func submission(_ id: String) throws -> StoredSubmission? { try submissionRow(id)?.submission }

    /// Deletes submissions never ended whose last chunk came before `date`, with their URLs; returns their ids.
    @discardableResult
    public func discardUnendedSubmissions(before date: Date) throws -> [String] {
        try database.transaction {
            let statement = try database.cachedStatement(
                "SELECT seq, id FROM submissions WHERE job IS NULL AND updated_at < ?")
            defer { statement.reset() }
            try statement.bind(date.timeIntervalSince1970, at: 1)
            var stale: [(Int64, String)] = []
            while try statement.step() { stale.append((statement.int64(at: 0), statement.text(at: 1))) }
            for (list, _) in stale {
                try database.run("DELETE FROM job_urls WHERE list = ?", .integer(list))
                try database.run("DELETE FROM submissions WHERE seq = ?", .integer(list))
            }
            return stale.map(\.1)
        }
    }

    /// The URL list (`job_urls.list`) of a job made from a chunked submission, or nil when its URLs are in its spec.
    public func urlList(of id: String) throws -> Int64? {
        try database.first("SELECT url_list FROM jobs WHERE id = ?", .text(id)) { $0.optionalInt64(at: 0) } ?? nil
    }

    private func submissionRow(_ id: String) throws -> (submission: StoredSubmission, spec: [UInt8])? {
        let sql = "SELECT seq, chunks, url_count, job, spec, repeat_count FROM submissions WHERE id = ?"
        return try database.first(sql, .text(id)) {
            (StoredSubmission(id: id, list: $0.int64(at: 0), chunks: $0.int(at: 1), urlCount: $0.int(at: 2),
                              repeatCount: $0.int(at: 5), job: $0.optionalText(at: 3)), $0.blob(at: 4))
        }
    }

    private static var specEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// Reads a stored URL list (`job_urls`) in windows, on a connection of its own, so the thread that serves a job's
/// URLs never shares the store's connection. Read-only by use: it never writes.
///
/// Not thread-safe: one owner thread, like `SQLiteDatabase`.
public final class URLListReader: URLWindowReader {
    private let database: SQLiteDatabase
    private let list: Int64

    /// Opens `DATA_DIR/arachne.sqlite` for reading list `list`.
    public init(dataDirectory: String, list: Int64) throws {
        database = try SQLiteDatabase(path: (dataDirectory as NSString).appendingPathComponent(JobStore.fileName))
        self.list = list
    }

    /// The URLs of indices `range`, in order (fewer when the list is shorter).
    public func urls(_ range: Range<Int>) throws -> [String] {
        let statement = try database.cachedStatement(
            "SELECT url FROM job_urls WHERE list = ? AND idx >= ? AND idx < ? ORDER BY idx")
        defer { statement.reset() }
        try statement.bind(list, at: 1)
        try statement.bind(range.lowerBound, at: 2)
        try statement.bind(range.upperBound, at: 3)
        var urls: [String] = []
        urls.reserveCapacity(range.count)
        while try statement.step() { urls.append(statement.text(at: 0)) }
        return urls
    }

    public func close() { database.close() }
}

@available(*, unavailable)
extension URLListReader: Sendable {}
