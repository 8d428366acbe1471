import ArachneCore

extension Report {
    /// The crawl section of a report (`crawl` in report.json; absent for list jobs): where the pages were, what they
    /// were, what became of their links, what the crawl skipped, and how its frontier grew and drained.
    public struct Crawl: Codable, Sendable, Hashable {
        /// Pages (records of fetched URLs, any status or failure; skips excluded) by depth, keys "0", "1", ….
        public var pagesByDepth: [String: Int]
        /// Pages by their response's media type; pages without one are not counted. Types beyond the aggregator's
        /// limit are pooled as `(other)`.
        public var pagesByContentType: [String: Int]
        /// What became of extracted links.
        public var links: CrawlLinkCounts
        /// Skip records by kind (`max-depth`, `robots`, …).
        public var skipped: [String: Int]
        public var frontier: Frontier
        /// The hosts with the most pages, most first, at most `ReportAggregator.crawlHostRows`.
        public var hosts: [Host]
        /// The politeness audit: what the crawl did to each host, measured where the requests were made.
        public var politeness: Politeness?

        public init(
            pagesByDepth: [String: Int], pagesByContentType: [String: Int], links: CrawlLinkCounts,
            skipped: [String: Int], frontier: Frontier, hosts: [Host], politeness: Politeness? = nil
        ) {
            self.pagesByDepth = pagesByDepth
            self.pagesByContentType = pagesByContentType
            self.links = links
            self.skipped = skipped
            self.frontier = frontier
            self.hosts = hosts
            self.politeness = politeness
        }

        /// Pages at every depth together (equals `summary.requests` when every record carries a depth).
        public var pages: Int { pagesByDepth.values.reduce(0, +) }
        /// Skip records of every kind together (`summary.skipped`).
        public var skippedTotal: Int { skipped.values.reduce(0, +) }
        /// `pagesByDepth` as (depth, pages) pairs, shallowest first.
        public var depthRows: [(depth: Int, pages: Int)] {
            pagesByDepth.compactMap { key, pages in Int(key).map { ($0, pages) } }.sorted { $0.depth < $1.depth }
        }

        /// The crawl's frontier: URLs waiting to be fetched.
        public struct Frontier: Codable, Sendable, Hashable {
            /// Distinct in-scope URLs the crawl found, seeds included: fetched, skipped or still waiting.
            public var discovered: Int
            /// URLs waiting in the frontier at the last sample (0 once a crawl has finished).
            public var remaining: Int
            /// The largest frontier size sampled.
            public var peak: Int

            public init(discovered: Int, remaining: Int, peak: Int) {
                self.discovered = discovered
                self.remaining = remaining
                self.peak = peak
            }
        }

        /// One host's pages.
        public struct Host: Codable, Sendable, Hashable {
            /// The URL authority (`name[:port]`), as in the report's `hosts`.
            public var host: String
            public var pages: Int

            public init(host: String, pages: Int) {
                self.host = host
                self.pages = pages
            }
        }

        enum CodingKeys: String, CodingKey {
            case pagesByDepth = "pages_by_depth"
            case pagesByContentType = "pages_by_content_type"
            case links, skipped, frontier, hosts, politeness
        }
    }

    /// The politeness audit of a crawl (`crawl.politeness`): per host, requests, the most in flight at once, the
    /// smallest gap between request starts, the delay in force and where it came from, 429/503 answers, retries and
    /// robots.txt. `hosts_breaking_limits` names any host whose figures broke its own limits: there should be none.
    public struct Politeness: Codable, Sendable, Hashable {
        /// Hosts the crawl sent requests to (or held pages of).
        public var hostCount: Int
        public var hostsBreakingLimits: [String]
        /// Hosts breaking limits first, then the busiest, at most `ReportAggregator.politenessRows`.
        public var hosts: [HostAudit]
        /// The busiest hosts' first requests on a timeline (at most `ReportAggregator.timelineRows` hosts).
        public var timelines: [HostTimeline]

        public init(hostCount: Int, hostsBreakingLimits: [String], hosts: [HostAudit], timelines: [HostTimeline] = []) {
            self.hostCount = hostCount
            self.hostsBreakingLimits = hostsBreakingLimits
            self.hosts = hosts
            self.timelines = timelines
        }

        enum CodingKeys: String, CodingKey {
            case hostCount = "host_count"
            case hostsBreakingLimits = "hosts_breaking_limits"
            case hosts, timelines
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            hostCount = try container.decode(Int.self, forKey: .hostCount)
            hostsBreakingLimits = try container.decode([String].self, forKey: .hostsBreakingLimits)
            hosts = try container.decode([HostAudit].self, forKey: .hosts)
            timelines = try container.decodeIfPresent([HostTimeline].self, forKey: .timelines) ?? []
        }
    }

    /// A host's first responses (up to 400), each as [start, end] in milliseconds from the first one's start: when
    /// each transfer ran, as the records tell it.
    public struct HostTimeline: Codable, Sendable, Hashable {
        public var host: String
        public var spansMs: [[Int]]

        public init(host: String, spansMs: [[Int]]) {
            self.host = host
            self.spansMs = spansMs
        }

        enum CodingKeys: String, CodingKey {
            case host
            case spansMs = "spans_ms"
        }
    }
}
