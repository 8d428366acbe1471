import ArachneCore

/// Hand-written JSON for one `FetchRecord` line of records.ndjson: the contract's keys, in a fixed order, written
/// into a byte buffer with no intermediate objects. It runs for every record (50k+ per second), which is why it is not
/// `JSONEncoder`. The output decodes with `JSONDecoder` as `FetchRecord` (tests check it). `url_index` follows `url`
/// (left out only for a record that has none, one read from a file written before it existed). A crawl record (any
/// crawl field set) carries all six crawl keys after `redirects`, null where unset; a list job's record carries none.
enum RecordJSON {
    /// `record` as one JSON object and a newline, in an array of its own (`RecordsWriter` forms lines in its buffer
    /// with `write`; this is for a line too long for that buffer, and for tests).
    static func line(_ record: FetchRecord) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: maximumLength(of: record)) { buffer, count in
            count = write(record, to: buffer.baseAddress!)
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
    /// in `RecordsWriter`, writes it straight into its buffer). Tests read every line back with an independent JSON
    /// parser.
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
