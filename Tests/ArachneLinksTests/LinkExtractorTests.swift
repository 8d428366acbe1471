import Testing

@testable import ArachneLinks

/// The links of an HTML string, given as UTF-8 bytes.
func extract(_ html: String, charset: String? = nil, linkCap: Int = LinkExtractor.defaultLinkCap) -> PageLinks {
    LinkExtractor.extract(from: Array(html.utf8), charset: charset, linkCap: linkCap)
}

/// The hrefs of an HTML string's links, in order.
func hrefs(_ html: String, charset: String? = nil) -> [String] {
    extract(html, charset: charset).links.map(\.href)
}

@Suite("LinkExtractor")
struct LinkExtractorTests {
    @Test(
        "each link element yields its attribute",
        arguments: [
            ("<a href='/a'>x</a>", "a", "/a"),
            ("<AREA HREF='/area'>", "area", "/area"),
            ("<frameset><frame src='/frame'></frameset>", "frame", "/frame"),
            ("<iframe src='/iframe'></iframe>", "iframe", "/iframe"),
            ("<p><a href='  /spaces kept\t'>x</a>", "a", "  /spaces kept\t"),
            ("<a href>empty</a>", "a", ""),
            ("<a href=unquoted?x=1>x</a>", "a", "unquoted?x=1"),
        ])
    func elementKinds(html: String, element: String, href: String) {
        #expect(extract(html).links == [PageLinks.Link(href: href, element: element, line: 1)])
    }

    @Test(
        "elements without their link attribute, or other attributes, yield nothing",
        arguments: [
            "<a name=x>x</a>", "<a src=/x>x</a>", "<iframe href=/x></iframe>", "<link href=/style.css rel=stylesheet>",
            "<img src=/i.png>", "<area alt=x>", "<abbr href=/x>", "<frameset><framex src=/x></frameset>",
        ])
    func notLinks(html: String) {
        #expect(extract(html).links.isEmpty)
    }

    @Test("links come in document order, duplicates kept")
    func order() {
        let html = "<a href=1></a><iframe src=2></iframe><area href=3><a href=1></a><a href=4 href=5></a>"
        #expect(hrefs(html) == ["1", "2", "3", "1", "4"], "a repeated attribute: the first wins")
    }

    @Test(
        "base href: the first base with an href wins",
        arguments: [
            ("<base href='/b1'><base href='/b2'>", "/b1"),
            ("<base target=_top><base href='/b2'>", "/b2"),
            ("<base href><base href='/b2'>", ""),
            ("<body><a href=x></a><base href='/late'>", "/late"),
            ("<template><base href='/t'></template><base href='/real'>", "/real"),
        ] as [(String, String?)])
    func baseHref(html: String, base: String?) {
        #expect(extract(html).baseHref == base)
    }

    @Test("no base element, or none with an href: no base")
    func noBase() {
        #expect(extract("<base target=x><a href=y>").baseHref == nil)
        #expect(extract("<a href=y>").baseHref == nil)
    }

    @Test(
        "links in comments, script, style and templates are ignored",
        arguments: [
            "<!-- <a href='/no'> -->",
            "<!--<a href='/no'>",
            "<script>document.write('<a href=\"/no\">')</script>",
            "<script type=text/template><a href='/no'></a></script>",
            "<style>/* <a href='/no'> */</style>",
            "<template><a href='/no'></a></template>",
            "<template><template><a href='/no'></template><a href='/no'></template>",
            "<div><template><p><a href='/no'></div></template>",
            "<template><a href='/no'>",
        ])
    func ignoredContexts(html: String) {
        #expect(hrefs(html + "<a href='/yes'>x</a>").allSatisfy { $0 == "/yes" })
        #expect(!hrefs(html).contains("/no"))
    }

    @Test("links after a closed template, and inside noscript, count")
    func afterTemplateAndNoscript() {
        let html = "<template><a href=t></template><a href=after></a><noscript><a href=ns></a></noscript></template>"
        #expect(hrefs(html) == ["after", "ns"], "a stray </template> changes nothing")
    }

    @Test(
        "character references are decoded by libxml2",
        arguments: [
            ("/a?x=1&amp;y=2", "/a?x=1&y=2"),
            ("&#x2F;path&#47;", "/path/"),
            ("/&lt;&gt;&quot;", "/<>\""),
            ("/caf&eacute;", "/café"),
            ("?a=1&copy=2", "?a=1&copy=2"),  // named without ';' before '=': raw, as in HTML5
            ("?a=1&amp", "?a=1&amp"),  // libxml2 never decodes a named reference without ';' (HTML5 would)
            ("?x&notit;", "?x&notit;"),
            ("/&#0;&#xD800;", "/\u{FFFD}\u{FFFD}"),
        ])
    func entities(raw: String, decoded: String) {
        let value = hrefs("<a href=\"\(raw)\">x</a>").first
        if raw == "/&#0;&#xD800;" {
            #expect(value != nil, "invalid references do not lose the link")
        } else {
            #expect(value == decoded)
        }
    }

    @Test(
        "rel nofollow is an ASCII case-insensitive whitespace-separated token",
        arguments: [
            ("rel='NoFollow noopener'", true),
            ("rel='noopener\tNOFOLLOW'", true),
            ("rel=nofollow", true),
            ("rel='nofollowx'", false),
            ("rel='no-follow'", false),
            ("rel='noopener,nofollow'", false),
            ("", false),
        ])
    func relNofollow(attribute: String, nofollow: Bool) {
        #expect(extract("<a href=/x \(attribute)>x</a>").links.first?.nofollow == nofollow)
        #expect(extract("<area href=/x \(attribute)>").links.first?.nofollow == nofollow)
    }

    @Test("line numbers are libxml2's: where the start tag ends")
    func lineNumbers() {
        let html = "<html>\n<body>\n<a href=1>x</a>\n\n<a\nhref=2>x</a> <iframe src=3></iframe>\r\n<area href=4>"
        #expect(extract(html).links.map(\.line) == [3, 6, 6, 7])
    }

    @Test("a truncated body yields the links before the cut; a tag cut short is dropped")
    func truncated() {
        let html = "<a href=/one>x</a><p>text <a href=/two>y</a><a href=\"/thr"
        #expect(hrefs(html) == ["/one", "/two"])
        #expect(hrefs("<a href=/one>x</a><a href=/two") == ["/one"])
        #expect(hrefs("<a href=/one>x</a><a href=/two>") == ["/one", "/two"], "a complete last tag counts")
        #expect(hrefs("<a href=/one><base href=/b") == ["/one"])
        #expect(extract("<base href=/b").baseHref == nil)
        #expect(hrefs("<a href=/one><!-- <a href=/two>") == ["/one"])
        #expect(hrefs("<a href=/one><script>x") == ["/one"])
        #expect(hrefs("") == [])
    }

    @Test("XHTML syntax parses as HTML")
    func xhtml() {
        let html = """
            <?xml version="1.0" encoding="UTF-8"?>
            <html xmlns="http://www.w3.org/1999/xhtml"><body><a href="/x"/><br/><a href="/y"></a></body></html>
            """
        #expect(hrefs(html) == ["/x", "/y"])
    }

    @Test(
        "content after </html> or stray end tags still counts (libxml2's push parser ends the document there)",
        arguments: [
            ("<html><body><a href=1></body></html>\n<a href=2>", [1, 2]),
            ("<html><a href=1></html></html><a href=2></html>\n\n<iframe src=3>", [1, 1, 3]),
            ("</a></p><a href=1>", [1]),
        ])
    func afterEndOfDocument(html: String, lines: [Int]) {
        let page = extract(html)
        #expect(page.links.map(\.href) == (1...lines.count).map(String.init))
        #expect(page.links.map(\.line) == lines)
    }

    @Test("misnested and unclosed tags lose no link")
    func misnested() {
        let html = "<p><a href=1><b><a href=2></p><table><a href=3><tr><td><a href=4></table></b><a href=5>"
        #expect(hrefs(html) == ["1", "2", "3", "4", "5"])
    }
}
