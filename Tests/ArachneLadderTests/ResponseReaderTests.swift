import ArachneCore
@testable import ArachneLadder
import Testing

@Suite struct ResponseReaderTests {
    /// Feeds `text` to a reader in pieces of `piece` bytes, then ends the connection.
    func read(_ text: String, piece: Int = .max) throws -> ResponseSummary {
        var reader = ResponseReader()
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + min(piece, bytes.count))
            try bytes[offset..<end].withUnsafeBytes { try reader.consume($0) }
            offset = end
        }
        return try reader.finish()
    }

    func failure(_ text: String) -> FetchFailure? {
        do {
            _ = try read(text)
            return nil
        } catch {
            return error as? FetchFailure
        }
    }

    @Test func contentLengthBodyIsCountedWhateverTheReadSizes() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world"
        for piece in [1, 2, 3, 5, 7, 64] {
            let response = try read(text, piece: piece)
            #expect(response == ResponseSummary(status: 200, bodyLength: 11, declaredLength: 11), "piece \(piece)")
        }
    }

    @Test func chunkedBodyIsDecodedWithExtensionsAndTrailers() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Checksum: 1\r\n\r\n"
        for piece in 1...9 {
            #expect(try read(text, piece: piece).bodyLength == 31, "piece \(piece)")
        }
    }

    @Test func bodyWithoutFramingRunsToTheEndOfTheConnection() throws {
        let response = try read("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n0123456789")
        #expect(response == ResponseSummary(status: 200, bodyLength: 10, declaredLength: nil))
    }

    @Test func interimResponsesAreSkipped() throws {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        let response = try read(text, piece: 4)
        #expect(response.status == 201)
        #expect(response.bodyLength == 2)
    }

    @Test func noContentHasNoBody() throws {
        #expect(try read("HTTP/1.1 204 No Content\r\n\r\n").bodyLength == 0)
    }

    @Test func truncatedResponsesAreFailures() {
        #expect(failure("")?.kind == .reset)
        #expect(failure("HTTP/1.1 200 OK\r\nContent-Le")?.kind == .reset)
        let short = failure("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
        #expect(short == FetchFailure(kind: .reset, message: "the connection closed after 5 of 10 body bytes"))
        #expect(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")?.kind == .reset)
    }

    @Test func malformedResponsesAreProtocolFailures() {
        #expect(failure("SSH-2.0-OpenSSH\r\n\r\n")?.kind == .protocol)
        #expect(failure("HTTP/1.1 2000 OK\r\n\r\n")?.kind == .protocol)
        #expect(failure("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n")?.kind == .protocol)
        #expect(failure("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")?.kind == .protocol)
        #expect(failure("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx")?.kind == .protocol)
        #expect(failure("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabc")?.kind == .protocol)
        #expect(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")?.kind == .protocol)
        let chunkTooLong = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"
        #expect(failure(chunkTooLong)?.kind == .protocol)
        #expect(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nextra")?.kind == .protocol)
    }

    @Test func endlessHeadIsRefused() {
        let head = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: 0123456789\r\n", count: 4000)
        #expect(failure(head)?.message.contains("longer than") == true)
    }
}
