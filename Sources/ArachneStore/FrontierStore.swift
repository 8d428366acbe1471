import ArachneCore
import Foundation

/// A URL a crawl knows: its key index in the job, and how it was reached.
public struct FrontierEntry: Sendable, Hashable {
    /// The key index (`RequestKey.urlIndex`): the order of discovery, seeds first.
    public var index: Int
    public var url: String
    public var depth: Int
    /// The URL it was first found on; nil for seeds.
    public var parentURL: String?
    public var via: CrawlVia

    public init(index: Int, url: String, depth: Int, parentURL: String?, via: CrawlVia) {
        self.index = index
        self.url = url
        self.depth = depth
        self.parentURL = parentURL
        self.via = via
    }
}

/// The durable half of a crawl's frontier: every URL the crawl has seen, by fingerprint of its canonical identity
/// (unique per job, so the seen-set is an index, not a set of strings in memory), with its key index, depth, parent,
/// how it was found, and the skip kind when a limit or trap rule kept it from being fetched.
///
/// It lives in the coordinator's job store (`arachne coordinator`: the rows commit in the same transaction as the
/// records of the pages they were found on, so a crash never keeps one without the other) or in a file of its own
/// (`arachne crawl`). Not thread-safe: used on one writer thread.
public final class FrontierStore {
    let database: SQLiteDatabase
    let job: Int64
    private let ownsDatabase: Bool

    static let schema = """
        CREATE TABLE IF NOT EXISTS frontier_urls (
            job INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            fingerprint INTEGER NOT NULL,
            url TEXT NOT NULL,
            depth INTEGER NOT NULL,
            parent INTEGER,
            via TEXT NOT NULL,
            host TEXT NOT NULL,
            skip TEXT,
            PRIMARY KEY (job, idx)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS frontier_seen ON frontier_urls (job, fingerprint);
        CREATE TABLE IF NOT EXISTS frontier_counts (
            job INTEGER PRIMARY KEY,
            counts TEXT NOT NULL
        );
        """

    init(database: SQLiteDatabase, job: Int64, ownsDatabase: Bool) throws {
        self.database = database
        self.job = job
        self.ownsDatabase = ownsDatabase
        try database.execute(Self.schema)
        try database.execute(Self.politenessSchema)
    }

    /// A frontier in a file of its own (a one-shot crawl), created empty: an existing file is replaced.
    ///
    /// Nothing ever resumes from it (a one-shot run keeps it in its temporary directory, removed at exit), so it is
    /// written without waiting for the device (`synchronous=OFF`): the WAL checkpoints of a 20,000-page crawl
    /// spent 40 ms in fdatasync on the recorder's thread, while links waited to be admitted.
    public static func standalone(path: String) throws -> FrontierStore {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA synchronous = OFF")
        return try FrontierStore(database: database, job: 0, ownsDatabase: true)
    }

    /// Closes a standalone frontier's file.
    public func close() {
        if ownsDatabase { database.close() }
    }

    /// Runs `body` in one transaction (joined by the job store's record writes on the same database).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try database.transaction(body)
    }

    /// Adds a URL unless its fingerprint is already known. Returns false (changing nothing) for a URL already seen.
    public func insert(
        index: Int, fingerprint: UInt64, url: String, depth: Int, parent: Int?, via: CrawlVia, host: String,
        skip: FetchErrorKind?
    ) throws -> Bool {
        let statement = try database.cachedStatement("""
            INSERT OR IGNORE INTO frontier_urls (job, idx, fingerprint, url, depth, parent, via, host, skip)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        defer { statement.reset() }
        try statement.bind(job, at: 1)
        try statement.bind(index, at: 2)
        try statement.bind(Int64(bitPattern: fingerprint), at: 3)
        try statement.bind(url, at: 4)
        try statement.bind(depth, at: 5)
        try statement.bind(parent.map(Int64.init), at: 6)
        try statement.bind(via.rawValue, at: 7)
        try statement.bind(host, at: 8)
        try statement.bind(skip?.rawValue, at: 9)
        _ = try statement.step()
        return database.changes == 1
    }

    /// Stores the crawl's link counts so far (with the records of the pages they were counted on).
    public func saveCounts(_ counts: CrawlLinkCounts) throws {
        let json = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
        try database.run(
            "INSERT INTO frontier_counts (job, counts) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET counts = excluded.counts",
            .integer(job), .text(json))
    }

    /// The link counts stored by `saveCounts`, or empty counts.
    public func loadCounts() throws -> CrawlLinkCounts {
        guard let json = try database.first("SELECT counts FROM frontier_counts WHERE job = ?", .integer(job), read: {
            $0.text(at: 0)
        }) else { return CrawlLinkCounts() }
        return (try? JSONDecoder().decode(CrawlLinkCounts.self, from: Data(json.utf8))) ?? CrawlLinkCounts()
    }

    /// Whether the fingerprint is known.
    public func contains(fingerprint: UInt64) throws -> Bool {
        try database.first(
            "SELECT 1 FROM frontier_urls WHERE job = ? AND fingerprint = ?", .integer(job),
            .integer(Int64(bitPattern: fingerprint))
        ) { _ in true } ?? false
    }

    /// URLs known (the next index).
    public func count() throws -> Int {
        try database.first("SELECT count(*) FROM frontier_urls WHERE job = ?", .integer(job)) { $0.int(at: 0) } ?? 0
    }

    /// URLs admitted for fetching (not skipped), in all and per host: what the page limits count.
    public func admittedCounts() throws -> (total: Int, perHost: [String: Int]) {
        let statement = try database.prepare(
            "SELECT host, count(*) FROM frontier_urls WHERE job = ? AND skip IS NULL GROUP BY host")
        try statement.bind(job, at: 1)
        var perHost: [String: Int] = [:]
        var total = 0
        while try statement.step() {
            perHost[statement.text(at: 0)] = statement.int(at: 1)
            total += statement.int(at: 1)
        }
        return (total, perHost)
    }

    /// Admitted URLs whose key has no record in `records` (a resumed crawl's frontier), with their parents' URLs.
    /// `isRecorded` says whether a key index has its record.
    public func unfinished(isRecorded: (Int) -> Bool) throws -> [FrontierEntry] {
        let statement = try database.prepare("""
            SELECT f.idx, f.url, f.depth, f.via, p.url FROM frontier_urls f
            LEFT JOIN frontier_urls p ON p.job = f.job AND p.idx = f.parent
            WHERE f.job = ? AND f.skip IS NULL ORDER BY f.idx
            """)
        try statement.bind(job, at: 1)
        var entries: [FrontierEntry] = []
        while try statement.step() {
            let index = statement.int(at: 0)
            if isRecorded(index) { continue }
            entries.append(FrontierEntry(
                index: index, url: statement.text(at: 1), depth: statement.int(at: 2),
                parentURL: statement.optionalText(at: 4), via: CrawlVia(rawValue: statement.text(at: 3)) ?? .link))
        }
        return entries
    }
}

extension JobStore {
    /// The frontier of crawl job `id`, in this store's database: its rows commit with the job's records.
    public func frontier(of id: String) throws -> FrontierStore {
        try FrontierStore(database: database, job: try resolve(id).key, ownsDatabase: false)
    }

    /// A crawl job's key space grew to `urlCount` (its frontier admitted URLs): records of the new keys are accepted.
    public func setURLCount(_ id: String, _ urlCount: Int) throws {
        var job = try resolve(id)
        guard urlCount > job.urlCount else { return }
        try database.run("UPDATE jobs SET url_count = ? WHERE seq = ?", .integer(Int64(urlCount)), .integer(job.key))
        job.urlCount = urlCount
        cacheResolved(id, job)
    }
}
