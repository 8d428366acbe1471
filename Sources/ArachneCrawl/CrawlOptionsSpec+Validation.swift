import ArachneCore

extension CrawlOptionsSpec {
    /// Checks every option, compiling each pattern; the error names the first bad option (`include[1]`,
    /// `max_depth`) as it is spelled in JSON.
    public func validate() throws(CrawlOptionsError) {
        _ = try validatedFilter()
    }

    /// Checks every option and returns the compiled include/exclude patterns, so building rules compiles them once.
    func validatedFilter() throws(CrawlOptionsError) -> URLFilter {
        if maxDepth < 0 { throw CrawlOptionsError(option: "max_depth", message: "must be 0 or more") }
        if let maxPages, maxPages < 1 {
            throw CrawlOptionsError(option: "max_pages", message: "must be 1 or more")
        }
        if let maxPagesPerHost, maxPagesPerHost < 1 {
            throw CrawlOptionsError(option: "max_pages_per_host", message: "must be 1 or more")
        }
        if !(1...1_000).contains(perHost) {
            throw CrawlOptionsError(option: "per_host", message: "must be between 1 and 1000")
        }
        if !(0...3_600_000).contains(delayMs) {
            throw CrawlOptionsError(option: "delay_ms", message: "must be between 0 and 3600000 (one hour)")
        }
        if !(0...86_400_000).contains(maxCrawlDelayMs) {
            throw CrawlOptionsError(option: "max_crawl_delay_ms", message: "must be between 0 and 86400000 (a day)")
        }
        return try compiledFilter()
    }

    /// The include/exclude patterns, compiled.
    private func compiledFilter() throws(CrawlOptionsError) -> URLFilter {
        func compile(_ patterns: [String], _ key: String) throws(CrawlOptionsError) -> [Regex] {
            var compiled: [Regex] = []
            for (index, pattern) in patterns.enumerated() {
                do {
                    compiled.append(try Regex(pattern))
                } catch {
                    throw CrawlOptionsError(option: "\(key)[\(index)]", message: error.description)
                }
            }
            return compiled
        }
        return URLFilter(include: try compile(include, "include"), exclude: try compile(exclude, "exclude"))
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
