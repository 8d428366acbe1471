/// How requests are made: everything a worker needs to fetch a job's URLs the way the user asked.
/// Travels from the CLI through the coordinator to every worker.
public struct FetchSettings: Codable, Sendable, Hashable {
    /// Connect timeout in milliseconds.
    public var connectTimeoutMs: Int
    /// Whole-transfer timeout in milliseconds.
    public var totalTimeoutMs: Int
    /// Redirects to follow before failing with `too-many-redirects`; 0 disables following.
    public var maxRedirects: Int
    public var userAgent: String
    /// `Accept-Encoding` to send; responses in these encodings are decoded. Empty means every encoding curl supports.
    public var acceptEncoding: String
    /// Connections to one host at most (0 means no limit beyond total concurrency).
    public var perHostConnections: Int
    /// Body bytes kept per response; the rest is counted and dropped, and the record marked truncated.
    public var bodyCap: Int
    /// Responses larger than this fail with `too-large`.
    public var maxResponseBytes: Int64
    /// Whether bodies are kept (and, in reports, written to WARC files).
    public var keepBodies: Bool
    /// `HOST:PORT:ADDR` pins, as curl's `--resolve`.
    public var resolve: [String]
    /// Skip TLS verification.
    public var insecure: Bool
    /// A CA bundle file to verify servers with.
    public var caCertPath: String?
    /// Extra request headers, "Name: value".
    public var headers: [String]
    /// Sends `Connection: close` and opens a new connection for every request.
    public var forbidReuse: Bool
    /// The private-address guard, checked on every address connected to; nil (the default, and what settings
    /// encoded before it existed decode to) connects anywhere. Crawls set one; list jobs do not.
    public var addressPolicy: AddressPolicy?

    public init(
        connectTimeoutMs: Int = 10_000, totalTimeoutMs: Int = 30_000, maxRedirects: Int = 10,
        userAgent: String = "arachne/0.1", acceptEncoding: String = "", perHostConnections: Int = 0,
        bodyCap: Int = 1 << 20, maxResponseBytes: Int64 = 64 << 20, keepBodies: Bool = true, resolve: [String] = [],
        insecure: Bool = false, caCertPath: String? = nil, headers: [String] = [], forbidReuse: Bool = false,
        addressPolicy: AddressPolicy? = nil
    ) {
        self.connectTimeoutMs = connectTimeoutMs
        self.totalTimeoutMs = totalTimeoutMs
        self.maxRedirects = maxRedirects
        self.userAgent = userAgent
        self.acceptEncoding = acceptEncoding
        self.perHostConnections = perHostConnections
        self.bodyCap = bodyCap
        self.maxResponseBytes = maxResponseBytes
        self.keepBodies = keepBodies
        self.resolve = resolve
        self.insecure = insecure
        self.caCertPath = caCertPath
        self.headers = headers
        self.forbidReuse = forbidReuse
        self.addressPolicy = addressPolicy
    }
}

/// A crawl job as submitted: its URLs, how often to fetch each, how hard, and how.
public struct JobSpec: Codable, Sendable, Hashable {
    /// The URLs, when they travel in the spec (crawl seeds, `run`, `fetch`, the one-message `submit`). Empty for a
    /// job submitted in chunks: its URLs live in the coordinator's store and `storedURLCount` says how many.
    public var urls: [String]
    /// For a job whose URLs were streamed into the store (chunked submission): how many there are. Nil otherwise.
    public var storedURLCount: Int?
    /// Fetches of each URL.
    public var repeatCount: Int
    /// Requests in flight at once per worker.
    public var concurrency: Int
    public var settings: FetchSettings
    /// A label for people; not unique.
    public var name: String?
    /// Set for a crawl: `urls` are its seeds and links are followed by these options. Nil for a list job.
    public var crawl: CrawlOptionsSpec?

    public init(urls: [String], repeatCount: Int = 1, concurrency: Int = 64, settings: FetchSettings = .init(),
                name: String? = nil, crawl: CrawlOptionsSpec? = nil)
    {
        self.crawl = crawl
        self.urls = urls
        self.repeatCount = repeatCount
        self.concurrency = concurrency
        self.settings = settings
        self.name = name
    }

    /// The job's URLs: those in the spec, or those stored apart for a streamed job.
    public var urlCount: Int { storedURLCount ?? urls.count }

    /// True when the URLs are kept in the store, not in `urls`.
    public var hasStoredURLs: Bool { storedURLCount != nil }

    /// Terminal records the job will have: one per (URL, repetition). For a crawl, the seeds: the rest is discovered.
    public var totalRequests: Int { urlCount * repeatCount }

    /// True for a crawl job.
    public var isCrawl: Bool { crawl != nil }

    enum CodingKeys: String, CodingKey {
        case urls
        case storedURLCount = "url_count"
        case repeatCount = "repeat"
        case concurrency, settings, name, crawl
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        urls = try container.decode([String].self, forKey: .urls)
        storedURLCount = try container.decodeIfPresent(Int.self, forKey: .storedURLCount)
        repeatCount = try container.decode(Int.self, forKey: .repeatCount)
        concurrency = try container.decode(Int.self, forKey: .concurrency)
        settings = try container.decode(FetchSettings.self, forKey: .settings)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        crawl = try container.decodeIfPresent(CrawlOptionsSpec.self, forKey: .crawl)
    }
}
