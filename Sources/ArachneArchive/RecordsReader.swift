import ArachneCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads `records.ndjson` back one record at a time, in constant memory: for resuming a job after a restart, for
/// rebuilding a report, and for tests.
///
/// A last line without its newline that does not parse is a torn write (the process died mid-line): reading stops
/// there, `tornTail` is set, and `validLength` tells where the intact part ends, so a `RecordsWriter` can resume at
/// it. A bad line anywhere else is an error naming its line number.
public final class RecordsReader {
    public let path: String
    /// The 1-based number of the last line read.
    public private(set) var lineNumber = 0
    /// Bytes of the file up to the end of the last intact record.
    public private(set) var validLength: Int64 = 0
    /// True when the file ended in a torn (unparsable, unterminated) line.
    public private(set) var tornTail = false

    private var file: PosixFile
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var atEnd = false
    private static let chunkSize = 1 << 20

    public init(path: String) throws(ArchiveError) {
        self.path = path
        file = try PosixFile.open(path, flags: O_RDONLY)
    }

    deinit {
        try? file.close()
    }

    /// The next record, or nil at the end of the file (or at a torn last line). Blank lines are skipped.
    public func next() throws(ArchiveError) -> FetchRecord? {
        while true {
            if let newline = pending[pendingStart...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pendingStart..<newline]
                pendingStart = newline + 1
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                    validLength += Int64(line.count + 1)
                    continue
                }
                let record = try decode(line)
                validLength += Int64(line.count + 1)
                return record
            }
            if atEnd {
                guard pendingStart < pending.count else { return nil }
                let line = pending[pendingStart...]
                pendingStart = pending.count
                lineNumber += 1
                if let record = try? decode(line) {
                    validLength += Int64(line.count)
                    return record
                }
                tornTail = true
                return nil
            }
            try fill()
        }
    }

    /// Every record of the file, for small files and tests.
    public static func readAll(path: String) throws(ArchiveError) -> [FetchRecord] {
        let reader = try RecordsReader(path: path)
        var records: [FetchRecord] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    private func decode(_ line: ArraySlice<UInt8>) throws(ArchiveError) -> FetchRecord {
        let result = line.withUnsafeBufferPointer { bytes in
            Result { () throws(RecordParser.Failure) in try RecordParser.parse(bytes) }
        }
        switch result {
        case .success(let record): return record
        case .failure(let failure):
            throw ArchiveError(
                path: path, operation: "parse line \(lineNumber)",
                reason: "\(failure.message) (at byte \(failure.offset + 1))")
        }
    }

    /// Reads the next chunk, keeping the unread tail.
    private func fill() throws(ArchiveError) {
        if pendingStart > 0 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
        let start = pending.count
        pending.append(contentsOf: repeatElement(0, count: Self.chunkSize))
        let result: Result<Int, ArchiveError> = pending.withUnsafeMutableBytes { buffer in
            Result { () throws(ArchiveError) in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]))
            }
        }
        let count = (try? result.get()) ?? 0
        pending.removeLast(Self.chunkSize - count)
        if case .failure(let error) = result { throw error }
        if count == 0 { atEnd = true }
    }
}

@available(*, unavailable, message: "RecordsReader has one owner")
extension RecordsReader: Sendable {}
