import CArachneSQLite

/// A value bound to a statement parameter.
public enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null
}

/// A prepared statement with typed bind, step and column helpers. Parameter and column indexes follow SQLite:
/// parameters count from 1, columns from 0. Belongs to its database's owner, like the database itself.
public final class SQLiteStatement {
    /// The SQL text, for error messages.
    public let sql: String
    private var statement: OpaquePointer?
    /// The statement's connection, for error messages. SQLite keeps it alive until every statement is finalized.
    private let connection: OpaquePointer

    init(statement: OpaquePointer, sql: String) {
        self.statement = statement
        self.connection = sqlite3_db_handle(statement)
        self.sql = sql
    }

    deinit { finalize() }

    func finalize() {
        sqlite3_finalize(statement)
        statement = nil
    }

    private var pointer: OpaquePointer {
        guard let statement else { preconditionFailure("statement used after its database was closed: \(sql)") }
        return statement
    }

    private func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw SQLiteError(rc, connection: connection, sql: sql) }
    }

    /// Ends the current run (releasing its read snapshot) and clears every binding.
    public func reset() {
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
    }

    /// Advances to the next row: true when a row is available, false when the statement is done.
    public func step() throws -> Bool {
        switch sqlite3_step(pointer) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc:
            let error = SQLiteError(rc, connection: connection, sql: sql)
            sqlite3_reset(pointer)
            throw error
        }
    }

    // MARK: Binding

    public func bind(_ value: Int64, at index: Int32) throws { try check(sqlite3_bind_int64(pointer, index, value)) }

    public func bind(_ value: Int, at index: Int32) throws { try bind(Int64(value), at: index) }

    public func bind(_ value: Double, at index: Int32) throws { try check(sqlite3_bind_double(pointer, index, value)) }

    /// Binds text (copied by SQLite); the empty string stays an empty string, not NULL.
    public func bind(_ value: String, at index: Int32) throws {
        var value = value
        let rc = value.withUTF8 { bytes in
            guard let start = bytes.baseAddress, !bytes.isEmpty else {
                return sqlite3_bind_text(pointer, index, "", 0, c_arachne_sqlite_transient())
            }
            return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                sqlite3_bind_text(pointer, index, chars, Int32(bytes.count), c_arachne_sqlite_transient())
            }
        }
        try check(rc)
    }

    /// Binds a blob (copied by SQLite); an empty array is a zero-length blob, not NULL.
    public func bind(_ value: [UInt8], at index: Int32) throws {
        let rc = value.withUnsafeBytes { bytes in
            bytes.isEmpty
                ? sqlite3_bind_zeroblob(pointer, index, 0)
                : sqlite3_bind_blob(pointer, index, bytes.baseAddress, Int32(bytes.count), c_arachne_sqlite_transient())
        }
        try check(rc)
    }

    public func bindNull(at index: Int32) throws { try check(sqlite3_bind_null(pointer, index)) }

    /// Binds text, or NULL when `value` is nil.
    public func bind(_ value: String?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Binds an integer, or NULL when `value` is nil.
    public func bind(_ value: Int64?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    public func bind(_ value: SQLiteValue, at index: Int32) throws {
        switch value {
        case .integer(let v): try bind(v, at: index)
        case .real(let v): try bind(v, at: index)
        case .text(let v): try bind(v, at: index)
        case .blob(let v): try bind(v, at: index)
        case .null: try bindNull(at: index)
        }
    }

    /// Binds `values` to parameters 1, 2, ...
    public func bind(_ values: [SQLiteValue]) throws {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    // MARK: Columns of the current row

    public func isNull(at column: Int32) -> Bool { sqlite3_column_type(pointer, column) == SQLITE_NULL }

    public func int64(at column: Int32) -> Int64 { sqlite3_column_int64(pointer, column) }

    public func int(at column: Int32) -> Int { Int(sqlite3_column_int64(pointer, column)) }

    public func double(at column: Int32) -> Double { sqlite3_column_double(pointer, column) }

    /// The column as text; NULL reads as the empty string.
    public func text(at column: Int32) -> String { optionalText(at: column) ?? "" }

    /// The column as text, or nil when it is NULL.
    public func optionalText(at column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(pointer, column) else { return nil }
        let count = Int(sqlite3_column_bytes(pointer, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// The column as an integer, or nil when it is NULL.
    public func optionalInt64(at column: Int32) -> Int64? { isNull(at: column) ? nil : int64(at: column) }

    /// The column as a double, or nil when it is NULL.
    public func optionalDouble(at column: Int32) -> Double? { isNull(at: column) ? nil : double(at: column) }

    /// The column as bytes; NULL reads as empty.
    public func blob(at column: Int32) -> [UInt8] {
        guard let bytes = sqlite3_column_blob(pointer, column) else { return [] }
        let count = Int(sqlite3_column_bytes(pointer, column))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}

/// Must not cross threads: it belongs to its database's owner.
@available(*, unavailable)
extension SQLiteStatement: Sendable {}
