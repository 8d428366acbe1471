@testable import ArachneCore
import Testing

/// The byte-level check against the `URLComponents` path it replaces: for every line of a corpus of good and bad
/// URLs, the same verdict, the same message, the same string, scheme, host and port.
@Suite struct TargetURLQuickCheckTests {
    static let corpus: [String] = [
        "http://example.com", "http://example.com/", "https://example.com/a/b?c=d#e", "HTTP://Example.COM/Path",
        "HtTpS://WWW.example.org:8443/x", "http://a", "http://a.b.c.d.e/f", "http://127.0.0.1:8080/page/1",
        "http://host:1/", "http://host:65535/", "http://host:65536/", "http://host:0/", "http://host:00080/",
        "http://host:080/", "http://host:123456/", "http://host:/", "http://host:abc/", "http://host:80:81/",
        "http://-a-.b_c~d/", "http://a/%41%42", "http://a/%4", "http://a/%zz", "http://a/%", "http://a/100%",
        "http://a/?q=%E2%82%AC", "http://a/p;x=1,2!$&'()*+=:@", "http://a/?a?b/c", "http://a/#frag#frag",
        "http://a/#f/?:@", "http://a?x", "http://a#x", "http://a/[x]", "http://a/{x}", "http://a/|",
        "http://a/\"q\"", "http://a/<x>", "http://a/^", "http://a/`", "http://a/\\", "http://user@a/",
        "http://user:pw@a/", "http://[::1]/", "http://[::1]:8080/x", "http://[fe80::1%25eth0]/", "http://a b/",
        " http://a/", "http://a/ ", "\thttp://a/\t", "http://a/\u{00A0}", "\u{00A0}http://a/",
        "http://bücher.de/", "http://a/ü", "http://a/\u{7F}", "http:/a", "http:a", "http://", "http:///x",
        "http://:80/", "http://%41/", "http://a%41/", "ftp://a/", "mailto:x@y", "file:///etc/passwd", "a/b",
        "example.com", "//example.com/x", "", " ", "#comment", "http", "https:", "https://", "httpx://a/",
        "http//a/", "https//a", "http:\\\\a\\", "http://a:8080", "https://a:443", "http://A-B.C/", "http://a./",
        "http://.a/", "http://a..b/", "http://a!b/", "http://a$b/", "http://a=b/", "http://a,b/", "http://a;b/",
        "http://a'b/", "http://a(b)/", "http://a*b/", "http://a+b/", "http://a&b/", "http://x/\r", "http://x/\n",
        "HTTPS://X:1", "hTTp://x:99999", "http://x:65535", "http://x:-1/", "http://x:+1/", "http://x/%2F%2f",
        "https://www.example.com/search?q=swift+concurrency&lang=en#results",
        "http://10.0.0.1:8081/items/00001234?session=abc-DEF_123~x",
    ]

    struct Outcome: Equatable {
        var string, scheme, host: String
        var port: Int
        init(_ url: TargetURL) { (string, scheme, host, port) = (url.string, url.scheme, url.host, url.port) }
    }

    static func outcome(_ make: () throws(URLProblem) -> TargetURL) -> Result<Outcome, URLProblem> {
        do { return .success(Outcome(try make())) } catch { return .failure(error) }
    }

    @Test(arguments: corpus)
    func sameVerdictAsURLComponents(_ line: String) {
        let fast = Self.outcome { () throws(URLProblem) in try TargetURL(validating: line) }
        let slow = Self.outcome { () throws(URLProblem) in try TargetURL(slowValidating: line) }
        #expect(fast == slow, "\(line.debugDescription)")
    }

    @Test func quickCheckDecidesTheCommonShapes() {
        for line in ["http://example.com/a?b=c#d", "HTTPS://Host.Example:8443/", "http://10.0.0.1:80/x%20y"] {
            var text = line
            #expect(text.withUTF8 { TargetURL.quickCheck($0) } != nil, "\(line)")
        }
        for line in ["http://[::1]/", "http://u@h/", "http://h:0/", " http://h/", "http://h/ü"] {
            var text = line
            #expect(text.withUTF8 { TargetURL.quickCheck($0) } == nil, "\(line)")
        }
    }

    @Test func streamGivesTheSameURLsAndProblems() throws {
        let text = Self.corpus.joined(separator: "\n")
        let stream = URLStream(text: text, source: "corpus", keptProblems: 1000)
        var streamed: [String] = []
        while let url = try stream.next() { streamed.append(url) }
        var list = URLList()
        list.addLines(text, source: "corpus")
        #expect(streamed == list.urls.map(\.string))
        #expect(stream.problems.map(\.reason) == list.problems.map(\.reason))
    }
}
