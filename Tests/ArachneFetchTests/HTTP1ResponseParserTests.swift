@testable import ArachneFetch
import Testing

@Suite struct HTTP1ResponseParserTests {
    /// Feeds `text` in pieces of `piece` bytes; returns the body, the head, and the bytes left unused.
    func parse(_ text: String, piece: Int = .max) throws -> (body: [UInt8], head: HTTP1ResponseHead?, unused: Int,
                                                             parser: HTTP1ResponseParser)
    {
        var parser = HTTP1ResponseParser()
        let bytes = Array(text.utf8)
        var body: [UInt8] = []
        var offset = 0
        var unused = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + min(piece, bytes.count))
            let used = try bytes[offset..<end].withUnsafeBytes { chunk in
                try parser.feed(chunk) { data, _ in body.append(contentsOf: data) }
            }
            if used < end - offset {
                unused = bytes.count - offset - used
                break
            }
            offset = end
        }
        return (body, parser.head, unused, parser)
    }

    @Test func keepAliveFollowsTheVersionAndTheConnectionHeader() throws {
        let cases: [(String, Bool)] = [
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true),
            // No framing: the body runs to the end of the connection, which cannot be reused.
            ("HTTP/1.1 200 OK\r\n\r\n", false),
        ]
        for (text, keepAlive) in cases {
            let result = try parse(text)
            #expect(result.head?.keepAlive == keepAlive, "\(text)")
        }
    }

    @Test func responsesEndWhereTheirFramingSaysSoTheRestIsLeftForTheCaller() throws {
        let first = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        let second = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        for piece in [1, 2, 7, 1000] {
            let result = try parse(first + second, piece: piece)
            #expect(result.body == Array("hello".utf8))
            #expect(result.parser.isComplete)
            #expect(result.unused == second.utf8.count)
            #expect(String(decoding: result.parser.headBytes, as: UTF8.self)
                == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        }
        // The same parser, reset, reads the next response on the connection.
        var parser = try parse(first).parser
        parser.reset()
        var body: [UInt8] = []
        _ = try Array(second.utf8).withUnsafeBytes { try parser.feed($0) { data, _ in body.append(contentsOf: data) } }
        #expect(parser.isComplete)
        #expect(parser.head?.status == 404)
        #expect(body == Array("abc".utf8))
    }

    @Test func chunkedWinsOverContentLengthAndHeaderNamesIgnoreCase() throws {
        let text = "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 100\r\ntransfer-encoding: gzip, Chunked\r\n"
            + "Content-Encoding: GZIP\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
        let result = try parse(text, piece: 3)
        #expect(result.head?.chunked == true)
        #expect(result.head?.contentLength == nil)
        #expect(result.head?.contentEncoding == "gzip")
        #expect(result.body == Array("hi".utf8))
        #expect(result.parser.isComplete)
    }

    @Test func locationIsKeptForRedirectsOnly() throws {
        let redirect = try parse("HTTP/1.1 302 Found\r\nLocation:  /next?a=1 \r\nContent-Length: 0\r\n\r\n")
        #expect(redirect.head?.location == "/next?a=1")
        let ok = try parse("HTTP/1.1 200 OK\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n")
        #expect(ok.head?.location == nil)
    }

    @Test func malformedHeadsAreRefusedWithWhatWasWrong() throws {
        let cases: [(String, String)] = [
            ("HTTP/2 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
            ("HTTP/1.1 20 OK\r\n\r\n", "not an HTTP/1.x status line"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", "invalid Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting Content-Length"),
            ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "header line without a name"),
            // A CR inside a name is not a dash: this is not a Content-Length header, and not a valid one either.
            ("HTTP/1.1 200 OK\r\nContent\rLength: 5\r\n\r\n", ""),
            ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected 101"),
        ]
        for (text, message) in cases {
            do {
                let result = try parse(text)
                #expect(message.isEmpty, "accepted: \(text)")
                #expect(result.head?.contentLength == nil)
            } catch let error as HTTP1ParseError {
                #expect(error.kind == .malformed)
                #expect(!message.isEmpty && error.message.contains(message), "\(error.message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func interimResponsesAreSkippedButNotWithoutEnd() throws {
        let interim = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        let final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let limit = HTTP1ResponseParser.maximumInterimResponses
        let allowed = try parse(String(repeating: interim, count: limit) + final, piece: 7)
        #expect(allowed.head?.status == 200)
        #expect(allowed.body == Array("ok".utf8))
        #expect(String(decoding: allowed.parser.headBytes, as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
        // A server that streams interim responses without end fails the request as soon as it passes the limit.
        #expect {
            _ = try parse(String(repeating: interim, count: limit + 1) + final)
        } throws: { error in
            let error = error as? HTTP1ParseError
            return error?.kind == .malformed && error?.message.contains("interim (1xx) responses") == true
        }
        // The count is per response: a reset parser starts again.
        var parser = try parse(String(repeating: interim, count: limit) + final).parser
        parser.reset()
        _ = try Array((String(repeating: interim, count: limit) + final).utf8).withUnsafeBytes {
            try parser.feed($0) { _, _ in }
        }
        #expect(parser.head?.status == 200)
    }

    @Test func theEndOfTheStreamCompletesOnlyResponsesFramedByIt() throws {
        var untilClose = try parse("HTTP/1.1 200 OK\r\n\r\nabc").parser
        try untilClose.finishAtEndOfStream()
        #expect(untilClose.isComplete)
        var short = try parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").parser
        #expect(throws: HTTP1ParseError(.incomplete, "the connection closed after 3 of 10 body bytes")) {
            try short.finishAtEndOfStream()
        }
        var nothing = HTTP1ResponseParser()
        #expect(!nothing.hasStarted)
        #expect(throws: HTTP1ParseError(.incomplete, "the server closed the connection without responding")) {
            try nothing.finishAtEndOfStream()
        }
    }
}
