import ArachneCore
import Foundation

/// The contents of `report.json` (schema `arachne.report/2`): what a job did, how fast, and where its records and
/// bodies are. A plain value: encode it, compare it, diff it. docs/report.md describes every field.
public struct Report: Codable, Sendable, Hashable {
    /// The schema identifier every report carries.
    public static let schemaIdentifier = "arachne.report/2"
    /// The schemas this version reads: `arachne.report/1` reports (written before the URL tables and `url_index`)
    /// read with empty tables.
    public static let readableSchemas: Set<String> = ["arachne.report/1", schemaIdentifier]

    public var schema: String
    public var job: Job
    public var summary: Summary
    /// Per-phase latency in microseconds, from HdrHistograms.
    public var timings: PhaseTable
    public var workers: [WorkerSummary]
    public var hosts: [HostSummary]
    public var timeline: [TimelinePoint]
    /// The records file, relative to `job.output_dir`.
    public var records: String
    /// WARC files holding the kept bodies, relative to `job.output_dir`.
    public var bodies: [String]
    /// The crawl's figures; nil (and absent from report.json) for list jobs.
    public var crawl: Crawl?
    /// The slowest URLs, slowest first: at most 20 distinct URLs, each with its slowest response.
    public var slowestURLs: [SlowURL]
    /// The URLs with the most failed requests, most first: at most 20.
    public var failingURLs: [FailingURL]

    public init(
        job: Job, summary: Summary, timings: PhaseTable, workers: [WorkerSummary], hosts: [HostSummary],
        timeline: [TimelinePoint], records: String, bodies: [String], crawl: Crawl? = nil,
        slowestURLs: [SlowURL] = [], failingURLs: [FailingURL] = []
    ) {
        self.schema = Report.schemaIdentifier
        self.job = job
        self.summary = summary
        self.timings = timings
        self.workers = workers
        self.hosts = hosts
        self.timeline = timeline
        self.records = records
        self.bodies = bodies
        self.crawl = crawl
        self.slowestURLs = slowestURLs
        self.failingURLs = failingURLs
    }

    enum CodingKeys: String, CodingKey {
        case schema, job, summary, timings, workers, hosts, timeline, records, bodies, crawl
        case slowestURLs = "slowest_urls"
        case failingURLs = "failing_urls"
    }

    /// Reports of `arachne.report/1` have no URL tables: they read as empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(String.self, forKey: .schema)
        job = try container.decode(Job.self, forKey: .job)
        summary = try container.decode(Summary.self, forKey: .summary)
        timings = try container.decode(PhaseTable.self, forKey: .timings)
        workers = try container.decode([WorkerSummary].self, forKey: .workers)
        hosts = try container.decode([HostSummary].self, forKey: .hosts)
        timeline = try container.decode([TimelinePoint].self, forKey: .timeline)
        records = try container.decode(String.self, forKey: .records)
        bodies = try container.decode([String].self, forKey: .bodies)
        crawl = try container.decodeIfPresent(Crawl.self, forKey: .crawl)
        slowestURLs = try container.decodeIfPresent([SlowURL].self, forKey: .slowestURLs) ?? []
        failingURLs = try container.decodeIfPresent([FailingURL].self, forKey: .failingURLs) ?? []
    }

    /// Who ran what, when, and where its output is.
    public struct Job: Codable, Sendable, Hashable {
        public var id: String
        public var state: ReportJobState
        /// ISO 8601 timestamps, null until the job reaches that point.
        public var submittedAt: String?
        public var startedAt: String?
        public var finishedAt: String?
        public var options: ReportJobOptions
        /// The directory holding report.json; `records` and body files are relative to it.
        public var outputDir: String

        public init(
            id: String, state: ReportJobState, submittedAt: String?, startedAt: String?, finishedAt: String?,
            options: ReportJobOptions, outputDir: String
        ) {
            self.id = id
            self.state = state
            self.submittedAt = submittedAt
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.options = options
            self.outputDir = outputDir
        }

        enum CodingKeys: String, CodingKey {
            case id, state
            case submittedAt = "submitted_at"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case options
            case outputDir = "output_dir"
        }

        // Optional timestamps are written as null rather than left out: the contract has every key.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(state, forKey: .state)
            try container.encode(submittedAt, forKey: .submittedAt)
            try container.encode(startedAt, forKey: .startedAt)
            try container.encode(finishedAt, forKey: .finishedAt)
            try container.encode(options, forKey: .options)
            try container.encode(outputDir, forKey: .outputDir)
        }
    }

    /// The job's key figures.
    public struct Summary: Codable, Sendable, Hashable {
        /// Terminal records: one per (URL, repetition) that finished, failed or was cancelled. A crawl's skip
        /// records are not requests: they are counted in `skipped`.
        public var requests: Int
        public var succeeded: Int
        /// Requests that were fetched and failed: `requests − succeeded − cancelled`.
        public var failed: Int
        /// Requests that ended as `cancelled` (never fetched, or their result never came): not failures.
        public var cancelled: Int
        /// Wall-clock seconds from start to finish (to now while running): the tutorial's "spend time".
        public var wallSeconds: Double
        /// Fetched requests (`requests − cancelled`) per wall second.
        public var requestsPerSecond: Double
        public var bytesReceived: Int64
        /// Responses per HTTP status code ("200": n).
        public var statusCodes: [String: Int]
        /// Failures per error kind ("timeout": n).
        public var errors: [String: Int]
        public var reassignedBatches: Int
        public var retries: Int
        /// Crawl only (nil and absent for list jobs): URLs the crawl decided not to fetch, one record each.
        public var skipped: Int?

        public init(
            requests: Int, succeeded: Int, failed: Int, wallSeconds: Double, requestsPerSecond: Double,
            bytesReceived: Int64, statusCodes: [String: Int], errors: [String: Int], reassignedBatches: Int,
            retries: Int, skipped: Int? = nil, cancelled: Int = 0
        ) {
            self.requests = requests
            self.succeeded = succeeded
            self.failed = failed
            self.cancelled = cancelled
            self.wallSeconds = wallSeconds
            self.requestsPerSecond = requestsPerSecond
            self.bytesReceived = bytesReceived
            self.statusCodes = statusCodes
            self.errors = errors
            self.reassignedBatches = reassignedBatches
            self.retries = retries
            self.skipped = skipped
        }

        /// Reports written before `cancelled` was counted apart read as having none.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            requests = try container.decode(Int.self, forKey: .requests)
            succeeded = try container.decode(Int.self, forKey: .succeeded)
            failed = try container.decode(Int.self, forKey: .failed)
            cancelled = try container.decodeIfPresent(Int.self, forKey: .cancelled) ?? 0
            wallSeconds = try container.decode(Double.self, forKey: .wallSeconds)
            requestsPerSecond = try container.decode(Double.self, forKey: .requestsPerSecond)
            bytesReceived = try container.decode(Int64.self, forKey: .bytesReceived)
            statusCodes = try container.decode([String: Int].self, forKey: .statusCodes)
            errors = try container.decode([String: Int].self, forKey: .errors)
            reassignedBatches = try container.decode(Int.self, forKey: .reassignedBatches)
            retries = try container.decode(Int.self, forKey: .retries)
            skipped = try container.decodeIfPresent(Int.self, forKey: .skipped)
        }

        enum CodingKeys: String, CodingKey {
            case requests, succeeded, failed, cancelled, skipped
            case wallSeconds = "wall_seconds"
            case requestsPerSecond = "requests_per_second"
            case bytesReceived = "bytes_received"
            case statusCodes = "status_codes"
            case errors
            case reassignedBatches = "reassigned_batches"
            case retries
        }
    }

    /// One worker's share of the job.
    public struct WorkerSummary: Codable, Sendable, Hashable {
        public var id: String
        public var host: String
        /// The worker's process id, 0 when unknown.
        public var pid: Int
        public var requests: Int
        public var failed: Int
        public var bytes: Int64
        /// Seconds the worker had requests in flight.
        public var busySeconds: Double
        /// Total request time on this worker, µs (two significant digits).
        public var total: PhaseSummary
        /// The name of the worker's CURVE key in the coordinator's `workers/` allow-list; absent for a worker on a
        /// plain (ipc, or `--insecure` tcp) endpoint.
        public var key: String?

        public init(
            id: String, host: String, pid: Int, requests: Int, failed: Int, bytes: Int64, busySeconds: Double,
            total: PhaseSummary, key: String? = nil
        ) {
            self.id = id
            self.host = host
            self.pid = pid
            self.requests = requests
            self.failed = failed
            self.bytes = bytes
            self.busySeconds = busySeconds
            self.total = total
            self.key = key
        }

        enum CodingKeys: String, CodingKey {
            case id, host, pid, requests, failed, bytes
            case busySeconds = "busy_seconds"
            case total, key
        }
    }

    /// One target host's share of the job. `host` is the URL's authority (`name[:port]`), or `(other)` for hosts
    /// beyond the aggregator's host limit.
    public struct HostSummary: Codable, Sendable, Hashable {
        public var host: String
        public var requests: Int
        public var failed: Int
        public var bytes: Int64
        /// Total request time against this host, µs (two significant digits).
        public var total: PhaseSummary

        public init(host: String, requests: Int, failed: Int, bytes: Int64, total: PhaseSummary) {
            self.host = host
            self.requests = requests
            self.failed = failed
            self.bytes = bytes
            self.total = total
        }
    }

    /// Records that ended in one second of the job.
    public struct TimelinePoint: Codable, Sendable, Hashable {
        /// Whole seconds since the job started.
        public var second: Int
        /// Terminal records that ended in this second, failures included.
        public var completed: Int
        /// Of those, the failed ones.
        public var failed: Int
        /// Crawl only: the frontier's size at the end of this second (the last sample up to then); nil for list
        /// jobs and before the first sample.
        public var frontier: Int?

        public init(second: Int, completed: Int, failed: Int, frontier: Int? = nil) {
            self.second = second
            self.completed = completed
            self.failed = failed
            self.frontier = frontier
        }
    }
}

/// Where a job is in its life.
public enum ReportJobState: String, Codable, Sendable, Hashable, CaseIterable {
    case queued
    case running
    case completed
    case cancelled
    case failed
}

/// Distribution of one phase's durations in microseconds.
public struct PhaseSummary: Codable, Sendable, Hashable {
    public var count: Int
    public var min: Int64
    public var mean: Double
    public var p50: Int64
    public var p90: Int64
    public var p95: Int64
    public var p99: Int64
    public var p999: Int64
    public var max: Int64

    public init(
        count: Int, min: Int64, mean: Double, p50: Int64, p90: Int64, p95: Int64, p99: Int64, p999: Int64, max: Int64
    ) {
        self.count = count
        self.min = min
        self.mean = mean
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
        self.p999 = p999
        self.max = max
    }

    /// No values recorded.
    public static let empty = PhaseSummary(count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0)

    /// The percentiles in report order, with their labels, for tables and charts.
    public var percentiles: [(label: String, value: Int64)] {
        [("p50", p50), ("p90", p90), ("p95", p95), ("p99", p99), ("p99.9", p999), ("max", max)]
    }
}

/// One `PhaseSummary` per phase, keyed in JSON by curl's phase names plus `queue`.
public struct PhaseTable: Codable, Sendable, Hashable {
    public var queue: PhaseSummary
    public var namelookup: PhaseSummary
    public var connect: PhaseSummary
    public var appconnect: PhaseSummary
    public var pretransfer: PhaseSummary
    public var starttransfer: PhaseSummary
    public var total: PhaseSummary

    public init(_ summary: (Phase) -> PhaseSummary) {
        queue = summary(.queue)
        namelookup = summary(.namelookup)
        connect = summary(.connect)
        appconnect = summary(.appconnect)
        pretransfer = summary(.pretransfer)
        starttransfer = summary(.starttransfer)
        total = summary(.total)
    }

    public subscript(phase: Phase) -> PhaseSummary {
        switch phase {
        case .queue: queue
        case .namelookup: namelookup
        case .connect: connect
        case .appconnect: appconnect
        case .pretransfer: pretransfer
        case .starttransfer: starttransfer
        case .total: total
        }
    }
}

/// The job's options as recorded in the report: its `JobSpec` without the URL list (only its length), in the
/// report's snake_case. Values of credential-bearing request headers are redacted.
public struct ReportJobOptions: Codable, Sendable, Hashable {
    public var name: String?
    public var urlCount: Int
    public var repeatCount: Int
    public var concurrency: Int
    public var connectTimeoutMs: Int
    public var totalTimeoutMs: Int
    public var maxRedirects: Int
    public var userAgent: String
    public var acceptEncoding: String
    public var perHostConnections: Int
    public var bodyCap: Int
    public var maxResponseBytes: Int64
    public var keepBodies: Bool
    public var resolve: [String]
    public var insecure: Bool
    public var caCertPath: String?
    public var headers: [String]
    public var forbidReuse: Bool
    /// A crawl's options; nil (absent) for a list job.
    public var crawl: CrawlOptionsSpec?

    /// Header names whose values never appear in a report.
    static let redactedHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie"]

    public init(spec: JobSpec) {
        let settings = spec.settings
        name = spec.name
        urlCount = spec.urlCount
        repeatCount = spec.repeatCount
        concurrency = spec.concurrency
        connectTimeoutMs = settings.connectTimeoutMs
        totalTimeoutMs = settings.totalTimeoutMs
        maxRedirects = settings.maxRedirects
        userAgent = settings.userAgent
        acceptEncoding = settings.acceptEncoding
        perHostConnections = settings.perHostConnections
        bodyCap = settings.bodyCap
        maxResponseBytes = settings.maxResponseBytes
        keepBodies = settings.keepBodies
        resolve = settings.resolve
        insecure = settings.insecure
        caCertPath = settings.caCertPath
        headers = settings.headers.map(ReportJobOptions.redacted)
        forbidReuse = settings.forbidReuse
        crawl = spec.crawl
    }

    static func redacted(_ header: String) -> String {
        guard let colon = header.firstIndex(of: ":") else { return header }
        let name = header[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        return redactedHeaders.contains(name) ? "\(header[..<colon]): <redacted>" : header
    }

    enum CodingKeys: String, CodingKey {
        case name
        case urlCount = "url_count"
        case repeatCount = "repeat"
        case concurrency
        case connectTimeoutMs = "connect_timeout_ms"
        case totalTimeoutMs = "total_timeout_ms"
        case maxRedirects = "max_redirects"
        case crawl
        case userAgent = "user_agent"
        case acceptEncoding = "accept_encoding"
        case perHostConnections = "per_host_connections"
        case bodyCap = "body_cap"
        case maxResponseBytes = "max_response_bytes"
        case keepBodies = "keep_bodies"
        case resolve, insecure
        case caCertPath = "ca_cert_path"
        case headers
        case forbidReuse = "forbid_reuse"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(urlCount, forKey: .urlCount)
        try container.encode(repeatCount, forKey: .repeatCount)
        try container.encode(concurrency, forKey: .concurrency)
        try container.encode(connectTimeoutMs, forKey: .connectTimeoutMs)
        try container.encode(totalTimeoutMs, forKey: .totalTimeoutMs)
        try container.encode(maxRedirects, forKey: .maxRedirects)
        try container.encode(userAgent, forKey: .userAgent)
        try container.encode(acceptEncoding, forKey: .acceptEncoding)
        try container.encode(perHostConnections, forKey: .perHostConnections)
        try container.encode(bodyCap, forKey: .bodyCap)
        try container.encode(maxResponseBytes, forKey: .maxResponseBytes)
        try container.encode(keepBodies, forKey: .keepBodies)
        try container.encode(resolve, forKey: .resolve)
        try container.encode(insecure, forKey: .insecure)
        try container.encode(caCertPath, forKey: .caCertPath)
        try container.encode(headers, forKey: .headers)
        try container.encode(forbidReuse, forKey: .forbidReuse)
    }
}

/// What the caller knows about a job that records cannot tell: identity, state, timestamps, options, output place.
public struct ReportJobInfo: Sendable {
    public var id: String
    public var state: ReportJobState
    public var submittedAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var spec: JobSpec
    /// The report's directory, as given to the user (`--out DIR` or `DATA_DIR/jobs/JOB`).
    public var outputDir: String
    /// The records file, relative to `outputDir`.
    public var recordsFile: String

    public init(
        id: String, state: ReportJobState, submittedAt: Date? = nil, startedAt: Date? = nil, finishedAt: Date? = nil,
        spec: JobSpec, outputDir: String, recordsFile: String = "records.ndjson"
    ) {
        self.id = id
        self.state = state
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.spec = spec
        self.outputDir = outputDir
        self.recordsFile = recordsFile
    }
}

extension Date {
    /// ISO 8601 in UTC with milliseconds, as reports write timestamps.
    var reportTimestamp: String {
        formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
