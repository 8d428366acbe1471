import Testing

@testable import ArachneLinks

@Suite("Hostile input")
struct HostileInputTests {
    @Test("100,000 links: the first 10,000 and the cap reported")
    func manyLinks() {
        let html = String(repeating: "<a href=/x>x</a>\n", count: 100_000)
        let page = extract(html)
        #expect(page.links.count == LinkExtractor.defaultLinkCap)
        #expect(page.truncatedAtLinkCap)
        #expect(page.links.last?.line == LinkExtractor.defaultLinkCap)
    }

    @Test("the cap counts links exactly", arguments: [0, 1, 3, 4, 5])
    func cap(cap: Int) {
        let page = extract(String(repeating: "<a href=/x>", count: 4), linkCap: cap)
        #expect(page.links.count == min(cap, 4))
        #expect(page.truncatedAtLinkCap == (cap < 4))
    }

    @Test("deeply nested tags")
    func deepNesting() {
        for tag in ["div", "b", "a", "table", "template"] {
            let html =
                String(repeating: "<\(tag)>", count: 100_000) + "<a href=/deep>"
                + String(repeating: "</x>", count: 1_000)
            let page = extract(html)
            #expect(page.links.last?.href == (tag == "template" ? nil : "/deep"), "\(tag)")
        }
    }

    @Test("huge attributes")
    func hugeAttributes() {
        let long = String(repeating: "x", count: 4_000_000)
        #expect(hrefs("<a href=\"/\(long)\">x</a><a href=/after>").map(\.count) == [4_000_001, 6])
        #expect(hrefs("<a title=\"\(long)\" href=/t>x</a>") == ["/t"])
        #expect(hrefs("<a href=/before><a href=\"/\(long)") == ["/before"], "unterminated: dropped")
        #expect(hrefs("<a href=/before><!--\(long)<a href=/in-comment>") == ["/before"])
    }

    @Test("NUL bytes: a NUL ends an attribute value (libxml2 uses C strings); parsing goes on")
    func nulBytes() {
        let body = Array("<a href=\"/a".utf8) + [0] + Array("b\">x</a>".utf8) + [0, 0] + Array("<a href=/after>".utf8)
        #expect(LinkExtractor.extract(from: body, charset: nil).links.map(\.href) == ["/a", "/after"])
        #expect(LinkExtractor.extract(from: [0, 0, 0], charset: nil).links.isEmpty)
        #expect(LinkExtractor.extract(from: body, charset: "windows-1252").links.map(\.href) == ["/a", "/after"])
    }

    @Test("random and invalid bytes do not crash", arguments: 0..<20)
    func garbage(seed: Int) {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let alphabet = Array("<a href=\"'/>!-&#x;\n ".utf8) + [0, 0x80, 0xC3, 0xE9, 0xFF, 0xFE, 0xEF, 0xBB, 0xBF]
        let body = (0..<20_000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return alphabet[Int(state >> 33) % alphabet.count]
        }
        for charset in [nil, "utf-8", "shift_jis", "utf-16"] as [String?] {
            let page = LinkExtractor.extract(from: body, charset: charset)
            #expect(page.links.count <= LinkExtractor.defaultLinkCap)
        }
    }

    @Test("many small tags and stray markup")
    func strayMarkup() {
        let html = String(repeating: "<", count: 200_000) + String(repeating: "<!--", count: 50_000) + "--><a href=/z>"
        #expect(hrefs(html) == ["/z"])
        // Each stray end tag with no open element ends a pushed document; resuming is bounded.
        #expect(hrefs(String(repeating: "</a>", count: 50) + "<a href=/y>") == ["/y"])
        #expect(hrefs(String(repeating: "</a>", count: 100_000) + "<a href=/y>").isEmpty)
    }
}
