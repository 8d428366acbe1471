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
    /// Lines read so far (including skipped and bad ones).
    public var linesRead: Int { lineNumber }
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

    init(source: String, keptProblems: Int, read: @escaping (inout [UInt8]) throws(URLStreamError) -> Int) {
        self.source = source
        self.keptProblems = keptProblems
        self.read = read
    }

    /// The next good URL, or nil at the end of the stream.
    public func next() throws(URLStreamError) -> String? {
        while let line = try nextLine() {
            lineNumber += 1
            var bytes = line
            if bytes.last == 0x0D { bytes.removeLast() }
            if let url = bytes.withUnsafeBufferPointer({ TargetURL.quickString($0) }) { return url }
            var text = String(decoding: line, as: UTF8.self)
            if text.hasSuffix("\r") { text.removeLast() }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                return try TargetURL(validating: trimmed).string
            } catch {
                problemCount += 1
                if problems.count < keptProblems {
                    problems.append(BadURLLine(source: source, line: lineNumber, text: trimmed, reason: error.reason))
                }
            }
        }
        return nil
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
