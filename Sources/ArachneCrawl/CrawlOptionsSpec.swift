/// A crawl's link options as they travel from the coordinator to workers, in JSON with snake_case keys. Absent keys
/// take the defaults, so older or terser senders still decode.
public struct CrawlOptionsSpec: Codable, Sendable, Hashable {
    /// How far from the seeds links are followed (default `host`).
    public var scope: CrawlScope.Kind
    /// PCRE2 patterns; when any are given, a link must match one of them.
    public var include: [String]
    /// PCRE2 patterns; a link matching any of them is dropped.
    public var exclude: [String]
    /// The most links followed from a seed to a page (default 20; 0 fetches the seeds only).
    public var maxDepth: Int
    /// The most pages fetched in the whole crawl; nil for no limit.
    public var maxPages: Int?
    /// The most pages fetched from one host; nil for no limit.
    public var maxPagesPerHost: Int?
    /// Whether the trap rules apply (default true).
    public var trapDefences: Bool
    /// Whether `rel="nofollow"` links are followed too (default false).
    public var followNofollow: Bool

    public init(
        scope: CrawlScope.Kind = .host, include: [String] = [], exclude: [String] = [], maxDepth: Int = 20,
        maxPages: Int? = nil, maxPagesPerHost: Int? = nil, trapDefences: Bool = true, followNofollow: Bool = false
    ) {
        self.scope = scope
        self.include = include
        self.exclude = exclude
        self.maxDepth = maxDepth
        self.maxPages = maxPages
        self.maxPagesPerHost = maxPagesPerHost
        self.trapDefences = trapDefences
        self.followNofollow = followNofollow
    }

    enum CodingKeys: String, CodingKey {
        case scope, include, exclude
        case maxDepth = "max_depth"
        case maxPages = "max_pages"
        case maxPagesPerHost = "max_pages_per_host"
        case trapDefences = "trap_defences"
        case followNofollow = "follow_nofollow"
    }

    public init(from decoder: any Decoder) throws {
        let defaults = CrawlOptionsSpec()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scope = try container.decodeIfPresent(CrawlScope.Kind.self, forKey: .scope) ?? defaults.scope
        include = try container.decodeIfPresent([String].self, forKey: .include) ?? defaults.include
        exclude = try container.decodeIfPresent([String].self, forKey: .exclude) ?? defaults.exclude
        maxDepth = try container.decodeIfPresent(Int.self, forKey: .maxDepth) ?? defaults.maxDepth
        maxPages = try container.decodeIfPresent(Int.self, forKey: .maxPages)
        maxPagesPerHost = try container.decodeIfPresent(Int.self, forKey: .maxPagesPerHost)
        trapDefences = try container.decodeIfPresent(Bool.self, forKey: .trapDefences) ?? defaults.trapDefences
        followNofollow = try container.decodeIfPresent(Bool.self, forKey: .followNofollow) ?? defaults.followNofollow
    }

    /// Checks every option, compiling each pattern; the error names the first bad option (`include[1]`,
    /// `max_depth`) as it is spelled in JSON.
    public func validate() throws(CrawlOptionsError) {
        _ = try validatedFilter()
    }

    /// Checks every option and returns the compiled include/exclude patterns, so building rules compiles them once.
    func validatedFilter() throws(CrawlOptionsError) -> URLFilter {
        if maxDepth < 0 { throw CrawlOptionsError(option: CodingKeys.maxDepth.rawValue, message: "must be 0 or more") }
        if let maxPages, maxPages < 1 {
            throw CrawlOptionsError(option: CodingKeys.maxPages.rawValue, message: "must be 1 or more")
        }
        if let maxPagesPerHost, maxPagesPerHost < 1 {
            throw CrawlOptionsError(option: CodingKeys.maxPagesPerHost.rawValue, message: "must be 1 or more")
        }
        return try compiledFilter()
    }

    /// The include/exclude patterns, compiled.
    private func compiledFilter() throws(CrawlOptionsError) -> URLFilter {
        func compile(_ patterns: [String], _ key: CodingKeys) throws(CrawlOptionsError) -> [Regex] {
            var compiled: [Regex] = []
            for (index, pattern) in patterns.enumerated() {
                do {
                    compiled.append(try Regex(pattern))
                } catch {
                    throw CrawlOptionsError(option: "\(key.rawValue)[\(index)]", message: error.description)
                }
            }
            return compiled
        }
        return URLFilter(include: try compile(include, .include), exclude: try compile(exclude, .exclude))
    }
}

/// A crawl option that cannot be used, named as it is spelled in JSON, with what is wrong with it.
public struct CrawlOptionsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The option's JSON name, with an index for list entries: `include[1]`, `max_pages`.
    public let option: String
    /// What is wrong, e.g. PCRE2's message with the pattern and offset.
    public let message: String

    public var description: String { "crawl option \(option): \(message)" }
}

extension LinkRules {
    /// The rules a job's options describe, for a crawl started from `seeds`; throws like `CrawlOptionsSpec.validate`.
    public init(
        options: CrawlOptionsSpec, seeds: [CrawlURL], suffixList: PublicSuffixList = .shared
    ) throws(CrawlOptionsError) {
        let filter = try options.validatedFilter()
        self.init(
            scope: CrawlScope(kind: options.scope, seeds: seeds, suffixList: suffixList), filter: filter,
            traps: options.trapDefences ? .standard : nil)
    }
}
