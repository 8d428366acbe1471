import ArachneCore

#if canImport(Glibc)
import Glibc
#endif

/// Appends terminal records to `records.ndjson` as they arrive, one JSON object per line, so a job of millions of
/// records never holds them in memory. Lines are encoded by hand into a buffer that is written out when it passes
/// `bufferSize` and on `flush()` / `close()`.
///
/// Not thread-safe: one owner (the coordinator's actor, or `arachne fetch`) appends.
public final class RecordsWriter {
    /// The conventional file name beside report.json.
    public static let fileName = "records.ndjson"
    public static let defaultBufferSize = 256 * 1024

    public let path: String
    /// Records appended by this writer.
    public private(set) var count = 0
    /// Bytes in the file, counting those still buffered.
    public private(set) var length: Int64
    private var file: PosixFile
    /// Lines waiting to be written: `used` bytes at `storage`, which holds `bufferSize` plus room for one more
    /// line. Raw memory rather than an Array so each line is formed in place (`RecordJSON.write`), with no copy.
    private let storage: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private var used = 0
    private let bufferSize: Int

    /// Creates (or empties) the file at `path`. To resume, pass `resumeAt` (the `validLength` a `RecordsReader`
    /// reported): the file is cut there, dropping a torn last line, and new records are appended.
    public init(path: String, resumeAt validLength: Int64? = nil, bufferSize: Int = RecordsWriter.defaultBufferSize)
        throws(ArchiveError)
    {
        self.path = path
        self.bufferSize = max(bufferSize, 4096)
        if let validLength {
            file = try PosixFile.open(path, flags: O_WRONLY | O_CREAT)
            do throws(ArchiveError) {
                let size = try file.size()
                guard validLength >= 0 && validLength <= size else {
                    throw ArchiveError(
                        path: path, operation: "resume",
                        reason: "resume offset \(validLength) is outside the file (\(size) bytes)")
                }
                try file.truncate(to: validLength)
                guard lseek(file.descriptor, off_t(validLength), SEEK_SET) >= 0 else {
                    throw ArchiveError.system(path, "seek", errno: errno)
                }
            } catch {
                try? file.close()
                throw error
            }
            length = validLength
        } else {
            file = try PosixFile.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
            length = 0
        }
        capacity = self.bufferSize + 64 * 1024
        storage = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit {
        try? close()
        storage.deallocate()
    }

    /// Adds one record; it reaches the file when the buffer fills, or on `flush()`.
    public func append(_ record: FetchRecord) throws(ArchiveError) {
        guard file.descriptor >= 0 else { throw ArchiveError(path: path, operation: "append", reason: "writer closed") }
        let bound = RecordJSON.maximumLength(of: record)
        if used + bound > capacity { try flush() }
        if bound > capacity {
            // A line that could be longer than the whole buffer (a huge error message): formed apart, written alone.
            let line = RecordJSON.line(record)
            try file.writeAll(line)
            length += Int64(line.count)
            count += 1
            return
        }
        let written = RecordJSON.write(record, to: storage + used)
        used += written
        length += Int64(written)
        count += 1
        if used >= bufferSize { try flush() }
    }

    /// Writes buffered lines to the file.
    public func flush() throws(ArchiveError) {
        guard used > 0 else { return }
        try file.writeAll(UnsafeRawBufferPointer(start: storage, count: used))
        used = 0
    }

    /// Flushes and forces the file's data to disk (for checkpoints).
    public func sync() throws(ArchiveError) {
        try flush()
        try file.sync()
    }

    /// Flushes and closes. Closing twice is harmless.
    public func close() throws(ArchiveError) {
        guard file.descriptor >= 0 else { return }
        defer { try? file.close() }
        try flush()
        try file.close()
    }
}

@available(*, unavailable, message: "RecordsWriter has one owner; send records to it instead")
extension RecordsWriter: Sendable {}
