import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A URL file read as a stream: one URL per line, blank lines and `#` comments skipped, each bad line kept as a
/// `BadURLLine` with its number — the rules of `URLList`, without ever holding more than one block of the file.
///
/// Lines are cut on "\n" ("\r\n" too); each is checked with `TargetURL`.
public final class URLStream {
    /// Where lines come from ("urls.txt", "<stdin>").
    public let source: String
    private let read: (inout [UInt8]) throws(URLStreamError) -> Int
    private var buffer: [UInt8] = []
    private var position = 0
    private var finished = false
    private var lineNumber = 0
    /// Bytes of the stream before `buffer[0]`.
    private var bufferOffset: Int64 = 0
    /// Lines read so far (including skipped and bad ones), plus the line number the stream started after.
    public var linesRead: Int { lineNumber }
    /// Where the line of the URL `next()` returned last begins: its byte offset in the stream (from the offset the
    /// stream started at) and the number of lines before it. A stream started there (`init(fileDescriptor:at:)`)
    /// gives that URL first.
    public private(set) var lastURLStart: (offset: Int64, linesBefore: Int) = (0, 0)
    /// Bad lines so far, the first `keptProblems` of them.
    public private(set) var problems: [BadURLLine] = []
    /// Every bad line so far.
    public private(set) var problemCount = 0
    /// How many bad lines are kept in `problems`.
    public let keptProblems: Int

    /// A stream of `text`'s lines (for tests and arguments).
    public convenience init(text: String, source: String, keptProblems: Int = 50) {
        var remaining = Array(text.utf8)[...]
        self.init(source: source, keptProblems: keptProblems) { (block: inout [UInt8]) -> Int in
            let count = min(block.count, remaining.count)
            block.replaceSubrange(0..<count, with: remaining.prefix(count))
            remaining = remaining.dropFirst(count)
            return count
        }
    }

    /// A stream of an open file descriptor's lines (standard input is 0). The descriptor stays open.
    public convenience init(fileDescriptor: Int32, source: String, keptProblems: Int = 50) {
        self.init(source: source, keptProblems: keptProblems) { (block: inout [UInt8]) throws(URLStreamError) -> Int in
            while true {
                let count = block.withUnsafeMutableBytes { Glibc.read(fileDescriptor, $0.baseAddress, $0.count) }
                if count >= 0 { return count }
                if errno == EINTR { continue }
                throw URLStreamError("cannot read \(source): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// A stream of a file's lines from byte `offset` on, read with `pread` (the descriptor's own position is never
    /// used or moved, so streams on one descriptor may run on several threads at once). `linesBefore` is the number
    /// of lines before `offset`, so bad lines keep their numbers. The descriptor stays open.
    public convenience init(fileDescriptor: Int32, at offset: Int64, linesBefore: Int, source: String,
                            keptProblems: Int = 50)
    {
        var position = offset
        self.init(source: source, keptProblems: keptProblems) { (block: inout [UInt8]) throws(URLStreamError) -> Int in
            while true {
                let count = block.withUnsafeMutableBytes {
                    Glibc.pread(fileDescriptor, $0.baseAddress, $0.count, off_t(position))
                }
                if count >= 0 {
                    position += Int64(count)
                    return count
                }
                if errno == EINTR { continue }
                throw URLStreamError("cannot read \(source): \(String(cString: strerror(errno)))")
            }
        }
        lineNumber = linesBefore
        bufferOffset = offset
    }

    init(source: String, keptProblems: Int, read: @escaping (inout [UInt8]) throws(URLStreamError) -> Int) {
        self.source = source
        self.keptProblems = keptProblems
        self.read = read
    }

    /// The next good URL, or nil at the end of the stream.
    public func next() throws(URLStreamError) -> String? {
        while true {
            let start = bufferOffset + Int64(position)
            guard let line = try nextLine() else { return nil }
            // (`start` is taken before `nextLine`, which may drop consumed bytes from the buffer.)
            lineNumber += 1
            var bytes = line
            if bytes.last == 0x0D { bytes.removeLast() }
            if let url = bytes.withUnsafeBufferPointer({ TargetURL.quickString($0) }) {
                lastURLStart = (start, lineNumber - 1)
                return url
            }
            var text = String(decoding: line, as: UTF8.self)
            if text.hasSuffix("\r") { text.removeLast() }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                let url = try TargetURL(validating: trimmed).string
                lastURLStart = (start, lineNumber - 1)
                return url
            } catch {
                problemCount += 1
                if problems.count < keptProblems {
                    problems.append(BadURLLine(source: source, line: lineNumber, text: trimmed, reason: error.reason))
                }
            }
        }
    }

    /// The next line's bytes, without its "\n"; nil at the end.
    private func nextLine() throws(URLStreamError) -> ArraySlice<UInt8>? {
        while true {
            if let end = buffer[position...].firstIndex(of: 0x0A) {
                let line = buffer[position..<end]
                position = end + 1
                return line
            }
            if finished {
                guard position < buffer.count else { return nil }
                let line = buffer[position...]
                position = buffer.count
                return line
            }
            buffer.removeSubrange(0..<position)
            bufferOffset += Int64(position)
            position = 0
            var block = [UInt8](repeating: 0, count: 1 << 18)
            let count = try read(&block)
            if count == 0 {
                finished = true
            } else {
                buffer.append(contentsOf: block[0..<count])
            }
        }
    }
}

/// A URL stream could not be read; the message names the source.
public struct URLStreamError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

@available(*, unavailable)
extension URLStream: Sendable {}
