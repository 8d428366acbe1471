import ArachneArchive
import ArachneCore
import ArachneTestSupport
import Foundation
import Testing

/// Python's `warcio`, an independent WARC reader, installed on first use with pip.
enum Warcio {
    static let unavailableReason: String? = {
        if let result = try? Program.python("import warcio"), result.status == 0 { return nil }
        guard let pip = try? Program.run("/usr/bin/env", ["python3", "-m", "pip", "--version"]), pip.status == 0 else {
            return "python3 -m pip is not available, so warcio cannot be installed"
        }
        let install = try? Program.run(
            "/usr/bin/env", ["python3", "-m", "pip", "install", "-q", "warcio"], timeout: 300)
        guard let install, install.status == 0 else {
            return "pip install warcio failed: \(install?.stderr ?? "could not run pip")"
        }
        return nil
    }()

    /// Reads every record of the files with warcio (digests checked, problems raise) and cuts each given
    /// member out of its file on its own, returning what it found as JSON.
    static let script = #"""
        import io, json, sys, zlib
        from warcio.archiveiterator import ArchiveIterator
        directory, refs = sys.argv[1], json.loads(sys.argv[2])
        names = sys.argv[3:]
        def describe(record):
            head = record.rec_headers
            payload = record.content_stream().read()
            return {"type": record.rec_type, "uri": head.get_header("WARC-Target-URI"),
                    "id": head.get_header("WARC-Record-ID"), "concurrent": head.get_header("WARC-Concurrent-To"),
                    "digest": head.get_header("WARC-Payload-Digest"), "truncated": head.get_header("WARC-Truncated"),
                    "protocol": head.get_header("WARC-Protocol"),
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "headers": dict(record.http_headers.headers) if record.http_headers else {},
                    "payload": payload.hex()}
        files = {}
        for name in names:
            with open(directory + "/" + name, "rb") as handle:
                iterator = ArchiveIterator(handle, check_digests="raise")
                records = []
                for record in iterator:
                    entry = describe(record)
                    entry["offset"] = iterator.get_record_offset()
                    entry["length"] = iterator.get_record_length()
                    records.append(entry)
                files[name] = records
        members = []
        for ref in refs:
            with open(directory + "/" + ref["file"], "rb") as handle:
                handle.seek(ref["offset"])
                member = handle.read(ref["length"])
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            inflater.decompress(member)
            alone = inflater.eof and inflater.unused_data == b""
            records = [describe(r) for r in ArchiveIterator(io.BytesIO(member), check_digests="raise")]
            members.append({"alone": alone, "records": records})
        print(json.dumps({"files": files, "members": members}))
        """#

    struct Found: Decodable {
        struct Record: Decodable {
            var type: String
            var uri: String?
            var id: String?
            var concurrent: String?
            var digest: String?
            var truncated: String?
            var `protocol`: String?
            var status: String?
            var headers: [String: String]
            var payload: String
            var offset: Int?
            var length: Int?
        }
        struct Member: Decodable {
            var alone: Bool
            var records: [Record]
        }
        var files: [String: [Record]]
        var members: [Member]
    }

    static func read(directory: String, files: [String], references: [BodyReference]) throws -> Found {
        let refs = references.map { ["file": $0.file, "offset": $0.offset, "length": $0.length] as [String: Any] }
        let refsJSON = String(decoding: try JSONSerialization.data(withJSONObject: refs), as: UTF8.self)
        let result = try Program.python(script, [directory, refsJSON] + files)
        #expect(result.status == 0, "warcio failed: \(result.stderr)")
        return try JSONDecoder().decode(Found.self, from: Data(result.stdout.utf8))
    }
}

extension Array where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

@Suite struct WARCWriterTests {
    struct Body {
        var url: String
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        var truncated: Bool
        var version: String
    }

    static func bodies() -> [Body] {
        var random = SeededGenerator(seed: 3)
        let large = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        // Over the compressor's 1 MiB scratch bound (it is given back afterwards), then a small page again.
        let huge = (0..<1_500_000).map { _ in UInt8.random(in: 0...15, using: &random) }
        return [
            Body(url: "http://a.test/", status: 200, headers: [("content-type", "text/html")],
                 body: Array("<html>hello</html>".utf8), truncated: false, version: "1.1"),
            Body(url: "http://a.test/binary?x=1&y=%20", status: 404,
                 headers: [("content-encoding", "gzip"), ("content-length", "3"), ("x-odd", "a\r\nInjected: yes")],
                 body: Array(0...255), truncated: false, version: "2"),
            Body(url: "https://b.test:8443/empty", status: 204, headers: [], body: [], truncated: false,
                 version: "1.0"),
            Body(url: "http://b.test/large", status: 200, headers: [("content-type", "application/octet-stream")],
                 body: large, truncated: true, version: "1.1"),
            Body(url: "http://b.test/huge", status: 200, headers: [("content-type", "application/octet-stream")],
                 body: huge, truncated: false, version: "1.1"),
            Body(url: "http://b.test/after", status: 200, headers: [("content-type", "text/html")],
                 body: Array("<p>after the huge one</p>".utf8), truncated: false, version: "1.1"),
        ]
    }

    @Test(.enabled(if: Warcio.unavailableReason == nil, "warcio could not be installed (see Warcio.unavailableReason)"))
    func warcioReadsTheFilesAndEveryReferencePointsAtItsResponse() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try WARCWriter(directory: directory, info: [("job", "job-1")])
        let bodies = Self.bodies()
        let date = Date(timeIntervalSince1970: 1_700_000_000.25)
        var references: [BodyReference] = []
        for body in bodies {
            references.append(try writer.append(
                url: body.url, status: body.status, headers: body.headers, body: body.body,
                truncated: body.truncated, date: date, httpVersion: body.version))
        }
        try writer.close()
        #expect(writer.files == ["bodies-00000.warc.gz"])

        let found = try Warcio.read(directory: directory, files: writer.files, references: references)
        let records = try #require(found.files["bodies-00000.warc.gz"])
        let pairs = Array(repeating: ["request", "response"], count: bodies.count).flatMap { $0 }
        #expect(records.map(\.type) == ["warcinfo"] + pairs)
        for (index, body) in bodies.enumerated() {
            let request = records[1 + index * 2]
            let response = records[2 + index * 2]
            #expect(request.uri == body.url && response.uri == body.url)
            #expect(response.concurrent == request.id)
            #expect(response.status == String(body.status))
            #expect(response.payload == body.body.hex)
            #expect(response.digest == references[index].digest)
            #expect(response.truncated == (body.truncated ? "length" : nil))
            #expect(response.headers["content-encoding"] == nil)
            #expect(response.headers["Content-Length"] == String(body.body.count))
            #expect(response.offset == Int(references[index].offset))
            #expect(response.length == Int(references[index].length))
            #expect(references[index].truncated == body.truncated)

            let member = found.members[index]
            #expect(member.alone, "the reference cuts out exactly one gzip member")
            #expect(member.records.count == 1)
            #expect(member.records.first?.type == "response")
            #expect(member.records.first?.uri == body.url)
            #expect(member.records.first?.payload == body.body.hex)
        }
        #expect(records[4].protocol == "h2")
        #expect(records[4].headers["x-odd"] == "a Injected: yes")
        #expect(references[0].digest == SHA1.warcDigest(Array("<html>hello</html>".utf8)))
    }

    @Test(.enabled(if: Warcio.unavailableReason == nil, "warcio could not be installed"))
    func filesRotatePastTheSizeCapAndNumberingContinues() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(FileManager.default.createFile(atPath: directory + "/bodies-00004.warc.gz", contents: Data()))
        let writer = try WARCWriter(directory: directory, maxFileSize: 2_000)
        var random = SeededGenerator(seed: 9)
        var references: [BodyReference] = []
        for index in 0..<12 {
            let body = (0..<1_500).map { _ in UInt8.random(in: 0...255, using: &random) }
            references.append(try writer.append(
                url: "http://r.test/\(index)", status: 200, headers: [], body: body, truncated: false,
                date: Date(timeIntervalSince1970: 1_700_000_000)))
        }
        try writer.close()
        #expect(writer.files.first == "bodies-00005.warc.gz")
        #expect(writer.files.count > 2)
        #expect(Set(references.map(\.file)) == Set(writer.files))

        let found = try Warcio.read(directory: directory, files: writer.files, references: references)
        var seen = 0
        for name in writer.files {
            let records = try #require(found.files[name])
            #expect(records.first?.type == "warcinfo", "\(name) starts with warcinfo")
            for pair in stride(from: 1, to: records.count, by: 2) {
                #expect(records[pair].type == "request" && records[pair + 1].type == "response")
                #expect(records[pair].uri == "http://r.test/\(seen)" && records[pair + 1].uri == records[pair].uri)
                seen += 1
            }
        }
        #expect(seen == 12)
        #expect(found.members.allSatisfy { $0.alone && $0.records.first?.type == "response" })
    }

    @Test func directoryMustExist() {
        #expect(throws: ArchiveError.self) { try WARCWriter(directory: "/nonexistent/dir") }
    }
}

@Suite struct SHA1Tests {
    @Test func knownAnswers() {
        let cases: [(String, String)] = [
            ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
            ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
        ]
        for (input, digest) in cases { #expect(SHA1.hash(Array(input.utf8)).hex == digest, "SHA-1(\(input))") }
        #expect(SHA1.hash([UInt8](repeating: 0x61, count: 1_000_000)).hex == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test func incrementalUpdatesInOddPiecesMatchOneShot() {
        var random = SeededGenerator(seed: 5)
        let data = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        var sha = SHA1()
        var offset = 0
        for size in [1, 63, 64, 65, 0, 127, 1000, 3] + Array(repeating: 500, count: 20) where offset < data.count {
            let end = min(offset + size, data.count)
            sha.update(data[offset..<end])
            offset = end
        }
        sha.update(data[offset...])
        #expect(sha.finalize() == SHA1.hash(data))
    }

    @Test func base32() {
        #expect(Base32.encode(Array("".utf8)) == "")
        #expect(Base32.encode(Array("f".utf8)) == "MY======")
        #expect(Base32.encode(Array("fooba".utf8)) == "MZXW6YTB")
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI======")
        #expect(SHA1.warcDigest([]) == "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ")
    }
}
