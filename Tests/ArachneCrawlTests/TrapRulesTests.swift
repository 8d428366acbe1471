import ArachneCore
import Testing

@testable import ArachneCrawl

@Suite struct TrapRulesTests {
    static let paths: [(path: String, trap: TrapKind?)] = [
        ("/", nil),
        ("/a/b/c", nil),
        ("/a/a", nil),
        ("/a/a/a", .repeatedSegments),
        ("/a/a/a/", .repeatedSegments),
        ("/a//a/a", .repeatedSegments),  // empty segments ignored
        ("/a/b/a/b", nil),  // only twice
        ("/a/b/a/b/a/b", .repeatedSegments),
        ("/a/b/a/b/a/c", nil),
        ("/x/a/b/c/a/b/c/a/b/c/y", .repeatedSegments),
        ("/x/a/b/c/a/b/c/y/a/b/c", nil),  // not in a row
        ("/2024/01/2024/01/2024/02", nil),
        ("/cal/2024/01/01/01", .repeatedSegments),
        ("/a/ab/abc/abcd", nil),
        ("/é/é/é", .repeatedSegments),
        ("/" + (0..<20).map { "\($0)" }.joined(separator: "/"), nil),
        ("/" + (0..<21).map { "\($0)" }.joined(separator: "/"), .tooManySegments),
        ("/" + (0..<20).map { "\($0)" }.joined(separator: "/") + "//", nil),  // trailing empty segments ignored
    ]

    @Test(arguments: paths)
    func standardRules(path: String, trap: TrapKind?) {
        let url = CrawlURL(absolute: "http://a.example" + path, scheme: "http", host: "a.example", port: 80, path: path)
        #expect(TrapRules.standard.trap(in: url) == trap)
    }

    @Test(arguments: [(2048, nil), (2049, TrapKind.urlTooLong)] as [(Int, TrapKind?)])
    func urlLength(length: Int, trap: TrapKind?) {
        let prefix = "http://a.example/"
        let path = "/" + String(repeating: "x", count: length - prefix.utf8.count)
        let url = CrawlURL(absolute: prefix + path.dropFirst(), scheme: "http", host: "a.example", port: 80, path: path)
        #expect(url.absolute.utf8.count == length)
        #expect(TrapRules.standard.trap(in: url) == trap)
    }

    static let configured: [(rules: TrapRules, path: String, trap: TrapKind?)] = [
        (TrapRules(maxURLBytes: 20), "/abcdefgh", .urlTooLong),
        (TrapRules(maxSegments: 2), "/a/b", nil),
        (TrapRules(maxSegments: 2), "/a/b/c", .tooManySegments),
        (TrapRules(maxRepetitions: 2), "/a/b/a/b", .repeatedSegments),
        (TrapRules(maxRepetitions: 2), "/a/b/c/a", nil),
        (TrapRules(maxRepetitions: 4), "/a/a/a", nil),
        (TrapRules(maxRepetitions: 4), "/a/a/a/a", .repeatedSegments),
        // Length is checked before segments, segments before repetition.
        (TrapRules(maxURLBytes: 20, maxSegments: 2), "/a/a/a/a/a/a/a", .urlTooLong),
        (TrapRules(maxSegments: 2), "/a/a/a", .tooManySegments),
    ]

    @Test(arguments: configured)
    func configuredRules(rules: TrapRules, path: String, trap: TrapKind?) {
        let url = CrawlURL(absolute: "http://a.example" + path, scheme: "http", host: "a.example", port: 80, path: path)
        #expect(rules.trap(in: url) == trap)
    }

    @Test func rawValuesAreStable() {
        #expect(TrapKind.allCases.map(\.rawValue) == ["url-too-long", "too-many-segments", "repeated-segments"])
    }
}
