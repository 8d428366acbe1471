import ArachneCore

/// Hand-written JSON for one `FetchRecord` line of records.ndjson: the contract's keys, in a fixed order, appended to
/// a byte buffer with no intermediate objects. It runs for every record (50k+ per second), which is why it is not
/// `JSONEncoder`. The output decodes with `JSONDecoder` as `FetchRecord` (tests check it). `url_index` follows `url`
/// (left out only for a record that has none, one read from a file written before it existed). A crawl record (any
/// crawl field set) carries all six crawl keys after `redirects`, null where unset; a list job's record carries none.
enum RecordJSON {
    /// `"queue":`, `,"namelookup":`, … in `Phase.allCases` order, encoded once.
    private static let timingKeys: [[UInt8]] = Phase.allCases.enumerated().map { index, phase in
        Array(((index == 0 ? "" : ",") + "\"\(phase.rawValue)\":").utf8)
    }

    // The fixed parts of a line, encoded once: appending a [UInt8] is a copy, a String literal's UTF8View is not.
    private static let urlKey = Array(#"{"url":"#.utf8)
    private static let urlIndexKey = Array(#","url_index":"#.utf8)
    private static let repetitionKey = Array(#","repetition":"#.utf8)
    private static let workerKey = Array(#","worker":"#.utf8)
    private static let attemptsKey = Array(#","attempts":"#.utf8)
    private static let statusKey = Array(#","status":"#.utf8)
    private static let bytesKey = Array(#","bytes":"#.utf8)
    private static let finalURLKey = Array(#","final_url":"#.utf8)
    private static let redirectsKey = Array(#","redirects":"#.utf8)
    private static let depthKey = Array(#","depth":"#.utf8)
    private static let parentKey = Array(#","parent":"#.utf8)
    private static let viaKey = Array(#","via":"#.utf8)
    private static let linksKey = Array(#","links":"#.utf8)
    private static let contentTypeKey = Array(#","content_type":"#.utf8)
    private static let locationKey = Array(#","location":"#.utf8)
    private static let null = Array("null".utf8)
    private static let timingsKey = Array(#","timings":{"#.utf8)
    private static let errorKindKey = Array(#"},"error":{"kind":"#.utf8)
    private static let errorMessageKey = Array(#","message":"#.utf8)
    private static let noError = Array(#"},"error":null"#.utf8)
    private static let bodyFileKey = Array(#","body":{"file":"#.utf8)
    private static let offsetKey = Array(#","offset":"#.utf8)
    private static let lengthKey = Array(#","length":"#.utf8)
    private static let digestKey = Array(#","digest":"#.utf8)
    private static let truncatedTrue = Array(#","truncated":true}"#.utf8)
    private static let truncatedFalse = Array(#","truncated":false}"#.utf8)
    private static let noBody = Array(#","body":null"#.utf8)
    private static let finishedAtKey = Array(#","finished_at":"#.utf8)
    private static let lineEnd = Array("}\n".utf8)

    /// Appends `record` as one JSON object and a newline.
    static func append(_ record: FetchRecord, to out: inout [UInt8]) {
        out.append(contentsOf: urlKey)
        appendString(record.url, to: &out)
        if let urlIndex = record.urlIndex {
            out.append(contentsOf: urlIndexKey)
            appendInteger(Int64(urlIndex), to: &out)
        }
        out.append(contentsOf: repetitionKey)
        appendInteger(Int64(record.repetition), to: &out)
        out.append(contentsOf: workerKey)
        appendString(record.worker, to: &out)
        out.append(contentsOf: attemptsKey)
        appendInteger(Int64(record.attempts), to: &out)
        out.append(contentsOf: statusKey)
        appendInteger(Int64(record.status), to: &out)
        out.append(contentsOf: bytesKey)
        appendInteger(record.bytes, to: &out)
        out.append(contentsOf: finalURLKey)
        appendString(record.finalURL, to: &out)
        out.append(contentsOf: redirectsKey)
        appendInteger(Int64(record.redirects), to: &out)
        if record.hasCrawlFields { appendCrawlFields(record, to: &out) }

        out.append(contentsOf: timingsKey)
        for (index, phase) in Phase.allCases.enumerated() {
            out.append(contentsOf: Self.timingKeys[index])
            appendInteger(record.timings[phase], to: &out)
        }

        if let error = record.error {
            out.append(contentsOf: errorKindKey)
            appendString(error.kind.rawValue, to: &out)
            out.append(contentsOf: errorMessageKey)
            appendString(error.message, to: &out)
            out.append(UInt8(ascii: "}"))
        } else {
            out.append(contentsOf: noError)
        }

        if let body = record.body {
            out.append(contentsOf: bodyFileKey)
            appendString(body.file, to: &out)
            out.append(contentsOf: offsetKey)
            appendInteger(body.offset, to: &out)
            out.append(contentsOf: lengthKey)
            appendInteger(body.length, to: &out)
            out.append(contentsOf: digestKey)
            appendString(body.digest, to: &out)
            out.append(contentsOf: body.truncated ? truncatedTrue : truncatedFalse)
        } else {
            out.append(contentsOf: noBody)
        }

        out.append(contentsOf: finishedAtKey)
        appendSeconds(record.finishedAt, to: &out)
        out.append(contentsOf: lineEnd)
    }

    /// `,"depth":…,"parent":…,"via":…,"links":…,"content_type":…,"location":…`, null where unset.
    private static func appendCrawlFields(_ record: FetchRecord, to out: inout [UInt8]) {
        out.append(contentsOf: depthKey)
        if let depth = record.depth { appendInteger(Int64(depth), to: &out) } else { out.append(contentsOf: null) }
        out.append(contentsOf: parentKey)
        if let parent = record.parent { appendString(parent, to: &out) } else { out.append(contentsOf: null) }
        out.append(contentsOf: viaKey)
        if let via = record.via { appendString(via.rawValue, to: &out) } else { out.append(contentsOf: null) }
        out.append(contentsOf: linksKey)
        if let links = record.links { appendInteger(Int64(links), to: &out) } else { out.append(contentsOf: null) }
        out.append(contentsOf: contentTypeKey)
        if let type = record.contentType { appendString(type, to: &out) } else { out.append(contentsOf: null) }
        out.append(contentsOf: locationKey)
        if let location = record.location { appendString(location, to: &out) } else { out.append(contentsOf: null) }
    }

    /// A JSON string: quotes, backslashes and control characters escaped; other UTF-8 passes through.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            // Most strings need no escaping: one scan, then one copy.
            guard bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                out.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
                case ..<0x20:
                    out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A decimal integer, formed in a small buffer and appended in one go.
    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value >= 0 && value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value.magnitude
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// Seconds since the epoch as the shortest decimal that reads back as the same `Double` (Swift's `description`
    /// is exactly that, and valid JSON for finite values); non-finite values as 0.
    static func appendSeconds(_ seconds: Double, to out: inout [UInt8]) {
        guard seconds.isFinite else {
            out.append(UInt8(ascii: "0"))
            return
        }
        out.append(contentsOf: seconds.description.utf8)
    }
}
