/// The URL Standard's host parser: IPv6 in brackets, opaque hosts for non-special schemes, and for special schemes
/// a domain (to ASCII via UTS #46) or, when it ends in a number, an IPv4 address. Returns the serialized host.
enum HostParser {
    static func parse(_ input: ArraySlice<UInt8>, isOpaque: Bool) throws(URLParseError) -> [UInt8] {
        if input.first == 0x5B {
            guard input.count >= 2, input.last == 0x5D else { throw URLParseError(.ipv6Unclosed) }
            let address = try IPv6Address.parse(input.dropFirst().dropLast())
            return [0x5B] + address.serialized() + [0x5D]
        }
        if isOpaque { return try parseOpaqueHost(input) }
        // The common IPv4 literal ("127.0.0.2") already in its serialized form: no decoding, no IDNA, no rebuild.
        if isCanonicalDottedDecimal(input) { return Array(input) }

        let domain = percentDecode(input)
        let asciiDomain = try IDNA.domainToASCII(domain)
        if endsInANumber(asciiDomain) {
            return IPv4Address.serialize(try IPv4Address.parse(asciiDomain[...]))
        }
        return asciiDomain
    }

    /// A non-special URL's host: any code points except the forbidden host code points, percent-encoded with the
    /// C0 control set. ("%" is allowed here even when not followed by two hex digits: that is only a validation error.)
    static func parseOpaqueHost(_ input: ArraySlice<UInt8>) throws(URLParseError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        for byte in input {
            if byte != 0x25, isForbiddenHostCodePoint(byte) { throw URLParseError(.forbiddenHostCodePoint) }
            output.appendEncoding(byte, .c0Control)
        }
        return output
    }

    /// Four decimal parts of 0–255 without leading zeros: a host that parses, as IPv4, to exactly itself.
    static func isCanonicalDottedDecimal<Bytes: Collection<UInt8>>(_ input: Bytes) -> Bool {
        var parts = 0
        var value = 0
        var digits = 0
        var first: UInt8 = 0
        for byte in input {
            if byte == 0x2E {
                guard digits > 0, parts < 3 else { return false }
                parts += 1
                value = 0
                digits = 0
            } else if byte >= 0x30 && byte <= 0x39 {
                if digits == 0 { first = byte } else if first == 0x30 { return false }
                digits += 1
                value = value * 10 + Int(byte - 0x30)
                guard digits <= 3, value <= 255 else { return false }
            } else {
                return false
            }
        }
        return parts == 3 && digits > 0
    }

    /// The Standard's "ends in a number": the last label (ignoring one trailing empty label) is all digits or parses
    /// as an IPv4 number ("0x" hex included).
    static func endsInANumber(_ domain: [UInt8]) -> Bool {
        var end = domain.count
        if end > 0, domain[end - 1] == 0x2E {
            end -= 1
            if end == 0 { return false }  // the domain "." has one (empty) label only after the trailing dot
        }
        var start = end
        while start > 0, domain[start - 1] != 0x2E { start -= 1 }
        let last = domain[start..<end]
        if !last.isEmpty, last.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return true }
        return IPv4Address.parseNumber(last) != nil
    }
}

/// Forbidden host code points: NUL, tab, LF, CR, space, # / : < > ? @ [ \ ] ^ |. ("%" is one too, for callers
/// that check it separately.)
@inline(__always)
func isForbiddenHostCodePoint(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x00, 0x09, 0x0A, 0x0D, 0x20, 0x23, 0x25, 0x2F, 0x3A, 0x3C, 0x3E, 0x3F, 0x40, 0x5B, 0x5C, 0x5D, 0x5E, 0x7C:
        true
    default: false
    }
}

/// Forbidden domain code points: the forbidden host code points, C0 controls, "%" and DEL.
@inline(__always)
func isForbiddenDomainCodePoint(_ byte: UInt8) -> Bool {
    byte <= 0x1F || byte == 0x7F || isForbiddenHostCodePoint(byte)
}

/// An IPv4 address as the URL Standard parses it: 1–4 dot-separated numbers, each decimal, "0x" hex or leading-zero
/// octal, the last filling the remaining bytes ("127.1" is 127.0.0.1).
enum IPv4Address {
    static func parse(_ input: ArraySlice<UInt8>) throws(URLParseError) -> UInt32 {
        var parts = input.split(separator: 0x2E, omittingEmptySubsequences: false)
        if parts.last?.isEmpty == true, parts.count > 1 { parts.removeLast() }
        guard parts.count <= 4 else { throw URLParseError(.ipv4Invalid) }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = parseNumber(part) else { throw URLParseError(.ipv4Invalid) }
            numbers.append(number)
        }
        for number in numbers.dropLast() where number > 255 { throw URLParseError(.ipv4Invalid) }
        let last = numbers[numbers.count - 1]
        guard last < UInt64(1) << (8 * (5 - numbers.count)) else { throw URLParseError(.ipv4Invalid) }
        var address = last
        for (index, number) in numbers.dropLast().enumerated() {
            address += number << (8 * (3 - index))
        }
        return UInt32(address)
    }

    /// One part: nil when empty or not a number in its radix. Values are clamped just above 2^32, which every
    /// caller rejects, so long inputs cannot overflow.
    static func parseNumber(_ input: ArraySlice<UInt8>) -> UInt64? {
        guard !input.isEmpty else { return nil }
        var digits = input
        var radix: UInt64 = 10
        if digits.count >= 2, digits[digits.startIndex] == 0x30, digits[digits.startIndex + 1] | 0x20 == 0x78 {
            digits = digits.dropFirst(2)
            radix = 16
        } else if digits.count >= 2, digits[digits.startIndex] == 0x30 {
            digits = digits.dropFirst()
            radix = 8
        }
        var value: UInt64 = 0
        for byte in digits {
            guard let digit = hexValue(byte).map(UInt64.init), digit < radix else { return nil }
            value = min(value * radix + digit, 1 << 33)
        }
        return value
    }

    static func serialize(_ address: UInt32) -> [UInt8] {
        var output: [UInt8] = []
        for shift in stride(from: 24, through: 0, by: -8) {
            output += Array(String((address >> UInt32(shift)) & 0xFF).utf8)
            if shift > 0 { output.append(0x2E) }
        }
        return output
    }
}
