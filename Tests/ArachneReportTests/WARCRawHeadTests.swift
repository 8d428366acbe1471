@testable import ArachneArchive
import ArachneTestSupport
import Foundation
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

@Suite struct GzipMemberTests {
    /// Each member, cut out of the file alone, inflates (Python's zlib, an independent reader) to its input.
    @Test func storedAndCompressedMembersInflateToTheirInputs() throws {
        var random = SeededGenerator(seed: 11)
        let text = Array(String(repeating: "<p>Arachne keeps every body it fetched.</p>\n", count: 120).utf8)
        let inputs: [(bytes: [UInt8], compressed: Bool)] = [
            ([], false), ([], true), (Array("x".utf8), false), (text, true), (text, false),
            ((0..<70_000).map { _ in UInt8.random(in: 0...255, using: &random) }, false),  // two stored blocks
            ((0..<200_000).map { _ in UInt8.random(in: 0...255, using: &random) }, true),  // does not compress
        ]
        let writer = GzipMemberWriter()
        var file: [UInt8] = []
        var spans: [[Int]] = []
        for input in inputs {
            let start = file.count
            input.bytes.withUnsafeBytes { writer.appendMember($0, compressed: input.compressed, to: &file) }
            spans.append([start, file.count - start])
        }
        #expect(spans[3][1] < text.count / 4, "the text compresses")
        #expect(spans[4][1] == text.count + 10 + 5 + 8, "stored: header, one block header, trailer")
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/members.gz"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(file)))
        let spansJSON = String(decoding: try JSONSerialization.data(withJSONObject: spans), as: UTF8.self)
        let result = try Program.python(#"""
            import hashlib, json, sys, zlib
            data = open(sys.argv[1], "rb").read()
            out = []
            for start, length in json.loads(sys.argv[2]):
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                payload = inflater.decompress(data[start:start + length])
                out.append([inflater.eof and inflater.unused_data == b"", hashlib.sha1(payload).hexdigest()])
            print(json.dumps(out))
            """#, [path, spansJSON])
        #expect(result.status == 0, "\(result.stderr)")
        let found = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[Any]] ?? []
        #expect(found.count == inputs.count)
        for (index, entry) in found.enumerated() {
            #expect(entry.first as? Bool == true, "member \(index) is one whole gzip member")
            #expect(entry.last as? String == SHA1.hash(inputs[index].bytes).hex, "member \(index) inflates to its input")
        }
    }
}
