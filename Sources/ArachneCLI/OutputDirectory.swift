import ArgumentParser
import Foundation

/// `--out DIR` of `fetch`, `run` and `crawl`. A directory that already holds a report is refused (a usage error,
/// exit 2) unless `--force` is given, which removes the old report's files first: records.ndjson would otherwise be
/// replaced with no word, and an old WARC left beside the new report's.
enum OutputDirectory {
    /// Whether `name` is a file a report writes into its directory.
    static func isReportFile(_ name: String) -> Bool {
        name == "report.json" || name == "records.ndjson" || (name.hasPrefix("bodies-") && name.hasSuffix(".warc.gz"))
    }

    /// For `validate()`: refuses a `--out` that names a file, or a directory holding a report without `force`.
    static func check(_ path: String?, force: Bool) throws {
        guard let path else { return }
        _ = try reportFiles(in: path, force: force)
    }

    /// Checks `path` before a job writes there; with `force`, clears an earlier report out of it.
    static func prepare(_ path: String, force: Bool) throws {
        for name in try reportFiles(in: path, force: force) {
            do {
                try FileManager.default.removeItem(atPath: path + "/" + name)
            } catch {
                throw JobCannotRun("cannot remove the earlier report's \(path)/\(name): \(error.localizedDescription)")
            }
        }
    }

    /// The report files in `path` (only with `force`; without, their presence is an error).
    private static func reportFiles(in path: String, force: Bool) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else {
            throw ValidationError("--out \(path) is a file: name a directory for the report (new, or without one)")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter(isReportFile).sorted()
        guard !names.isEmpty else { return [] }
        guard force else {
            let shown = names.count > 3
                ? names.prefix(3).joined(separator: ", ") + ", …" : names.joined(separator: ", ")
            throw ValidationError(
                "--out \(path) already holds a report (\(shown)): choose another directory, or add --force to "
                    + "replace it")
        }
        return names
    }
}
