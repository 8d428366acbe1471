/// Reads the fields of frame 0 written by `WireWriter`, checking every length against the bytes that are left, so a
/// truncated or hostile frame ends in a `ProtocolError` naming the message and the field, never a trap or a huge
/// allocation.
struct WireReader {
    let frame: [UInt8]
    private(set) var offset: Int
    let message: String

    init(_ frame: [UInt8], message: String) {
        self.frame = frame
        self.offset = MessageHeader.size
        self.message = message
    }

    var remaining: Int { frame.count - offset }

    private func truncated(_ field: StaticString) -> ProtocolError {
        ProtocolError(
            .truncated,
            "'\(message)' message is truncated: frame 0 ends at byte \(frame.count) in field '\(field)'"
        )
    }

    func invalid(_ field: StaticString, _ problem: String) -> ProtocolError {
        ProtocolError(.invalidValue, "'\(message)' message has an invalid '\(field)': \(problem)")
    }

    mutating func uvarint(_ field: StaticString) throws(ProtocolError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < frame.count else { throw truncated(field) }
            let byte = frame[offset]
            offset += 1
            if shift == 63 && byte > 1 {
                throw invalid(field, "varint overflows 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw invalid(field, "varint longer than 10 bytes") }
        }
    }

    mutating func int64(_ field: StaticString) throws(ProtocolError) -> Int64 {
        let raw = try uvarint(field)
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    mutating func int(_ field: StaticString) throws(ProtocolError) -> Int {
        let value = try int64(field)
        guard let result = Int(exactly: value) else { throw invalid(field, "\(value) does not fit an Int") }
        return result
    }

    /// A signed integer that must not be negative.
    mutating func nonNegative(_ field: StaticString) throws(ProtocolError) -> Int {
        let value = try int(field)
        guard value >= 0 else { throw invalid(field, "\(value) is negative") }
        return value
    }

    /// An unsigned integer that must fit an `Int`.
    mutating func uint(_ field: StaticString) throws(ProtocolError) -> Int {
        let value = try uvarint(field)
        guard value <= UInt64(Int.max) else { throw invalid(field, "\(value) is too large") }
        return Int(value)
    }

    /// An element count, checked against the bytes left given the smallest encoding of one element.
    mutating func count(_ field: StaticString, minElementSize: Int) throws(ProtocolError) -> Int {
        let value = try uvarint(field)
        guard value <= UInt64(remaining / max(1, minElementSize)) else {
            throw invalid(field, "count \(value) exceeds what the \(remaining) remaining bytes can hold")
        }
        return Int(value)
    }

    /// A byte length into another frame, checked against the `available` bytes left there.
    mutating func count(_ field: StaticString, in available: Int) throws(ProtocolError) -> Int {
        let value = try uvarint(field)
        guard value <= UInt64(max(0, available)) else {
            throw invalid(field, "\(value) bytes, but frame 1 has only \(max(0, available)) left")
        }
        return Int(value)
    }

    mutating func bool(_ field: StaticString) throws(ProtocolError) -> Bool {
        guard offset < frame.count else { throw truncated(field) }
        let byte = frame[offset]
        offset += 1
        switch byte {
        case 0: return false
        case 1: return true
        default: throw invalid(field, "boolean byte is \(byte), expected 0 or 1")
        }
    }

    mutating func double(_ field: StaticString) throws(ProtocolError) -> Double {
        guard remaining >= 8 else { throw truncated(field) }
        var bits: UInt64 = 0
        for index in 0..<8 {
            bits |= UInt64(frame[offset + index]) << UInt64(8 * index)
        }
        offset += 8
        return Double(bitPattern: bits)
    }

    private mutating func lengthPrefixed(_ field: StaticString) throws(ProtocolError) -> Range<Int> {
        let length = try uvarint(field)
        guard length <= UInt64(remaining) else {
            throw ProtocolError(
                .truncated,
                "'\(message)' message is truncated: field '\(field)' announces \(length) bytes but only "
                    + "\(remaining) remain in frame 0"
            )
        }
        let range = offset..<(offset + Int(length))
        offset += Int(length)
        return range
    }

    /// A string field; `previous` itself when the field holds the same bytes, so no new String is made.
    mutating func string(_ field: StaticString, reusing previous: String?) throws(ProtocolError) -> String {
        let range = try lengthPrefixed(field)
        if var previous {
            let same = previous.withUTF8 { known in
                known.count == range.count && frame.withUnsafeBufferPointer { buffer in
                    known.elementsEqual(UnsafeBufferPointer(rebasing: buffer[range]))
                }
            }
            if same { return previous }
        }
        return try string(field, at: range)
    }

    mutating func string(_ field: StaticString) throws(ProtocolError) -> String {
        try string(field, at: try lengthPrefixed(field))
    }

    /// The UTF-8 text of `range` in the frame.
    private func string(_ field: StaticString, at range: Range<Int>) throws(ProtocolError) -> String {
        let text = frame.withUnsafeBufferPointer { buffer -> String? in
            let bytes = UnsafeBufferPointer(rebasing: buffer[range])
            // ASCII (URLs, most headers) needs no validation; the generic validator is slow.
            var high: UInt8 = 0
            for byte in bytes { high |= byte }
            if high < 0x80 { return String(decoding: bytes, as: UTF8.self) }
            return String(validating: bytes, as: UTF8.self)
        }
        guard let text else { throw invalid(field, "not valid UTF-8") }
        return text
    }

    mutating func blob(_ field: StaticString) throws(ProtocolError) -> [UInt8] {
        Array(frame[try lengthPrefixed(field)])
    }

    /// Checks that every byte of frame 0 was used.
    func finish() throws(ProtocolError) {
        guard remaining == 0 else {
            throw ProtocolError(
                .trailingBytes,
                "'\(message)' message has \(remaining) unexpected byte\(remaining == 1 ? "" : "s") after its last field"
            )
        }
    }
}
