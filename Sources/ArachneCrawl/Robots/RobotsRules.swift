import ArachneURL

/// An `Allow` or `Disallow` line of a group, kept as written and normalised for matching.
public struct RobotsRule: Sendable, Hashable {
    /// Whether the rule allows or disallows what it matches.
    public enum Kind: String, Sendable, Hashable {
        case allow
        case disallow
    }

    public var kind: Kind
    /// The path pattern as written (`/private*`, `/%7Efred/`, or empty).
    public var pattern: String
    /// The line as written, without its comment (`Disallow: /private*`).
    public var text: String
    public var line: Int
    /// The pattern normalised (`RobotsPattern.normalize`): what is compared, and whose length ranks matches.
    let normalized: [UInt8]

    /// How specific the rule is: the octets of its normalised pattern, `*` and `$` included (RFC 9309 §2.2.2's
    /// "most octets"). An empty pattern matches nothing.
    public var matchLength: Int { normalized.count }
}

/// A `User-agent` line that opened or joined a group.
public struct RobotsAgentLine: Sendable, Hashable {
    public var line: Int
    /// The line as written (`User-agent: Googlebot/2.1`).
    public var text: String
    /// The product token it names, lower-cased (`googlebot`); `*` for the line that names every crawler; empty if
    /// it names none.
    public var token: String
}

/// A group: consecutive `User-agent` lines and the rules after them (RFC 9309 §2.1).
public struct RobotsGroup: Sendable, Hashable {
    public var agents: [RobotsAgentLine]
    public var rules: [RobotsRule] = []
    /// The group's first valid `Crawl-delay`, in seconds, and its line (not in RFC 9309; read by many crawlers).
    public var crawlDelay: (seconds: Double, line: Int)? {
        get { crawlDelaySeconds.map { ($0, crawlDelayLine) } }
        set {
            crawlDelaySeconds = newValue?.seconds
            crawlDelayLine = newValue?.line ?? 0
        }
    }

    private var crawlDelaySeconds: Double?
    private var crawlDelayLine = 0

    init(agents: [RobotsAgentLine]) {
        self.agents = agents
    }
}

/// A parsed robots.txt: parse once, then match many URLs for any crawler (RFC 9309).
///
/// A crawler follows the groups whose user-agent names its product token (compared case-insensitively; groups
/// naming the same token are merged), or else the `*` groups, or else nothing (everything allowed). Within them the
/// rule with the longest normalised pattern that matches the URL's path and query decides; on a tie `Allow` wins;
/// no match allows. `/robots.txt` itself is always allowed. Every verdict names the line that decided it.
public struct RobotsRules: Sendable {
    public private(set) var groups: [RobotsGroup] = []
    /// Every `Sitemap:` value, in file order, wherever it appears (RFC 9309 §2.2.4).
    public private(set) var sitemaps: [String] = []
    /// What the parser and the grouping cut, guessed at or ignored.
    public private(set) var summary: RobotsParseSummary

    /// Parses a robots.txt body (at most `RobotsParser.maxBytes` of it).
    public init(parsing body: [UInt8]) {
        var builder = Builder()
        summary = RobotsParser.parse(body, into: &builder)
        groups = builder.groups
        sitemaps = builder.sitemaps
        // Grouping issues, merged into the parser's in line order.
        let all = (summary.issues + builder.issues.issues).sorted { $0.line < $1.line }
        let kept = Array(all.prefix(RobotsParseSummary.maxIssues))
        summary.issueCount += builder.issues.issueCount
        summary.issues = kept
    }

    /// Parses a robots.txt given as text.
    public init(_ text: String) {
        self.init(parsing: Array(text.utf8))
    }

    /// The product token of a user agent string, lower-cased: its leading run of letters, `_` and `-`
    /// (`Googlebot/2.1 (+http://…)` → `googlebot`); empty when it starts with anything else.
    public static func productToken(_ userAgent: String) -> String {
        // Usually it is one already (a gate's agent is): asked for every page, so no copy then.
        if !userAgent.isEmpty, userAgent.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D }) {
            return userAgent
        }
        let trimmed = userAgent.drop { $0 == " " || $0 == "\t" }
        let token = trimmed.unicodeScalars.prefix { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar == "-"
        }
        return String(String.UnicodeScalarView(token)).lowercased()
    }

    /// What robots.txt matching compares for `url`: its path and query (`/a?b=1`), as the URL serialises them.
    public static func pathAndQuery(of url: WebURL) -> String {
        url.pathAndQuery
    }

    /// Whether `agent` (a product token or a whole user agent string) may fetch `url`, and why.
    public func verdict(for url: WebURL, agent: String) -> RobotsVerdict {
        verdict(forPath: Self.pathAndQuery(of: url), agent: agent)
    }

    /// Whether `agent` may fetch the path-and-query `path` (`/a?b=1`), and why.
    public func verdict(forPath path: String, agent: String) -> RobotsVerdict {
        if path == "/robots.txt" { return RobotsVerdict(isAllowed: true, reason: .robotsTxt) }
        let selected = selectGroups(for: agent)
        guard let first = selected.first else { return RobotsVerdict(isAllowed: true, reason: .noGroup) }
        let normalized = RobotsPattern.normalize(path.utf8)
        var best: (rule: RobotsRule, group: RobotsAgentLine)?
        for (index, agentLine) in selected {
            for rule in groups[index].rules where !rule.normalized.isEmpty {
                if let current = best?.rule {
                    // Longer wins; on equal length Allow wins; otherwise the earlier line stays.
                    let better = rule.matchLength > current.matchLength
                        || (rule.matchLength == current.matchLength && rule.kind == .allow && current.kind == .disallow)
                    guard better else { continue }
                }
                if RobotsPattern.matches(rule.normalized, normalized) { best = (rule, agentLine) }
            }
        }
        guard let best else { return RobotsVerdict(isAllowed: true, reason: .noRuleMatched(group: first.agent)) }
        return RobotsVerdict(isAllowed: best.rule.kind == .allow, reason: .rule(best.rule, group: best.group))
    }

    /// The crawl delay, in seconds, of the groups `agent` follows: the first valid `Crawl-delay` among them in file
    /// order; nil when none (invalid values are ignored, and reported in `summary`).
    public func crawlDelay(for agent: String) -> Double? {
        selectGroups(for: agent).compactMap { groups[$0.index].crawlDelay }.min { $0.line < $1.line }?.seconds
    }

    /// The groups `agent` follows, each with the user-agent line that selected it: those naming its product token,
    /// else those naming `*`.
    func selectGroups(for agent: String) -> [(index: Int, agent: RobotsAgentLine)] {
        let token = Self.productToken(agent)
        var specific: [(index: Int, agent: RobotsAgentLine)] = []
        var global: [(index: Int, agent: RobotsAgentLine)] = []
        for (index, group) in groups.enumerated() {
            if !token.isEmpty, let line = group.agents.first(where: { $0.token == token }) {
                specific.append((index, line))
            } else if let line = group.agents.first(where: { $0.token == "*" }) {
                global.append((index, line))
            }
        }
        return specific.isEmpty ? global : specific
    }

    /// Builds groups from the parser's lines. User-agent lines in a row make one group (sitemaps and unknown keys
    /// between them do not count, RFC 9309 §2.2.4); its first Allow, Disallow or Crawl-delay ends the run of
    /// agents, so the next user-agent line starts a new group.
    private struct Builder: RobotsParseHandler {
        var groups: [RobotsGroup] = []
        var sitemaps: [String] = []
        var issues = RobotsParseSummary()
        var collectingAgents = false

        mutating func handle(_ line: RobotsLine) {
            switch line.key {
            case .userAgent:
                let agent = Self.agentLine(line)
                if agent.token.isEmpty { issues.record(RobotsIssue(line: line.number, kind: .emptyUserAgent)) }
                if collectingAgents, !groups.isEmpty {
                    groups[groups.count - 1].agents.append(agent)
                } else {
                    groups.append(RobotsGroup(agents: [agent]))
                    collectingAgents = true
                }
            case .allow, .disallow:
                guard !groups.isEmpty else {
                    issues.record(RobotsIssue(line: line.number, kind: .ruleOutsideGroup))
                    return
                }
                collectingAgents = false
                let rule = RobotsRule(
                    kind: line.key == .allow ? .allow : .disallow, pattern: line.value, text: line.text,
                    line: line.number, normalized: RobotsPattern.normalize(line.value.utf8))
                groups[groups.count - 1].rules.append(rule)
            case .crawlDelay:
                guard !groups.isEmpty, let seconds = Self.seconds(line.value) else {
                    issues.record(RobotsIssue(line: line.number, kind: .invalidCrawlDelay))
                    return
                }
                collectingAgents = false
                if groups[groups.count - 1].crawlDelay == nil {
                    groups[groups.count - 1].crawlDelay = (seconds, line.number)
                }
            case .sitemap:
                if !line.value.isEmpty { sitemaps.append(line.value) }
            case .unknown(let key):
                issues.record(RobotsIssue(line: line.number, kind: .unknownKey(key)))
            }
        }

        /// `*` (alone, or followed by whitespace and anything, as Google reads it) names every crawler; anything
        /// else names the product token it starts with.
        static func agentLine(_ line: RobotsLine) -> RobotsAgentLine {
            let value = line.value
            let afterStar = value.hasPrefix("*") ? value.dropFirst().first : nil
            let isGlobal = value == "*" || afterStar == " " || afterStar == "\t"
            return RobotsAgentLine(line: line.number, text: line.text,
                                   token: isGlobal ? "*" : RobotsRules.productToken(value))
        }

        /// A crawl delay: digits with at most one `.` (no sign, exponent, hex, infinity or NaN).
        static func seconds(_ value: String) -> Double? {
            var dots = 0
            var digits = 0
            for byte in value.utf8 {
                if byte == UInt8(ascii: ".") {
                    dots += 1
                } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    digits += 1
                } else {
                    return nil
                }
            }
            guard digits > 0, dots <= 1, let seconds = Double(value), seconds.isFinite else { return nil }
            return seconds
        }
    }
}

/// Whether a URL may be fetched, and what decided it: a rule (with its line and its group's user-agent line), no
/// rule, no group, or the state of the robots.txt fetch itself.
public struct RobotsVerdict: Sendable, Hashable, CustomStringConvertible {
    /// What decided a verdict.
    public enum Reason: Sendable, Hashable {
        /// The longest matching rule, in the group selected by this user-agent line.
        case rule(RobotsRule, group: RobotsAgentLine)
        /// The agent has a group (this user-agent line selected it), but no rule matches: allowed.
        case noRuleMatched(group: RobotsAgentLine)
        /// No group names the agent and there is no `*` group: allowed.
        case noGroup
        /// `/robots.txt` is always allowed (RFC 9309 §2.3).
        case robotsTxt
        /// robots.txt is unavailable (4xx, too many redirects): everything allowed, for this reason.
        case allowAll(String)
        /// robots.txt is unreachable (5xx, network): everything disallowed for now, for this reason.
        case disallowAll(String)
    }

    public var isAllowed: Bool
    public var reason: Reason

    public init(isAllowed: Bool, reason: Reason) {
        self.isAllowed = isAllowed
        self.reason = reason
    }

    /// The deciding rule or condition, for people: `line 5: Disallow: /private (group: line 2: User-agent: *)`.
    public var description: String {
        switch reason {
        case .rule(let rule, let group): "line \(rule.line): \(rule.text) (group: line \(group.line): \(group.text))"
        case .noRuleMatched(let group): "no rule matched (group: line \(group.line): \(group.text))"
        case .noGroup: "no group for this agent"
        case .robotsTxt: "/robots.txt is always allowed"
        case .allowAll(let why): "everything allowed: \(why)"
        case .disallowAll(let why): "everything disallowed for now: \(why)"
        }
    }
}
