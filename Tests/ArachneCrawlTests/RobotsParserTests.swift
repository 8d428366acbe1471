import Testing

@testable import ArachneCrawl

@Suite struct RobotsParserTests {
    /// §2.2: keys, separators, whitespace, comments and line ends, as lines `number key=value`.
    static let tokenizing: [(body: String, lines: [String])] = [
        ("User-agent: a\nDisallow: /x", ["1 userAgent=a", "2 disallow=/x"]),
        ("USER-AGENT:a\ndisallow:/x\nAllow :  /y  ", ["1 userAgent=a", "2 disallow=/x", "3 allow=/y"]),
        ("user-agent\t:\ta\t", ["1 userAgent=a"]),
        ("# only a comment\n\n   \nDisallow: /x # why\n#Allow: /y", ["4 disallow=/x"]),
        ("Disallow: /a#b", ["1 disallow=/a"]),
        ("Sitemap: https://example.com/s.xml", ["1 sitemap=https://example.com/s.xml"]),
        ("Crawl-delay: 2\ncrawldelay: 3", ["1 crawlDelay=2", "2 crawlDelay=3"]),
        ("Host: example.com", ["1 unknown(\"Host\")=example.com"]),
        ("Disallow:", ["1 disallow="]),
        (": /x", []),
        // Google's typos and its missing-colon rule (exactly two words).
        ("useragent: a\nuser agent: b\ndissallow: /1\ndissalow: /2\ndisalow: /3\ndiasllow: /4\ndisallaw: /5",
         ["1 userAgent=a", "2 userAgent=b", "3 disallow=/1", "4 disallow=/2", "5 disallow=/3", "6 disallow=/4",
          "7 disallow=/5"]),
        ("Disallow /x\nUser-agent\tb", ["1 disallow=/x", "2 userAgent=b"]),
        ("Disallow /x /y\nDisallow", []),
        ("Disallowed: /x\nuser-agents: a", ["1 unknown(\"Disallowed\")=/x", "2 unknown(\"user-agents\")=a"]),
        // Line ends: LF, CRLF, CR alone, mixed; no line end at the end of the file.
        ("a: 1\r\nb: 2\r\n", ["1 unknown(\"a\")=1", "2 unknown(\"b\")=2"]),
        ("a: 1\rb: 2\rc: 3", ["1 unknown(\"a\")=1", "2 unknown(\"b\")=2", "3 unknown(\"c\")=3"]),
        ("a: 1\r\n\rb: 2\n\r\nc: 3", ["1 unknown(\"a\")=1", "3 unknown(\"b\")=2", "5 unknown(\"c\")=3"]),
        ("a: 1\n\n\nb: 2", ["1 unknown(\"a\")=1", "4 unknown(\"b\")=2"]),
        // A byte order mark is skipped, whole or in part; elsewhere it is data.
        ("\u{FEFF}User-agent: a", ["1 userAgent=a"]),
        ("\u{FEFF}\nUser-agent: a", ["2 userAgent=a"]),
    ]

    @Test(arguments: tokenizing)
    func tokenizes(body: String, lines: [String]) {
        #expect(Self.lines(Array(body.utf8)) == lines)
    }

    static func lines(_ body: [UInt8]) -> [String] {
        RobotsParser.lines(body).lines.map { "\($0.number) \(Self.name($0.key))=\($0.value)" }
    }

    static func name(_ key: RobotsLine.Key) -> String {
        switch key {
        case .userAgent: "userAgent"
        case .allow: "allow"
        case .disallow: "disallow"
        case .sitemap: "sitemap"
        case .crawlDelay: "crawlDelay"
        case .unknown(let text): "unknown(\"\(text)\")"
        }
    }

    @Test func partialByteOrderMarkIsSkipped() {
        #expect(Self.lines([0xEF, 0xBB] + Array("Disallow: /x".utf8)) == ["1 disallow=/x"])
        #expect(Self.lines([0xEF] + Array("Disallow: /x".utf8)) == ["1 disallow=/x"])
    }

    @Test func lineTextIsAsWritten() {
        let lines = RobotsParser.lines(Array("  DisAllow :  /a b   # c\n".utf8)).lines
        #expect(lines == [RobotsLine(number: 1, key: .disallow, value: "/a b", text: "DisAllow :  /a b")])
    }

    @Test func summaryCountsLinesAndBytes() {
        let body = Array("User-agent: *\nDisallow: /\n".utf8)
        let summary = RobotsParser.lines(body).summary
        #expect(summary.lineCount == 2)
        #expect(summary.bytesParsed == body.count)
        #expect(summary.bytesIgnored == 0)
        #expect(summary.issueCount == 0)
        #expect(RobotsParser.lines([]).summary.lineCount == 0)
    }

    // MARK: - §2.5 Limits

    /// The first 500 KiB are parsed; a line the limit cuts through is dropped whole; the rest is reported.
    /// Shifts put the limit inside a rule, right after one (7), and right before a rule's line end (8).
    @Test(arguments: [0, 1, 7, 8, 11])
    func parsingStopsAt500KiB(shift: Int) {
        let head = Array("User-agent: *\n".utf8) + [UInt8](repeating: UInt8(ascii: "\n"), count: shift)
        let rule = Array("Disallow: /a\n".utf8)  // 13 bytes
        var body = head
        while body.count < RobotsParser.maxBytes + 1000 { body += rule }
        let (lines, summary) = RobotsParser.lines(body)
        let room = RobotsParser.maxBytes - head.count
        // A rule whose line end is the first byte past the limit is whole.
        let lastIsWhole = room % rule.count == rule.count - 1
        let wholeRules = room / rule.count + (lastIsWhole ? 1 : 0)
        #expect(lines.count == 1 + wholeRules)
        #expect(summary.bytesParsed == head.count + room / rule.count * rule.count + (lastIsWhole ? 12 : 0))
        #expect(summary.bytesParsed <= RobotsParser.maxBytes)
        #expect(summary.bytesIgnored == body.count - summary.bytesParsed)
        #expect(summary.issues.last?.kind == .bytesIgnored(summary.bytesIgnored))
        #expect(lines.allSatisfy { $0.value == "*" || $0.value == "/a" }, "no cut rule such as '/'")
    }

    @Test func aLineEndingExactlyAtTheLimitIsParsed() {
        let head = Array("User-agent: *\nDisallow: /".utf8)
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: RobotsParser.maxBytes - head.count)
        let body = head + filler + Array("\nDisallow: /late\n".utf8)
        let (lines, summary) = RobotsParser.lines(body)
        #expect(lines.count == 2)
        #expect(summary.bytesParsed == RobotsParser.maxBytes)
        // The value was cut at the 16,664-byte line limit, as Google does.
        #expect(lines[1].value.utf8.count == RobotsParser.maxLineBytes - "Disallow: ".utf8.count)
        #expect(summary.bytesIgnored == "\nDisallow: /late\n".utf8.count)
    }

    @Test func exactly500KiBIsWhole() {
        let head = Array("User-agent: *\n".utf8)
        var body = head + [UInt8](repeating: UInt8(ascii: "\n"), count: RobotsParser.maxBytes - head.count - 12)
        body += Array("Disallow: /x".utf8)
        #expect(body.count == RobotsParser.maxBytes)
        let (lines, summary) = RobotsParser.lines(body)
        #expect(lines.last?.value == "/x")
        #expect(summary.bytesIgnored == 0)
        #expect(summary.issueCount == 0)
    }

    // MARK: - Hostile files

    @Test func binaryGarbageParsesToNothingHarmful() {
        // A fixed linear congruential sequence: the same garbage every run.
        var state: UInt64 = 9309
        let body = (0..<200_000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let rules = RobotsRules(parsing: body)
        #expect(rules.summary.bytesParsed == body.count)
        #expect(rules.summary.issues.count <= RobotsParseSummary.maxIssues)
        #expect(rules.summary.issueCount > RobotsParseSummary.maxIssues)
        _ = rules.verdict(forPath: "/any", agent: "arachne")
    }

    @Test func oneMegabyteOfDisallowSlash() {
        let body = Array("User-agent: *\n".utf8)
            + Array(repeating: Array("Disallow: /\n".utf8), count: 1_000_000 / 12).flatMap { $0 }
        let clock = ContinuousClock()
        let start = clock.now
        let rules = RobotsRules(parsing: body)
        #expect(rules.summary.bytesParsed <= RobotsParser.maxBytes)
        #expect(rules.summary.bytesIgnored > 400_000)
        #expect(rules.groups.count == 1)
        #expect(rules.groups[0].rules.count == (RobotsParser.maxBytes - 14) / 12)
        let verdict = rules.verdict(forPath: "/x", agent: "a")
        #expect(!verdict.isAllowed)
        #expect(RobotsRulesTests.decidingLine(verdict) == 2, "the first of equal rules decides")
        #expect(clock.now - start < .seconds(20))
    }

    @Test func aHundredKilobyteLineIsCutAndTheNextLineStillParsed() {
        let long = "/" + String(repeating: "a", count: 100_000)
        let rules = RobotsRules("User-agent: *\nDisallow: \(long)\nAllow: /b\n")
        #expect(rules.summary.issues.map(\.kind) == [.lineTooLong])
        #expect(rules.summary.issues.first?.line == 2)
        #expect(rules.groups[0].rules.count == 2)
        #expect(rules.groups[0].rules[0].pattern.utf8.count == RobotsParser.maxLineBytes - "Disallow: ".utf8.count)
        #expect(rules.verdict(forPath: "/b", agent: "x").isAllowed)
        #expect(!rules.verdict(forPath: long, agent: "x").isAllowed)
    }

    @Test func noNewlineAtTheEnd() {
        let rules = RobotsRules("User-agent: *\nDisallow: /x")
        #expect(!rules.verdict(forPath: "/x", agent: "a").isAllowed)
    }

    @Test func nulEndsTheLineLikeGoogle() {
        let body = Array("User-agent: *\nDisallow: /a".utf8) + [0] + Array("/b\nDisallow: /c\n".utf8)
        let rules = RobotsRules(parsing: body)
        #expect(rules.groups[0].rules.map(\.pattern) == ["/a", "/c"])
        #expect(rules.summary.issues.map(\.kind) == [.nulByte])
        #expect(!rules.verdict(forPath: "/ax", agent: "a").isAllowed)
    }

    @Test func byteOrderMarkAndCROnlyLineEnds() {
        let body = [0xEF, 0xBB, 0xBF] + Array("User-agent: *\rDisallow: /x\rAllow: /x/y\r".utf8)
        let rules = RobotsRules(parsing: body)
        let verdict = rules.verdict(forPath: "/x/y", agent: "a")
        #expect(verdict.isAllowed)
        #expect(RobotsRulesTests.decidingLine(verdict) == 3)
        #expect(RobotsRulesTests.decidingLine(rules.verdict(forPath: "/x", agent: "a")) == 2)
    }

    @Test func invalidUTF8InAPatternStillMatchesItsOctets() {
        // A Latin-1 file: é is 0xE9. The value decodes lossily, so it matches the replacement character's octets,
        // not é's UTF-8: such a rule matches no real URL, and the rest of the file still works.
        let body = Array("User-agent: *\nDisallow: /caf".utf8) + [0xE9] + Array("\nDisallow: /x\n".utf8)
        let rules = RobotsRules(parsing: body)
        #expect(rules.verdict(forPath: "/café", agent: "a").isAllowed)
        #expect(!rules.verdict(forPath: "/x", agent: "a").isAllowed)
    }
}
