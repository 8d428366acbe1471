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
