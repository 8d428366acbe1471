import ArachneEventLoop
import ArachneSite
import ArachneSystem
import Foundation
import Glibc
import Testing

/// The site's routes and HTTP/1.1 behaviour, over real sockets on 127.0.0.1.
extension SiteSocketTests {
    /// One request on a fresh connection, read on its own thread.
    private func fetch(
        _ port: UInt16, _ path: String, method: String = "GET", headers: [String] = []
    ) async throws -> HTTPResponse {
        try await onThread {
            let client = try BlockingClient(port: port)
            try client.request(path, method: method, headers: headers)
            return try client.readResponse(head: method == "HEAD")
        }
    }

    @Test func startReportsItsPortAndBaseURL() async throws {
        try await withSite { fixture in
            #expect(fixture.site.port != 0)
            #expect(fixture.site.baseURL == "http://127.0.0.1:\(fixture.site.port)")
            #expect(fixture.site.connectionsAccepted == 0)
        }
    }

    @Test func indexPagesAndRobotsAreServed() async throws {
        try await withSite { fixture in
            let index = try await fetch(fixture.port, "/")
            #expect(index.status == 200)
            #expect(index.header("Content-Type") == "text/html; charset=utf-8")
            #expect(index.text == DemoSite.indexHTML)

            for n in [0, 7, 999] {
                let page = try await fetch(fixture.port, "/page/\(n)")
                #expect(page.status == 200)
                #expect(page.text == DemoSite.pageHTML(n))
                #expect(page.header("Content-Length") == String(page.body.count))
            }
            #expect(try await fetch(fixture.port, "/page/1000").status == 404)

            let robots = try await fetch(fixture.port, "/robots.txt")
            #expect(robots.status == 200)
            #expect(robots.header("Content-Type") == "text/plain")
            #expect(robots.text.contains("Disallow: /broken/"))
        }
    }

    @Test(arguments: [0, 1, 2048, 65_600, 300_000, 3_000_000])
    func bytesServesExactlyNDeterministicBytes(count: Int) async throws {
        try await withSite { fixture in
            let response = try await fetch(fixture.port, "/bytes/\(count)")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/octet-stream")
            #expect(response.header("Content-Length") == String(count))
            #expect(response.body == DemoSite.body(count: count))
        }
    }

    @Test(arguments: [200, 201, 301, 404, 418, 429, 500, 503, 599])
    func statusAnswersWithThatCode(code: Int) async throws {
        try await withSite { fixture in
            let response = try await fetch(fixture.port, "/status/\(code)")
            #expect(response.status == code)
            #expect(response.text == "status \(code)\n")
        }
    }

    @Test func noContentAndNotModifiedHaveNoBody() async throws {
        try await withSite { fixture in
            for code in [204, 304] {
                let response = try await onThread {
                    let client = try BlockingClient(port: fixture.port)
                    try client.request("/status/\(code)")
                    let first = try client.readResponse()
                    // The next response on the connection starts right after the head: there was no body.
                    try client.request("/status/200")
                    let second = try client.readResponse()
                    return (first, second)
                }
                #expect(response.0.status == code)
                #expect(response.0.header("Content-Length") == nil)
                #expect(response.1.status == 200)
            }
        }
    }

    @Test func outOfRangeNumbersAreBadRequestsThatKeepTheConnection() async throws {
        try await withSite { fixture in
            let statuses = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/status/700")
                let first = try client.readResponse()
                try client.request("/bytes/3")
                let second = try client.readResponse()
                return [first.status, second.status]
            }
            #expect(statuses == [400, 200])
            #expect(fixture.site.connectionsAccepted == 1)
        }
    }

    @Test func delayAnswersAfterAtLeastTheDelay() async throws {
        try await withSite { fixture in
            let started = EventLoop.now()
            let response = try await fetch(fixture.port, "/delay/150")
            let elapsedMilliseconds = (EventLoop.now() - started) / 1_000_000
            #expect(response.status == 200)
            #expect(response.text == "delayed 150 ms\n")
            #expect(elapsedMilliseconds >= 150)
        }
    }

    @Test func redirectsCountDownToZero() async throws {
        try await withSite { fixture in
            var path = "/redirect/3"
            var hops = 0
            while true {
                let response = try await fetch(fixture.port, path)
                guard response.status == 302 else {
                    #expect(response.status == 200)
                    break
                }
                hops += 1
                path = try #require(response.header("Location"))
                #expect(hops <= 3)
                if hops > 3 { break }
            }
            #expect(hops == 3)
            #expect(path == "/redirect/0")

            let loop = try await fetch(fixture.port, "/redirect-loop")
            #expect(loop.status == 302)
            #expect(loop.header("Location") == "/redirect-loop")
        }
    }

    @Test(arguments: [0, 1, 10, 4096, 1_000_000])
    func chunkedFramingIsCorrect(count: Int) async throws {
        try await withSite { fixture in
            let response = try await fetch(fixture.port, "/chunked/\(count)")
            #expect(response.status == 200)
            #expect(response.header("Transfer-Encoding") == "chunked")
            #expect(response.header("Content-Length") == nil)
            #expect(response.body == DemoSite.body(count: count))
            let size = DemoSite.chunkSize(forBodyOf: count)
            var expected = Array(repeating: size, count: count / size)
            if count % size != 0 { expected.append(count % size) }
            expected.append(0)
            #expect(response.chunkSizes == expected)
            if count >= 4 && count <= 4096 { #expect(response.chunkSizes.count == 5) }
        }
    }

    @Test func chunkedToHTTP10UsesALength() async throws {
        try await withSite { fixture in
            let response = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/chunked/100", version: "HTTP/1.0")
                return try client.readResponse()
            }
            #expect(response.header("Transfer-Encoding") == nil)
            #expect(response.header("Content-Length") == "100")
            #expect(response.body == DemoSite.body(count: 100))
        }
    }

    @Test(arguments: [0, 1000, 500_000])
    func gzipDecodesToTheBytesBody(count: Int) async throws {
        try await withSite { fixture in
            let response = try await fetch(fixture.port, "/gzip/\(count)", headers: ["Accept-Encoding: gzip"])
            #expect(response.status == 200)
            #expect(response.header("Content-Encoding") == "gzip")
            #expect(Array(response.body.prefix(2)) == [0x1F, 0x8B])
            #expect(try gunzipWithPython(response.body) == DemoSite.body(count: count))
        }
    }

    @Test func headersAreEchoed() async throws {
        try await withSite { fixture in
            let response = try await fetch(fixture.port, "/headers", headers: ["X-Test: hello there", "Accept: */*"])
            #expect(response.status == 200)
            #expect(response.text == "Host: 127.0.0.1\nX-Test: hello there\nAccept: */*\n")
        }
    }

    @Test func headHasTheHeadersButNoBody() async throws {
        try await withSite { fixture in
            let responses = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/bytes/5000", method: "HEAD")
                let head = try client.readResponse(head: true)
                try client.request("/page/1", method: "HEAD")
                let page = try client.readResponse(head: true)
                try client.request("/bytes/3")
                let next = try client.readResponse()
                return [head, page, next]
            }
            #expect(responses[0].header("Content-Length") == "5000")
            #expect(responses[1].header("Content-Length") == String(DemoSite.pageHTML(1).utf8.count))
            #expect(responses[2].text == "ABC")
        }
    }

    @Test func otherMethodsGet405AndTheirBodiesAreSkipped() async throws {
        try await withSite { fixture in
            let responses = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.send("POST /bytes/3 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
                let post = try client.readResponse()
                try client.request("/bytes/4")
                let get = try client.readResponse()
                return [post, get]
            }
            #expect(responses[0].status == 405)
            #expect(responses[0].header("Allow") == "GET, HEAD")
            #expect(responses[1].status == 200)
            #expect(responses[1].text == "ABCD")
            #expect(fixture.site.connectionsAccepted == 1)
        }
    }

    @Test func keepAliveServesTwoRequestsOnOneConnection() async throws {
        try await withSite { fixture in
            let responses = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/page/1")
                let first = try client.readResponse()
                try client.request("/bytes/10")
                let second = try client.readResponse()
                return [first, second]
            }
            #expect(responses.map(\.status) == [200, 200])
            #expect(responses.allSatisfy { $0.header("Connection") == nil })
            #expect(responses[1].body == DemoSite.body(count: 10))
            #expect(fixture.site.connectionsAccepted == 1)
            #expect(fixture.site.requestsServed == 2)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withSite { fixture in
            let bodies = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                var batch = ""
                for count in [1, 300_000, 2, 3] { batch += "GET /bytes/\(count) HTTP/1.1\r\nHost: a\r\n\r\n" }
                batch += "GET /delay/20 HTTP/1.1\r\n\r\nGET /chunked/5 HTTP/1.1\r\n\r\n"
                try client.send(batch)
                return try (0..<6).map { _ in try client.readResponse().body }
            }
            #expect(bodies[0] == DemoSite.body(count: 1))
            #expect(bodies[1] == DemoSite.body(count: 300_000))
            #expect(bodies[2] == DemoSite.body(count: 2))
            #expect(bodies[3] == DemoSite.body(count: 3))
            #expect(String(decoding: bodies[4], as: UTF8.self) == "delayed 20 ms\n")
            #expect(bodies[5] == DemoSite.body(count: 5))
            #expect(fixture.site.connectionsAccepted == 1)
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withSite { fixture in
            let (response, rest) = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/bytes/10", headers: ["Connection: close"])
                return (try client.readResponse(), try client.readToEnd())
            }
            #expect(response.header("Connection") == "close")
            #expect(response.body.count == 10)
            #expect(rest.isEmpty)
            #expect(fixture.eventually { fixture.site.openConnections == 0 })
        }
    }

    @Test func http10ClosesUnlessAskedToKeepAlive() async throws {
        try await withSite { fixture in
            let (plain, rest) = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/bytes/4", version: "HTTP/1.0")
                return (try client.readResponse(), try client.readToEnd())
            }
            #expect(plain.header("Connection") == "close")
            #expect(rest.isEmpty)

            let kept = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/bytes/4", version: "HTTP/1.0", headers: ["Connection: keep-alive"])
                let first = try client.readResponse()
                try client.request("/page/2", version: "HTTP/1.0", headers: ["Connection: keep-alive"])
                let second = try client.readResponse()
                return [first, second]
            }
            #expect(kept.map(\.status) == [200, 200])
            #expect(kept[0].header("Connection") == "keep-alive")
            #expect(fixture.site.connectionsAccepted == 2)
        }
    }

    /// Requests the parser refuses, by name (the arguments are named so a failure report stays short).
    static let malformedRequests: [String: String] = [
        "not a request line": "garbage\r\n\r\n",
        "header without colon": "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        "head over 16 KiB": "GET / HTTP/1.1\r\n"
            + String(repeating: "X-Filler: \(String(repeating: "z", count: 200))\r\n", count: 100),
        "TLS hello": "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}\r\n\r\n",
    ]

    @Test(arguments: malformedRequests.keys.sorted())
    func malformedRequestsGet4xxAndAClose(name: String) async throws {
        let request = try #require(Self.malformedRequests[name])
        try await withSite { fixture in
            let (response, rest) = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.send(request)
                return (try client.readResponse(), try client.readToEnd())
            }
            #expect(response.status == 400 || response.status == 431)
            #expect(response.header("Connection") == "close")
            #expect(!response.text.isEmpty)
            #expect(rest.isEmpty)
            #expect(fixture.eventually { fixture.site.openConnections == 0 })
        }
    }

    @Test func pythonHTTPClientReusesTheConnection() async throws {
        try await withSite { fixture in
            let script = """
                import http.client, sys
                c = http.client.HTTPConnection("127.0.0.1", \(fixture.port), timeout=10)
                out = []
                for path in ["/page/5", "/bytes/70000", "/chunked/1000", "/status/404"]:
                    c.request("GET", path)
                    r = c.getresponse()
                    out.append("%s %d %d" % (path, r.status, len(r.read())))
                print("\\n".join(out))
                """
            let output = try await onThread { try runPython(script) }
            let page = DemoSite.pageHTML(5).utf8.count
            let expected = [
                "/page/5 200 \(page)", "/bytes/70000 200 70000", "/chunked/1000 200 1000", "/status/404 404 11",
            ]
            #expect(output == expected.joined(separator: "\n") + "\n")
            #expect(fixture.site.connectionsAccepted == 1)
        }
    }
}

/// Runs a python3 script and returns its standard output; throws when it fails.
func runPython(_ script: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ClientError("python3 exited with \(process.terminationStatus)") }
    return String(decoding: data, as: UTF8.self)
}
