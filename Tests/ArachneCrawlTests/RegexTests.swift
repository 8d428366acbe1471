import ArachneCore
import Testing

@testable import ArachneCrawl

@Suite struct RegexTests {
    static let matches: [(pattern: String, subject: String, matches: Bool)] = [
        ("/private/", "http://a.example/private/x", true),
        ("/private/", "http://a.example/public/x", false),
        // Unanchored search, anchors still work.
        ("example", "http://a.example/", true),
        ("^https://", "http://a.example/", false),
        ("\\.pdf$", "http://a.example/doc.pdf", true),
        ("\\.pdf$", "http://a.example/doc.pdf?x", false),
        ("[?&]sessionid=", "http://a.example/?a=1&sessionid=2", true),
        ("(?i)LOGOUT", "http://a.example/logout", true),
        // UTF mode: one character, not one byte.
        ("^caf.$", "café", true),
        ("é", "http://a.example/café", true),
        ("", "anything", true),
        ("", "", true),
        ("a", "", false),
    ]

    @Test(arguments: matches)
    func match(pattern: String, subject: String, matches: Bool) throws {
        #expect(try Regex(pattern).matches(subject) == matches)
    }

    static let invalid: [(pattern: String, offset: Int, message: String)] = [
        ("(", 1, "missing closing parenthesis"),
        ("a)", 1, "unmatched closing parenthesis"),
        ("[z-a]", 3, "range out of order in character class"),
        ("é(", 3, "missing closing parenthesis"),
    ]

    @Test(arguments: invalid)
    func compileError(pattern: String, offset: Int, message: String) {
        #expect(throws: RegexError(pattern: pattern, offset: offset, message: message)) { try Regex(pattern) }
    }

    @Test func errorDescriptionNamesPatternOffsetAndMessage() {
        let error = RegexError(pattern: "(", offset: 1, message: "missing closing parenthesis")
        #expect(error.description == "invalid pattern \"(\" at offset 1: missing closing parenthesis")
    }

    #if arch(x86_64) || arch(arm64)
        @Test func jitCompiles() throws {
            #expect(try Regex("/a/[0-9]+").isJIT)
        }
    #endif

    @Test func oneRegexMatchesFromManyTasksAtOnce() async throws {
        let regex = try Regex("/item/([0-9]+)/")
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for index in 0..<2_000 {
                        let subject = index % 2 == 0 ? "http://a.example/item/\(task)\(index)/" : "http://a/x/\(index)"
                        if regex.matches(subject) != (index % 2 == 0) { wrong += 1 }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
