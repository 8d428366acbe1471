import Testing

@testable import ArachneLinks

/// A page in bytes: `before` and `after` are ASCII around raw `href` bytes in a link.
private func page(_ head: String, href: [UInt8], bom: [UInt8] = []) -> [UInt8] {
    bom + Array("<html><head>\(head)</head><body><a href=\"".utf8) + href + Array("\">x</a></body></html>".utf8)
}

private func littleEndian(_ text: String) -> [UInt8] {
    text.utf16.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
}

private func firstHref(_ body: [UInt8], charset: String?) -> String? {
    LinkExtractor.extract(from: body, charset: charset).links.first?.href
}

@Suite("Charsets")
struct CharsetTests {
    static let cafeLatin1: [UInt8] = Array("/caf".utf8) + [0xE9] + Array("/".utf8) + [0x80]  // "/café/€" in cp1252
    static let cafeUTF8: [UInt8] = Array("/café/€".utf8)

    @Test(
        "windows-1252 and ISO-8859-1 pages give UTF-8 values",
        arguments: [
            ("", "windows-1252"), ("", "ISO-8859-1"), ("", "latin1"), ("", "\"Windows-1252\""), ("", "us-ascii"),
            ("<meta charset=windows-1252>", nil),
            ("<meta http-equiv=Content-Type content='text/html; charset=cp1252'>", nil),
            ("<meta charset=utf-8>", "windows-1252"),  // the header overrides the document
        ] as [(String, String?)])
    func latin(head: String, charset: String?) {
        #expect(firstHref(page(head, href: Self.cafeLatin1), charset: charset) == "/café/€")
    }

    @Test("a meta ISO-8859-1 declaration is libxml2's Latin-1, not windows-1252: 0x80 is U+0080")
    func metaLatin1() {
        #expect(firstHref(page("<meta charset=iso-8859-1>", href: Self.cafeLatin1), charset: nil) == "/café/\u{80}")
    }

    @Test(
        "UTF-8 pages",
        arguments: [
            ("", nil), ("", "utf-8"), ("", "UTF8"), ("<meta charset=utf-8>", nil),
            ("<meta charset=windows-1252>", "utf-8"),  // the header overrides the document
            ("<meta charset=utf-8>", "no-such-charset"),  // unknown names are ignored
            ("", "no-such-charset"), ("", ""), ("", "  "),
        ] as [(String, String?)])
    func utf8(head: String, charset: String?) {
        #expect(firstHref(page(head, href: Self.cafeUTF8), charset: charset) == "/café/€")
    }

    @Test(
        "a byte order mark overrides the header and the document",
        arguments: [nil, "windows-1252", "utf-16"] as [String?])
    func byteOrderMark(charset: String?) {
        let utf8 = page("<meta charset=windows-1252>", href: Self.cafeUTF8, bom: [0xEF, 0xBB, 0xBF])
        #expect(firstHref(utf8, charset: charset) == "/café/€")
        let html = String(decoding: page("<meta charset=windows-1252>", href: Self.cafeUTF8), as: UTF8.self)
        let utf16LE: [UInt8] = [0xFF, 0xFE] + littleEndian(html)
        #expect(firstHref(utf16LE, charset: charset) == "/café/€")
        let utf16BE: [UInt8] =
            [0xFE, 0xFF] + html.utf16.flatMap { unit -> [UInt8] in [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        #expect(firstHref(utf16BE, charset: charset) == "/café/€")
    }

    @Test("UTF-16 named by the header, without a byte order mark")
    func utf16Header() {
        let html = String(decoding: page("", href: Self.cafeUTF8), as: UTF8.self)
        let utf16LE = littleEndian(html)
        #expect(firstHref(utf16LE, charset: "utf-16le") == "/café/€")
        #expect(firstHref(utf16LE, charset: "UTF-16") == "/café/€", "the label utf-16 means little-endian")
    }

    @Test(
        "other encodings: from the header or the document",
        arguments: [("shift_jis", [0x82, 0xA0] as [UInt8], "あ"), ("windows-1251", [0xC4, 0xE0], "Да"),
                    ("koi8-r", [0xE4, 0xC1], "Да"), ("iso-8859-2", [0xB1], "ą"), ("gbk", [0xC4, 0xE3], "你")])
    func otherEncodings(name: String, bytes: [UInt8], text: String) {
        #expect(firstHref(page("", href: Array("/".utf8) + bytes), charset: name) == "/" + text)
        #expect(firstHref(page("<meta charset=\(name)>", href: Array("/".utf8) + bytes), charset: nil) == "/" + text)
    }

    @Test("bytes the encoding cannot decode become U+FFFD and lose nothing after them")
    func undecodable() {
        // 0x81 is undefined in windows-1252 for iconv; 0xFF 0xFF is invalid Shift_JIS.
        let cp1252: [UInt8] = Array("/a".utf8) + [0x81, 0x8D] + Array("b".utf8)
        let sjis: [UInt8] = Array("/a".utf8) + [0xFF, 0xFF, 0x80] + Array("b".utf8)
        for (head, href, charset) in [
            ("", cp1252, "windows-1252"), ("<meta charset=windows-1252>", cp1252, nil),
            ("", sjis, "shift_jis"), ("<meta charset=shift_jis>", sjis, nil),
            ("<meta charset=us-ascii>", cp1252, nil),
        ] as [(String, [UInt8], String?)] {
            let body = page(head, href: href) + Array("<a href=/after>".utf8)
            let links = LinkExtractor.extract(from: body, charset: charset).links.map(\.href)
            #expect(links.count == 2, "\(head) \(charset ?? "-")")
            #expect(links.first?.hasPrefix("/a") == true && links.first?.hasSuffix("b") == true)
            #expect(links.last == "/after")
        }
    }

    @Test("invalid UTF-8 without a declaration: libxml2 reads the rest of the page as ISO-8859-1")
    func invalidUTF8() {
        let body =
            Array("<a href=\"/".utf8) + [0xE9] + Array("\">x</a><a href=\"/".utf8) + [0xC3, 0xA9] + Array("\">".utf8)
        // The character at the switch is garbled ("/Ã" for "/é"): libxml2 re-decodes from the wrong place.
        let links = LinkExtractor.extract(from: body, charset: nil).links.map(\.href)
        #expect(links.count == 2)
        #expect(links.last == "/Ã©")
        #expect(LinkExtractor.extract(from: body, charset: "utf-8").links.count == 2)
    }
}

@Suite("Content-Type")
struct ContentTypeTests {
    @Test(
        "isHTML",
        arguments: [
            ("text/html", true), ("TEXT/HTML; charset=UTF-8", true), (" text/html ;q", true),
            ("application/xhtml+xml", true), ("Application/XHTML+XML;charset=utf-8", true),
            ("text/plain", false), ("text/htmlx", false), ("application/xml", false), ("", false),
            ("text/html-sandboxed", false), ("image/svg+xml", false),
        ])
    func isHTML(contentType: String, html: Bool) {
        #expect(LinkExtractor.isHTML(contentType: contentType) == html)
    }

    @Test("isHTML without a Content-Type")
    func isHTMLNil() {
        #expect(!LinkExtractor.isHTML(contentType: nil))
    }

    @Test(
        "charset parameter",
        arguments: [
            ("text/html; charset=UTF-8", "UTF-8"), ("text/html;charset=\"iso-8859-1\"", "iso-8859-1"),
            ("text/html; foo=bar; Charset = windows-1252 ", "windows-1252"), ("text/html", nil),
            ("text/html; charset=", nil), ("text/html; charset=\"\"", nil), ("text/html; xcharset=utf-8", nil),
            ("charset=utf-8", nil),
        ] as [(String, String?)])
    func charset(contentType: String, charset: String?) {
        #expect(LinkExtractor.charset(contentType: contentType) == charset)
    }
}
