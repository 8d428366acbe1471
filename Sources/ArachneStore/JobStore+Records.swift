import Foundation
import ArachneCore

extension JobStore {
    /// The order `forEachRecord` visits a job's records in.
    public enum RecordOrder: Sendable {
        /// The order they were appended: the order they completed, as `records.ndjson` has them.
        case insertion
        /// By URL index, then repetition.
        case key
    }

    /// Appends terminal records in one transaction, keeping the first record of every key: a key already stored is
    /// skipped, whatever the record says. `counters`, when given, are written in the same transaction so they never
    /// disagree with the records after a crash. Returns how many records were new. Durable once it returns.
    @discardableResult
    public func appendRecords(_ jobID: String, _ records: [(RequestKey, FetchRecord)], counters: JobCounters? = nil)
        throws -> Int
    {
        let job = try resolve(jobID)
        for (key, record) in records {
            guard (0..<job.urlCount).contains(key.urlIndex), (0..<job.repeatCount).contains(key.repetition) else {
                throw JobStoreError(
                    .invalidRecord, jobID: jobID,
                    "job \(jobID) has \(job.urlCount) URLs × \(job.repeatCount) repetitions; no key \(key)")
            }
            guard record.repetition == key.repetition else {
                throw JobStoreError(
                    .invalidRecord, jobID: jobID,
                    "job \(jobID): record for \(key) says repetition \(record.repetition)")
            }
            if let urlIndex = record.urlIndex, urlIndex != key.urlIndex {
                throw JobStoreError(
                    .invalidRecord, jobID: jobID, "job \(jobID): record for \(key) says URL index \(urlIndex)")
            }
        }
        return try database.transaction {
            let insert = try database.cachedStatement(Self.insertRecord)
            defer { insert.reset() }
            var added = 0
            for (key, record) in records {
                insert.reset()
                try Self.bind(record, key: key, job: job.key, to: insert)
                _ = try insert.step()
                added += database.changes
            }
            if let counters { try writeCounters(counters, job: job.key) }
            return added
        }
    }

    /// The keys of the job that have a terminal record.
    public func completedKeys(_ jobID: String) throws -> CompletedKeys {
        let job = try resolve(jobID)
        var keys = CompletedKeys(urlCount: job.urlCount, repeatCount: job.repeatCount)
        let statement = try database.prepare("SELECT url_index, repetition FROM records WHERE job = ?")
        try statement.bind(job.key, at: 1)
        while try statement.step() {
            let key = RequestKey(urlIndex: statement.int(at: 0), repetition: statement.int(at: 1))
            guard key.urlIndex < job.urlCount, key.repetition < job.repeatCount else {
                throw JobStoreError(
                    .corruptJob, jobID: jobID, "job \(jobID) has a stored record for \(key), outside the job")
            }
            keys.insert(key)
        }
        return keys
    }

    /// How many terminal records the job has.
    public func recordCount(_ jobID: String) throws -> Int {
        let job = try resolve(jobID)
        let count = try database.first("SELECT count(*) FROM records WHERE job = ?", .integer(job.key)) {
            $0.int(at: 0)
        }
        return count ?? 0
    }

    /// Calls `body` with each of the job's records, one row at a time: memory stays flat however many there are.
    /// `body` may use the store (reads and writes); records appended meanwhile may or may not be visited.
    public func forEachRecord(
        _ jobID: String, order: RecordOrder = .insertion, _ body: (RequestKey, FetchRecord) throws -> Void
    ) throws {
        let job = try resolve(jobID)
        let orderBy = order == .insertion ? "rowid" : "url_index, repetition"
        let statement = try database.prepare("\(Self.selectRecord) WHERE job = ? ORDER BY \(orderBy)")
        try statement.bind(job.key, at: 1)
        while try statement.step() {
            let (key, record) = try Self.record(statement, jobID: jobID)
            try body(key, record)
        }
    }

    // MARK: Row mapping

    private static let insertRecord = """
        INSERT OR IGNORE INTO records (
            job, url_index, repetition, url, worker, attempts, status, bytes, final_url, redirects,
            t_queue, t_namelookup, t_connect, t_appconnect, t_pretransfer, t_starttransfer, t_total,
            error_kind, error_message, body_file, body_offset, body_length, body_digest, body_truncated, finished_at,
            crawl
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    private static let selectRecord = """
        SELECT url_index, repetition, url, worker, attempts, status, bytes, final_url, redirects,
            t_queue, t_namelookup, t_connect, t_appconnect, t_pretransfer, t_starttransfer, t_total,
            error_kind, error_message, body_file, body_offset, body_length, body_digest, body_truncated, finished_at,
            crawl
        FROM records
        """

    /// The phases stored in columns t_queue ... t_total, in column order.
    private static let timingColumns: [Phase] = [
        .queue, .namelookup, .connect, .appconnect, .pretransfer, .starttransfer, .total,
    ]

    private static func bind(_ record: FetchRecord, key: RequestKey, job: Int64, to statement: SQLiteStatement) throws {
        try statement.bind(job, at: 1)
        try statement.bind(key.urlIndex, at: 2)
        try statement.bind(key.repetition, at: 3)
        try statement.bind(record.url, at: 4)
        try statement.bind(record.worker, at: 5)
        try statement.bind(record.attempts, at: 6)
        try statement.bind(record.status, at: 7)
        try statement.bind(record.bytes, at: 8)
        try statement.bind(record.finalURL, at: 9)
        try statement.bind(record.redirects, at: 10)
        for (offset, phase) in timingColumns.enumerated() {
            try statement.bind(record.timings[phase], at: 11 + Int32(offset))
        }
        if let error = record.error {
            try statement.bind(error.kind.rawValue, at: 18)
            try statement.bind(error.message, at: 19)
        }
        if let body = record.body {
            try statement.bind(body.file, at: 20)
            try statement.bind(body.offset, at: 21)
            try statement.bind(body.length, at: 22)
            try statement.bind(body.digest, at: 23)
            try statement.bind(body.truncated ? 1 : 0, at: 24)
        }
        try statement.bind(record.finishedAt, at: 25)
        if record.hasCrawlFields {
            let fields = StoredCrawlFields(
                depth: record.depth, parent: record.parent, via: record.via, links: record.links,
                contentType: record.contentType, location: record.location)
            try statement.bind(String(decoding: try JSONEncoder().encode(fields), as: UTF8.self), at: 26)
        }
    }

    private static func record(_ row: SQLiteStatement, jobID: String) throws -> (RequestKey, FetchRecord) {
        let key = RequestKey(urlIndex: row.int(at: 0), repetition: row.int(at: 1))
        var timings = PhaseTimings()
        for (offset, phase) in timingColumns.enumerated() { timings[phase] = row.int64(at: 9 + Int32(offset)) }
        var failure: FetchFailure?
        if let kindName = row.optionalText(at: 16) {
            guard let kind = FetchErrorKind(rawValue: kindName) else {
                throw JobStoreError(
                    .corruptJob, jobID: jobID, "job \(jobID): record \(key) has an unknown error kind '\(kindName)'")
            }
            failure = FetchFailure(kind: kind, message: row.text(at: 17))
        }
        var body: BodyReference?
        if let file = row.optionalText(at: 18) {
            body = BodyReference(
                file: file, offset: row.int64(at: 19), length: row.int64(at: 20), digest: row.text(at: 21),
                truncated: row.int(at: 22) != 0)
        }
        var record = FetchRecord(
            url: row.text(at: 2), urlIndex: key.urlIndex, repetition: key.repetition, worker: row.text(at: 3),
            attempts: row.int(at: 4), status: row.int(at: 5), bytes: row.int64(at: 6), finalURL: row.text(at: 7),
            redirects: row.int(at: 8), timings: timings, error: failure, body: body, finishedAt: row.double(at: 23))
        if let json = row.optionalText(at: 24) {
            guard let fields = try? JSONDecoder().decode(StoredCrawlFields.self, from: Data(json.utf8)) else {
                throw JobStoreError(.corruptJob, jobID: jobID, "job \(jobID): record \(key) has unreadable crawl fields")
            }
            record.depth = fields.depth
            record.parent = fields.parent
            record.via = fields.via
            record.links = fields.links
            record.contentType = fields.contentType
            record.location = fields.location
        }
        return (key, record)
    }
}

/// A crawl record's own fields, stored as one JSON text in `records.crawl`.
struct StoredCrawlFields: Codable {
    var depth: Int?
    var parent: String?
    var via: CrawlVia?
    var links: Int?
    var contentType: String?
    var location: String?
}
