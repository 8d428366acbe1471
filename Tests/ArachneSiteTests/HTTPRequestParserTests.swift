@testable import ArachneSite
import Testing

@Suite struct HTTPRequestParserTests {
    private func parse(_ text: String, scannedFrom: Int = 0) -> ParseOutcome {
        Array(text.utf8).withUnsafeBytes { HTTPRequestParser.parse($0, scannedFrom: scannedFrom) }
    }

    private func head(_ text: String) throws -> (RequestHead, Int) {
        guard case .complete(let head, let length) = parse(text) else {
            throw ClientError("not complete: \(parse(text))")
        }
        return (head, length)
    }

    private func target(_ text: String) throws -> String {
        let (head, _) = try head(text)
        let bytes = Array(text.utf8)
        return String(decoding: bytes[head.targetStart..<head.targetEnd], as: UTF8.self)
    }

    @Test func parsesAKeepAliveGet() throws {
        let text = "GET /page/3?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n"
        let (head, length) = try head(text)
        #expect(length == text.utf8.count)
        #expect(head.method == .get)
        #expect(head.minorVersion == 1)
        #expect(head.persistent)
        #expect(head.contentLength == 0)
        #expect(try target(text) == "/page/3?x=1")
        let headers = Array(text.utf8)[head.headersStart..<head.headersEnd]
        #expect(String(decoding: headers, as: UTF8.self) == "Host: a\r\nAccept: */*\r\n")
    }

    @Test func persistenceFollowsVersionAndConnectionHeader() throws {
        #expect(try !head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").0.persistent)
        #expect(try !head("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n").0.persistent)
        #expect(try !head("GET / HTTP/1.0\r\n\r\n").0.persistent)
        #expect(try head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").0.persistent)
        #expect(try head("HEAD / HTTP/1.1\r\n\r\n").0.method == .head)
        #expect(try head("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").0.method == .other)
    }

    @Test func stopsAtTheFirstHeadAndSkipsLeadingBlankLines() throws {
        let first = "\r\nGET /a HTTP/1.1\r\n\r\n"
        let (_, length) = try head(first + "GET /b HTTP/1.1\r\n\r\n")
        #expect(length == first.utf8.count)
        #expect(try target(first) == "/a")
    }

    @Test func acceptsBareLineFeedsAndAbsoluteTargets() throws {
        #expect(try head("GET /x HTTP/1.1\nHost: a\n\n").1 == 25)
        #expect(try target("GET http://127.0.0.1:80/bytes/5 HTTP/1.1\r\n\r\n") == "/bytes/5")
    }

    @Test func incompleteHeadsResumeWhereScanningStopped() {
        #expect(parse("") == .incomplete(scanned: 0))
        #expect(parse("\r\n") == .incomplete(scanned: 0))
        guard case .incomplete(let scanned) = parse("GET / HTTP/1.1\r\nHost: a\r\n\r") else {
            Issue.record("expected incomplete")
            return
        }
        // Resuming from the hint still finds an end of head split across reads.
        guard case .complete = parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", scannedFrom: scanned) else {
            Issue.record("expected complete after resuming at \(scanned)")
            return
        }
    }

    @Test(arguments: [
        ("garbage\r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),
        ("GET / HTTP/1.1 extra\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\n\r\n", 400),
        ("GET nopath HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / HTTP/0.9\r\n\r\n", 505),
    ])
    func refusesMalformedRequests(text: String, status: Int) {
        guard case .invalid(let error) = parse(text) else {
            Issue.record("\(text.debugDescription) was accepted")
            return
        }
        #expect(error.status == status, "\(text.debugDescription): \(error.message)")
    }

    @Test func enforcesSizeLimits() {
        let longLine = "GET /" + String(repeating: "a", count: HTTPRequestParser.maxHeadBytes + 10)
        guard case .invalid(let lineError) = parse(longLine) else { return #expect(Bool(false)) }
        #expect(lineError.status == 414)

        let filler = "X-A: \(String(repeating: "b", count: 100))\r\n"
        let bigHead = "GET / HTTP/1.1\r\n" + String(repeating: filler, count: 200)
        guard case .invalid(let headError) = parse(bigHead + "\r\n") else { return #expect(Bool(false)) }
        #expect(headError.status == 431)
        guard case .invalid(let unfinishedError) = parse(bigHead) else { return #expect(Bool(false)) }
        #expect(unfinishedError.status == 431)

        let manyHeaders = "GET / HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: 101) + "\r\n"
        guard case .invalid(let countError) = parse(manyHeaders) else { return #expect(Bool(false)) }
        #expect(countError.status == 431)
    }
}
