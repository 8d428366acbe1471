/// Reads names and values out of a raw HTTP header block (`FetchOutcome.rawHeader`).
public enum HeaderBlock {
    /// Headers reports and WARC readers look at; others stay only in the raw block.
    public static let selectedNames: Set<String> = [
        "content-type", "content-length", "content-encoding", "location", "server", "last-modified", "etag",
    ]

    /// Every header line of the block (names lower-cased), in order; the status line is skipped.
    public static func all(from block: [UInt8]) -> [(name: String, value: String)] {
        lines(of: block).compactMap { parse($0, only: nil) }
    }

    public static func selected(from block: [UInt8]) -> [(name: String, value: String)] {
        lines(of: block).compactMap { parse($0, only: selectedNames) }
    }

    private static func lines(of block: [UInt8]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var lineStart = 0
        var index = 0
        while index < block.count {
            if block[index] == UInt8(ascii: "\n") {
                var end = index
                if end > lineStart && block[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                result.append(block[lineStart..<end])
                lineStart = index + 1
            }
            index += 1
        }
        return result
    }

    private static func parse(_ line: ArraySlice<UInt8>, only names: Set<String>?) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
        if let names, !names.contains(name) { return nil }
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
        return (name, value)
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice.removeFirst() }
        while slice.last == " " || slice.last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
