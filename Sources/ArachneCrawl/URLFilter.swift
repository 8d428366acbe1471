import ArachneCore

/// The user's include and exclude patterns: a URL passes when it matches at least one include pattern (if there are
/// any) and no exclude pattern. Patterns are PCRE2 searches over the whole canonical URL string.
public struct URLFilter: Sendable {
    /// What the filter decided, naming the pattern that decided it.
    public enum Verdict: Sendable, Hashable {
        /// Passed; `include` is the include pattern that matched, nil when there are no include patterns.
        case pass(include: String?)
        /// No include pattern matched; `patterns` names them (the one pattern, or all of them joined by ` | `).
        case notIncluded(patterns: String)
        /// This exclude pattern matched.
        case excluded(pattern: String)
    }

    /// The include patterns, in the order given.
    public let include: [Regex]
    /// The exclude patterns, in the order given.
    public let exclude: [Regex]
    private let includeSummary: String

    /// A filter that passes everything.
    public static let passAll = URLFilter(include: [Regex](), exclude: [])

    public init(include: [Regex], exclude: [Regex]) {
        self.include = include
        self.exclude = exclude
        self.includeSummary = include.map(\.pattern).joined(separator: " | ")
    }

    /// Compiles each pattern; throws for the first that is invalid.
    public init(include: [String], exclude: [String]) throws(RegexError) {
        var compiledInclude: [Regex] = []
        for pattern in include { compiledInclude.append(try Regex(pattern)) }
        var compiledExclude: [Regex] = []
        for pattern in exclude { compiledExclude.append(try Regex(pattern)) }
        self.init(include: compiledInclude, exclude: compiledExclude)
    }

    /// Whether there is nothing to check (no patterns at all).
    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty }

    /// Judges `url` (the canonical URL string): include patterns first, stopping at the first match, then excludes.
    public func verdict(for url: String) -> Verdict {
        var matchedInclude: String?
        if !include.isEmpty {
            guard let hit = include.first(where: { $0.matches(url) }) else {
                return .notIncluded(patterns: includeSummary)
            }
            matchedInclude = hit.pattern
        }
        if let hit = exclude.first(where: { $0.matches(url) }) {
            return .excluded(pattern: hit.pattern)
        }
        return .pass(include: matchedInclude)
    }
}
