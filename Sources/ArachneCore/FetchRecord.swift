/// Identifies one unit of work in a job: the index of a URL in the job's URL list and the repetition.
/// Every key of a job ends with exactly one terminal `FetchRecord`.
public struct RequestKey: Hashable, Sendable, Codable, Comparable {
    public var urlIndex: Int
    public var repetition: Int

    public init(urlIndex: Int, repetition: Int) {
        self.urlIndex = urlIndex
        self.repetition = repetition
    }

    public static func < (a: RequestKey, b: RequestKey) -> Bool {
        (a.urlIndex, a.repetition) < (b.urlIndex, b.repetition)
    }
}

/// Where a body is stored: a WARC file beside the report, the byte range of its gzip member, and its digest.
public struct BodyReference: Codable, Sendable, Hashable {
    /// The WARC file, relative to the report's directory.
    public var file: String
    /// Offset of the gzip member holding the response record.
    public var offset: Int64
    /// Length of that gzip member in bytes.
    public var length: Int64
    /// The payload digest as written in WARC-Payload-Digest (`sha1:BASE32`).
    public var digest: String
    /// True when the stored payload was cut at the body cap.
    public var truncated: Bool

    public init(file: String, offset: Int64, length: Int64, digest: String, truncated: Bool) {
        self.file = file
        self.offset = offset
        self.length = length
        self.digest = digest
        self.truncated = truncated
    }
}

/// The terminal record of one (URL, repetition): fetched, failed with a classified error, or cancelled; in a crawl,
/// also a URL the crawl skipped (`error.kind.isSkip`). One line of `records.ndjson`.
///
/// The crawl fields (`depth` … `location`) are nil for list jobs, and records.ndjson then leaves their keys out.
public struct FetchRecord: Codable, Sendable, Hashable {
    public var url: String
    /// The key's URL index: in a list job the URL's 0-based position in the job's URL list (the same for every
    /// repetition; a URL listed twice has two), in a crawl the URL's discovery number (seeds 0…n−1, then each URL
    /// in the order the frontier admitted it). Nil in records written before it was recorded.
    public var urlIndex: Int?
    public var repetition: Int
    /// The worker that produced the record ("local" for `arachne fetch`).
    public var worker: String
    /// How many times the request was leased out (1 unless a worker was lost and it was re-leased).
    public var attempts: Int
    /// HTTP status, 0 when no response.
    public var status: Int
    /// Body bytes received (decoded).
    public var bytes: Int64
    public var finalURL: String
    public var redirects: Int
    public var timings: PhaseTimings
    public var error: FetchFailure?
    public var body: BodyReference?
    /// When the request finished, in seconds since the Unix epoch.
    public var finishedAt: Double

    // Crawl fields: nil in list jobs.

    /// Link hops from a seed (seeds are 0; a redirect target keeps its source's depth).
    public var depth: Int?
    /// The URL of the page this URL was first found on (or redirected from); nil for seeds.
    public var parent: String?
    /// How the crawl came to this URL.
    public var via: CrawlVia?
    /// Followable links found on the page (nil when the page was not parsed for links).
    public var links: Int?
    /// The response's media type, lower-case, without parameters (`text/html`); nil without a response or header.
    public var contentType: String?
    /// A 3xx response's `Location` header, resolved; in crawl mode the target enters the frontier.
    public var location: String?

    public init(
        url: String, urlIndex: Int? = nil, repetition: Int, worker: String, attempts: Int, status: Int,
        bytes: Int64, finalURL: String, redirects: Int, timings: PhaseTimings, error: FetchFailure?,
        body: BodyReference?, finishedAt: Double,
        depth: Int? = nil, parent: String? = nil, via: CrawlVia? = nil, links: Int? = nil,
        contentType: String? = nil, location: String? = nil
    ) {
        self.url = url
        self.urlIndex = urlIndex
        self.repetition = repetition
        self.worker = worker
        self.attempts = attempts
        self.status = status
        self.bytes = bytes
        self.finalURL = finalURL
        self.redirects = redirects
        self.timings = timings
        self.error = error
        self.body = body
        self.finishedAt = finishedAt
        self.depth = depth
        self.parent = parent
        self.via = via
        self.links = links
        self.contentType = contentType
        self.location = location
    }

    enum CodingKeys: String, CodingKey {
        case url
        case urlIndex = "url_index"
        case repetition, worker, attempts, status, bytes
        case finalURL = "final_url"
        case redirects, timings, error, body
        case finishedAt = "finished_at"
        case depth, parent, via, links
        case contentType = "content_type"
        case location
    }

    /// True when a response arrived without a failure (any status).
    public var succeeded: Bool { error == nil && status > 0 }

    /// True for a URL a crawl decided not to fetch: not a request, counted as `skipped` in reports.
    public var skipped: Bool { error?.kind.isSkip == true }

    /// True for a request cancelled with its job (never fetched, or its result never came): counted apart from
    /// failures in reports.
    public var isCancelled: Bool { error?.kind == .cancelled && status == 0 }

    /// True when any crawl field is set: records.ndjson then writes all six crawl keys (null where unset).
    public var hasCrawlFields: Bool {
        depth != nil || parent != nil || via != nil || links != nil || contentType != nil || location != nil
    }
}
