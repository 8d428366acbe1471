@testable import ArachneArchive
import Testing

@Suite struct WARCRawHeadTests {
    @Test func rawHeaderKeepsHeadersButReplacesFramingAndStatusLine() {
        let raw = Array("""
            HTTP/2 200\r
            Content-Type: text/html\r
            content-encoding: gzip\r
            Transfer-Encoding: chunked\r
            CONTENT-LENGTH: 999\r
            Set-Cookie: a=b\r
            \r

            """.utf8)
        let head = String(decoding: WARCWriter.responseHead(status: 200, rawHeader: raw, bodyLength: 42,
                                                            httpVersion: "2"), as: UTF8.self)
        #expect(head == "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: a=b\r\nContent-Length: 42\r\n\r\n")
    }

    @Test func anEmptyRawHeaderStillMakesAValidHead() {
        let head = String(decoding: WARCWriter.responseHead(status: 404, rawHeader: [], bodyLength: 0,
                                                            httpVersion: "1.1"), as: UTF8.self)
        #expect(head == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    }
}

@Suite struct WARCRequestBlockTests {
    @Test func targetAndHostComeFromTheURLBytes() {
        let cases: [(String, String)] = [
            ("http://a.test", "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            ("http://a.test/", "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            ("https://u:p@a.test:8443/x/y?z=1#frag", "GET /x/y?z=1 HTTP/1.1\r\nHost: a.test:8443\r\n\r\n"),
            ("http://a.test?q=1", "GET /?q=1 HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            ("http://a.test/a\r\nInjected: yes", "GET /a Injected: yes HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            ("http://é.test/ü", "GET /ü HTTP/1.1\r\nHost: é.test\r\n\r\n"),
        ]
        for (url, block) in cases { #expect(WARCWriter.requestBlock(url: url) == block, "\(url)") }
    }

    @Test func fieldsAreCleanedAsBytes() {
        var out: [UInt8] = []
        WARCWriter.appendClean("a\r\nb\rc\nd", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "a b c d")
        out.removeAll()
        WARCWriter.appendDecimal(0, to: &out)
        out.append(UInt8(ascii: " "))
        WARCWriter.appendDecimal(1_234_567, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "0 1234567")
    }
}
