/// Header values read from a response's raw head (status line and header lines, as the fetchers keep them).
///
/// Only what a crawl worker needs: `Content-Type`, `Location` and `X-Robots-Tag`. Names compare ASCII
/// case-insensitively; values are trimmed of spaces and tabs; obsolete line folding is not joined (RFC 9112 §5.2
/// lets a recipient reject it, and these three headers never need it).
public enum ResponseHead {
    /// Every value of the header `name` (lower-case ASCII) in `raw`, in order.
    public static func values(of name: StaticString, in raw: [UInt8]) -> [String] {
        var values: [String] = []
        forEachValue(of: name, in: raw) { values.append($0) }
        return values
    }

    /// The first value of `name` (lower-case ASCII), or nil.
    public static func value(of name: StaticString, in raw: [UInt8]) -> String? {
        var first: String?
        forEachValue(of: name, in: raw) { value in
            if first == nil { first = value }
        }
        return first
    }

    /// Calls `body` with each value of `name`, over the bytes once (a crawl worker reads three headers of every
    /// response).
    private static func forEachValue(of name: StaticString, in raw: [UInt8], _ body: (String) -> Void) {
        let wanted = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        guard let firstWanted = wanted.first else { return }
        raw.withUnsafeBufferPointer { raw in
            var lineStart = 0
            let count = raw.count
            while lineStart < count {
                var lineEnd = lineStart
                while lineEnd < count, raw[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                let next = lineEnd + 1
                if lineEnd > lineStart && raw[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                if lineEnd - lineStart > wanted.count, lowercased(raw[lineStart]) == firstWanted,
                    let value = value(in: raw, from: lineStart, to: lineEnd, named: wanted)
                {
                    body(value)
                }
                lineStart = next
            }
        }
    }

    /// The media type of a Content-Type value: lower-case, parameters and spaces removed ("" for none).
    public static func mediaType(_ contentType: String?) -> String {
        guard let contentType else { return "" }
        // Bytes, not Characters: this runs once per fetched page.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        for byte in contentType.utf8 {
            if byte == UInt8(ascii: ";") { break }
            if byte == 0x20 || byte == 0x09 { continue }
            bytes.append(lowercased(byte))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func value(
        in raw: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, named wanted: UnsafeBufferPointer<UInt8>
    ) -> String? {
        guard end - start > wanted.count, raw[start + wanted.count] == UInt8(ascii: ":") else { return nil }
        for offset in 0..<wanted.count where lowercased(raw[start + offset]) != wanted[offset] { return nil }
        var valueStart = start + wanted.count + 1
        var valueEnd = end
        while valueStart < valueEnd, raw[valueStart] == 0x20 || raw[valueStart] == 0x09 { valueStart += 1 }
        while valueEnd > valueStart, raw[valueEnd - 1] == 0x20 || raw[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: raw[valueStart..<valueEnd]), as: UTF8.self)
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte + 0x20 : byte
    }
}
