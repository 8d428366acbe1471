/// An IPv4 or IPv6 address, as the address guard judges it. IPv4 addresses are held in IPv6's IPv4-mapped range
/// (`::ffff:0:0/96`), as a dual-stack socket sees them, so `::ffff:127.0.0.1` *is* `127.0.0.1`: one 128-bit value and
/// one range type cover both families, and a mapped spelling cannot slip past an IPv4 rule.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address as an IPv6 address, most significant bit first.
    public let bits: UInt128

    static let mappedPrefix: UInt128 = 0xFFFF << 32

    public init(ipv6 bits: UInt128) {
        self.bits = bits
    }

    /// An IPv4 address (host byte order), held as `::ffff:a.b.c.d`.
    public init(ipv4: UInt32) {
        bits = Self.mappedPrefix | UInt128(ipv4)
    }

    /// An IPv6 address from its 16 bytes in network order.
    public init<Bytes: Collection<UInt8>>(ipv6Bytes bytes: Bytes) {
        precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
        var bits: UInt128 = 0
        for byte in bytes { bits = bits << 8 | UInt128(byte) }
        self.bits = bits
    }

    /// The IPv4 address, when this is one (IPv4-mapped).
    public var ipv4: UInt32? {
        bits >> 32 == 0xFFFF ? UInt32(truncatingIfNeeded: bits) : nil
    }

    /// Parses an address as it is written in a rule: a dotted quad of decimal numbers without leading zeros
    /// ("10.0.0.1"), or IPv6 text
    /// ("fe80::1", "::ffff:10.0.0.1"). Nil for anything else: the guard does not read the shorthand or octal and hex
    /// spellings URLs allow (those are resolved before a connection and judged as the address they reach).
    public init?(_ text: some StringProtocol) {
        if let ipv4 = Self.parseIPv4(Substring(text)) {
            self.init(ipv4: ipv4)
        } else if let ipv6 = Self.parseIPv6(Substring(text)) {
            self.init(ipv6: ipv6)
        } else {
            return nil
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool { lhs.bits < rhs.bits }

    /// Dotted quad for IPv4, RFC 5952 text for IPv6.
    public var description: String {
        if let ipv4 { return Self.formatIPv4(ipv4) }
        return Self.formatIPv6(bits)
    }

    // MARK: Text

    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  part.utf8.count == 1 || part.utf8.first != 0x30,  // "010" is octal 8 to inet_aton: refused
                  let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func parseIPv6(_ text: Substring) -> UInt128? {
        guard text.utf8.count >= 2, text.utf8.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var compressed = false
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        guard !halves.isEmpty else { return nil }
        if halves.count == 2 {
            compressed = true
            guard !halves[1].contains("::") else { return nil }
        }
        func groups(_ part: Substring, allowIPv4: Bool) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var result: [UInt16] = []
            for (index, field) in fields.enumerated() {
                if index == fields.count - 1, allowIPv4, field.contains(".") {
                    guard let ipv4 = parseIPv4(field) else { return nil }
                    result.append(UInt16(ipv4 >> 16))
                    result.append(UInt16(ipv4 & 0xFFFF))
                } else {
                    guard (1...4).contains(field.utf8.count), let group = UInt16(field, radix: 16),
                          field.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
                    else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let first = groups(halves[0], allowIPv4: !compressed) else { return nil }
        head = first
        if compressed {
            guard let second = groups(halves[1], allowIPv4: true) else { return nil }
            tail = second
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard head.count == 8 else { return nil }
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    static func formatIPv4(_ value: UInt32) -> String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    /// RFC 5952: lowercase hex, no leading zeros, the longest run of two or more zero groups (the first of equals)
    /// as `::`.
    static func formatIPv6(_ bits: UInt128) -> String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: bits >> (112 - 16 * $0)) }
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > bestLength {
                bestStart = index
                bestLength = end - index
            }
            index = end
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

/// A CIDR range of addresses ("10.0.0.0/8", "fc00::/7"), or one address ("10.0.0.5" is 10.0.0.5/32). An IPv4 range
/// covers the matching IPv4-mapped IPv6 addresses too (see `IPAddress`). Encoded as its text.
public struct AddressRange: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The first address of the range.
    public let base: IPAddress
    /// The prefix length in IPv6 bits: 96 + n for an IPv4 range "/n".
    public let prefixLength: Int
    private let mask: UInt128

    /// A range from its first address and prefix length in IPv6 bits.
    init(base: IPAddress, prefixLength: Int) {
        precondition((0...128).contains(prefixLength), "prefix length \(prefixLength) out of 0...128")
        mask = prefixLength == 0 ? 0 : UInt128.max << (128 - prefixLength)
        precondition(base.bits & ~mask == 0, "range base \(base) has bits set past /\(prefixLength)")
        self.base = base
        self.prefixLength = prefixLength
    }

    /// Parses "ADDRESS/LENGTH" or a bare address, IPv4 or IPv6. Bits set past the prefix are an error (a likely typo:
    /// the message names the range that was probably meant).
    public init(parsing text: String) throws(AddressRangeError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty, let address = IPAddress(first) else {
            throw AddressRangeError(.notAnAddress(text: text))
        }
        let isIPv4 = IPAddress.parseIPv4(first) != nil
        let maximum = isIPv4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), parts[1].utf8.count <= 3,
                  let value = Int(parts[1]), value <= maximum
            else {
                throw AddressRangeError(.badLength(text: text, ipv4: isIPv4))
            }
            length = value
        }
        let bitLength = isIPv4 ? 96 + length : length
        let mask: UInt128 = bitLength == 0 ? 0 : UInt128.max << (128 - bitLength)
        guard address.bits & ~mask == 0 else {
            let meant = AddressRange(base: IPAddress(ipv6: address.bits & mask), prefixLength: bitLength)
            throw AddressRangeError(.hostBitsSet(text: text, meant: meant.description))
        }
        self.init(base: address, prefixLength: bitLength)
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.bits & mask == base.bits
    }

    /// IPv4 notation for ranges inside the IPv4-mapped block, IPv6 notation otherwise.
    public var description: String {
        if prefixLength >= 96, let ipv4 = base.ipv4 { return "\(IPAddress.formatIPv4(ipv4))/\(prefixLength - 96)" }
        return "\(IPAddress.formatIPv6(base.bits))/\(prefixLength)"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A CIDR range that did not parse, with a message naming what to write instead.
public struct AddressRangeError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: Sendable, Hashable {
        case notAnAddress(text: String)
        case badLength(text: String, ipv4: Bool)
        case hostBitsSet(text: String, meant: String)
    }

    let code: Code

    init(_ code: Code) {
        self.code = code
    }

    public var description: String {
        switch code {
        case .notAnAddress(let text):
            "'\(text)' is not a CIDR range: write ADDRESS/LENGTH with a dotted-quad IPv4 or an IPv6 address, "
                + "e.g. 10.0.0.0/8 or fc00::/7"
        case .badLength(let text, let ipv4):
            "'\(text)': the prefix length must be a number from 0 to \(ipv4 ? 32 : 128) for an IPv\(ipv4 ? 4 : 6) range"
        case .hostBitsSet(let text, let meant):
            "'\(text)' has address bits set past its prefix length: did you mean \(meant)?"
        }
    }
}
