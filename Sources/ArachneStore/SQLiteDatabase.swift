import CArachneSQLite

/// One SQLite connection, set up for a write-heavy log owned by one process: WAL journal, `synchronous=NORMAL`
/// (a commit survives a crash of the process, not necessarily of the machine), a busy timeout, and a cache of
/// prepared statements.
///
/// Not thread-safe by design: the connection is opened without SQLite's own mutexes and its statement cache is a
/// plain dictionary, so it belongs to the one actor or thread that created it and must never cross threads.
public final class SQLiteDatabase {
    /// The database file.
    public let path: String
    /// Owned by this object; closed in `close()` or `deinit`.
    private var handle: OpaquePointer?
    private var statementCache: [String: SQLiteStatement] = [:]

    /// Opens (creating if needed) the database at `path`, switches it to WAL with `synchronous=NORMAL`, and makes
    /// writers wait up to `busyTimeoutMilliseconds` for a lock held by another connection before failing.
    public init(path: String, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        self.path = path
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &opened, flags, nil)
        guard rc == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw SQLiteError(code: rc, message: "cannot open \(path): \(message)")
        }
        handle = opened
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, busyTimeoutMilliseconds)
        let mode = try pragma("journal_mode", "WAL")
        guard mode?.lowercased() == "wal" else {
            throw SQLiteError(
                code: SQLITE_ERROR, message: "\(path): cannot use WAL journal (journal_mode stayed \(mode ?? "unset"))")
        }
        try execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
    }

    deinit { close() }

    /// Finalizes every cached statement and closes the connection. Further use is a programmer error.
    public func close() {
        for statement in statementCache.values { statement.finalize() }
        statementCache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    var connection: OpaquePointer {
        guard let handle else { preconditionFailure("SQLiteDatabase \(path) used after close()") }
        return handle
    }

    /// Runs one or more `;`-separated statements that take no parameters and return no rows worth reading.
    public func execute(_ sql: String) throws {
        var errorText: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(connection, sql, nil, nil, &errorText)
        if rc != SQLITE_OK {
            let message = errorText.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(connection))
            sqlite3_free(errorText)
            throw SQLiteError(code: rc & 0xff, extendedCode: rc, message: message, sql: sql)
        }
    }

    /// Prepares a statement owned by the caller (finalized when released). Use it for long-running reads, so a
    /// cached statement is never stepped by two loops at once.
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw SQLiteError(rc, connection: connection, sql: sql) }
        return SQLiteStatement(statement: statement, sql: sql)
    }

    /// The cached prepared statement for `sql`, reset and with its bindings cleared.
    public func cachedStatement(_ sql: String) throws -> SQLiteStatement {
        if let cached = statementCache[sql] {
            cached.reset()
            return cached
        }
        let statement = try prepare(sql)
        statementCache[sql] = statement
        return statement
    }

    /// Runs `sql` (cached) with `values` bound to its parameters in order, stepping it to the end.
    public func run(_ sql: String, _ values: SQLiteValue...) throws {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() {}
    }

    /// Runs `sql` (cached) with `values` bound and returns `read` of its first row, or nil when there is none.
    public func first<T>(_ sql: String, _ values: SQLiteValue..., read: (SQLiteStatement) throws -> T) throws -> T? {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        return try statement.step() ? read(statement) : nil
    }

    /// Reads a pragma, or sets it when `value` is given, returning the first column of its result.
    @discardableResult
    public func pragma(_ name: String, _ value: String? = nil) throws -> String? {
        let sql = value.map { "PRAGMA \(name) = \($0)" } ?? "PRAGMA \(name)"
        let statement = try prepare(sql)
        return try statement.step() ? statement.optionalText(at: 0) : nil
    }

    /// Runs `body` in a transaction that takes the write lock at once (`BEGIN IMMEDIATE`), committing when it
    /// returns and rolling back when it throws. Once this returns, the commit is in the WAL file.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        // Inside another transaction, join it: a crawl's frontier rows and its records commit together.
        if sqlite3_get_autocommit(connection) == 0 { return try body() }
        try run("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(connection) == 0 { try? run("ROLLBACK") }
            throw error
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes64(connection)) }

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(connection) }

    /// The result lines of `PRAGMA integrity_check`: `["ok"]` when the file is sound.
    public func integrityCheck() throws -> [String] {
        let statement = try prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try statement.step() { lines.append(statement.text(at: 0)) }
        return lines
    }
}

/// Must not cross threads: see the type's documentation.
@available(*, unavailable)
extension SQLiteDatabase: Sendable {}
