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

    /// Checks `path` before a job writes there; with `force`, clears an earlier report out of it.
    static func prepare(_ path: String, force: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter(isReportFile).sorted()
        guard !names.isEmpty else { return }
        guard force else {
            let shown = names.count > 3 ? names.prefix(3).joined(separator: ", ") + ", …" : names.joined(separator: ", ")
            throw ValidationError(
                "--out \(path) already holds a report (\(shown)): choose another directory, or add --force to "
                    + "replace it")
        }
        for name in names {
            do {
                try FileManager.default.removeItem(atPath: path + "/" + name)
            } catch {
                throw JobCannotRun("cannot remove the earlier report's \(path)/\(name): \(error.localizedDescription)")
            }
        }
    }
}
