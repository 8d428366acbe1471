import ArachneSite
import ArachneSystem
import Glibc
import Testing

/// The hostile `/broken/` routes misbehave exactly as documented.
extension SiteSocketTests {
    @Test func garbageIsNotHTTPAndThenTheConnectionCloses() async throws {
        try await withSite { fixture in
            let bytes = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/broken/garbage")
                return try client.readToEnd()
            }
            #expect(!bytes.isEmpty)
            #expect(!bytes.starts(with: Array("HTTP/".utf8)))
            #expect(bytes.contains(0x00))
        }
    }

    @Test func resetResetsTheConnection() async throws {
        try await withSite { fixture in
            let outcome: String = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/broken/reset")
                do {
                    let bytes = try client.readToEnd()
                    return "end of stream after \(bytes.count) bytes"
                } catch let error as SystemError {
                    return error.errno == ECONNRESET ? "reset" : "\(error)"
                }
            }
            #expect(outcome == "reset")
        }
    }

    @Test func stallNeverAnswersAndHoldsTheConnectionUntilStop() async throws {
        let fixture = try SiteFixture()
        let client = try await onThread { () -> SendableBox<BlockingClient> in
            let client = try BlockingClient(port: fixture.port)
            try client.request("/broken/stall")
            return SendableBox(client)
        }
        let answered = try await onThread { client.value.hasData(withinMilliseconds: 300) }
        #expect(!answered)
        #expect(fixture.site.openConnections == 1)
        #expect(fixture.site.requestsServed == 0)
        fixture.shutdown()
        let rest = try await onThread { try client.value.readToEnd() }
        #expect(rest.isEmpty)
        #expect(fixture.site.openConnections == 0)
    }

    @Test func stallEndsWhenTheClientGoes() async throws {
        try await withSite { fixture in
            try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/broken/stall")
                _ = client.hasData(withinMilliseconds: 50)
                client.close()
            }
            #expect(fixture.eventually { fixture.site.openConnections == 0 })
        }
    }

    @Test func truncatedPromisesMoreThanItSends() async throws {
        try await withSite { fixture in
            let (head, body) = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/broken/truncated")
                return (try client.readHead(), try client.readToEnd())
            }
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "1024")
            #expect(body == DemoSite.body(count: 100))
        }
    }

    @Test func endlessKeepsSendingChunksUntilTheClientCloses() async throws {
        try await withSite { fixture in
            let received = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/broken/endless")
                let head = try client.readHead()
                var total = 0
                while total < 4 << 20 { total += try client.fill() }
                client.close()
                return (head, total)
            }
            #expect(received.0.header("Transfer-Encoding") == "chunked")
            #expect(received.1 >= 4 << 20)
            #expect(fixture.eventually { fixture.site.openConnections == 0 })
            #expect(fixture.site.requestsServed == 0)
        }
    }

    @Test func interimSendsEarlyHintsWithoutEndAndNeverAFinalResponse() async throws {
        try await withSite { fixture in
            let heads = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/broken/interim")
                var heads: [HTTPResponse] = []
                for _ in 0..<1_000 { heads.append(try client.readHead()) }
                client.close()
                return heads
            }
            #expect(heads.count == 1_000)
            #expect(heads.allSatisfy { $0.status == 103 && $0.header("Link") == "</style.css>; rel=preload" })
            #expect(fixture.eventually { fixture.site.openConnections == 0 })
            #expect(fixture.site.requestsServed == 0)
        }
    }

    @Test func badStatusHasNoValidStatusLine() async throws {
        try await withSite { fixture in
            let bytes = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/broken/bad-status")
                return try client.readToEnd()
            }
            let statusLine = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
            #expect(statusLine.hasPrefix("HTTP/1.1 "))
            let code = statusLine.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            #expect(Int(code) == nil, "status line \(statusLine) has a numeric code")
        }
    }

    @Test func hugeHeaderHasA200KiBHeaderLine() async throws {
        try await withSite { fixture in
            let response = try await onThread {
                let client = try BlockingClient(port: fixture.port)
                try client.request("/broken/huge-header")
                return try client.readResponse()
            }
            #expect(response.status == 200)
            #expect((response.header("X-Huge")?.count ?? 0) == 200 * 1024)
            #expect(response.text == "ok\n")
        }
    }
}

/// Moves a value that is used by one thread at a time between the test's threads.
final class SendableBox<Value>: @unchecked Sendable {
    // Safety: the tests hand the value from one thread to the next with an await in between, never sharing it.
    let value: Value
    init(_ value: Value) { self.value = value }
}
