@testable import ArachneArchive
import ArachneCore
import Foundation
import Testing

let minimalLine = #"{"url":"u","repetition":0,"worker":"w","attempts":1,"status":200,"bytes":0,"final_url":"u","#
    + #""redirects":0,"timings":{"queue":0,"namelookup":0,"connect":0,"appconnect":0,"pretransfer":0,"#
    + #""starttransfer":0,"total":0},"error":null,"body":null,"finished_at":1}"#

@Suite struct RecordsFileTests {
    static let nastyStrings = [
        "plain",
        "quote \" and backslash \\ and slash /",
        "controls \u{0} \u{1} \u{8} \u{9} \u{A} \u{C} \u{D} \u{1F} \u{7F} end",
        "unicode: é ü 漢字 🕷️ \u{2028}\u{2029} e\u{301}",
        "",
        "{\"looks\":\"like json\"}\n",
    ]

    static func nastyRecords() -> [FetchRecord] {
        nastyStrings.enumerated().map { index, text in
            FetchRecord(
                url: "http://h.test/\(text)", urlIndex: index * 1_000_000_007, repetition: index, worker: text, attempts: index + 1,
                status: index == 2 ? 0 : 200, bytes: Int64(index) * 1_000_000_007, finalURL: text,
                redirects: index, timings: PhaseTimings(
                    queue: 1, namelookup: 2, connect: 3, appconnect: 0, pretransfer: 5, starttransfer: 6,
                    total: Int64.max / 4),
                error: index % 2 == 0 ? FetchFailure(kind: .other, message: text) : nil,
                body: index % 3 == 0
                    ? BodyReference(file: "bodies-00000.warc.gz", offset: 123, length: 456, digest: "sha1:\(text)",
                                    truncated: index == 3)
                    : nil,
                finishedAt: 1_700_000_000.123456 + Double(index))
        }
    }

    @Test func roundTripKeepsEveryFieldIncludingNastyStrings() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        let records = Self.nastyRecords()
        let writer = try RecordsWriter(path: path, bufferSize: 4096)
        for record in records { try writer.append(record) }
        try writer.close()
        #expect(writer.count == records.count)
        #expect(try RecordsReader.readAll(path: path) == records)

        // Every line is one JSON object on its own, with exactly the contract's keys.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == records.count + 1 && lines.last == "")
        for line in lines.dropLast() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == [
                "url", "url_index", "repetition", "worker", "attempts", "status", "bytes", "final_url", "redirects", "timings",
                "error", "body", "finished_at",
            ])
            let timings = try #require(object["timings"] as? [String: Any])
            #expect(Set(timings.keys) == Set(Phase.allCases.map(\.rawValue)))
        }
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        #expect(first["worker"] as? String == Self.nastyStrings[2])
        #expect(first["body"] is NSNull)
        #expect((first["error"] as? [String: Any])?["kind"] as? String == "other")
        #expect(lines[0].hasSuffix(#""finished_at":1700000000.123456}"#))
    }

    /// Every line `RecordJSON` forms, read back by an independent parser (Foundation's `JSONSerialization`), is one
    /// line of one object holding exactly the record's values: nasty strings, negative and extreme numbers, a
    /// non-finite time (written as 0), list and crawl records.
    @Test func linesReadBackByAnIndependentParserHoldTheRecordsValues() throws {
        var records = Self.nastyRecords() + RecordsFileCrawlTests.mixedRecords()
        var negative = records[0]
        negative.bytes = -42
        negative.timings.total = Int64.min + 1
        negative.finishedAt = .infinity
        records.append(negative)
        for record in records {
            let line = RecordJSON.line(record)
            #expect(line.count <= RecordJSON.maximumLength(of: record))
            #expect(line.last == UInt8(ascii: "\n") && !line.dropLast().contains(UInt8(ascii: "\n")))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            Self.expect(object, holds: record, String(decoding: line, as: UTF8.self))
        }
    }

    private static func expect(_ object: [String: Any], holds record: FetchRecord, _ line: String) {
        func int(_ key: String, in object: [String: Any]) -> Int64? { (object[key] as? NSNumber)?.int64Value }
        func string(_ key: String, in object: [String: Any]) -> String? { object[key] as? String }
        #expect(string("url", in: object) == record.url, "\(line)")
        #expect(int("url_index", in: object) == record.urlIndex.map(Int64.init), "\(line)")
        #expect(int("repetition", in: object) == Int64(record.repetition))
        #expect(string("worker", in: object) == record.worker)
        #expect(int("attempts", in: object) == Int64(record.attempts))
        #expect(int("status", in: object) == Int64(record.status))
        #expect(int("bytes", in: object) == record.bytes)
        #expect(string("final_url", in: object) == record.finalURL)
        #expect(int("redirects", in: object) == Int64(record.redirects))
        let timings = object["timings"] as? [String: Any] ?? [:]
        #expect(Set(timings.keys) == Set(Phase.allCases.map(\.rawValue)))
        for phase in Phase.allCases { #expect(int(phase.rawValue, in: timings) == record.timings[phase], "\(line)") }
        if let error = record.error {
            let found = object["error"] as? [String: Any] ?? [:]
            #expect(string("kind", in: found) == error.kind.rawValue && string("message", in: found) == error.message)
        } else {
            #expect(object["error"] is NSNull)
        }
        if let body = record.body {
            let found = object["body"] as? [String: Any] ?? [:]
            #expect(string("file", in: found) == body.file && string("digest", in: found) == body.digest)
            #expect(int("offset", in: found) == body.offset && int("length", in: found) == body.length)
            #expect(found["truncated"] as? Bool == body.truncated)
        } else {
            #expect(object["body"] is NSNull)
        }
        #expect((object["finished_at"] as? NSNumber)?.doubleValue == (record.finishedAt.isFinite ? record.finishedAt : 0))
        let crawlKeys = ["depth", "parent", "via", "links", "content_type", "location"]
        guard record.hasCrawlFields else {
            #expect(crawlKeys.allSatisfy { object[$0] == nil }, "\(line)")
            return
        }
        #expect(int("depth", in: object) == record.depth.map(Int64.init) && int("links", in: object) == record.links.map(Int64.init))
        #expect(string("parent", in: object) == record.parent && string("via", in: object) == record.via?.rawValue)
        #expect(string("content_type", in: object) == record.contentType)
        #expect(string("location", in: object) == record.location)
        for key in crawlKeys { #expect(object[key] != nil, "\(key) is written, null when unset") }
    }

    /// A line longer than the writer's whole buffer (a huge error message) is written alone, in order.
    @Test func aLineLongerThanTheBufferIsWrittenWhole() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        var records = Fixtures.records(count: 3)
        records[1].error = FetchFailure(kind: .other, message: String(repeating: "\"long\" ", count: 40_000))
        let writer = try RecordsWriter(path: path, bufferSize: 4096)
        for record in records { try writer.append(record) }
        try writer.close()
        #expect(try RecordsReader.readAll(path: path) == records)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(Int64(size ?? -1) == writer.length)
    }

    @Test func manyRecordsStreamThroughSmallBuffers() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        let records = Fixtures.records(count: 5_000)
        let writer = try RecordsWriter(path: path, bufferSize: 8192)
        for record in records { try writer.append(record) }
        try writer.flush()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(Int64(size ?? -1) == writer.length)
        try writer.close()
        let reader = try RecordsReader(path: path)
        var count = 0
        while let record = try reader.next() {
            #expect(record == records[count])
            count += 1
        }
        #expect(count == records.count)
        #expect(!reader.tornTail)
    }

    @Test func tornLastLineIsDroppedAndResumeAppendsAfterTheIntactPart() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        let records = Fixtures.records(count: 3)
        let writer = try RecordsWriter(path: path)
        for record in records.prefix(2) { try writer.append(record) }
        try writer.close()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"url":"http://h.test/","repeti"#.utf8))
        handle.closeFile()

        let reader = try RecordsReader(path: path)
        var read: [FetchRecord] = []
        while let record = try reader.next() { read.append(record) }
        #expect(read == Array(records.prefix(2)))
        #expect(reader.tornTail)

        #expect(throws: ArchiveError.self) { try RecordsWriter(path: path, resumeAt: reader.validLength + 10_000) }
        let resumed = try RecordsWriter(path: path, resumeAt: reader.validLength)
        try resumed.append(records[2])
        try resumed.close()
        #expect(try RecordsReader.readAll(path: path) == records)
    }

    @Test func badLineInTheMiddleNamesFileAndLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        let writer = try RecordsWriter(path: path)
        try writer.append(Fixtures.record())
        try writer.close()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"url\": 5}\n".utf8))
        handle.closeFile()
        #expect {
            try RecordsReader.readAll(path: path)
        } throws: { error in
            let message = "\(error)"
            return message.contains(path) && message.contains("line 2")
        }
    }

    @Test func missingFileIsAClearError() {
        #expect {
            try RecordsReader(path: "/nonexistent/records.ndjson")
        } throws: { error in
            "\(error)" == "/nonexistent/records.ndjson: cannot open: No such file or directory"
        }
    }

    @Test func readerAcceptsAnyValidJSONForARecord() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        // JSONEncoder orders and escapes differently; unknown keys are skipped, escapes decoded.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = ""
        for record in Self.nastyRecords() { text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n" }
        text += #"""
             { "extra" : [1, {"a": null}, "x", true, -2.5e3] , "url" : "http:\/\/h.test\/caf\u00e9\ud83d\udd77",
            "repetition":0,"worker":"w","attempts":1,"status":200,"bytes":0,"final_url":"","redirects":0,
            "timings":{"queue":0,"namelookup":0,"connect":0,"appconnect":0,"pretransfer":0,"starttransfer":0,
            "total":0,"future":{}},"error":null,"body":null,"finished_at":1.7e9}
            """#.replacingOccurrences(of: "\n", with: "") + "\n\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let records = try RecordsReader.readAll(path: path)
        #expect(Array(records.prefix(Self.nastyStrings.count)) == Self.nastyRecords())
        #expect(records.last?.url == "http://h.test/café🕷")
        #expect(records.last?.finishedAt == 1.7e9)
        #expect(records.count == Self.nastyStrings.count + 1)
    }

    @Test(arguments: [
        (#"{"url":"x"}"#, "missing key \"repetition\""),
        (#"{"url":1}"#, "\"url\" must be a string"),
        (#"{"repetition":1.5}"#, "\"repetition\" must be an integer"),
        (#"{"timings":{"queue":1}}"#, "missing key \"timings.namelookup\""),
        (#"{"error":{"kind":"gremlins","message":""}}"#, "unknown error kind \"gremlins\""),
        (#"{"url":"a\qb"}"#, "invalid escape"),
        (minimalLine + " trailing", "unexpected text after the record"),
        (minimalLine.replacingOccurrences(of: #""error":null,"#, with: ""), "ok"),
        (minimalLine.replacingOccurrences(of: #""repetition""#, with: #""url_index":"7","repetition""#),
         "\"url_index\" must be an integer"),
        ("[1]", "expected '{'"),
    ])
    func badLinesAreExplained(line: String, message: String) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: path))
        if message == "ok" {
            #expect(try RecordsReader.readAll(path: path).first?.error == nil)
            return
        }
        #expect {
            try RecordsReader.readAll(path: path)
        } throws: { error in
            "\(error)".hasPrefix("\(path): cannot parse line 1: \(message) (at byte ")
        }
    }

    /// `url_index` tells the records of a URL listed twice apart; lines written before it existed still parse.
    @Test func urlIndexIsWrittenAfterTheURLAndOptionalWhenRead() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        let writer = try RecordsWriter(path: path)
        try writer.append(Fixtures.record(url: "http://a.test/", urlIndex: 0))
        try writer.append(Fixtures.record(url: "http://a.test/", urlIndex: 1))
        try writer.close()
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written.hasPrefix(#"{"url":"http://a.test/","url_index":0,"repetition":0,"#))
        #expect(written.contains(#"{"url":"http://a.test/","url_index":1,"repetition":0,"#))

        let older = minimalLine
        let numbered = minimalLine.replacingOccurrences(of: #""repetition""#, with: #""url_index":7,"repetition""#)
        let null = minimalLine.replacingOccurrences(of: #""repetition""#, with: #""url_index":null,"repetition""#)
        try Data((written + [older, numbered, null].joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: path))
        let records = try RecordsReader.readAll(path: path)
        #expect(records.map(\.urlIndex) == [0, 1, nil, 7, nil])
        #expect(records[2].url == "u" && records[2].repetition == 0)
    }
}
