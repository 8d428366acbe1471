import ArachneCore

/// What the crawl does with one discovered link.
///
/// Scope and filter drops are only counted; a trap ends as a record whose error kind is the `TrapKind` raw value.
public enum LinkVerdict: Sendable, Hashable {
    /// Send the link to the coordinator.
    case follow
    /// Outside the crawl's scope.
    case outOfScope
    /// Dropped by the user's patterns: `include` is true when no include pattern matched (`pattern` then names the
    /// include patterns), false when the exclude `pattern` matched.
    case filtered(pattern: String, include: Bool)
    /// Looks like a crawler trap.
    case trap(TrapKind)
}

/// Every rule that decides whether a discovered link is followed, in one value a worker builds once per job and
/// consults for each link.
///
/// The order is fixed and cheapest-first for the common drop: scope (set lookups, at most one Public Suffix List
/// lookup), then include/exclude patterns (PCRE2), then traps, so most off-site links never reach a regex.
public struct LinkRules: Sendable {
    /// Which links belong to the crawl.
    public var scope: CrawlScope
    /// The user's include/exclude patterns.
    public var filter: URLFilter
    /// The trap defences; nil turns them off.
    public var traps: TrapRules?

    public init(scope: CrawlScope, filter: URLFilter = .passAll, traps: TrapRules? = .standard) {
        self.scope = scope
        self.filter = filter
        self.traps = traps
    }

    /// Judges one link: scope first, then include/exclude patterns, then traps.
    public func judge(_ url: CrawlURL) -> LinkVerdict {
        guard scope.contains(url) else { return .outOfScope }
        if !filter.isEmpty {
            switch filter.verdict(for: url.absolute) {
            case .pass: break
            case .notIncluded(let patterns): return .filtered(pattern: patterns, include: true)
            case .excluded(let pattern): return .filtered(pattern: pattern, include: false)
            }
        }
        if let traps, let kind = traps.trap(in: url) { return .trap(kind) }
        return .follow
    }
}
