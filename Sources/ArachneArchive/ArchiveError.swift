#if canImport(Glibc)
import Glibc
#endif

/// A file operation of the archive failed: which file, what was being done, and why.
public struct ArchiveError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file (or directory) concerned.
    public let path: String
    /// What was being done: "open", "write", "parse line 12", ...
    public let operation: String
    /// Why it failed, for people.
    public let reason: String

    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    /// An error from a failed system call, with `errno`'s text.
    static func system(_ path: String, _ operation: String, errno code: Int32) -> ArchiveError {
        ArchiveError(path: path, operation: operation, reason: String(cString: strerror(code)))
    }

    public var description: String { "\(path): cannot \(operation): \(reason)" }
}
