import ArachneCore
import Testing

@testable import ArachneCrawl

@Suite struct CrawlScopeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var kind: CrawlScope.Kind
        var seeds: [String]
        var url: String
        var inScope: Bool
        var testDescription: String { "\(kind) \(seeds) \(url) → \(inScope)" }

        init(_ kind: CrawlScope.Kind, _ seeds: [String], _ url: String, _ inScope: Bool) {
            (self.kind, self.seeds, self.url, self.inScope) = (kind, seeds, url, inScope)
        }
    }

    static let cases: [Case] = [
        // host: scheme, host and port of a seed.
        Case(.host, ["http://a.example/"], "http://a.example/x/y?q", true),
        Case(.host, ["http://a.example/"], "https://a.example/", false),
        Case(.host, ["http://a.example/"], "http://a.example:8080/", false),
        Case(.host, ["http://a.example/"], "http://b.a.example/", false),
        Case(.host, ["http://a.example:8080/x"], "http://a.example:8080/y", true),
        Case(.host, ["http://a.example/", "https://b.example/"], "https://b.example/z", true),
        Case(.host, ["http://[::1]:8080/"], "http://[::1]:8080/x", true),
        Case(.host, [], "http://a.example/", false),
        // domain: registrable domain of a seed, any scheme or port.
        Case(.domain, ["http://www.example.co.uk/"], "https://shop.example.co.uk:8443/", true),
        Case(.domain, ["http://www.example.co.uk/"], "http://example.co.uk/", true),
        Case(.domain, ["http://www.example.co.uk/"], "http://other.co.uk/", false),
        Case(.domain, ["http://www.example.co.uk/"], "http://co.uk/", false),
        Case(.domain, ["https://a.b.github.io/"], "https://c.b.github.io/", true),
        Case(.domain, ["https://a.b.github.io/"], "https://other.github.io/", false),
        Case(.domain, ["http://www.xn--d1acj3b.xn--p1ai/"], "http://xn--d1acj3b.xn--p1ai/", true),
        // IP addresses and hosts without a registrable domain fall back to host equality.
        Case(.domain, ["http://127.0.0.1:8080/"], "https://127.0.0.1/", true),
        Case(.domain, ["http://127.0.0.1/"], "http://10.0.0.1/", false),
        Case(.domain, ["http://10.0.0.1/"], "http://0.0.1/", false),
        Case(.domain, ["http://[::1]/"], "http://[::1]:81/", true),
        Case(.domain, ["http://[::1]/"], "http://[::2]/", false),
        Case(.domain, ["http://localhost:8080/"], "http://localhost:9090/", true),
        Case(.domain, ["http://localhost/"], "http://a.localhost/", false),
        Case(.domain, ["http://github.io/"], "http://github.io/x", true),
        Case(.domain, ["http://github.io/"], "http://a.github.io/", false),
        // prefix: the seed's directory (its path up to and including the last "/"), same origin.
        Case(.prefix, ["http://a.example/docs/index.html"], "http://a.example/docs/a/b", true),
        Case(.prefix, ["http://a.example/docs/index.html"], "http://a.example/docs/", true),
        Case(.prefix, ["http://a.example/docs/index.html"], "http://a.example/docs", false),
        Case(.prefix, ["http://a.example/docs/index.html"], "http://a.example/docsx/", false),
        Case(.prefix, ["http://a.example/docs/"], "http://a.example/docs/?q=1", true),
        Case(.prefix, ["http://a.example/docs/"], "https://a.example/docs/", false),
        Case(.prefix, ["http://a.example/docs/"], "http://a.example:81/docs/", false),
        Case(.prefix, ["http://a.example/x"], "http://a.example/anything", true),
        Case(.prefix, ["http://a.example/a/", "http://a.example/b/c"], "http://a.example/b/d", true),
        // any: every http(s) URL.
        Case(.any, [], "https://elsewhere.example/", true),
        Case(.any, ["http://a.example/"], "ftp://a.example/", false),
    ]

    @Test(arguments: cases)
    func contains(_ test: Case) {
        let scope = CrawlScope(kind: test.kind, seeds: test.seeds.map(CrawlURL.init), suffixList: .shared)
        #expect(scope.contains(CrawlURL(test.url)) == test.inScope)
    }

    static let directories: [(path: String, directory: String)] = [
        ("/", "/"), ("/a", "/"), ("/a/", "/a/"), ("/a/b.html", "/a/"), ("/a/b/c", "/a/b/"),
    ]

    @Test(arguments: directories)
    func directory(path: String, directory: String) {
        #expect(CrawlScope.directory(of: path) == directory)
    }

    static let ipAddresses: [(host: String, isIP: Bool)] = [
        ("127.0.0.1", true), ("[::1]", true), ("[2001:db8::1]", true), ("a.example", false), ("localhost", false),
        ("1.example", false), ("example.1a", false), ("", false), ("example.com.", false),
    ]

    @Test(arguments: ipAddresses)
    func ipAddress(host: String, isIP: Bool) {
        #expect(CrawlURL.isIPAddress(host) == isIP)
    }

    @Test func kindsRawValues() {
        #expect(CrawlScope.Kind.allCases.map(\.rawValue) == ["host", "domain", "prefix", "any"])
    }
}
