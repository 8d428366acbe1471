import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A job's URL list left on disk: the command line's URLs, then a URL file's good lines, read back by index in
/// windows. `arachne run --url-file` and `arachne fetch --url-file` use it, so they hold a few windows of a list of
/// any length, never the list.
///
/// Made by one pass over the file, which checks every line by `URLStream`'s rules (the first bad lines are kept with
/// their numbers, the rest counted) and notes where the line of every `stride`-th good URL begins. A window is read
/// again from the checkpoint before it with `pread`, so readers on several threads never share a file position.
/// Standard input, a pipe, or any other file that cannot be read twice is copied as it is read into an unlinked
/// temporary file, which goes with the list (or the process).
///
/// The file must not change while the job runs: lines are checked again as they are read back, so an edited file
/// gives other URLs, or fewer (then `urls(_:)` returns fewer, and the job records the missing ones as failures).
public final class URLFileList: URLWindowReader, Sendable {
    /// Good URLs between two checkpoints: the most lines a window read parses before its first URL.
    public static let stride = 1024

    /// URLs in the list: the leading ones and the file's good lines.
    public let count: Int
    /// The first bad lines of the file, with their numbers.
    public let problems: [BadURLLine]
    /// Every bad line of the file.
    public let problemCount: Int
    /// The file as named to people ("urls.txt", "<stdin>").
    public let source: String

    private let leading: [String]
    private let file: OwnedDescriptor
    private let checkpoints: [Checkpoint]

    /// Where the line of good URL `k * stride` of the file begins.
    private struct Checkpoint: Sendable {
        var offset: Int64
        var linesBefore: Int
    }

    /// A descriptor this list owns: closed when the list goes.
    private final class OwnedDescriptor: Sendable {
        let fd: Int32
        init(_ fd: Int32) { self.fd = fd }
        deinit { _ = Glibc.close(fd) }
    }

    /// Reads `fileDescriptor` once, checking every line, after `leading` URLs (already checked: the command line's).
    /// The caller keeps its descriptor (the list reads a duplicate of a regular file's, or its own copy of anything
    /// else). `spoolDirectory` is where a copy goes (default `$TMPDIR`, else /tmp).
    public init(leading: [String], fileDescriptor: Int32, source: String, keptProblems: Int = 50,
                spoolDirectory: String? = nil) throws(URLStreamError)
    {
        var status = stat()
        guard fstat(fileDescriptor, &status) == 0 else {
            throw URLStreamError("cannot read \(source): \(String(cString: strerror(errno)))")
        }
        let stream: URLStream
        if status.st_mode & S_IFMT == S_IFREG {
            let own = dup(fileDescriptor)
            guard own >= 0 else { throw URLStreamError("cannot read \(source): \(String(cString: strerror(errno)))") }
            file = OwnedDescriptor(own)
            stream = URLStream(fileDescriptor: own, at: 0, linesBefore: 0, source: source, keptProblems: keptProblems)
        } else {
            let spool = try Self.makeSpool(in: spoolDirectory, for: source)
            file = OwnedDescriptor(spool)
            stream = URLStream(source: source, keptProblems: keptProblems) {
                (block: inout [UInt8]) throws(URLStreamError) -> Int in
                try Self.readCopying(fileDescriptor, into: spool, block: &block, source: source)
            }
        }
        var checkpoints: [Checkpoint] = []
        var found = 0
        while try stream.next() != nil {
            if found % Self.stride == 0 {
                checkpoints.append(Checkpoint(offset: stream.lastURLStart.offset,
                                              linesBefore: stream.lastURLStart.linesBefore))
            }
            found += 1
        }
        self.leading = leading
        self.checkpoints = checkpoints
        self.source = source
        count = leading.count + found
        problems = stream.problems
        problemCount = stream.problemCount
    }

    /// The URLs of indices `range` (clamped to the list), in order. Safe from any thread.
    public func urls(_ range: Range<Int>) throws -> [String] {
        let range = range.clamped(to: 0..<count)
        var urls: [String] = []
        urls.reserveCapacity(range.count)
        if range.lowerBound < leading.count {
            urls += leading[range.lowerBound..<min(range.upperBound, leading.count)]
        }
        let fileRange = max(range.lowerBound - leading.count, 0)..<max(range.upperBound - leading.count, 0)
        guard !fileRange.isEmpty else { return urls }
        let first = fileRange.lowerBound / Self.stride
        let checkpoint = checkpoints[first]
        let stream = URLStream(fileDescriptor: file.fd, at: checkpoint.offset, linesBefore: checkpoint.linesBefore,
                               source: source, keptProblems: 0)
        var index = first * Self.stride
        while index < fileRange.upperBound, let url = try stream.next() {
            if index >= fileRange.lowerBound { urls.append(url) }
            index += 1
        }
        return urls
    }

    /// Nothing to let go of before the list itself goes (its descriptor closes then).
    public func close() {}

    // MARK: The copy of a file that cannot be read twice

    private static func makeSpool(in directory: String?, for source: String) throws(URLStreamError) -> Int32 {
        let environment = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 }
        let base = directory ?? environment ?? "/tmp"
        var template = Array("\(base)/arachne-urls-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
            throw URLStreamError("cannot keep a copy of \(source) in \(base): \(String(cString: strerror(errno)))")
        }
        // Unlinked at once: the copy goes when its descriptor closes, whatever ends the process.
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    /// Reads a block of `input` and appends it to `spool`.
    private static func readCopying(_ input: Int32, into spool: Int32, block: inout [UInt8], source: String)
        throws(URLStreamError) -> Int
    {
        var count = 0
        while true {
            count = block.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if count >= 0 { break }
            if errno == EINTR { continue }
            throw URLStreamError("cannot read \(source): \(String(cString: strerror(errno)))")
        }
        var written = 0
        while written < count {
            let n = block.withUnsafeBytes { Glibc.write(spool, $0.baseAddress! + written, count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw URLStreamError("cannot keep a copy of \(source): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        return count
    }
}
