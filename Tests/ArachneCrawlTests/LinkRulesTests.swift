import ArachneCore
import Testing

@testable import ArachneCrawl

@Suite struct LinkRulesTests {
    static let seeds = ["http://a.example/"].map(CrawlURL.init)
    static let rules = LinkRules(
        scope: CrawlScope(kind: .host, seeds: seeds),
        filter: try! URLFilter(include: ["/docs/", "/blog/"], exclude: ["\\.pdf$", "/docs/private/"]),
        traps: .standard)

    static let cases: [(url: String, verdict: LinkVerdict)] = [
        ("http://a.example/docs/x", .follow),
        ("http://a.example/blog/2024/", .follow),
        ("http://b.example/docs/x", .outOfScope),
        // Scope is judged before the patterns: an off-site excluded link is only out of scope.
        ("http://b.example/docs/x.pdf", .outOfScope),
        ("http://a.example/shop/", .filtered(pattern: "/docs/ | /blog/", include: true)),
        ("http://a.example/docs/x.pdf", .filtered(pattern: "\\.pdf$", include: false)),
        ("http://a.example/docs/private/x", .filtered(pattern: "/docs/private/", include: false)),
        // Patterns before traps: an excluded trap is only filtered.
        ("http://a.example/docs/a/a/a/x.pdf", .filtered(pattern: "\\.pdf$", include: false)),
        ("http://a.example/docs/a/a/a", .trap(.repeatedSegments)),
        ("http://a.example/blog/" + (0..<20).map { "\($0)" }.joined(separator: "/"), .trap(.tooManySegments)),
        ("http://a.example/docs/" + String(repeating: "x", count: 2048), .trap(.urlTooLong)),
    ]

    @Test(arguments: cases)
    func judge(url: String, verdict: LinkVerdict) {
        #expect(Self.rules.judge(CrawlURL(url)) == verdict)
    }

    @Test func trapsOff() {
        let rules = LinkRules(scope: CrawlScope(kind: .any, seeds: []), traps: nil)
        #expect(rules.judge(CrawlURL("http://x.example/a/a/a/a")) == .follow)
    }

    static let filterCases: [(include: [String], exclude: [String], url: String, verdict: URLFilter.Verdict)] = [
        ([], [], "http://a/x", .pass(include: nil)),
        (["x"], [], "http://a/x", .pass(include: "x")),
        (["y", "x"], [], "http://a/x", .pass(include: "x")),
        (["y"], [], "http://a/x", .notIncluded(patterns: "y")),
        ([], ["x", "/"], "http://a/x", .excluded(pattern: "x")),
        (["a"], ["z"], "http://a/x", .pass(include: "a")),
        (["q"], ["x"], "http://a/x", .notIncluded(patterns: "q")),
    ]

    @Test(arguments: filterCases)
    func filter(include: [String], exclude: [String], url: String, verdict: URLFilter.Verdict) throws {
        #expect(try URLFilter(include: include, exclude: exclude).verdict(for: url) == verdict)
    }
}
