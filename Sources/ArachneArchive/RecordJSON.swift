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
        let bound = maximumLength(of: record)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { scratch in
            let count = write(record, to: scratch.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(start: scratch.baseAddress, count: count))
        }
    }

    /// The most bytes `write` can produce for `record`: the fixed parts (under 512 bytes), 24 per number, and
    /// each string's bytes six times over (the longest escape, `\u00XX`) plus its quotes.
    static func maximumLength(of record: FetchRecord) -> Int {
        var strings = record.url.utf8.count + record.worker.utf8.count + record.finalURL.utf8.count
        if let error = record.error { strings += error.kind.rawValue.utf8.count + error.message.utf8.count }
        if let body = record.body { strings += body.file.utf8.count + body.digest.utf8.count }
        if record.hasCrawlFields {
            strings += (record.parent?.utf8.count ?? 0) + (record.via?.rawValue.utf8.count ?? 0)
                + (record.contentType?.utf8.count ?? 0) + (record.location?.utf8.count ?? 0)
        }
        return 512 + 24 * 20 + 32 + 6 * strings + 2 * 12
    }

    /// Writes `record`'s line at `start`, which has room for `maximumLength(of: record)` bytes; returns its length.
    ///
    /// Why by pointer: this runs on the coordinator's writer thread for every record (250k a second is the aim),
    /// and appending each of a line's ~40 pieces to an Array checked its uniqueness and capacity and retained the
    /// key arrays each time: about 0.7 µs of the writer's ~2 µs per record. Here the keys are `StaticString`s
    /// copied with `memcpy` and the numbers and strings are formed in place; the caller copies the line once (or,
    /// in `RecordsWriter`, writes it straight into its buffer). The bytes are those of `appendPiecewise`, which
    /// stays as the reference the tests compare against.
    static func write(_ record: FetchRecord, to start: UnsafeMutablePointer<UInt8>) -> Int {
        var line = LineCursor(start)
        line.put(#"{"url":"#)
        line.string(record.url)
        if let urlIndex = record.urlIndex {
            line.put(#","url_index":"#)
            line.integer(Int64(urlIndex))
        }
        line.put(#","repetition":"#)
        line.integer(Int64(record.repetition))
        line.put(#","worker":"#)
        line.string(record.worker)
        line.put(#","attempts":"#)
        line.integer(Int64(record.attempts))
        line.put(#","status":"#)
        line.integer(Int64(record.status))
        line.put(#","bytes":"#)
        line.integer(record.bytes)
        line.put(#","final_url":"#)
        line.string(record.finalURL)
        line.put(#","redirects":"#)
        line.integer(Int64(record.redirects))
        if record.hasCrawlFields {
            line.put(#","depth":"#)
            if let depth = record.depth { line.integer(Int64(depth)) } else { line.put("null") }
            line.put(#","parent":"#)
            if let parent = record.parent { line.string(parent) } else { line.put("null") }
            line.put(#","via":"#)
            if let via = record.via { line.string(via.rawValue) } else { line.put("null") }
            line.put(#","links":"#)
            if let links = record.links { line.integer(Int64(links)) } else { line.put("null") }
            line.put(#","content_type":"#)
            if let type = record.contentType { line.string(type) } else { line.put("null") }
            line.put(#","location":"#)
            if let location = record.location { line.string(location) } else { line.put("null") }
        }
        // In `Phase.allCases` order (a test checks the keys against it).
        let timings = record.timings
        line.put(#","timings":{"queue":"#)
        line.integer(timings.queue)
        line.put(#","namelookup":"#)
        line.integer(timings.namelookup)
        line.put(#","connect":"#)
        line.integer(timings.connect)
        line.put(#","appconnect":"#)
        line.integer(timings.appconnect)
        line.put(#","pretransfer":"#)
        line.integer(timings.pretransfer)
        line.put(#","starttransfer":"#)
        line.integer(timings.starttransfer)
        line.put(#","total":"#)
        line.integer(timings.total)
        if let error = record.error {
            line.put(#"},"error":{"kind":"#)
            line.string(error.kind.rawValue)
            line.put(#","message":"#)
            line.string(error.message)
            line.put("}")
        } else {
            line.put(#"},"error":null"#)
        }
        if let body = record.body {
            line.put(#","body":{"file":"#)
            line.string(body.file)
            line.put(#","offset":"#)
            line.integer(body.offset)
            line.put(#","length":"#)
            line.integer(body.length)
            line.put(#","digest":"#)
            line.string(body.digest)
            line.put(body.truncated ? #","truncated":true}"# : #","truncated":false}"#)
        } else {
            line.put(#","body":null"#)
        }
        line.put(#","finished_at":"#)
        if record.finishedAt.isFinite {
            var text = record.finishedAt.description
            text.withUTF8 { line.bytes($0) }
        } else {
            line.put("0")
        }
        line.put("}\n")
        return line.cursor - start
    }

    /// The same line appended piece by piece to an Array: the reference `write` is tested against.
    static func appendPiecewise(_ record: FetchRecord, to out: inout [UInt8]) {
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

/// A write position in a buffer that has room for the whole line (`RecordJSON.maximumLength(of:)`): nothing here
/// checks bounds.
private struct LineCursor {
    var cursor: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) { cursor = start }

    mutating func put(_ text: StaticString) {
        let count = text.utf8CodeUnitCount
        cursor.update(from: text.utf8Start, count: count)
        cursor += count
    }

    mutating func byte(_ value: UInt8) {
        cursor.pointee = value
        cursor += 1
    }

    mutating func bytes(_ source: UnsafeBufferPointer<UInt8>) {
        guard let base = source.baseAddress else { return }
        cursor.update(from: base, count: source.count)
        cursor += source.count
    }

    /// A decimal integer, its digits counted first and then written from the last.
    mutating func integer(_ value: Int64) {
        if value >= 0 && value < 10 {
            byte(UInt8(ascii: "0") + UInt8(value))
            return
        }
        if value < 0 { byte(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var position = cursor + digits
        cursor = position
        repeat {
            position -= 1
            position.pointee = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    /// A JSON string: quotes, backslashes and control characters escaped; other UTF-8 passes through.
    mutating func string(_ text: String) {
        byte(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { source in
            // Most strings need no escaping: one scan, then one copy.
            guard source.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
            else {
                bytes(source)
                return
            }
            for value in source {
                switch value {
                case UInt8(ascii: "\""): escape(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): escape(UInt8(ascii: "\\"))
                case 0x0A: escape(UInt8(ascii: "n"))
                case 0x0D: escape(UInt8(ascii: "r"))
                case 0x09: escape(UInt8(ascii: "t"))
                case 0x08: escape(UInt8(ascii: "b"))
                case 0x0C: escape(UInt8(ascii: "f"))
                case ..<0x20:
                    put("\\u00")
                    byte(Self.hexDigit(value >> 4))
                    byte(Self.hexDigit(value & 0x0F))
                default: byte(value)
                }
            }
        }
        byte(UInt8(ascii: "\""))
    }

    private mutating func escape(_ letter: UInt8) {
        byte(UInt8(ascii: "\\"))
        byte(letter)
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
