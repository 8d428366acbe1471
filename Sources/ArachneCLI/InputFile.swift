import Foundation

/// A file a command reads whole (`links`, `robots`): a path, or "-" for standard input, with errors that say what is
/// wrong (exit 1).
enum InputFile {
    /// The bytes of `source`; `kind` names what the file should be ("an HTML file", "a robots.txt file").
    static func read(_ source: String, kind: String) throws -> [UInt8] {
        if source == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue {
            throw JobCannotRun("'\(source)' is a directory, not \(kind)")
        }
        guard let data = FileManager.default.contents(atPath: source) else {
            throw JobCannotRun("cannot read '\(source)': no such file or not readable")
        }
        return [UInt8](data)
    }
}
