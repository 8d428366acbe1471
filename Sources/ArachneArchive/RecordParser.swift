import ArachneCore

/// Parses one records.ndjson line into a `FetchRecord`: strict JSON, the contract's keys (unknown keys are skipped,
/// missing or mistyped ones are errors naming the key; a missing `error`, `body`, `url_index` or crawl field reads as
/// null, as `JSONDecoder` would: records written before `url_index` existed still parse). Hand-written for the same
/// reason as `RecordJSON`: resuming a job reads millions of lines, and `JSONDecoder` spent about ten times longer
/// per line.
struct RecordParser {
    /// What was wrong, and where in the line (0-based byte offset).
    struct Failure: Error {
        var message: String
        var offset: Int
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    /// Parses `line` (without its newline).
    static func parse(_ line: UnsafeBufferPointer<UInt8>) throws(Failure) -> FetchRecord {
        var parser = RecordParser(bytes: line)
        parser.skipSpace()
        let record = try parser.record()
        parser.skipSpace()
        guard parser.index == line.count else { throw parser.failure("unexpected text after the record") }
        return record
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: The record's shape

    private mutating func record() throws(Failure) -> FetchRecord {
        var url: String?, worker: String?, finalURL: String?
        var urlIndex: Int?, repetition: Int?, attempts: Int?, status: Int?, redirects: Int?
        var size: Int64?, finishedAt: Double?
        var timings: PhaseTimings?
        var error: FetchFailure??, body: BodyReference??
        var depth: Int?, parent: String?, via: CrawlVia?, links: Int?, contentType: String?, location: String?
        try object { (parser: inout RecordParser, key: String) throws(Failure) in
            switch key {
            case "url": url = try parser.string(key)
            case "url_index": urlIndex = try parser.null() ? nil : Int(try parser.integer(key))
            case "repetition": repetition = Int(try parser.integer(key))
            case "worker": worker = try parser.string(key)
            case "attempts": attempts = Int(try parser.integer(key))
            case "status": status = Int(try parser.integer(key))
            case "bytes": size = try parser.integer(key)
            case "final_url": finalURL = try parser.string(key)
            case "redirects": redirects = Int(try parser.integer(key))
            case "timings": timings = try parser.timings()
            case "error":
                if try parser.null() { error = .some(nil) } else { error = .some(try parser.failureObject()) }
            case "body":
                if try parser.null() { body = .some(nil) } else { body = .some(try parser.bodyObject()) }
            case "finished_at": finishedAt = try parser.number(key)
            case "depth": depth = try parser.null() ? nil : Int(try parser.integer(key))
            case "parent": parent = try parser.null() ? nil : try parser.string(key)
            case "via":
                guard !(try parser.null()) else { via = nil; break }
                let text = try parser.string(key)
                guard let known = CrawlVia(rawValue: text) else { throw parser.failure("unknown via \"\(text)\"") }
                via = known
            case "links": links = try parser.null() ? nil : Int(try parser.integer(key))
            case "content_type": contentType = try parser.null() ? nil : try parser.string(key)
            case "location": location = try parser.null() ? nil : try parser.string(key)
            default: try parser.skipValue()
            }
        }
        return FetchRecord(
            url: try required(url, "url"), urlIndex: urlIndex, repetition: try required(repetition, "repetition"),
            worker: try required(worker, "worker"), attempts: try required(attempts, "attempts"),
            status: try required(status, "status"), bytes: try required(size, "bytes"),
            finalURL: try required(finalURL, "final_url"), redirects: try required(redirects, "redirects"),
            timings: try required(timings, "timings"), error: error ?? nil, body: body ?? nil,
            finishedAt: try required(finishedAt, "finished_at"), depth: depth, parent: parent, via: via, links: links,
            contentType: contentType, location: location)
    }

    private mutating func timings() throws(Failure) -> PhaseTimings {
        var timings = PhaseTimings()
        var seen: UInt8 = 0
        try object { (parser: inout RecordParser, key: String) throws(Failure) in
            let bit: UInt8
            switch key {
            case "queue": bit = 0; timings.queue = try parser.integer("timings.queue")
            case "namelookup": bit = 1; timings.namelookup = try parser.integer("timings.namelookup")
            case "connect": bit = 2; timings.connect = try parser.integer("timings.connect")
            case "appconnect": bit = 3; timings.appconnect = try parser.integer("timings.appconnect")
            case "pretransfer": bit = 4; timings.pretransfer = try parser.integer("timings.pretransfer")
            case "starttransfer": bit = 5; timings.starttransfer = try parser.integer("timings.starttransfer")
            case "total": bit = 6; timings.total = try parser.integer("timings.total")
            default: return try parser.skipValue()
            }
            seen |= 1 << bit
        }
        // Bits in `Phase.allCases` order.
        if let missing = Phase.allCases.indices.first(where: { seen & (1 << $0) == 0 }) {
            throw failure("missing key \"timings.\(Phase.allCases[missing].rawValue)\"")
        }
        return timings
    }

    private mutating func failureObject() throws(Failure) -> FetchFailure {
        var kind: FetchErrorKind?, message: String?
        try object { (parser: inout RecordParser, key: String) throws(Failure) in
            switch key {
            case "kind":
                let text = try parser.string("error.kind")
                guard let known = FetchErrorKind(rawValue: text) else {
                    throw parser.failure("unknown error kind \"\(text)\"")
                }
                kind = known
            case "message": message = try parser.string("error.message")
            default: try parser.skipValue()
            }
        }
        return FetchFailure(kind: try required(kind, "error.kind"), message: try required(message, "error.message"))
    }

    private mutating func bodyObject() throws(Failure) -> BodyReference {
        var file: String?, digest: String?, offset: Int64?, length: Int64?, truncated: Bool?
        try object { (parser: inout RecordParser, key: String) throws(Failure) in
            switch key {
            case "file": file = try parser.string("body.file")
            case "offset": offset = try parser.integer("body.offset")
            case "length": length = try parser.integer("body.length")
            case "digest": digest = try parser.string("body.digest")
            case "truncated": truncated = try parser.boolean("body.truncated")
            default: try parser.skipValue()
            }
        }
        return BodyReference(
            file: try required(file, "body.file"), offset: try required(offset, "body.offset"),
            length: try required(length, "body.length"), digest: try required(digest, "body.digest"),
            truncated: try required(truncated, "body.truncated"))
    }

    private func required<Value>(_ value: Value?, _ key: String) throws(Failure) -> Value {
        guard let value else { throw failure("missing key \"\(key)\"") }
        return value
    }

    // MARK: JSON

    private func failure(_ message: String) -> Failure {
        Failure(message: message, offset: index)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard current == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    /// Calls `member` for each key of an object, with the parser at the key's value.
    private mutating func object(
        _ member: (inout RecordParser, String) throws(Failure) -> Void
    ) throws(Failure) {
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if current == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipSpace()
            let key = try rawString()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            try member(&self, key)
            skipSpace()
            if current == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return
        }
    }

    private mutating func null() throws(Failure) -> Bool {
        guard current == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            UnsafeBufferPointer(rebasing: bytes[index..<index + count]).elementsEqual(
                UnsafeBufferPointer(start: word.utf8Start, count: count))
        else { throw failure("expected \(word)") }
        index += count
    }

    private mutating func boolean(_ key: String) throws(Failure) -> Bool {
        switch current {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw failure("\"\(key)\" must be true or false")
        }
    }

    private mutating func string(_ key: String) throws(Failure) -> String {
        guard current == UInt8(ascii: "\"") else { throw failure("\"\(key)\" must be a string") }
        return try rawString()
    }

    private mutating func integer(_ key: String) throws(Failure) -> Int64 {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        var value: Int64 = 0
        var digits = 0
        while let byte = current, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else { throw failure("\"\(key)\" is out of range") }
            value = sum
            digits += 1
            index += 1
        }
        let next = current
        guard digits > 0, next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E") else {
            index = start
            throw failure("\"\(key)\" must be an integer")
        }
        return bytes[start] == UInt8(ascii: "-") ? -value : value
    }

    private mutating func number(_ key: String) throws(Failure) -> Double {
        let start = index
        func digits(_ parser: inout RecordParser) -> Int {
            var count = 0
            while let byte = parser.current, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                parser.index += 1
                count += 1
            }
            return count
        }
        if current == UInt8(ascii: "-") { index += 1 }
        var valid = digits(&self) > 0
        if current == UInt8(ascii: ".") {
            index += 1
            valid = valid && digits(&self) > 0
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            valid = valid && digits(&self) > 0
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard valid, let value = Double(text) else {
            index = start
            throw failure("\"\(key)\" must be a number")
        }
        return value
    }

    /// A string at the current position, escapes decoded.
    private mutating func rawString() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { index += 1 }
        if current == UInt8(ascii: "\"") {
            defer { index += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }
        var decoded = Array(bytes[start..<index])
        while true {
            guard let byte = current else { throw failure("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escape = current else { throw failure("unterminated string") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        try literal("\\u")
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
                        scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw failure("unpaired surrogate") }
                    UTF8.encode(unicode) { decoded.append($0) }
                default:
                    index -= 1
                    throw failure("invalid escape")
                }
            case ..<0x20:
                index -= 1
                throw failure("control character in string")
            default:
                decoded.append(byte)
            }
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = Self.hexValue(byte) else { throw failure("invalid \\u escape") }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// Skips any JSON value (for keys this version does not know).
    private mutating func skipValue() throws(Failure) {
        switch current {
        case UInt8(ascii: "\""): _ = try rawString()
        case UInt8(ascii: "{"):
            try object { (parser: inout RecordParser, _: String) throws(Failure) in try parser.skipValue() }
        case UInt8(ascii: "["):
            index += 1
            skipSpace()
            if current == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                skipSpace()
                try skipValue()
                skipSpace()
                if current == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "]"))
                return
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try number("value")
        }
    }
}
