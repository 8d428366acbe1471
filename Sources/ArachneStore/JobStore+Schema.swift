extension JobStore {
    /// Schema version 1. Jobs and their specs are apart so listings never read a spec of 100k URLs. Records are
    /// keyed by (job, url_index, repetition), so `INSERT OR IGNORE` keeps the first terminal record of a key; the
    /// index on `job` alone is ordered by rowid, which gives the job's records in insertion order without a sort.
    static let schemaV1 = """
        CREATE TABLE jobs (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'cancelled', 'failed')),
            name TEXT,
            url_count INTEGER NOT NULL,
            repeat_count INTEGER NOT NULL,
            submitted_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            output_dir TEXT NOT NULL,
            done INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            reassigned_batches INTEGER NOT NULL DEFAULT 0,
            retries INTEGER NOT NULL DEFAULT 0,
            message TEXT
        );
        CREATE TABLE job_specs (
            job INTEGER PRIMARY KEY REFERENCES jobs (seq),
            spec BLOB NOT NULL
        );
        CREATE TABLE records (
            job INTEGER NOT NULL REFERENCES jobs (seq),
            url_index INTEGER NOT NULL,
            repetition INTEGER NOT NULL,
            url TEXT NOT NULL,
            worker TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            status INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            final_url TEXT NOT NULL,
            redirects INTEGER NOT NULL,
            t_queue INTEGER NOT NULL,
            t_namelookup INTEGER NOT NULL,
            t_connect INTEGER NOT NULL,
            t_appconnect INTEGER NOT NULL,
            t_pretransfer INTEGER NOT NULL,
            t_starttransfer INTEGER NOT NULL,
            t_total INTEGER NOT NULL,
            error_kind TEXT,
            error_message TEXT,
            body_file TEXT,
            body_offset INTEGER,
            body_length INTEGER,
            body_digest TEXT,
            body_truncated INTEGER,
            finished_at REAL NOT NULL,
            PRIMARY KEY (job, url_index, repetition)
        );
        CREATE INDEX records_by_job ON records (job);
        """

    /// Schema version 2 (crawls): a record's crawl fields (depth, parent, via, links, content type, Location) as one
    /// JSON text, NULL for list jobs; the frontier's table is created by `FrontierStore`.
    static let schemaV2Changes = """
        ALTER TABLE records ADD COLUMN crawl TEXT;
        """

    /// Schema version 3 (streamed submissions): a chunked submission's row, keyed by the id its client chose, with
    /// its spec (no URLs), chunks and URLs committed, and the job it became once ended; its URLs in `job_urls`, one
    /// row per URL keyed by (list, idx), where `list` is the submission's `seq`. A job made from a submission names
    /// its list in `jobs.url_list` (NULL: the URLs are in the spec).
    static let schemaV3Changes = """
        CREATE TABLE submissions (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            spec BLOB NOT NULL,
            repeat_count INTEGER NOT NULL,
            chunks INTEGER NOT NULL DEFAULT 0,
            url_count INTEGER NOT NULL DEFAULT 0,
            job TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE job_urls (
            list INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            url TEXT NOT NULL,
            PRIMARY KEY (list, idx)
        ) WITHOUT ROWID;
        ALTER TABLE jobs ADD COLUMN url_list INTEGER;
        """

    /// Creates the schema in an empty file, or checks that an existing file is an Arachne store this code can read.
    func migrate() throws {
        try database.transaction {
            let version = Int(try database.pragma("user_version") ?? "0") ?? 0
            let application = Int32(try database.pragma("application_id") ?? "0") ?? 0
            if version == 0 {
                let tables = try database.first("SELECT count(*) FROM sqlite_schema") { $0.int(at: 0) } ?? 0
                guard tables == 0 else { throw notAStore() }
                try database.execute(Self.schemaV1)
                try database.execute(Self.schemaV2Changes)
                try database.execute(Self.schemaV3Changes)
                try database.pragma("application_id", String(Self.applicationID))
                try database.pragma("user_version", String(Self.schemaVersion))
                return
            }
            guard application == Self.applicationID else { throw notAStore() }
            guard version <= Self.schemaVersion else {
                throw JobStoreError(
                    .schemaTooNew, "\(databasePath) has schema version \(version), written by a newer Arachne; "
                        + "this one reads up to version \(Self.schemaVersion)")
            }
            if version < 2 {
                try database.execute(Self.schemaV2Changes)
                try database.pragma("user_version", "2")
            }
            if version < 3 {
                try database.execute(Self.schemaV3Changes)
                try database.pragma("user_version", "3")
            }
        }
    }

    private func notAStore() -> JobStoreError {
        JobStoreError(
            .notAStore, "\(databasePath) is an SQLite database but not an Arachne job store; use another --data-dir")
    }
}
