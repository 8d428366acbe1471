import ArachneCore

extension Report {
    /// False for a report written before reports had URL tables (`arachne.report/1`): its empty tables say nothing.
    public var hasURLTables: Bool { schema != "arachne.report/1" }

    /// One of the job's slowest URLs: the slowest response it got (by `total`), with where and when it was fetched.
    /// A URL appears once however many times it was fetched.
    public struct SlowURL: Codable, Sendable, Hashable {
        public var url: String
        /// The record's `url_index`; nil for a record written before records had one.
        public var urlIndex: Int?
        public var repetition: Int
        /// The worker that fetched it.
        public var worker: String
        /// The HTTP status of the response.
        public var status: Int
        /// The failure kind when the response still counted as failed (`too-large`, a reset mid-body); else nil.
        public var error: String?
        /// Every phase of that request, in microseconds, as in its record.
        public var timings: PhaseTimings

        public init(
            url: String, urlIndex: Int?, repetition: Int, worker: String, status: Int, error: String?,
            timings: PhaseTimings
        ) {
            self.url = url
            self.urlIndex = urlIndex
            self.repetition = repetition
            self.worker = worker
            self.status = status
            self.error = error
            self.timings = timings
        }

        /// The entry for one record.
        public init(_ record: FetchRecord) {
            self.init(
                url: record.url, urlIndex: record.urlIndex, repetition: record.repetition, worker: record.worker,
                status: record.status, error: record.error?.kind.rawValue, timings: record.timings)
        }

        enum CodingKeys: String, CodingKey {
            case url
            case urlIndex = "url_index"
            case repetition, worker, status, error, timings
        }

        // `url_index` and `error` are written as null rather than left out: the contract has every key.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(url, forKey: .url)
            try container.encode(urlIndex, forKey: .urlIndex)
            try container.encode(repetition, forKey: .repetition)
            try container.encode(worker, forKey: .worker)
            try container.encode(status, forKey: .status)
            try container.encode(error, forKey: .error)
            try container.encode(timings, forKey: .timings)
        }
    }

    /// One of the URLs with the most failed requests (cancelled ones are not failures). Counted with Space-Saving
    /// (`FailingURLs`): `failures` is exact when `overcount` is 0, and otherwise an upper bound that is at most
    /// `overcount` too high.
    public struct FailingURL: Codable, Sendable, Hashable {
        public var url: String
        /// The lowest `url_index` among its failures counted; nil for records written before records had one.
        public var urlIndex: Int?
        /// Failed requests of the URL (an upper bound when `overcount` > 0).
        public var failures: Int
        /// How many of `failures` may belong to other URLs: 0 means exact.
        public var overcount: Int
        /// Its failures by error kind, as counted while the URL was tracked: they add up to
        /// `failures − overcount`.
        public var errors: [String: Int]

        public init(url: String, urlIndex: Int?, failures: Int, overcount: Int, errors: [String: Int]) {
            self.url = url
            self.urlIndex = urlIndex
            self.failures = failures
            self.overcount = overcount
            self.errors = errors
        }

        enum CodingKeys: String, CodingKey {
            case url
            case urlIndex = "url_index"
            case failures, overcount, errors
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(url, forKey: .url)
            try container.encode(urlIndex, forKey: .urlIndex)
            try container.encode(failures, forKey: .failures)
            try container.encode(overcount, forKey: .overcount)
            try container.encode(errors, forKey: .errors)
        }
    }
}
