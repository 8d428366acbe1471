import Foundation
import Testing

@testable import ArachneStore

@Suite("SQLiteDatabase")
struct SQLiteDatabaseTests {
    @Test("opens with WAL, synchronous NORMAL and foreign keys on")
    func pragmas() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteDatabase(path: dir + "/t.sqlite")
            #expect(try db.pragma("journal_mode") == "wal")
            #expect(try db.pragma("synchronous") == "1")
            #expect(try db.pragma("foreign_keys") == "1")
            #expect(try db.integrityCheck() == ["ok"])
        }
    }

    @Test("a one-shot crawl's frontier, removed at exit, is written without waiting for the device; a coordinator's is not")
    func standaloneFrontierSkipsSyncs() throws {
        try withTemporaryDirectory { dir in
            let standalone = try FrontierStore.standalone(path: dir + "/frontier.sqlite")
            #expect(try standalone.database.pragma("synchronous") == "0")
            #expect(try standalone.database.pragma("journal_mode") == "wal")
            standalone.close()
            let shared = try SQLiteDatabase(path: dir + "/jobs.sqlite")
            #expect(try shared.pragma("synchronous") == "1")
        }
    }

    @Test("binds and reads back every type, keeping empty text and blobs apart from NULL")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteDatabase(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
            let insert = try db.cachedStatement("INSERT INTO t VALUES (?, ?, ?, ?, ?)")
            try insert.bind(Int64.min, at: 1)
            try insert.bind(2.5, at: 2)
            try insert.bind("zé ✓ \u{0}end", at: 3)
            try insert.bind([0, 1, 255] as [UInt8], at: 4)
            try insert.bind(nil as String?, at: 5)
            #expect(try insert.step() == false)
            try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", .integer(7), .real(0), .text(""), .blob([]), .null)

            let select = try db.prepare("SELECT i, r, s, b, n, s IS NULL, b IS NULL FROM t ORDER BY rowid")
            #expect(try select.step())
            #expect(select.int64(at: 0) == Int64.min)
            #expect(select.double(at: 1) == 2.5)
            #expect(select.text(at: 2) == "zé ✓ \u{0}end")
            #expect(select.blob(at: 3) == [0, 1, 255])
            #expect(select.optionalText(at: 4) == nil)
            #expect(try select.step())
            #expect(select.optionalText(at: 2) == "")
            #expect(select.int(at: 5) == 0, "empty text must not be NULL")
            #expect(select.int(at: 6) == 0, "empty blob must not be NULL")
            #expect(try select.step() == false)
        }
    }

    @Test("errors carry the code, SQLite's message and the failing SQL")
    func errors() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteDatabase(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
            try db.run("INSERT INTO t VALUES (1)")
            let error = try #require(throws: SQLiteError.self) { try db.run("INSERT INTO t VALUES (1)") }
            #expect(error.code == 19)  // SQLITE_CONSTRAINT
            #expect(error.extendedCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
            #expect(error.message.contains("UNIQUE constraint failed: t.k"))
            #expect(error.sql == "INSERT INTO t VALUES (1)")
            #expect(error.description.contains("INSERT INTO t VALUES (1)"))

            let syntax = try #require(throws: SQLiteError.self) { try db.prepare("SELEC nonsense") }
            #expect(syntax.sql == "SELEC nonsense")
            #expect(syntax.message.contains("syntax error"))
        }
    }

    @Test("cannot open a database in a missing directory, and says which file")
    func openError() throws {
        let error = try #require(throws: SQLiteError.self) {
            try SQLiteDatabase(path: "/nonexistent-arachne-dir/x/t.sqlite")
        }
        #expect(error.message.contains("/nonexistent-arachne-dir/x/t.sqlite"))
    }

    @Test("a transaction commits when its body returns and rolls back when it throws")
    func transactions() throws {
        struct Boom: Error {}
        try withTemporaryDirectory { dir in
            let db = try SQLiteDatabase(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (k INTEGER)")
            try db.transaction { try db.run("INSERT INTO t VALUES (1)") }
            #expect(throws: Boom.self) {
                try db.transaction {
                    try db.run("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            let keys = try db.first("SELECT group_concat(k) FROM t") { $0.text(at: 0) }
            #expect(keys == "1")
            // A failing statement inside rolls back too, and the connection is usable afterwards.
            #expect(throws: SQLiteError.self) {
                try db.transaction {
                    try db.run("INSERT INTO t VALUES (3)")
                    try db.run("INSERT INTO missing VALUES (4)")
                }
            }
            try db.transaction { try db.run("INSERT INTO t VALUES (5)") }
            #expect(try db.first("SELECT group_concat(k) FROM t") { $0.text(at: 0) } == "1,5")
        }
    }

    @Test("a committed row is visible to a second connection")
    func secondConnection() throws {
        try withTemporaryDirectory { dir in
            let writer = try SQLiteDatabase(path: dir + "/t.sqlite")
            try writer.execute("CREATE TABLE t (k INTEGER)")
            try writer.transaction { try writer.run("INSERT INTO t VALUES (42)") }
            let reader = try SQLiteDatabase(path: dir + "/t.sqlite")
            #expect(try reader.first("SELECT k FROM t") { $0.int(at: 0) } == 42)
        }
    }
}
