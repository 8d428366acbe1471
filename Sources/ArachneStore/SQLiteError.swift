import CArachneSQLite

/// A failed SQLite call: the result code, SQLite's message, and the SQL that was running (if any).
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`, ...).
    public var code: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_PRIMARYKEY`, ...), or `code` when there is none.
    public var extendedCode: Int32
    /// SQLite's message, e.g. "UNIQUE constraint failed: jobs.id".
    public var message: String
    /// The statement that failed, or nil when the failure was not tied to one (opening a file, say).
    public var sql: String?

    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.code = code
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
    }

    /// The error `rc` just returned on `connection`, with the connection's message.
    init(_ rc: Int32, connection: OpaquePointer, sql: String?) {
        self.init(
            code: rc & 0xff, extendedCode: sqlite3_extended_errcode(connection),
            message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }

    /// SQLite's name for the primary code ("database is locked", "constraint failed", ...).
    public var codeDescription: String { String(cString: sqlite3_errstr(code)) }

    public var description: String {
        var text = "SQLite error \(code) (\(codeDescription)): \(message)"
        if let sql { text += " — while running: \(sql)" }
        return text
    }
}
