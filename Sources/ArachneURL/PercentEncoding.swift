/// The URL Standard's percent-encode sets, as 128-bit masks over ASCII. Every set also contains all bytes >= 0x7F,
/// so encoding the UTF-8 bytes of a code point one by one gives exactly the Standard's UTF-8 percent-encoding.
struct PercentEncodeSet: Sendable {
    let low: UInt64   // bytes 0x00–0x3F
    let high: UInt64  // bytes 0x40–0x7F

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        if byte < 0x40 { return low & (1 << UInt64(byte)) != 0 }
        if byte < 0x80 { return high & (1 << UInt64(byte - 0x40)) != 0 }
        return true
    }

    private func adding(_ bytes: String) -> PercentEncodeSet {
        var low = self.low
        var high = self.high
        for byte in bytes.utf8 {
            if byte < 0x40 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 0x40) }
        }
        return PercentEncodeSet(low: low, high: high)
    }

    /// C0 controls and everything above U+007E.
    static let c0Control = PercentEncodeSet(low: 0xFFFF_FFFF, high: 1 << 63)
    static let fragment = c0Control.adding(" \"<>`")
    static let query = c0Control.adding(" \"#<>")
    static let specialQuery = query.adding("'")
    static let path = query.adding("?^`{}")
    static let userinfo = path.adding("/:;=@[\\]|")
}

@inline(__always)
func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x37 + nibble }  // upper-case, as the Standard

@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x37
    case 0x61...0x66: byte - 0x57
    default: nil
    }
}

extension Array where Element == UInt8 {
    /// Appends `byte`, percent-encoded if `set` contains it.
    @inline(__always)
    mutating func appendEncoding(_ byte: UInt8, _ set: PercentEncodeSet) {
        if set.contains(byte) {
            append(0x25)
            append(hexDigit(byte >> 4))
            append(hexDigit(byte & 0xF))
        } else {
            append(byte)
        }
    }

    mutating func appendEncoding<S: Sequence<UInt8>>(contentsOf bytes: S, _ set: PercentEncodeSet) {
        for byte in bytes { appendEncoding(byte, set) }
    }
}

/// The Standard's percent-decode of a byte sequence: `%` followed by two hex digits becomes that byte.
func percentDecode(_ input: ArraySlice<UInt8>) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(input.count)
    var index = input.startIndex
    while index < input.endIndex {
        let byte = input[index]
        if byte == 0x25, index + 2 < input.endIndex,
            let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
        {
            output.append(high << 4 | low)
            index += 3
        } else {
            output.append(byte)
            index += 1
        }
    }
    return output
}
