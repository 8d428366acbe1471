import ArachneCore
import Dispatch
import Foundation
import Testing

/// A URL file read in place by windows: the same URLs, problems and line numbers as `URLList` reading it whole, for
/// any range, from a regular file and from a pipe (copied to a temporary file as it is read).
@Suite struct URLFileListTests {
    /// A file of `count` good URLs with comments, blank lines, CRLF endings and bad lines among them.
    static func text(count: Int) -> String {
        var lines = ["# a list", ""]
        for index in 0..<count {
            lines.append("http://127.0.0.1:8080/p/\(index)?q=\(index)" + (index % 7 == 0 ? "\r" : ""))
            if index % 997 == 3 { lines.append("ftp://bad.example/\(index)") }
            if index % 1500 == 10 { lines.append("  # indented comment") }
            if index == 2048 { lines.append("http://exa mple.com/white space") }
        }
        return lines.joined(separator: "\n")  // no newline after the last line
    }

    static func reference(_ text: String, source: String) -> URLList {
        var list = URLList()
        list.addLines(text, source: source)
        return list
    }

    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("urls-\(UUID().uuidString).txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func expectSameAsReference(_ list: URLFileList, leading: [String], reference: URLList) throws {
        let expected = leading + reference.urls.map(\.string)
        #expect(list.count == expected.count)
        #expect(list.problemCount == reference.problems.count)
        #expect(list.problems == Array(reference.problems.prefix(50)))
        // Whole, then windows that start and end anywhere relative to the checkpoints (every 1024 URLs).
        #expect(try list.urls(0..<list.count) == expected)
        let stride = URLFileList.stride
        let ranges = [0..<1, 1..<2, 0..<stride, stride - 1..<stride + 1, 3000..<3001, 2047..<4100,
                      expected.count - 5..<expected.count, expected.count - 1..<expected.count + 10,
                      expected.count..<expected.count + 3]
        for range in ranges {
            let clamped = range.clamped(to: 0..<expected.count)
            #expect(try list.urls(range) == Array(expected[clamped]), "range \(range)")
        }
    }

    @Test func aRegularFileIsReadBackByWindowsAsURLListReadsItWhole() throws {
        let text = Self.text(count: 5_000)
        let path = try Self.file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let leading = ["http://first.example/", "https://second.example/x"]
        let list = try URLFileList(leading: leading, fileDescriptor: descriptor, source: "urls.txt")
        try Self.expectSameAsReference(list, leading: leading, reference: Self.reference(text, source: "urls.txt"))
        #expect(list.problems.first?.description.hasPrefix("urls.txt:7: unsupported scheme 'ftp'") == true)
    }

    @Test func aPipeIsCopiedAsItIsReadAndGivesTheSameURLs() throws {
        let text = Self.text(count: 6_000)
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        let writer = Thread {
            let bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { write(writeEnd, $0.baseAddress, min($0.count, 10_000)) }
                if n <= 0 { break }
                written += n
            }
            close(writeEnd)
        }
        writer.start()
        let list = try URLFileList(leading: [], fileDescriptor: readEnd, source: "<stdin>")
        close(readEnd)
        try Self.expectSameAsReference(list, leading: [], reference: Self.reference(text, source: "<stdin>"))
    }

    @Test func readersOnSeveralThreadsShareNoFilePosition() throws {
        let text = Self.text(count: 9_000)
        let path = try Self.file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let descriptor = open(path, O_RDONLY)
        let list = try URLFileList(leading: [], fileDescriptor: descriptor, source: "urls.txt")
        close(descriptor)  // the list keeps its own
        let expected = Self.reference(text, source: "urls.txt").urls.map(\.string)
        let mismatches = Mismatches()
        DispatchQueue.concurrentPerform(iterations: 32) { index in
            let start = (index * 277) % (expected.count - 600)
            let range = start..<(start + 600)
            if (try? list.urls(range)) != Array(expected[range]) { mismatches.add(range) }
        }
        #expect(mismatches.ranges.isEmpty)
    }

    @Test func anEmptyOrAllBadFileHasNoURLs() throws {
        let path = try Self.file("# nothing\n\nnot a url\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let list = try URLFileList(leading: [], fileDescriptor: descriptor, source: "urls.txt")
        #expect(list.count == 0 && list.problemCount == 1 && list.problems.first?.line == 3)
        #expect(try list.urls(0..<10).isEmpty)
    }
}

/// Ranges whose URLs came back wrong, from several threads.
private final class Mismatches: @unchecked Sendable {
    // Safety: guarded by `lock`.
    private let lock = NSLock()
    private var found: [Range<Int>] = []
    func add(_ range: Range<Int>) { lock.withLock { found.append(range) } }
    var ranges: [Range<Int>] { lock.withLock { found } }
}
