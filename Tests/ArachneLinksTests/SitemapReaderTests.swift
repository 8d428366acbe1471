import CArachneZlib
import Testing

@testable import ArachneLinks

/// Compresses `bytes` into one gzip member with zlib, as a server's `sitemap.xml.gz` is.
func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var deflater = GzipWriter()
    deflater.write(bytes)
    return deflater.finish()
}

/// A streaming gzip writer, for fixtures too big to build in memory first (gzip bombs).
struct GzipWriter {
    /// zlib's state points back at its z_stream, which must therefore stay at one address.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private(set) var output: [UInt8] = []

    init(level: Int32 = Z_DEFAULT_COMPRESSION) {
        stream.initialize(to: z_stream())
        let result = c_arachne_deflate_init_gzip(stream, level)
        precondition(result == Z_OK)
    }

    mutating func write(_ bytes: [UInt8]) { run(bytes, flush: Z_NO_FLUSH) }

    mutating func finish() -> [UInt8] {
        run([], flush: Z_FINISH)
        deflateEnd(stream)
        stream.deallocate()
        return output
    }

    private mutating func run(_ bytes: [UInt8], flush: Int32) {
        var input = bytes
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = uInt(inBuffer.count)
            while true {
                let (code, produced) = buffer.withUnsafeMutableBufferPointer { outBuffer -> (Int32, Int) in
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = uInt(outBuffer.count)
                    let code = deflate(stream, flush)
                    return (code, outBuffer.count - Int(stream.pointee.avail_out))
                }
                output.append(contentsOf: buffer[..<produced])
                let inputUsed = stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0
                if flush == Z_FINISH ? code == Z_STREAM_END : inputUsed { break }
                precondition(code == Z_OK || code == Z_BUF_ERROR, "deflate: \(code)")
            }
        }
    }
}

func read(_ text: String, limits: SitemapLimits = .sitemapsOrg) -> SitemapDocument {
    SitemapReader.read(Array(text.utf8), limits: limits)
}

func locations(_ document: SitemapDocument) -> [String] { document.entries.map(\.location) }

/// The sitemaps.org protocol's examples and formats (https://www.sitemaps.org/protocol.html), written out here.
@Suite("SitemapReader: the sitemaps.org formats")
struct SitemapReaderTests {
    static let oneURL = """
        <?xml version="1.0" encoding="UTF-8"?>
        <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
           <url>
              <loc>http://www.example.com/</loc>
              <lastmod>2005-01-01</lastmod>
              <changefreq>monthly</changefreq>
              <priority>0.8</priority>
           </url>
        </urlset>
        """

    static let severalURLs = """
        <?xml version="1.0" encoding="UTF-8"?>
        <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
           <url>
              <loc>http://www.example.com/</loc>
              <lastmod>2005-01-01</lastmod>
              <changefreq>monthly</changefreq>
              <priority>0.8</priority>
           </url>
           <url>
              <loc>http://www.example.com/catalog?item=12&amp;desc=vacation_hawaii</loc>
              <changefreq>weekly</changefreq>
           </url>
           <url>
              <loc>http://www.example.com/catalog?item=73&amp;desc=vacation_new_zealand</loc>
              <lastmod>2004-12-23</lastmod>
              <changefreq>weekly</changefreq>
           </url>
           <url>
              <loc>http://www.example.com/catalog?item=74&amp;desc=vacation_newfoundland</loc>
              <lastmod>2004-12-23T18:00:15+00:00</lastmod>
              <priority>0.3</priority>
           </url>
           <url>
              <loc>http://www.example.com/catalog?item=83&amp;desc=vacation_usa</loc>
              <lastmod>2004-11-23</lastmod>
           </url>
        </urlset>
        """

    static let index = """
        <?xml version="1.0" encoding="UTF-8"?>
        <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
           <sitemap>
              <loc>http://www.example.com/sitemap1.xml.gz</loc>
              <lastmod>2004-10-01T18:23:17+00:00</lastmod>
           </sitemap>
           <sitemap>
              <loc>http://www.example.com/sitemap2.xml.gz</loc>
              <lastmod>2005-01-01</lastmod>
           </sitemap>
        </sitemapindex>
        """

    @Test("one URL with every optional tag")
    func oneURL() {
        let document = read(Self.oneURL)
        #expect(document.kind == .urlset)
        #expect(document.rootElement == "urlset")
        #expect(document.entries == [.init(location: "http://www.example.com/", lastmod: "2005-01-01", line: 4)])
        #expect(document.error == nil)
        #expect(!document.compressed && !document.truncatedAtByteCap && !document.truncatedAtEntryCap)
        #expect(document.bytesParsed == Self.oneURL.utf8.count)
    }

    @Test("several URLs: entity-escaped ampersands decoded, lastmod optional")
    func severalURLs() {
        let document = read(Self.severalURLs)
        #expect(document.kind == .urlset)
        #expect(locations(document) == [
            "http://www.example.com/",
            "http://www.example.com/catalog?item=12&desc=vacation_hawaii",
            "http://www.example.com/catalog?item=73&desc=vacation_new_zealand",
            "http://www.example.com/catalog?item=74&desc=vacation_newfoundland",
            "http://www.example.com/catalog?item=83&desc=vacation_usa",
        ])
        #expect(document.entries.map(\.lastmod) == [
            "2005-01-01", nil, "2004-12-23", "2004-12-23T18:00:15+00:00", "2004-11-23",
        ])
        #expect(document.entries.map(\.line) == [4, 10, 14, 19, 24])
    }

    @Test("a sitemap index: its entries are sitemaps")
    func sitemapIndex() {
        let document = read(Self.index)
        #expect(document.kind == .sitemapIndex)
        #expect(document.entries == [
            .init(location: "http://www.example.com/sitemap1.xml.gz", lastmod: "2004-10-01T18:23:17+00:00", line: 4),
            .init(location: "http://www.example.com/sitemap2.xml.gz", lastmod: "2005-01-01", line: 8),
        ])
    }

    @Test("entity escaping: the five predefined entities and character references")
    func entityEscaping() {
        let document = read("""
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc>http://www.example.com/%C3%BCmlat.php&amp;q=name</loc></url>
            <url><loc>http://www.example.com/ümlat.php&amp;q=name</loc></url>
            <url><loc>http://e.example/?a=&apos;&quot;&gt;&lt;&#38;&#x26;</loc></url>
            </urlset>
            """)
        #expect(locations(document) == [
            "http://www.example.com/%C3%BCmlat.php&q=name",
            "http://www.example.com/ümlat.php&q=name",
            "http://e.example/?a='\"><&&",
        ])
    }

    @Test("a text sitemap: one URL per line, any line ending, blank lines skipped, whitespace trimmed")
    func textSitemap() {
        let document = read(
            "\u{FEFF}http://www.example.com/catalog?item=1\nhttp://www.example.com/catalog?item=11\r\n\r\n"
                + "  https://www.example.com/b\t\rHTTP://www.example.com/c")
        #expect(document.kind == .text)
        #expect(document.entries == [
            .init(location: "http://www.example.com/catalog?item=1", line: 1),
            .init(location: "http://www.example.com/catalog?item=11", line: 2),
            .init(location: "https://www.example.com/b", line: 4),
            .init(location: "HTTP://www.example.com/c", line: 5),
        ])
        #expect(locations(read("\n\n  http://a.example/\nnot a url\n")) == ["http://a.example/", "not a url"])
        #expect(read("\n\n  http://a.example/\n").entries.first?.line == 3)
    }

    @Test("a text sitemap split across chunks keeps its lines (gzip hands it over in 64 KiB steps)")
    func textAcrossChunks() {
        let lines = (0..<20_000).map { "http://example.com/page/\($0)" }
        let text = lines.joined(separator: "\r\n")
        let document = SitemapReader.read(gzip(Array(text.utf8)))
        #expect(document.kind == .text && document.compressed)
        #expect(locations(document) == lines)
        #expect(document.entries.last?.line == 20_000)
    }

    @Test(
        "namespaces: the sitemaps.org one, Google's old ones, none, or a prefix are accepted",
        arguments: [
            #"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a/</loc></url></urlset>"#,
            #"<urlset xmlns="https://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a/</loc></url></urlset>"#,
            #"<urlset xmlns="http://www.google.com/schemas/sitemap/0.84"><url><loc>http://a/</loc></url></urlset>"#,
            #"<urlset><url><loc>http://a/</loc></url></urlset>"#,
            #"<s:urlset xmlns:s="http://www.sitemaps.org/schemas/sitemap/0.9">"#
                + #"<s:url><s:loc>http://a/</s:loc></s:url></s:urlset>"#,
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
              xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
              xsi:schemaLocation="http://www.sitemaps.org/schemas/sitemap/0.9
                http://www.sitemaps.org/schemas/sitemap/0.9/sitemap.xsd">
            <url><loc>http://a/</loc></url></urlset>
            """,
        ])
    func namespaces(xml: String) {
        let document = read(xml)
        #expect(document.kind == .urlset)
        #expect(locations(document) == ["http://a/"])
        #expect(document.error == nil)
    }

    @Test("extension elements (image, xhtml alternates) are not the page's location")
    func extensions() {
        let document = read("""
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
                    xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
                    xmlns:xhtml="http://www.w3.org/1999/xhtml">
              <url>
                <image:image><image:loc>http://a/photo.jpg</image:loc></image:image>
                <xhtml:link rel="alternate" hreflang="de" href="http://a/de/"/>
                <loc>http://a/page</loc>
              </url>
            </urlset>
            """)
        #expect(locations(document) == ["http://a/page"])
    }

    @Test("CDATA, whitespace around the location, a second <loc>, a missing <loc>, misplaced elements")
    func looseStructure() {
        let document = read("""
            <urlset>
              <url><loc><![CDATA[http://a/?x=1&y=2]]></loc></url>
              <url><loc>
                  http://a/indented
              </loc></url>
              <url><loc>http://a/first</loc><loc>http://a/second</loc></url>
              <url><lastmod>2005-01-01</lastmod></url>
              <sitemap><loc>http://a/wrong-kind</loc></sitemap>
              <other><url><loc>http://a/too-deep</loc></url></other>
              <url><loc></loc></url>
            </urlset>
            """)
        #expect(locations(document) == ["http://a/?x=1&y=2", "http://a/indented", "http://a/first", ""])
        #expect(document.missingLocation == 1)
    }

    @Test("a byte order mark, leading blank lines and another declared encoding")
    func encodings() {
        let bom = read("\u{FEFF}\n\n<urlset><url><loc>http://a/</loc></url></urlset>")
        #expect(locations(bom) == ["http://a/"])
        #expect(bom.entries.first?.line == 3)
        let latin1 = Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><urlset><url><loc>http://a/"#.utf8) + [0xFC]
            + Array("</loc></url></urlset>".utf8)
        #expect(locations(SitemapReader.read(latin1)) == ["http://a/ü"])
        var utf16: [UInt8] = [0xFF, 0xFE]
        let utf16Text = #"<?xml version="1.0" encoding="UTF-16"?><urlset><url><loc>http://a/é</loc></url></urlset>"#
        for unit in utf16Text.utf16 {
            utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
        }
        #expect(locations(SitemapReader.read(utf16)) == ["http://a/é"])
    }

    @Test(
        "not sitemaps: another root element, HTML, a feed, JSON, nothing",
        arguments: [
            ("<!DOCTYPE html><html><body><a href='http://a/'>x</a></body></html>", "html"),
            ("<?xml version='1.0'?><rss version='2.0'><channel><link>http://a/</link></channel></rss>", "rss"),
            ("<urlset xmlns='http://example.com/not-sitemaps'><url><loc>http://a/</loc></url></urlset>", "urlset"),
            ("{\"urls\": [\"http://a/\"]}", nil),
            ("", nil),
            ("   \n\t ", nil),
            ("htt", nil),
            ("ftp://a.example/\nhttp://a.example/", nil),
        ] as [(String, String?)])
    func notSitemaps(body: String, root: String?) {
        let document = read(body)
        #expect(document.kind == .notSitemap)
        #expect(document.rootElement == root)
        #expect(document.entries.isEmpty)
    }

    @Test("gzip as a file: recognised by its magic bytes, inflated, parsed")
    func gzipped() {
        let document = SitemapReader.read(gzip(Array(Self.severalURLs.utf8)))
        #expect(document.compressed)
        #expect(document.kind == .urlset)
        #expect(document.entries == read(Self.severalURLs).entries)
        #expect(document.bytesParsed == Self.severalURLs.utf8.count)
        #expect(document.error == nil)
    }

    @Test("concatenated gzip members are one file; bytes after the last member are ignored")
    func gzipMembers() {
        let text = Array(Self.index.utf8)
        let split = text.count / 2
        let body = gzip(Array(text[..<split])) + gzip(Array(text[split...])) + [0, 0, 0, 0]
        let document = SitemapReader.read(body)
        #expect(document.kind == .sitemapIndex)
        #expect(document.entries == read(Self.index).entries)
        #expect(document.error == nil)
    }

    @Test("the entry cap: 50,000 kept, the rest counted")
    func entryCap() {
        var xml = "<urlset>"
        for index in 0..<50_003 { xml += "<url><loc>http://a/\(index)</loc></url>\n" }
        xml += "</urlset>"
        let document = read(xml)
        #expect(document.entries.count == 50_000)
        #expect(document.overEntryCap == 3)
        #expect(document.truncatedAtEntryCap)
        #expect(document.entries.last?.location == "http://a/49999")
        let text = read("http://a/1\nhttp://a/2\nhttp://a/3\n", limits: SitemapLimits(maxEntries: 2))
        #expect(locations(text) == ["http://a/1", "http://a/2"] && text.overEntryCap == 1)
    }
}

@Suite("SitemapReader: hostile input")
struct SitemapHostileInputTests {
    @Test("billion laughs: entities are never substituted; the reference is an error and parsing stops")
    func billionLaughs() {
        var dtd = #"<!ENTITY lol "lol">"#
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            dtd += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">"
        }
        for use in ["<url><loc>http://a/&lol9;</loc></url>", "<url><loc a='&lol9;'>http://a/</loc></url>"] {
            let document = read(
                "<?xml version=\"1.0\"?><!DOCTYPE urlset [\(dtd)]><urlset><url><loc>http://a/before</loc></url>"
                    + use + "<url><loc>http://a/after</loc></url></urlset>")
            #expect(locations(document) == ["http://a/before"])
            #expect(document.error?.kind == .malformedXML)
            #expect(document.error?.detail.contains("lol9") == true, "\(String(describing: document.error))")
        }
    }

    @Test("external entities and DTDs are never loaded (XXE)")
    func externalEntities() {
        let xxe = read("""
            <?xml version="1.0"?>
            <!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <urlset><url><loc>http://a/&xxe;</loc></url></urlset>
            """)
        #expect(xxe.entries.isEmpty)
        #expect(xxe.error?.kind == .malformedXML)
        let parameter = read("""
            <?xml version="1.0"?>
            <!DOCTYPE urlset [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>
            <urlset><url><loc>http://a/</loc></url></urlset>
            """)
        #expect(parameter.entries.allSatisfy { !$0.location.contains("root:") })
        let external = read("""
            <?xml version="1.0"?>
            <!DOCTYPE urlset SYSTEM "http://127.0.0.1:9/sitemap.dtd">
            <urlset><url><loc>http://a/</loc></url></urlset>
            """)
        #expect(locations(external) == ["http://a/"])
    }

    @Test("malformed XML: an unescaped ampersand stops parsing with the line; earlier entries are kept")
    func malformed() {
        let document = read("""
            <urlset>
            <url><loc>http://a/1</loc></url>
            <url><loc>http://a/2?x=1&y=2</loc></url>
            <url><loc>http://a/3</loc></url>
            </urlset>
            """)
        #expect(locations(document) == ["http://a/1"])
        #expect(document.error?.kind == .malformedXML)
        #expect(document.error?.line == 3)
        #expect(document.error?.description.hasPrefix("malformed XML at line 3: ") == true)
    }

    @Test("a document cut off: complete entries are kept, the cut is an error")
    func cutOff() {
        let document = read("<urlset><url><loc>http://a/1</loc></url><url><loc>http://a/2</loc><lastmod>20")
        #expect(locations(document) == ["http://a/1", "http://a/2"])
        #expect(document.error?.kind == .malformedXML)
        #expect(locations(read("<urlset><url><loc>http://a/1</loc></url><url><loc>http://a/tru")) == ["http://a/1"])
    }

    @Test("100,000 nested elements: the depth limit ends parsing")
    func deepNesting() {
        let xml = "<urlset><url><loc>http://a/</loc></url>\n" + String(repeating: "<x>", count: 100_000)
            + String(repeating: "</x>", count: 100_000) + "</urlset>"
        let document = read(xml)
        #expect(locations(document) == ["http://a/"])
        #expect(document.error == SitemapError(kind: .tooDeep, line: 2, detail: "more than 100 nested elements"))
        let deep = "<urlset><url>" + String(repeating: "<x>", count: 97) + String(repeating: "</x>", count: 97)
            + "<loc>http://a/</loc></url></urlset>"
        #expect(read(deep).error == nil, "100 levels are fine")
        let bomb = gzip(Array(("<urlset>" + String(repeating: "<x>", count: 10_000_000)).utf8))
        #expect(SitemapReader.read(bomb).error?.kind == .tooDeep)
    }

    @Test("huge locations are counted and dropped; huge text elsewhere is skipped")
    func hugeText() {
        let long = String(repeating: "x", count: 4_000_000)
        let document = read("""
            <urlset><url><loc>http://a/\(long)</loc></url>
            <url><loc>http://a/ok</loc><priority>\(long)</priority><lastmod>\(long)</lastmod></url></urlset>
            """)
        #expect(locations(document) == ["http://a/ok"])
        #expect(document.entries.first?.lastmod == nil)
        #expect(document.overlong == 1)
        #expect(document.missingLocation == 0)
        let limited = read("<urlset><url><loc>http://a/12345</loc></url></urlset>",
                           limits: SitemapLimits(maxLocationBytes: 13))
        #expect(limited.entries.isEmpty && limited.overlong == 1)
        let text = read("http://a/1\n" + long + "\nhttp://a/2")
        #expect(locations(text) == ["http://a/1", "http://a/2"] && text.overlong == 1)
    }

    @Test("a 20 MB attribute, comment or unclosed tag: libxml2's 10 MB limits end parsing")
    func hugeTokens() {
        let long = String(repeating: "x", count: 20_000_000)
        for tail in ["<url a='\(long)'>", "<!--\(long)-->", "<url \(long)"] {
            let document = read(
                "<urlset><url><loc>http://a/</loc></url>" + tail + "<url><loc>http://a/after</loc></url></urlset>")
            #expect(locations(document) == ["http://a/"])
            #expect(document.error?.kind == .malformedXML, "\(tail.prefix(10))")
        }
    }

    @Test("the byte cap: an uncompressed body is read to the cap and cut there")
    func byteCap() {
        let xml = "<urlset>" + (0..<100).map { "<url><loc>http://a/\($0)</loc></url>" }.joined() + "</urlset>"
        let document = read(xml, limits: SitemapLimits(maxBytes: 200))
        #expect(document.truncatedAtByteCap)
        #expect(document.bytesParsed == 200)
        #expect(document.error == nil, "a cut at the cap is not malformed XML")
        #expect(locations(document) == (0..<6).map { "http://a/\($0)" }, "8 + 6 × 32 bytes")
    }

    @Test("a gzip bomb: 200 MiB that inflate from about 200 KiB are cut at 50 MiB")
    func gzipBomb() {
        var writer = GzipWriter(level: 9)
        writer.write(Array("<urlset><url><loc>http://a/</loc></url>".utf8))
        let spaces = [UInt8](repeating: 0x20, count: 1 << 20)
        for _ in 0..<200 { writer.write(spaces) }
        writer.write(Array("<url><loc>http://a/never</loc></url></urlset>".utf8))
        let bomb = writer.finish()
        #expect(bomb.count < 1 << 20)
        let document = SitemapReader.read(bomb)
        #expect(document.compressed && document.truncatedAtByteCap)
        #expect(document.bytesParsed == SitemapLimits.sitemapsOrg.maxBytes)
        #expect(locations(document) == ["http://a/"])
        #expect(document.error == nil)
    }

    @Test("truncated gzip: an error, and the entries inflated before the cut")
    func truncatedGzip() {
        let xml = "<urlset>" + (0..<2_000).map { "<url><loc>http://a/\($0)</loc></url>" }.joined() + "</urlset>"
        let body = gzip(Array(xml.utf8))
        for cut in [body.count - 4, body.count / 2, 12] {
            let document = SitemapReader.read(Array(body[..<cut]))
            #expect(document.error?.kind == .truncatedGzip, "cut at \(cut)")
            // Cut in the trailer, all the XML was inflated.
            #expect(cut == body.count - 4 ? document.entries.count == 2_000 : document.entries.count < 2_000)
            #expect(document.entries.enumerated().allSatisfy { $0.element.location == "http://a/\($0.offset)" })
        }
        #expect(SitemapReader.read([0x1F, 0x8B]).error?.kind == .truncatedGzip)
    }

    @Test("corrupt gzip: zlib's message")
    func corruptGzip() {
        var body = gzip(Array(SitemapReaderTests.severalURLs.utf8))
        body[body.count - 6] ^= 0xFF  // the CRC
        let crc = SitemapReader.read(body)
        #expect(crc.error?.kind == .corruptGzip)
        #expect(crc.error?.detail == "incorrect data check")
        let garbage = SitemapReader.read([0x1F, 0x8B, 0x08, 0x00] + [UInt8](repeating: 0xFF, count: 100))
        #expect(garbage.error?.kind == .corruptGzip)
        #expect(garbage.entries.isEmpty)
    }

    @Test("random bytes and random markup do not crash", arguments: 0..<12)
    func garbage(seed: Int) {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        let pieces = [
            "<urlset>", "<url>", "<loc>", "</loc>", "</url>", "http://a/", "&amp;", "&#x0;", "&x;", "<!--", "-->",
            "<![CDATA[", "]]>", "<!DOCTYPE urlset [", "]>", "\u{0}", "\u{FFFD}", "\n", "<sitemapindex>", "<sitemap>",
            "<?xml version='1.0'?>", "<", ">", "\"", "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'",
        ]
        let text = "<urlset>" + (0..<3_000).map { _ in pieces[next() % pieces.count] }.joined()
        let bytes = Array(text.utf8)
        let flipped = bytes.map { $0 ^ UInt8(next() % 256) }
        for body in [bytes, gzip(bytes), Array(gzip(bytes).prefix(next() % 500)), flipped] {
            let document = SitemapReader.read(body)
            #expect(document.entries.count <= 3_000)
        }
    }
}
