import ArachneCore
import Foundation
import Testing

@testable import ArachneCrawl

@Suite struct CrawlOptionsSpecTests {
    @Test func absentKeysTakeDefaults() throws {
        let spec = try JSONDecoder().decode(CrawlOptionsSpec.self, from: Data("{}".utf8))
        #expect(spec == CrawlOptionsSpec())
        #expect(spec.scope == .host)
        #expect(spec.maxDepth == 20)
        #expect(spec.maxPages == nil && spec.maxPagesPerHost == nil)
        #expect(spec.trapDefences && !spec.followNofollow)
        #expect(spec.perHost == 2 && spec.delayMs == 250 && spec.maxCrawlDelayMs == 30_000)
        #expect(spec.robots && spec.sitemaps && !spec.perIP && spec.robotsRetryMs == 60_000)
    }

    @Test func decodesSnakeCase() throws {
        let json = """
            {"scope": "domain", "include": ["/a/"], "exclude": ["\\\\.pdf$"], "max_depth": 3, "max_pages": 100,
             "max_pages_per_host": 10, "trap_defences": false, "follow_nofollow": true}
            """
        let spec = try JSONDecoder().decode(CrawlOptionsSpec.self, from: Data(json.utf8))
        #expect(
            spec
                == CrawlOptionsSpec(
                    scope: .domain, include: ["/a/"], exclude: ["\\.pdf$"], maxDepth: 3, maxPages: 100,
                    maxPagesPerHost: 10, trapDefences: false, followNofollow: true))
    }

    @Test func encodesSnakeCaseAndRoundTrips() throws {
        let spec = CrawlOptionsSpec(scope: .prefix, include: ["x"], maxPages: 5, maxPagesPerHost: 2)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(spec), as: UTF8.self)
        #expect(
            json == #"{"delay_ms":250,"exclude":[],"follow_nofollow":false,"include":["x"],"max_crawl_delay_ms":30000,"#
                + #""max_depth":20,"max_pages":5,"max_pages_per_host":2,"per_host":2,"per_ip":false,"robots":true,"#
                + #""robots_retry_ms":60000,"scope":"prefix","sitemaps":true,"trap_defences":true}"#)
        #expect(try JSONDecoder().decode(CrawlOptionsSpec.self, from: Data(json.utf8)) == spec)
    }

    @Test func unknownScopeIsADecodingError() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CrawlOptionsSpec.self, from: Data(#"{"scope": "world"}"#.utf8))
        }
    }

    static let invalid: [(spec: CrawlOptionsSpec, option: String)] = [
        (CrawlOptionsSpec(include: ["ok", "("]), "include[1]"),
        (CrawlOptionsSpec(exclude: ["[z-a]"]), "exclude[0]"),
        (CrawlOptionsSpec(maxDepth: -1), "max_depth"),
        (CrawlOptionsSpec(maxPages: 0), "max_pages"),
        (CrawlOptionsSpec(maxPagesPerHost: -3), "max_pages_per_host"),
        (CrawlOptionsSpec(perHost: 0), "per_host"),
        (CrawlOptionsSpec(delayMs: -1), "delay_ms"),
        (CrawlOptionsSpec(maxCrawlDelayMs: -1), "max_crawl_delay_ms"),
    ]

    @Test(arguments: invalid)
    func validateNamesTheOption(spec: CrawlOptionsSpec, option: String) {
        do {
            try spec.validate()
            Issue.record("\(option) passed validation")
        } catch {
            #expect(error.option == option)
            #expect(error.description.hasPrefix("crawl option \(option): "))
        }
    }

    @Test func patternErrorCarriesPCRE2Message() {
        let message = #"invalid pattern "(" at offset 1: missing closing parenthesis"#
        #expect(throws: CrawlOptionsError(option: "include[0]", message: message)) {
            try CrawlOptionsSpec(include: ["("]).validate()
        }
    }

    @Test func buildsLinkRules() throws {
        let seeds = [CrawlURL("https://www.example.co.uk/")]
        let options = CrawlOptionsSpec(scope: .domain, exclude: ["/logout"], trapDefences: false)
        let rules = try LinkRules(options: options, seeds: seeds, suffixList: .shared)
        #expect(rules.judge(CrawlURL("http://shop.example.co.uk/a/a/a")) == .follow)
        #expect(rules.judge(CrawlURL("http://other.co.uk/")) == .outOfScope)
        #expect(
            rules.judge(CrawlURL("https://www.example.co.uk/logout")) == .filtered(pattern: "/logout", include: false))
        #expect(rules.traps == nil)
        #expect(try LinkRules(options: CrawlOptionsSpec(), seeds: seeds).traps == .standard)
        #expect(throws: CrawlOptionsError.self) {
            try LinkRules(options: CrawlOptionsSpec(exclude: ["("]), seeds: seeds)
        }
    }
}
