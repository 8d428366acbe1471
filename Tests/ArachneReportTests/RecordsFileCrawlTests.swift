import ArachneArchive
import ArachneCore
import Foundation
import Testing

@Suite struct RecordsFileCrawlTests {
    static let crawlKeys: Set<String> = ["depth", "parent", "via", "links", "content_type", "location"]

    /// Crawl records of every shape, list records between them, and nasty strings in the crawl fields.
    static func mixedRecords() -> [FetchRecord] {
        var records = Fixtures.crawlRecords()
        records.insert(Fixtures.record(url: "http://list.test/"), at: 3)
        records.append(Fixtures.crawlRecord(
            "http://a.test/q\"\\\u{1}é", depth: 7, parent: "http://a.test/\u{2028}\n", via: .sitemap,
            contentType: "application/xhtml+xml", links: 0, location: "http://a.test/\"x\""))
        var onlyLinks = Fixtures.record(url: "http://list.test/2")
        onlyLinks.links = 5  // one crawl field set: all six keys written
        records.append(onlyLinks)
        return records
    }

    static func write(_ records: [FetchRecord], to directory: String) throws -> String {
        let path = directory + "/records.ndjson"
        let writer = try RecordsWriter(path: path, bufferSize: 512)
        for record in records { try writer.append(record) }
        try writer.close()
        return path
    }

    @Test func crawlFieldsRoundTripThroughTheWriterAndTheParser() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = Self.mixedRecords()
        let path = try Self.write(records, to: directory)
        #expect(try RecordsReader.readAll(path: path) == records)

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == records.count)
        for (line, record) in zip(lines, records) {
            // JSONDecoder reads the encoder's lines as the same record.
            #expect(try JSONDecoder().decode(FetchRecord.self, from: Data(line.utf8)) == record)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let keys = Set(object.keys)
            if record.hasCrawlFields {
                #expect(keys.isSuperset(of: Self.crawlKeys) && keys.count == 19, "\(keys)")
            } else {
                #expect(keys.isDisjoint(with: Self.crawlKeys) && keys.count == 13, "\(keys)")
            }
        }
        let seed = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(seed["depth"] as? Int == 0 && seed["parent"] is NSNull && seed["via"] as? String == "seed")
        #expect(seed["location"] is NSNull && seed["content_type"] as? String == "text/html")
        #expect(lines[0].contains(#""redirects":0,"depth":0,"parent":null,"via":"seed","links":4,"#))
    }

    /// Python's json reads every line, and each validates against the schema's `record` definition.
    @Test func pythonReadsTheLinesAndTheyMatchTheSchema() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var records = Self.mixedRecords()
        records.append(Fixtures.crawlRecord("http://a.test/z", depth: 9, parent: "p", skip: .blockedAddress))
        let path = try Self.write(records, to: directory)
        let script = #"""
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            record = dict(schema["$defs"]["record"])
            record["$defs"] = schema["$defs"]
            validator = jsonschema.Draft202012Validator(record)
            out = []
            for number, line in enumerate(open(sys.argv[2], encoding="utf-8"), 1):
                value = json.loads(line)
                for error in validator.iter_errors(value):
                    out.append("line %d: %s: %s" % (number, "/".join(map(str, error.absolute_path)), error.message))
                out.append("%s %s %s %s" % (value.get("depth"), value.get("via"), value.get("parent"),
                                            (value["error"] or {}).get("kind")))
            print("\n".join(out))
            """#
        let result = try Program.python(script, [Fixtures.repositoryRoot + "/docs/report.schema.json", path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(!lines.contains { $0.hasPrefix("line ") }, "\(lines.filter { $0.hasPrefix("line ") })")
        #expect(lines.first == "0 seed None None")
        #expect(lines.contains("4 link http://a.test/3 max-depth"))
        #expect(lines.contains("None None None None"))  // the list record
        #expect(lines.last == "9 link p blocked-address")

        // The schema's record definition notices a broken crawl record.
        let bad = directory + "/bad.ndjson"
        let line = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0]
        try Data((line.replacingOccurrences(of: #""via":"seed""#, with: #""via":"rumour""#) + "\n").utf8)
            .write(to: URL(fileURLWithPath: bad))
        let rejected = try Program.python(script, [Fixtures.repositoryRoot + "/docs/report.schema.json", bad])
        #expect(rejected.stdout.contains("line 1: via:"))
    }

    @Test(arguments: [
        (#","depth":2,"via":"rumour"}"#, "unknown via \"rumour\""),
        (#","depth":"2"}"#, "\"depth\" must be an integer"),
        (#","parent":5}"#, "\"parent\" must be a string"),
    ])
    func badCrawlFieldsAreExplained(tail: String, message: String) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        try Data((minimalLine.dropLast() + tail + "\n").utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try RecordsReader.readAll(path: path)
        } throws: { error in
            "\(error)".contains("cannot parse line 1: \(message)")
        }
    }

    @Test func crawlKeysMayComeInAnyOrderOrBeLeftOut() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/records.ndjson"
        let some = minimalLine.dropLast() + #","location":"http://l/","links":null,"depth":3}"#
        try Data((some + "\n" + minimalLine + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let records = try RecordsReader.readAll(path: path)
        #expect(records[0].depth == 3 && records[0].location == "http://l/" && records[0].links == nil)
        #expect(records[0].via == nil && records[0].parent == nil)
        #expect(!records[1].hasCrawlFields)
    }
}
