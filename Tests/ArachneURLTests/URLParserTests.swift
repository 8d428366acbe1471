import ArachneURL
import Testing

/// One parse: `input` against `base`, and the href it must give (nil: it must fail).
struct ParseCase: CustomTestStringConvertible, Sendable {
    let input: String
    let base: String?
    let href: String?

    init(_ input: String, base: String? = nil, _ href: String?) {
        self.input = input
        self.base = base
        self.href = href
    }

    var testDescription: String { "\(input.debugDescription) against \(base ?? "no base")" }

    func run() {
        let url: WebURL?
        if let base {
            url = try? WebURL.parse(input, base: WebURL.parse(base))
        } else {
            url = try? WebURL.parse(input)
        }
        #expect(url?.href == href)
    }
}

/// The parser's states and the Standard's tricky forms, each as input → href.
@Suite struct URLParserTests {
    static let base = "http://example.org/a/b/c?q#f"

    static let preprocessing: [ParseCase] = [
        ParseCase("  http://example.com/  ", "http://example.com/"),
        ParseCase("\u{01}http://example.com/\u{1F}", "http://example.com/"),
        ParseCase("ht\ttp://exa\nmple.com/p\ra\tth", "http://example.com/path"),
        ParseCase("http://example.com/a b", "http://example.com/a%20b"),
        ParseCase("\t\n", base: base, "http://example.org/a/b/c?q"),
        ParseCase("", base: base, "http://example.org/a/b/c?q"),
    ]

    static let schemes: [ParseCase] = [
        ParseCase("HTTP://EXAMPLE.COM/", "http://example.com/"),
        ParseCase("HtTpS://example.com", "https://example.com/"),
        ParseCase("a+b-c.d://x/y", "a+b-c.d://x/y"),
        ParseCase("1http://x/", base: base, "http://example.org/a/b/1http://x/"),
        ParseCase("ws://example.com", "ws://example.com/"),
        ParseCase("wss://example.com:443/", "wss://example.com/"),
        ParseCase("ftp://example.com:21/", "ftp://example.com/"),
        ParseCase("foo://", "foo://"),
        ParseCase("foo:/", "foo:/"),
        ParseCase("foo:", "foo:"),
        ParseCase("no-scheme", nil),
        ParseCase("//example.com", nil),
        ParseCase("http:", base: base, "http://example.org/a/b/c?q"),
        ParseCase("https:", nil),
    ]

    static let authority: [ParseCase] = [
        ParseCase("http://user:pass@example.com/", "http://user:pass@example.com/"),
        ParseCase("http://user@example.com/", "http://user@example.com/"),
        ParseCase("http://:pass@example.com/", "http://:pass@example.com/"),
        ParseCase("http://user:@example.com/", "http://user@example.com/"),
        ParseCase("http://:@example.com/", "http://example.com/"),
        ParseCase("http://a@b@example.com/", "http://a%40b@example.com/"),
        ParseCase("http://a:b:c@example.com/", "http://a:b%3Ac@example.com/"),
        ParseCase("http://a:b@c@example.com/", "http://a:b%40c@example.com/"),
        ParseCase("http://us er:p;w@example.com/", "http://us%20er:p%3Bw@example.com/"),
        ParseCase("http://ü:é@example.com/", "http://%C3%BC:%C3%A9@example.com/"),
        ParseCase("http://user@/", nil),
        ParseCase("http://@/", nil),
        ParseCase("http:///example.com/", "http://example.com/"),
        ParseCase("http:\\\\example.com\\a\\b", "http://example.com/a/b"),
        ParseCase("http:/\\/\\example.com/", "http://example.com/"),
        ParseCase("http:example.com/", "http://example.com/"),
        ParseCase("http:example.com/", base: base, "http://example.org/a/b/example.com/"),
        ParseCase("https:example.com/", base: base, "https://example.com/"),
        ParseCase("//other.com/x", base: base, "http://other.com/x"),
        ParseCase("\\\\other.com\\x", base: base, "http://other.com/x"),
        ParseCase("/\\other.com/x", base: base, "http://other.com/x"),
        ParseCase("foo://user:pw@host:1/p", "foo://user:pw@host:1/p"),
        ParseCase("foo:\\\\host/", "foo:\\\\host/"),
    ]

    static let ports: [ParseCase] = [
        ParseCase("http://example.com:80/", "http://example.com/"),
        ParseCase("http://example.com:0080/", "http://example.com/"),
        ParseCase("http://example.com:443/", "http://example.com:443/"),
        ParseCase("https://example.com:443/", "https://example.com/"),
        ParseCase("https://example.com:80/", "https://example.com:80/"),
        ParseCase("http://example.com:/", "http://example.com/"),
        ParseCase("http://example.com:65535/", "http://example.com:65535/"),
        ParseCase("http://example.com:65536/", nil),
        ParseCase("http://example.com:99999999999999999999/", nil),
        ParseCase("http://example.com:8a/", nil),
        ParseCase("http://example.com:-1/", nil),
        ParseCase("foo://host:80/", "foo://host:80/"),
        ParseCase("http://example.com:8080?q", "http://example.com:8080/?q"),
        ParseCase("http://:80/", nil),
    ]

    static let relative: [ParseCase] = [
        ParseCase("d", base: base, "http://example.org/a/b/d"),
        ParseCase("./d", base: base, "http://example.org/a/b/d"),
        ParseCase("../d", base: base, "http://example.org/a/d"),
        ParseCase("../../../../d", base: base, "http://example.org/d"),
        ParseCase("/d", base: base, "http://example.org/d"),
        ParseCase("?x", base: base, "http://example.org/a/b/c?x"),
        ParseCase("#x", base: base, "http://example.org/a/b/c?q#x"),
        ParseCase(".", base: base, "http://example.org/a/b/"),
        ParseCase("..", base: base, "http://example.org/a/"),
        ParseCase("\\d", base: base, "http://example.org/d"),
        ParseCase("d", base: "foo://host/a/b", "foo://host/a/d"),
        ParseCase("\\d", base: "foo://host/a/b", "foo://host/a/\\d"),
        ParseCase("//h", base: "foo://host/a/b", "foo://h"),
        ParseCase("d", base: "foo:/a/b", "foo:/a/d"),
        ParseCase("#x", base: "mailto:user@example.com", "mailto:user@example.com#x"),
        ParseCase("x", base: "mailto:user@example.com", nil),
        ParseCase("d", base: "file:///C:/a/b", "file:///C:/a/d"),
    ]

    static let dotSegments: [ParseCase] = [
        ParseCase("http://h/a/./b/../c", "http://h/a/c"),
        ParseCase("http://h/a/b/..", "http://h/a/"),
        ParseCase("http://h/a/b/.", "http://h/a/b/"),
        ParseCase("http://h/a/%2e/b", "http://h/a/b"),
        ParseCase("http://h/a/%2E%2e/b", "http://h/b"),
        ParseCase("http://h/a/.%2E/b", "http://h/b"),
        ParseCase("http://h/a/%2e./b", "http://h/b"),
        ParseCase("http://h/a/..%2f/b", "http://h/a/..%2f/b"),
        ParseCase("http://h/a/...", "http://h/a/..."),
        ParseCase("http://h/../../a", "http://h/a"),
        ParseCase("http://h/a\\..\\b", "http://h/b"),
        ParseCase("http://h/a/..?q", "http://h/?q"),
        ParseCase("foo://h/a/../b", "foo://h/b"),
        ParseCase("foo:/a/..//b", "foo:/.//b"),
        ParseCase("foo:/.//b", "foo:/.//b"),
    ]

    static let percentEncoding: [ParseCase] = [
        // Path set: space " # < > ? ` { } ^ and non-ASCII; "%" is kept as is.
        ParseCase("http://h/ \"<>`{}^|%zz%41é", "http://h/%20%22%3C%3E%60%7B%7D%5E|%zz%41%C3%A9"),
        // Query sets: special URLs also encode "'".
        ParseCase("http://h/?a b\"<>'`{}é", "http://h/?a%20b%22%3C%3E%27`{}%C3%A9"),
        ParseCase("foo://h/?a b\"<>'`é", "foo://h/?a%20b%22%3C%3E'`%C3%A9"),
        // Fragment set: space " < > ` and non-ASCII, not "#".
        ParseCase("http://h/#a b\"<>`'{}#é", "http://h/#a%20b%22%3C%3E%60'{}#%C3%A9"),
        ParseCase("http://h/\u{0}\u{7F}", "http://h/%00%7F"),
        ParseCase("http://h/😀?😀#😀", "http://h/%F0%9F%98%80?%F0%9F%98%80#%F0%9F%98%80"),
        ParseCase("http://h?", "http://h/?"),
        ParseCase("http://h#", "http://h/#"),
        ParseCase("http://h/?#", "http://h/?#"),
    ]

    static let opaquePaths: [ParseCase] = [
        ParseCase("mailto:User@Example.com", "mailto:User@Example.com"),
        ParseCase("javascript:alert(1)", "javascript:alert(1)"),
        ParseCase("data:text/plain,a b", "data:text/plain,a b"),
        ParseCase("sc:a b ?q", "sc:a b%20?q"),
        ParseCase("sc:a b #f", "sc:a b%20#f"),
        ParseCase("sc:\u{1}é\"<>", "sc:%01%C3%A9\"<>"),
        ParseCase("urn:isbn:0451450523", "urn:isbn:0451450523"),
        ParseCase("sc:?q#f", "sc:?q#f"),
    ]

    static let fileURLs: [ParseCase] = [
        ParseCase("file:///etc/passwd", "file:///etc/passwd"),
        ParseCase("file:/etc/passwd", "file:///etc/passwd"),
        ParseCase("file:etc", "file:///etc"),
        ParseCase("file://localhost/etc", "file:///etc"),
        ParseCase("file://LOCALHOST/etc", "file:///etc"),
        ParseCase("file://server/share", "file://server/share"),
        ParseCase("file://C:/x", "file:///C:/x"),
        ParseCase("file:///C|/x/../..", "file:///C:/"),
        ParseCase("file:c:\\x\\y", "file:///c:/x/y"),
        ParseCase("FILE:\\\\server\\share", "file://server/share"),
        ParseCase("/x", base: "file:///C:/a/b", "file:///C:/x"),
        ParseCase("//h/x", base: "file:///C:/a/b", "file://h/x"),
        ParseCase("?q", base: "file:///a/b", "file:///a/b?q"),
        ParseCase("C|/x", base: "file:///a/b", "file:///C:/x"),
        ParseCase("file://[::1]/x", "file://[::1]/x"),
        ParseCase("file://user@host/", nil),
        ParseCase("file://h:80/", nil),
    ]

    @Test(arguments: preprocessing + schemes) func schemesAndPreprocessing(_ parse: ParseCase) { parse.run() }
    @Test(arguments: authority + ports) func authorityAndPorts(_ parse: ParseCase) { parse.run() }
    @Test(arguments: relative + dotSegments) func relativeAndDotSegments(_ parse: ParseCase) { parse.run() }
    @Test(arguments: percentEncoding + opaquePaths) func percentEncodingAndOpaquePaths(_ parse: ParseCase) {
        parse.run()
    }
    @Test(arguments: fileURLs) func fileScheme(_ parse: ParseCase) { parse.run() }

    @Test func components() throws {
        let url = try WebURL.parse("HTTPS://u:p@Example.COM:8443/a/%7e?x=1#top")
        #expect(url.scheme == "https")
        #expect(url.username == "u")
        #expect(url.password == "p")
        #expect(url.host == "example.com")
        #expect(url.port == 8443)
        #expect(url.effectivePort == 8443)
        #expect(url.pathname == "/a/%7e")
        #expect(url.query == "x=1")
        #expect(url.fragment == "top")
        #expect(url.isSpecial)
        #expect(url.hrefWithoutFragment == "https://u:p@example.com:8443/a/%7e?x=1")
        #expect(url.description == url.href)

        let plain = try WebURL.parse("http://h")
        #expect(plain.port == nil && plain.effectivePort == 80)
        #expect(plain.query == nil && plain.fragment == nil && plain.pathname == "/")
        let empty = try WebURL.parse("http://h/?#")
        #expect(empty.query == "" && empty.fragment == "")
        let opaque = try WebURL.parse("mailto:a@b")
        #expect(!opaque.isSpecial && opaque.hasOpaquePath && opaque.host == nil && opaque.effectivePort == nil)
        #expect(try WebURL.parse("sc://").host == "")
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: URLParseError.self) { try WebURL.parse("relative") }
        do {
            _ = try WebURL.parse("http://h:70000/")
            Issue.record("parsed an out-of-range port")
        } catch {
            #expect(error.description.contains("port out of range"))
        }
        do {
            _ = try WebURL.parse("foo")
            Issue.record("parsed a relative URL without a base")
        } catch {
            #expect(error.description.contains("missing scheme"))
        }
        do {
            _ = try WebURL.parse("x", base: "not a url")
            Issue.record("parsed against an invalid base")
        } catch {
            #expect(error.description == "invalid base URL")
        }
    }
}
