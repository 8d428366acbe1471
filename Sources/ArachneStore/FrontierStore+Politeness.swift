import ArachneCore
import Foundation

/// A robots.txt fetch as a crawl's store keeps it: what a resumed crawl needs so it does not fetch it again.
public struct StoredRobots: Sendable, Hashable {
    public var origin: String
    public var fetchedAt: Double
    public var status: Int
    public var redirects: Int
    public var failure: String?
    public var body: [UInt8]

    public init(origin: String, fetchedAt: Double, status: Int, redirects: Int, failure: String?, body: [UInt8]) {
        self.origin = origin
        self.fetchedAt = fetchedAt
        self.status = status
        self.redirects = redirects
        self.failure = failure
        self.body = body
    }
}

extension FrontierStore {
    static let politenessSchema = """
        CREATE TABLE IF NOT EXISTS frontier_robots (
            job INTEGER NOT NULL,
            origin TEXT NOT NULL,
            fetched_at REAL NOT NULL,
            status INTEGER NOT NULL,
            redirects INTEGER NOT NULL,
            failure TEXT,
            body BLOB NOT NULL,
            PRIMARY KEY (job, origin)
        );
        CREATE TABLE IF NOT EXISTS frontier_politeness (
            job INTEGER PRIMARY KEY,
            audits TEXT NOT NULL
        );
        """

    /// Keeps (or replaces) an origin's robots.txt.
    public func saveRobots(_ robots: StoredRobots) throws {
        try database.run("""
            INSERT INTO frontier_robots (job, origin, fetched_at, status, redirects, failure, body)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (job, origin) DO UPDATE SET fetched_at = excluded.fetched_at, status = excluded.status,
                redirects = excluded.redirects, failure = excluded.failure, body = excluded.body
            """, .integer(job), .text(robots.origin), .real(robots.fetchedAt), .integer(Int64(robots.status)),
            .integer(Int64(robots.redirects)), robots.failure.map { .text($0) } ?? .null, .blob(robots.body))
    }

    /// The robots.txt files kept for this crawl fetched at or after `since` (Unix seconds).
    public func loadRobots(since: Double) throws -> [StoredRobots] {
        let statement = try database.prepare("""
            SELECT origin, fetched_at, status, redirects, failure, body FROM frontier_robots
            WHERE job = ? AND fetched_at >= ? ORDER BY origin
            """)
        try statement.bind(job, at: 1)
        try statement.bind(since, at: 2)
        var found: [StoredRobots] = []
        while try statement.step() {
            found.append(StoredRobots(
                origin: statement.text(at: 0), fetchedAt: statement.double(at: 1), status: statement.int(at: 2),
                redirects: statement.int(at: 3), failure: statement.optionalText(at: 4), body: statement.blob(at: 5)))
        }
        return found
    }

    /// Keeps the crawl's politeness audit (one row per host and worker session, as reported).
    public func saveAudits(_ audits: [String: [HostAudit]]) throws {
        let json = String(decoding: try JSONEncoder().encode(audits), as: UTF8.self)
        try database.run("""
            INSERT INTO frontier_politeness (job, audits) VALUES (?, ?)
            ON CONFLICT (job) DO UPDATE SET audits = excluded.audits
            """, .integer(job), .text(json))
    }

    /// The audits kept by `saveAudits`, by worker; empty when there are none.
    public func loadAudits() throws -> [String: [HostAudit]] {
        guard let json = try database.first(
            "SELECT audits FROM frontier_politeness WHERE job = ?", .integer(job), read: { $0.text(at: 0) })
        else { return [:] }
        return (try? JSONDecoder().decode([String: [HostAudit]].self, from: Data(json.utf8))) ?? [:]
    }
}
