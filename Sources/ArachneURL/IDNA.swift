import CArachneIDN2

/// The URL Standard's "domain to ASCII" (beStrict false): ASCII domains without an "xn--" label are only
/// lower-cased; everything else goes through UTS #46 ToASCII, non-transitional, by libidn2.
enum IDNA {
    static func domainToASCII(_ domain: [UInt8]) throws(URLParseError) -> [UInt8] {
        var result: [UInt8]
        if domain.allSatisfy({ $0 < 0x80 }) && !hasPunycodeLabel(domain) {
            result = domain.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        } else {
            result = try toASCII(domain)
            if result.isEmpty { throw URLParseError(.domainToASCII) }
        }
        if result.contains(where: isForbiddenDomainCodePoint) { throw URLParseError(.forbiddenHostCodePoint) }
        return result
    }

    /// Whether a label starts with "xn--", ASCII case-insensitively.
    private static func hasPunycodeLabel(_ domain: [UInt8]) -> Bool {
        var labelStart = 0
        while labelStart + 4 <= domain.count {
            if domain[labelStart] | 0x20 == 0x78, domain[labelStart + 1] | 0x20 == 0x6E,
                domain[labelStart + 2] == 0x2D, domain[labelStart + 3] == 0x2D
            {
                return true
            }
            guard let dot = domain[labelStart...].firstIndex(of: 0x2E) else { return false }
            labelStart = dot + 1
        }
        return false
    }

    /// UTS #46 ToASCII one label at a time, split at the four full stops UTS #46 maps to "." (U+002E, U+3002,
    /// U+FF0E, U+FF61). Per label because the Standard sets VerifyDnsLength to false, while libidn2 always rejects
    /// labels over 63 and domains over 255 bytes; ASCII labels without "xn--" are only lower-cased, as UTS #46
    /// maps them, so that long ASCII labels pass.
    private static func toASCII(_ domain: [UInt8]) throws(URLParseError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(domain.count + 8)
        var labelStart = 0
        var index = 0
        while true {
            let separatorLength = index < domain.count ? fullStopLength(domain, at: index) : 1
            if separatorLength == 0 {
                index += 1
                continue
            }
            let label = domain[labelStart..<index]
            if label.allSatisfy({ $0 < 0x80 }) && !hasPunycodeLabel(Array(label)) {
                output += label.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            } else {
                output += try labelToASCII(label)
            }
            if index >= domain.count { break }
            output.append(0x2E)
            index += separatorLength
            labelStart = index
        }
        return output
    }

    /// The byte length of a full stop at `index`, or 0.
    private static func fullStopLength(_ bytes: [UInt8], at index: Int) -> Int {
        let byte = bytes[index]
        if byte == 0x2E { return 1 }
        guard index + 2 < bytes.count else { return 0 }
        let (b1, b2) = (bytes[index + 1], bytes[index + 2])
        if byte == 0xE3, b1 == 0x80, b2 == 0x82 { return 3 }  // U+3002 IDEOGRAPHIC FULL STOP
        if byte == 0xEF, b1 == 0xBC, b2 == 0x8E { return 3 }  // U+FF0E FULLWIDTH FULL STOP
        if byte == 0xEF, b1 == 0xBD, b2 == 0xA1 { return 3 }  // U+FF61 HALFWIDTH IDEOGRAPHIC FULL STOP
        return 0
    }

    private static func labelToASCII(_ label: ArraySlice<UInt8>) throws(URLParseError) -> [UInt8] {
        var input = Array(label)
        input.append(0)
        var output: UnsafeMutablePointer<UInt8>? = nil
        let rc = input.withUnsafeBufferPointer { idn2_lookup_u8($0.baseAddress, &output, Int32(IDN2_NONTRANSITIONAL.rawValue)) }
        defer { if let output { idn2_free(output) } }
        guard rc == Int32(IDN2_OK.rawValue), let output else { throw URLParseError(.domainToASCII) }
        return Array(UnsafeBufferPointer(start: output, count: strlen(output)))
    }
}
