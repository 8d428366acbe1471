/// What became of the links a crawl extracted, counted where each decision is made (a worker parsing a page, the
/// coordinator's scope check, filters and seen-set) and merged into the job's report. A value that merges, so each
/// producer keeps its own and hands over a batch's worth at a time.
///
/// Each extracted link that resolves to http(s) ends in exactly one bucket (links that do not parse, or lead to
/// another scheme such as `mailto:`, are no links of the crawl and are not counted): `nofollow` links are not
/// followable and so not `found`; every `found` link is then `outOfScope`, `filtered`, `duplicate` or `new`. Only `new` links enter the frontier, and
/// dropped ones leave no record.
public struct CrawlLinkCounts: Codable, Sendable, Hashable {
    /// Followable links extracted from fetched pages.
    public var found = 0
    /// Found links whose URL the crawl had not seen before; they enter the frontier.
    public var new = 0
    /// Found links whose URL the crawl had already seen (fetched, queued or skipped).
    public var duplicate = 0
    /// Found links outside the crawl's scope (another host or prefix).
    public var outOfScope = 0
    /// Links marked `rel="nofollow"` (or on a page whose robots meta tag says nofollow), not followed.
    public var nofollow = 0
    /// Found links dropped by a filter, by rule: `exclude:PATTERN` for the exclude pattern that matched, `include`
    /// for links no include pattern matched.
    public var filtered: [String: Int] = [:]

    public init(
        found: Int = 0, new: Int = 0, duplicate: Int = 0, outOfScope: Int = 0, nofollow: Int = 0,
        filtered: [String: Int] = [:]
    ) {
        self.found = found
        self.new = new
        self.duplicate = duplicate
        self.outOfScope = outOfScope
        self.nofollow = nofollow
        self.filtered = filtered
    }

    /// True when nothing was counted.
    public var isEmpty: Bool { self == CrawlLinkCounts() }

    /// Links dropped by every filter rule together.
    public var filteredTotal: Int { filtered.values.reduce(0, +) }

    /// Counts `count` followable links extracted from a page.
    public mutating func addFound(_ count: Int = 1) { found += count }
    /// Counts links that were new to the crawl's seen-set.
    public mutating func addNew(_ count: Int = 1) { new += count }
    /// Counts links the seen-set already held.
    public mutating func addDuplicate(_ count: Int = 1) { duplicate += count }
    /// Counts links outside the crawl's scope.
    public mutating func addOutOfScope(_ count: Int = 1) { outOfScope += count }
    /// Counts nofollow links.
    public mutating func addNofollow(_ count: Int = 1) { nofollow += count }
    /// Counts links dropped by `rule` (`exclude:PATTERN` or `include`).
    public mutating func addFiltered(by rule: String, _ count: Int = 1) { filtered[rule, default: 0] += count }

    /// Adds everything `other` counted.
    public mutating func merge(_ other: CrawlLinkCounts) {
        found += other.found
        new += other.new
        duplicate += other.duplicate
        outOfScope += other.outOfScope
        nofollow += other.nofollow
        filtered.merge(other.filtered, uniquingKeysWith: +)
    }

    enum CodingKeys: String, CodingKey {
        case found, new, duplicate
        case outOfScope = "out_of_scope"
        case nofollow, filtered
    }
}
