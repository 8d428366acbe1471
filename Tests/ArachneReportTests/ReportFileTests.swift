import ArachneArchive
import ArachneCore
import ArachneReport
import Foundation
import Testing

/// Validates JSON files against docs/report.schema.json with Python's jsonschema (draft 2020-12).
enum SchemaValidator {
    static let script = #"""
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        problems = []
        for path in sys.argv[2:]:
            for error in validator.iter_errors(json.load(open(path))):
                problems.append(path + ": " + "/".join(str(p) for p in error.absolute_path) + ": " + error.message)
        print("\n".join(problems))
        sys.exit(1 if problems else 0)
        """#

    /// The problems found, empty when every file is valid.
    static func problems(_ paths: [String]) throws -> String {
        let schema = Fixtures.repositoryRoot + "/docs/report.schema.json"
        let result = try Program.python(script, [schema] + paths)
        if result.status != 0 && result.stdout.isEmpty { return "validator failed: \(result.stderr)" }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite struct ReportFileTests {
    /// A whole job's output the way the cluster produces it: records streamed to records.ndjson, bodies to WARC,
    /// one aggregator per worker merged, report.json written atomically.
    static func writeJob(into directory: String, state: ReportJobState = .completed) throws -> Report {
        let records = try RecordsWriter(path: directory + "/" + RecordsWriter.fileName)
        let bodies = try WARCWriter(directory: directory)
        var perWorker: [String: ReportAggregator] = [:]
        for var record in Fixtures.records(count: 2_000) {
            if record.succeeded && record.repetition == 0 {
                record.body = try bodies.append(
                    url: record.finalURL, status: record.status, headers: [("content-type", "text/plain")],
                    body: Array("body of \(record.url)".utf8), truncated: false,
                    date: Date(timeIntervalSince1970: record.finishedAt))
            }
            try records.append(record)
            perWorker[record.worker, default: ReportAggregator()].add(record)
        }
        try records.close()
        try bodies.close()
        var total = ReportAggregator()
        for (id, aggregator) in perWorker {
            total.merge(aggregator)
            total.setWorkerInfo(id: id, host: "box", pid: 100, busySeconds: 9.75)
        }
        let report = total.makeReport(job: Fixtures.jobInfo(state: state, outputDir: directory))
        try ReportWriter.write(report, toDirectory: directory)
        return report
    }

    @Test func realReportsValidateAgainstTheSchema() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let completed = try Self.writeJob(into: directory)
        #expect(completed.bodies == ["bodies-00000.warc.gz"])

        let running = directory + "/running"
        try FileManager.default.createDirectory(atPath: running, withIntermediateDirectories: false)
        _ = try Self.writeJob(into: running, state: .running)
        let empty = directory + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        try ReportWriter.write(ReportAggregator().makeReport(job: Fixtures.jobInfo(state: .queued)), toDirectory: empty)

        let paths = [directory, running, empty].map { $0 + "/report.json" }
        #expect(try SchemaValidator.problems(paths) == "")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func theSchemaRejectsAReportMissingAKeyOrWithAWrongType() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = Fixtures.report(records: Fixtures.records(count: 50))
        var object = try #require(
            try JSONSerialization.jsonObject(with: ReportWriter.encode(report)) as? [String: Any])
        var summary = try #require(object["summary"] as? [String: Any])
        summary.removeValue(forKey: "wall_seconds")
        summary["requests"] = "many"
        object["summary"] = summary
        let path = directory + "/broken.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        let problems = try SchemaValidator.problems([path])
        #expect(problems.contains("'wall_seconds' is a required property"))
        #expect(problems.contains("summary/requests"))
    }

    @Test func reportReadsBackFromTheDirectoryOrTheFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = try Self.writeJob(into: directory)
        let fromDirectory = try ReportReader.read(directory)
        #expect(fromDirectory.report == report)
        #expect(fromDirectory.path == directory + "/report.json")
        #expect(try ReportReader.read(directory + "/report.json").json == ReportWriter.encode(report))
        // The records file holds one line per terminal record, and the report agrees with it.
        let records = try RecordsReader.readAll(path: directory + "/" + report.records)
        #expect(records.count == report.summary.requests)
        #expect(records.filter(\.succeeded).count == report.summary.succeeded)
    }

    @Test func readErrorsNameThePathAndTheProblem() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect { try ReportReader.read(directory) } throws: { error in
            "\(error)" == "\(directory)/report.json: cannot read report: no report.json here"
        }
        let other = directory + "/other.json"
        try Data(#"{"schema":"something/2"}"#.utf8).write(to: URL(fileURLWithPath: other))
        #expect { try ReportReader.read(other) } throws: { error in
            "\(error)".contains("not an arachne.report/1 or /2 report (schema: \"something/2\")")
        }
        try Data(#"{"schema":"arachne.report/2","job":{}}"#.utf8).write(to: URL(fileURLWithPath: other))
        #expect { try ReportReader.read(other) } throws: { error in
            "\(error)".hasPrefix(other) && "\(error)".contains("missing key")
        }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: other))
        #expect { try ReportReader.read(other) } throws: { error in "\(error)".contains("not a JSON object") }
    }
}
