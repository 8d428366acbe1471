import ArachneCore

/// Hand-written JSON for one `FetchRecord` line of records.ndjson: the contract's keys, in a fixed order, appended to
/// a byte buffer with no intermediate objects. It runs for every record (50k+ per second), which is why it is not
/// `JSONEncoder`. The output decodes with `JSONDecoder` as `FetchRecord` (tests check it).
enum RecordJSON {
    /// `"queue":`, `,"namelookup":`, … in `Phase.allCases` order, encoded once.
    private static let timingKeys: [[UInt8]] = Phase.allCases.enumerated().map { index, phase in
        Array(((index == 0 ? "" : ",") + "\"\(phase.rawValue)\":").utf8)
    }

    /// Appends `record` as one JSON object and a newline.
    static func append(_ record: FetchRecord, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"url":"#.utf8)
        appendString(record.url, to: &out)
        out.append(contentsOf: #","repetition":"#.utf8)
        appendInteger(Int64(record.repetition), to: &out)
        out.append(contentsOf: #","worker":"#.utf8)
        appendString(record.worker, to: &out)
        out.append(contentsOf: #","attempts":"#.utf8)
        appendInteger(Int64(record.attempts), to: &out)
        out.append(contentsOf: #","status":"#.utf8)
        appendInteger(Int64(record.status), to: &out)
        out.append(contentsOf: #","bytes":"#.utf8)
        appendInteger(record.bytes, to: &out)
        out.append(contentsOf: #","final_url":"#.utf8)
        appendString(record.finalURL, to: &out)
        out.append(contentsOf: #","redirects":"#.utf8)
        appendInteger(Int64(record.redirects), to: &out)

        out.append(contentsOf: #","timings":{"#.utf8)
        for (index, phase) in Phase.allCases.enumerated() {
            out.append(contentsOf: Self.timingKeys[index])
            appendInteger(record.timings[phase], to: &out)
        }

        if let error = record.error {
            out.append(contentsOf: #"},"error":{"kind":"#.utf8)
            appendString(error.kind.rawValue, to: &out)
            out.append(contentsOf: #","message":"#.utf8)
            appendString(error.message, to: &out)
            out.append(UInt8(ascii: "}"))
        } else {
            out.append(contentsOf: #"},"error":null"#.utf8)
        }

        if let body = record.body {
            out.append(contentsOf: #","body":{"file":"#.utf8)
            appendString(body.file, to: &out)
            out.append(contentsOf: #","offset":"#.utf8)
            appendInteger(body.offset, to: &out)
            out.append(contentsOf: #","length":"#.utf8)
            appendInteger(body.length, to: &out)
            out.append(contentsOf: #","digest":"#.utf8)
            appendString(body.digest, to: &out)
            out.append(contentsOf: body.truncated ? #","truncated":true}"#.utf8 : #","truncated":false}"#.utf8)
        } else {
            out.append(contentsOf: #","body":null"#.utf8)
        }

        out.append(contentsOf: #","finished_at":"#.utf8)
        appendSeconds(record.finishedAt, to: &out)
        out.append(contentsOf: "}\n".utf8)
    }

    /// A JSON string: quotes, backslashes and control characters escaped; other UTF-8 passes through.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var plain = true
        for byte in string.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        if plain {
            out.append(contentsOf: string.utf8)
        } else {
            for byte in string.utf8 {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case 0x0A: out.append(contentsOf: #"\n"#.utf8)
                case 0x0D: out.append(contentsOf: #"\r"#.utf8)
                case 0x09: out.append(contentsOf: #"\t"#.utf8)
                case 0x08: out.append(contentsOf: #"\b"#.utf8)
                case 0x0C: out.append(contentsOf: #"\f"#.utf8)
                case ..<0x20:
                    out.append(contentsOf: #"\u00"#.utf8)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A decimal integer.
    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
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
