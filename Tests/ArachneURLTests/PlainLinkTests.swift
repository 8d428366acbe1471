import ArachneTestSupport
import ArachneURL
import Testing

/// `PlainLink.resolve` must give exactly what the full parser gives whenever it answers: the href without its
/// fragment, the canonical identity, the scheme, host, effective port, path, origin and path-and-query, and the base
/// it makes for its own page's links. Checked on the URL Standard's tricky forms and on 30,000 random inputs built
/// from them (against eleven bases each); and it must answer for the links crawls meet most.
@Suite struct PlainLinkTests {
    static let bases = [
        "http://example.org/foo/bar", "https://h.example:8443/a/b/", "http://127.0.0.2:42661/", "http://h.example",
        "http://h.example/dir/page.html?q=1#top", "http://user:pw@h.example/x", "http://h.example/%7Ex/y",
        "ftp://h.example/x", "https://xn--mnchen-3ya.de/a", "http://h.example:80/a/b",
    ]

    /// The parser's answer, in PlainLink's terms; nil when it fails or is not http(s).
    static func reference(_ href: String, base: WebURL?) -> [String]? {
        guard let url = try? WebURL.parse(href, base: base), url.scheme == "http" || url.scheme == "https" else {
            return nil
        }
        let target = OriginAndPath(url)
        return [url.hrefWithoutFragment, URLIdentity.canonical(url), url.scheme, url.host ?? "-",
                String(url.effectivePort ?? -1), url.pathname, target?.origin ?? "-", target?.pathAndQuery ?? "-"]
    }

    static func fields(_ link: PlainLink) -> [String] {
        [link.href, link.href, link.scheme, link.host, String(link.port), link.path, String(link.origin),
         String(link.pathAndQuery)]
    }

    /// Checks one input against every base; returns how many times the shortcut answered.
    @discardableResult
    static func check(_ href: String, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        var answered = 0
        for baseText in [nil] + bases {
            let base = baseText.flatMap { try? WebURL.parse($0) }
            guard let plain = PlainLink.resolve(href, base: base.flatMap(PlainLink.Base.init)) else { continue }
            answered += 1
            let expected = reference(href, base: base)
            #expect(expected == fields(plain), "\(href.debugDescription) against \(baseText ?? "no base")",
                    sourceLocation: sourceLocation)
            // The base the link makes for its own page is the one its parsed href makes.
            let parsedBase = (try? WebURL.parse(plain.href)).flatMap(PlainLink.Base.init)
            #expect(PlainLink.Base(plain) == parsedBase, "base of \(plain.href)", sourceLocation: sourceLocation)
        }
        return answered
    }

    @Test func commonLinksTakeTheShortcut() throws {
        let base = try #require(PlainLink.Base(WebURL.parse("http://127.0.0.2:42661/d0000/p10.html")))
        let cases: [(String, String)] = [
            ("http://127.0.0.5:42661/d0000/p11.html", "http://127.0.0.5:42661/d0000/p11.html"),
            ("https://www.example.org/a/b?x=1&y=2", "https://www.example.org/a/b?x=1&y=2"),
            ("http://example.org/a#section", "http://example.org/a"),
            ("/", "http://127.0.0.2:42661/"),
            ("/about/team.html?lang=en#top", "http://127.0.0.2:42661/about/team.html?lang=en"),
            ("p11.html", "http://127.0.0.2:42661/d0000/p11.html"),
            ("sub/dir/", "http://127.0.0.2:42661/d0000/sub/dir/"),
        ]
        for (href, expected) in cases {
            let plain = try #require(PlainLink.resolve(href, base: base), "\(href) should take the shortcut")
            #expect(plain.href == expected)
            Self.check(href)
        }
        let absolute = try #require(PlainLink.resolve("https://h.example:8443/x", base: nil))
        #expect(absolute.host == "h.example" && absolute.port == 8443 && absolute.path == "/x" && absolute.isHTTPS)
    }

    /// A URL's origin and path for politeness: off the bytes when plain, else from the parser.
    @Test func originAndPath() {
        #expect(OriginAndPath("http://127.0.0.2:8080/d/p.html?x=1#f")
            == OriginAndPath(origin: "http://127.0.0.2:8080", pathAndQuery: "/d/p.html?x=1"))
        #expect(OriginAndPath("HTTP://Example.ORG:80/a/../b?q#f")
            == OriginAndPath(origin: "http://example.org", pathAndQuery: "/b?q"))
        #expect(OriginAndPath("https://example.org") == OriginAndPath(origin: "https://example.org", pathAndQuery: "/"))
        #expect(OriginAndPath("mailto:a@example.org") == nil)
        #expect(OriginAndPath("not a url") == nil)
    }

    @Test func formsThatNeedTheParserAreDeclined() throws {
        let base = try #require(PlainLink.Base(WebURL.parse("http://example.org/foo/bar")))
        let declined = [
            "", "#top", "?q", "//other.example/x", "/\\x", "HTTP://example.org/", "http://Example.org/",
            "http://example.org", "http://example.org?q", "http://example.org:80/", "https://example.org:443/",
            "http://example.org:0/", "http://example.org:0080/", "http://example.org:65536/", "http://u@example.org/",
            "http://127.1/", "http://0x7f.0.0.1/", "http://010.0.0.1/", "http://a.1/", "http://a.0x1/",
            "http://xn--nxasmq6b.example/", "http://a..b/", "http://a./", "http:foo.com", "a:b", "mailto:x@y",
            "javascript:void(0)", "/a/../b", "/a/./b", "/a/..", "./x", "../x", ".", "..", "/a%2e/", "/%7Ex",
            "/a b", " /a", "/a\t", "/a\\b", "/é", "/a?x='y'", "/a?x y", "/a^b", "/a|b", "/a{b}", "/a`b", "/a\"b",
            "/a<b>",
        ]
        for href in declined {
            #expect(PlainLink.resolve(href, base: base) == nil, "\(href.debugDescription) should need the parser")
        }
        #expect(PlainLink.Base(try WebURL.parse("http://user:pw@h.example/x")) == nil)
        #expect(PlainLink.Base(try WebURL.parse("http://h.example/%7Ex/y")) == nil)
        #expect(PlainLink.Base(try WebURL.parse("ftp://h.example/x")) == nil)
    }

    /// Random inputs from pieces the Standard treats specially: wherever the shortcut answers, the parser agrees.
    @Test func agreesWithTheParserOnRandomInputs() {
        let schemes = ["http://", "https://", "HTTP://", "http:", "https:/", "ftp://", "", "", "", "//", "h", "x:"]
        let hosts = ["a.example", "127.0.0.5", "127.1", "0x7f.0.0.1", "EXAMPLE.com", "xn--nxasmq6b", "a..b", ".a",
                     "a.", "1.2.3.4.5", "256.0.0.1", "010.0.0.1", "a-b.c", "-a.b", "a.0x1", "a.1", "a.1b",
                     "m\u{FC}nchen.de", "%41.com", "a b", "[::1]", "user@host", "u:p@host", "", "0", "a.b-",
                     "xn--a.b", "a.xn--", "ab--c.d", "a.b.c.d"]
        let ports = ["", "", "", ":80", ":443", ":8080", ":0", ":08080", ":65535", ":65536", ":", ":123456", ":8o"]
        let segments = ["a", "b.html", ".", "..", "%2e", "%2E%2e", "x y", "a%41", "~u", "a:b", "a@b", "\u{E9}",
                        "a\\b", "''", "a^b", "a|b", "a`b", "{x}", "", "a\tb", "a\nb", "index.php", ".a", "a.", "..b",
                        "!$&()*+,;=", "-_~"]
        let queries = ["", "", "", "?", "?a=b", "?a='b'", "?x y", "?%41", "?a/b?c", "?a=b&c=d", "?\u{E9}"]
        let fragments = ["", "", "", "#", "#x", "#x y", "#a\tb", "#/../", "#%"]
        let edges = ["", "", "", "", " ", "\t", "\n"]
        var random = SeededGenerator(seed: 0x41_72_61_63_68_6E_65)
        func pick(_ items: [String]) -> String { items.randomElement(using: &random)! }
        func below(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &random) }
        var answered = 0
        for _ in 0..<30_000 {
            let scheme = pick(schemes)
            var href = pick(edges) + scheme
            if scheme.hasSuffix("//") { href += pick(hosts) + pick(ports) }
            let depth = below(4)
            let separators = ["/", "/", "/", "\\"]
            if depth > 0 || below(2) == 0 {
                href += scheme.isEmpty && below(2) == 0 ? "" : pick(separators)
                href += (0..<max(depth, 1)).map { _ in pick(segments) }.joined(separator: pick(separators))
            }
            href += pick(queries) + pick(fragments) + pick(edges)
            answered += Self.check(href)
        }
        // The shortcut must be exercised, not declined wholesale.
        print("PlainLink answered \(answered) of 330,000 resolutions")
        #expect(answered > 3_000, "the shortcut answered only \(answered) times")
    }
}
