import Testing
import ArachneCore

@Suite struct URLListTests {
    @Test func skipsBlankLinesAndCommentsAndReportsBadLinesWithNumbers() {
        var list = URLList()
        list.addLines("""
        # a comment
        http://127.0.0.1:8080/a

        ftp://example.com/file
        https://example.com:8443/b\r
        not a url
        http:///nohost
        """, source: "urls.txt")
        #expect(list.urls.map(\.string) == ["http://127.0.0.1:8080/a", "https://example.com:8443/b"])
        #expect(list.problems.map(\.line) == [4, 6, 7])
        #expect(list.problems[0].reason.contains("unsupported scheme 'ftp'"))
        #expect(list.problems[1].reason.contains("white space"))
        #expect(list.problems[2].reason.contains("missing host"))
        #expect(list.problems[0].description.hasPrefix("urls.txt:4: "))
    }

    @Test func defaultPortsAndAuthority() throws {
        #expect(try TargetURL(validating: "http://Example.com/x").authority == "example.com:80")
        #expect(try TargetURL(validating: "https://example.com/x").port == 443)
        #expect(throws: URLProblem.self) { try TargetURL(validating: "http://h:70000/") }
    }
}
