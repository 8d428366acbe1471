import ArachneURL
import Testing

@testable import ArachneCrawl

/// One row: a robots.txt, a crawler, a path, and what must decide it.
struct RobotsCase: Sendable, CustomTestStringConvertible {
    let section: String
    let robots: String
    let agent: String
    let path: String
    let allowed: Bool
    /// The deciding rule's line; nil when no rule decides (no match, no group, /robots.txt).
    let line: Int?

    init(_ section: String, _ robots: String, _ agent: String, _ path: String, _ allowed: Bool, _ line: Int?) {
        self.section = section
        self.robots = robots
        self.agent = agent
        self.path = path
        self.allowed = allowed
        self.line = line
    }

    var testDescription: String { "§\(section): \(agent) \(path)" }
}

@Suite struct RobotsRulesTests {
    static let cases: [RobotsCase] = [
        // §2.1 Protocol definition: groups of user-agent lines and the rules after them.
        .init("2.1 groups", "user-agent: a\ndisallow: /x\n\nuser-agent: b\ndisallow: /y", "a", "/x", false, 2),
        .init("2.1 groups", "user-agent: a\ndisallow: /x\n\nuser-agent: b\ndisallow: /y", "a", "/y", true, nil),
        .init("2.1 groups", "user-agent: a\ndisallow: /x\n\nuser-agent: b\ndisallow: /y", "b", "/y", false, 5),
        .init("2.1 rule before any group", "disallow: /\nuser-agent: *\nallow: /a", "a", "/b", true, nil),
        .init("2.1 consecutive agents share a group", "user-agent: a\nuser-agent: b\ndisallow: /", "b", "/x", false, 3),
        .init("2.1 agent after rules starts a group", "user-agent: a\ndisallow: /x\nuser-agent: b\ndisallow: /y",
              "b", "/x", true, nil),
        .init("2.1 blank lines stay in the group", "user-agent: a\n\n\ndisallow: /x", "a", "/x", false, 4),
        .init("2.1 comment lines stay in the group", "user-agent: a\n# note\ndisallow: /x", "a", "/x", false, 3),
        .init("2.1 empty file", "", "a", "/x", true, nil),

        // §2.2.1 The user-agent line.
        .init("2.2.1 case-insensitive", "User-agent: ExampleBot\nDisallow: /", "examplebot", "/x", false, 2),
        .init("2.2.1 case-insensitive", "User-agent: examplebot\nDisallow: /", "EXAMPLEBOT", "/x", false, 2),
        .init("2.2.1 product token of our UA", "User-agent: ExampleBot\nDisallow: /", "ExampleBot/1.0 (+http://x)",
              "/x", false, 2),
        .init("2.2.1 product token of the line", "User-agent: ExampleBot/2.1\nDisallow: /", "examplebot", "/x",
              false, 2),
        .init("2.2.1 no prefix match", "User-agent: ExampleBotNews\nDisallow: /", "ExampleBot", "/x", true, nil),
        .init("2.2.1 no prefix match", "User-agent: Example\nDisallow: /", "ExampleBot", "/x", true, nil),
        .init("2.2.1 _ and - in tokens", "User-agent: my_bot-x\nDisallow: /", "My_Bot-X/3", "/x", false, 2),
        .init("2.2.1 same agent merged", "user-agent: a\ndisallow: /x\nuser-agent: b\ndisallow: /y\n"
              + "user-agent: a\ndisallow: /z", "a", "/z", false, 6),
        .init("2.2.1 same agent merged", "user-agent: a\ndisallow: /x\nuser-agent: b\ndisallow: /y\n"
              + "user-agent: a\ndisallow: /z", "a", "/x", false, 2),
        .init("2.2.1 same agent merged", "user-agent: a\ndisallow: /x\nuser-agent: b\ndisallow: /y\n"
              + "user-agent: a\ndisallow: /z", "a", "/y", true, nil),
        .init("2.2.1 * when no group matches", "user-agent: *\ndisallow: /\nuser-agent: a\nallow: /x", "b", "/y",
              false, 2),
        .init("2.2.1 * not when a group matches", "user-agent: *\ndisallow: /\nuser-agent: a\nallow: /x", "a",
              "/y", true, nil),
        .init("2.2.1 * groups merged", "user-agent: *\ndisallow: /x\nuser-agent: a\nallow: /\nuser-agent: *\n"
              + "disallow: /y", "b", "/y", false, 6),
        .init("2.2.1 * with a comment", "User-agent: * # everyone\nDisallow: /", "b", "/x", false, 2),
        .init("2.2.1 * followed by words (Google)", "User-agent: * everyone\nDisallow: /", "b", "/x", false, 2),
        .init("2.2.1 no group for the agent", "user-agent: a\ndisallow: /", "b", "/x", true, nil),
        .init("2.2.1 a name and * in one group", "user-agent: a\nuser-agent: *\ndisallow: /", "a", "/x", false, 3),

        // §2.2.2 Allow and disallow: longest match, Allow on a tie, empty values, percent-encoding.
        .init("2.2.2 longest match", "user-agent: *\nallow: /p\ndisallow: /p/q", "a", "/p/q/r", false, 3),
        .init("2.2.2 longest match", "user-agent: *\ndisallow: /p\nallow: /p/q", "a", "/p/q", true, 3),
        .init("2.2.2 longest match", "user-agent: *\ndisallow: /p\nallow: /p/q", "a", "/p/r", false, 2),
        .init("2.2.2 longest, not first or last", "user-agent: *\ndisallow: /a\nallow: /a/b/c\ndisallow: /a/b",
              "a", "/a/b/c/d", true, 3),
        .init("2.2.2 tie: allow wins", "user-agent: *\ndisallow: /p\nallow: /p", "a", "/p", true, 3),
        .init("2.2.2 tie: allow wins", "user-agent: *\nallow: /p\ndisallow: /p", "a", "/p", true, 2),
        .init("2.2.2 tie with wildcards", "user-agent: *\ndisallow: /p/\nallow: /p*", "a", "/p/x", true, 3),
        .init("2.2.2 tie after normalising", "user-agent: *\ndisallow: /a~\nallow: /a%7E", "a", "/a~", true, 3),
        .init("2.2.2 empty disallow", "user-agent: *\ndisallow:", "a", "/x", true, nil),
        .init("2.2.2 empty disallow", "user-agent: *\ndisallow: \nallow:", "a", "/", true, nil),
        .init("2.2.2 empty allow does not allow", "user-agent: *\nallow:\ndisallow: /", "a", "/x", false, 3),
        .init("2.2.2 prefix match", "user-agent: *\ndisallow: /fish", "a", "/fish.html", false, 2),
        .init("2.2.2 prefix match", "user-agent: *\ndisallow: /fish", "a", "/fis", true, nil),
        .init("2.2.2 case-sensitive path", "user-agent: *\ndisallow: /fish", "a", "/Fish", true, nil),
        .init("2.2.2 query compared", "user-agent: *\ndisallow: /a?b=1", "a", "/a?b=1&c", false, 2),
        .init("2.2.2 query compared", "user-agent: *\ndisallow: /a?b=1", "a", "/a?b=2", true, nil),
        .init("2.2.2 %7E matches ~", "user-agent: *\ndisallow: /%7Efred", "a", "/~fred/x", false, 2),
        .init("2.2.2 ~ matches %7e", "user-agent: *\ndisallow: /~fred", "a", "/%7efred/x", false, 2),
        .init("2.2.2 unreserved decoded", "user-agent: *\ndisallow: /foo/bar/baz", "a", "/foo/bar/%62%61%7A",
              false, 2),
        .init("2.2.2 reserved stays encoded", "user-agent: *\ndisallow: /a%2Fb", "a", "/a/b", true, nil),
        .init("2.2.2 reserved stays encoded", "user-agent: *\ndisallow: /a/b", "a", "/a%2Fb", true, nil),
        .init("2.2.2 hex case", "user-agent: *\ndisallow: /a%2fb", "a", "/a%2Fb", false, 2),
        .init("2.2.2 UTF-8 pattern", "user-agent: *\ndisallow: /foo/bar/ツ", "a", "/foo/bar/%E3%83%84", false, 2),
        .init("2.2.2 UTF-8 path", "user-agent: *\ndisallow: /foo/bar/%E3%83%84", "a", "/foo/bar/ツ", false, 2),
        .init("2.2.2 encoded UTF-8", "user-agent: *\ndisallow: /foo/bar/%e3%83%84", "a", "/foo/bar/%E3%83%84",
              false, 2),
        .init("2.2.2 space in a pattern", "user-agent: *\ndisallow: /a b", "a", "/a%20b", false, 2),

        // §2.2.3 Special characters: *, $ and #.
        .init("2.2.3 *", "user-agent: *\ndisallow: /*.php", "a", "/a/b.php?x", false, 2),
        .init("2.2.3 *", "user-agent: *\ndisallow: /*.php", "a", "/a/b.PHP", true, nil),
        .init("2.2.3 * at the end", "user-agent: *\ndisallow: /fish*", "a", "/fish", false, 2),
        .init("2.2.3 **", "user-agent: *\ndisallow: /**/x", "a", "/a/b/x", false, 2),
        .init("2.2.3 $", "user-agent: *\ndisallow: /*.php$", "a", "/x.php", false, 2),
        .init("2.2.3 $", "user-agent: *\ndisallow: /*.php$", "a", "/x.php?y", true, nil),
        .init("2.2.3 $ exact", "user-agent: *\nallow: /$\ndisallow: /", "a", "/", true, 2),
        .init("2.2.3 $ exact", "user-agent: *\nallow: /$\ndisallow: /", "a", "/x", false, 3),
        .init("2.2.3 $ not at the end is literal", "user-agent: *\ndisallow: /a$b", "a", "/a$b", false, 2),
        .init("2.2.3 $ not at the end is literal", "user-agent: *\ndisallow: /a$b", "a", "/a", true, nil),
        .init("2.2.3 # starts a comment", "user-agent: *\ndisallow: /a#b", "a", "/ax", false, 2),
        .init("2.2.3 %23 is a literal #", "user-agent: *\ndisallow: /a%23b", "a", "/a%23b", false, 2),
        .init("2.2.3 %2A is a literal *", "user-agent: *\ndisallow: /a%2Ab", "a", "/axb", true, nil),
        .init("2.2.3 %24 is a literal $", "user-agent: *\ndisallow: /a%24", "a", "/a%24x", false, 2),
        .init("2.2.3 pathological wildcards", "user-agent: *\ndisallow: /*a*a*a*a*a*a*a*a*a*a*b",
              "a", "/" + String(repeating: "a", count: 5000), true, nil),

        // §2.2.4 Other records do not split groups or decide anything.
        .init("2.2.4 sitemap between agents", "user-agent: a\nsitemap: https://x/s.xml\nuser-agent: b\ndisallow: /",
              "a", "/x", false, 4),
        .init("2.2.4 unknown key between agents", "user-agent: a\nfoo: bar\nuser-agent: b\ndisallow: /", "a", "/x",
              false, 4),
        .init("2.2.4 crawl-delay in a group", "user-agent: a\ncrawl-delay: 3\ndisallow: /", "a", "/x", false, 3),

        // §2.3 Access method: /robots.txt is always allowed.
        .init("2.3 /robots.txt", "user-agent: *\ndisallow: /", "a", "/robots.txt", true, nil),
        .init("2.3 /robots.txt", "user-agent: *\ndisallow: /robots.txt", "a", "/robots.txt", true, nil),
        .init("2.3 not other paths", "user-agent: *\ndisallow: /", "a", "/robots.txt.bak", false, 2),
    ]

    @Test(arguments: cases)
    func verdict(_ row: RobotsCase) {
        let rules = RobotsRules(row.robots)
        let verdict = rules.verdict(forPath: row.path, agent: row.agent)
        #expect(verdict.isAllowed == row.allowed, "\(verdict)")
        #expect(Self.decidingLine(verdict) == row.line, "\(verdict)")
    }

    static func decidingLine(_ verdict: RobotsVerdict) -> Int? {
        if case .rule(let rule, _) = verdict.reason { return rule.line }
        return nil
    }

    @Test func verdictNamesTheRuleAndTheGroupAsWritten() {
        let rules = RobotsRules("# shop\nUser-Agent: ExampleBot\nUSER-AGENT: other\nDISALLOW : /cart  # no carts\n")
        let verdict = rules.verdict(forPath: "/cart/1", agent: "other")
        guard case .rule(let rule, let group) = verdict.reason else {
            Issue.record("expected a rule, got \(verdict)")
            return
        }
        #expect(rule.kind == .disallow)
        #expect(rule.pattern == "/cart")
        #expect(rule.text == "DISALLOW : /cart")
        #expect(rule.line == 4)
        #expect(group.line == 3)
        #expect(group.text == "USER-AGENT: other")
        #expect(verdict.description == "line 4: DISALLOW : /cart (group: line 3: USER-AGENT: other)")
    }

    @Test func otherReasonsAreNamed() {
        let rules = RobotsRules("user-agent: a\ndisallow: /x\n")
        let none = rules.verdict(forPath: "/y", agent: "a")
        #expect(none.reason == .noRuleMatched(group: RobotsAgentLine(line: 1, text: "user-agent: a", token: "a")))
        #expect(none.description == "no rule matched (group: line 1: user-agent: a)")
        #expect(rules.verdict(forPath: "/x", agent: "b").reason == .noGroup)
        #expect(rules.verdict(forPath: "/x", agent: "b").description == "no group for this agent")
        #expect(rules.verdict(forPath: "/robots.txt", agent: "a").reason == .robotsTxt)
    }

    /// §2.3 and §2.2.2: the path compared is the URL's path and query, percent-encoded as the URL Standard does.
    @Test(arguments: [
        ("https://example.com/a?b=1#frag", "/a?b=1", false),
        ("https://example.com/a?b=2", "/a?b=2", true),
        ("https://example.com/ツ/x", "/%E3%83%84/x", false),
        ("https://example.com/~fred", "/~fred", false),
        ("https://example.com", "/", true),
        ("https://example.com/robots.txt", "/robots.txt", true),
    ])
    func urlsArePathAndQuery(url: String, path: String, allowed: Bool) throws {
        let rules = RobotsRules(
            "user-agent: *\ndisallow: /a?b=1\ndisallow: /ツ\ndisallow: /%7efred\ndisallow: /robots")
        let parsed = try WebURL.parse(url)
        #expect(RobotsRules.pathAndQuery(of: parsed) == path)
        #expect(rules.verdict(for: parsed, agent: "a").isAllowed == allowed)
    }

    @Test(arguments: [
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "googlebot"),
        ("  Arachne", "arachne"),
        ("my_bot-2", "my_bot-"),
        ("Mozilla/5.0 (compatible)", "mozilla"),
        ("*", ""),
        ("/x", ""),
        ("", ""),
    ])
    func productToken(userAgent: String, token: String) {
        #expect(RobotsRules.productToken(userAgent) == token)
    }

    /// Crawl-delay (not in RFC 9309): the matched group's first valid value; invalid values are ignored.
    @Test(arguments: [
        ("user-agent: a\ncrawl-delay: 5\n", "a", 5.0),
        ("user-agent: a\ncrawl-delay: 0.5\n", "A/1.0", 0.5),
        ("user-agent: a\ncrawl-delay: 0\n", "a", 0.0),
        ("user-agent: a\ncrawl-delay: -1\ncrawl-delay: 2", "a", 2.0),
        ("user-agent: a\ncrawl-delay: 1e3\n", "a", nil),
        ("user-agent: a\ncrawl-delay: inf\n", "a", nil),
        ("user-agent: a\ncrawl-delay: 10s\n", "a", nil),
        ("user-agent: a\ncrawl-delay: 1.2.3\n", "a", nil),
        ("user-agent: a\ncrawl-delay:\n", "a", nil),
        ("crawl-delay: 9\nuser-agent: a\n", "a", nil),
        ("user-agent: a\ncrawl-delay: 4\ncrawl-delay: 7\n", "a", 4.0),
        ("user-agent: *\ncrawl-delay: 3\nuser-agent: a\ndisallow: /\n", "a", nil),
        ("user-agent: *\ncrawl-delay: 3\nuser-agent: a\ndisallow: /\n", "b", 3.0),
        ("user-agent: a\ndisallow: /\nuser-agent: a\ncrawl-delay: 8\n", "a", 8.0),
    ] as [(String, String, Double?)])
    func crawlDelay(robots: String, agent: String, seconds: Double?) {
        #expect(RobotsRules(robots).crawlDelay(for: agent) == seconds)
    }

    /// §2.2.4: every Sitemap line, in or out of groups.
    @Test func sitemapsFromAnywhere() {
        let rules = RobotsRules("""
            Sitemap: https://example.com/a.xml
            User-agent: a
            Disallow: /x
            sitemap: https://example.com/b.xml
            User-agent: b
            Site-map: https://example.com/c.xml
            Sitemap:
            """)
        #expect(rules.sitemaps == ["https://example.com/a.xml", "https://example.com/b.xml",
                                   "https://example.com/c.xml"])
    }

    /// §2.2.4 and §2.1: what is not used is reported with its line.
    @Test func ignoredLinesAreReported() {
        let rules = RobotsRules("""
            Disallow: /early
            User-agent: *
            Host: example.com
            Crawl-delay: soon
            Disallow /late
            this line means nothing
            User-agent: /
            """)
        let kinds = rules.summary.issues.map { "\($0.line) \($0.kind)" }
        #expect(kinds == [
            "1 ruleOutsideGroup", "3 unknownKey(\"Host\")", "4 invalidCrawlDelay", "5 whitespaceSeparator",
            "6 notKeyValue", "7 emptyUserAgent",
        ])
        #expect(rules.summary.issueCount == 6)
        #expect(rules.verdict(forPath: "/late", agent: "a").isAllowed == false)
        #expect(rules.verdict(forPath: "/early", agent: "a").isAllowed == true)
    }
}
