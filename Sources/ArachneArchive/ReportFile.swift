import ArachneReport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes `report.json`: pretty-printed with sorted keys, to a temporary file that is then renamed over the old
/// one, so a reader (or `arachne report --json` while the job runs) never sees half a report.
public enum ReportWriter {
    public static let fileName = "report.json"

    /// The report's JSON as written to disk.
    public static func encode(_ report: Report) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(report) + Data("\n".utf8)
        } catch {
            // Report holds only strings, integers and finite doubles; failing to encode it is a bug.
            preconditionFailure("cannot encode report: \(error)")
        }
    }

    /// Writes `directory/report.json` atomically and returns its path.
    @discardableResult
    public static func write(_ report: Report, toDirectory directory: String) throws(ArchiveError) -> String {
        let path = directory + "/" + fileName
        let temporary = directory + "/.\(fileName).\(getpid()).tmp"
        var file = try PosixFile.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        do throws(ArchiveError) {
            try file.writeAll(Array(encode(report)))
            try file.sync()
            try file.close()
            try PosixFile.rename(temporary, to: path)
        } catch {
            try? file.close()
            unlink(temporary)
            throw error
        }
        return path
    }
}

/// Reads a report back: from `report.json` itself or from the directory holding it.
public enum ReportReader {
    /// A report as read: the decoded value, the file's exact bytes, and the file's path.
    public struct Loaded: Sendable {
        public var report: Report
        public var json: Data
        public var path: String
    }

    /// Reads `path`, which is a report.json file or a directory containing one. Errors name the file and say what
    /// is wrong: missing, unreadable, not JSON, not an `arachne.report/1` or `/2` report, or a missing or mistyped
    /// field.
    public static func read(_ path: String) throws(ArchiveError) -> Loaded {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ArchiveError(path: path, operation: "read report", reason: "no such file or directory")
        }
        let file = isDirectory.boolValue ? path + "/" + ReportWriter.fileName : path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            let reason = FileManager.default.fileExists(atPath: file) ? "cannot read the file" : "no report.json here"
            throw ArchiveError(path: file, operation: "read report", reason: reason)
        }
        struct Header: Decodable { var schema: String? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw ArchiveError(path: file, operation: "read report", reason: "not a JSON object")
        }
        guard let schema = header.schema, Report.readableSchemas.contains(schema) else {
            let found = header.schema.map { "\"\($0)\"" } ?? "none"
            throw ArchiveError(
                path: file, operation: "read report",
                reason: "not an arachne.report/1 or /2 report (schema: \(found))")
        }
        do {
            return Loaded(report: try JSONDecoder().decode(Report.self, from: data), json: data, path: file)
        } catch {
            throw ArchiveError(path: file, operation: "read report", reason: describe(error))
        }
    }

    /// A decoding error as one readable line: what was wrong and at which key.
    static func describe(_ error: any Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key \"\(key.stringValue)\"\(path(context))"
        case DecodingError.typeMismatch(_, let context):
            return "\(context.debugDescription)\(path(context))"
        case DecodingError.valueNotFound(_, let context):
            return "null where a value is needed\(path(context))"
        case DecodingError.dataCorrupted(let context):
            return "not valid JSON: \(context.debugDescription)\(path(context))"
        default:
            return "\(error)"
        }
    }
}
