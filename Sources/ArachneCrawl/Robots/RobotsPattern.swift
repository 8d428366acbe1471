/// Octet-level helpers of robots.txt matching: one normalisation applied to both patterns and paths, and the
/// `*`/`$` matcher.
///
/// Normalisation (RFC 9309 §2.2.2): a `%XX` escape of an unreserved character (`A-Z a-z 0-9 - . _ ~`) is decoded,
/// any other escape is kept with its hex digits upper-cased (`%2f` → `%2F`: a reserved `/` stays distinct from a
/// literal one); octets a URL can never hold literally — controls, space, `"`, `<`, `>`, `` ` ``, `{`, `}`, DEL and
/// every non-ASCII octet (so UTF-8 text becomes its percent-encoded octets) — are percent-encoded. A stray `%` stays.
/// So `/%7E` and `/~` compare equal, `/%E3%83%84` and `/ツ` too, and `/a%2Fb` never equals `/a/b`.
enum RobotsPattern {
    /// `bytes` normalised for comparison.
    static func normalize(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count, let high = hexValue(input[index + 1]),
               let low = hexValue(input[index + 2])
            {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    output += [UInt8(ascii: "%"), hexDigit(decoded >> 4), hexDigit(decoded & 0xF)]
                }
                index += 3
                continue
            }
            if mustEncode(byte) {
                output += [UInt8(ascii: "%"), hexDigit(byte >> 4), hexDigit(byte & 0xF)]
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    /// Whether `pattern` matches a prefix of `path`: `*` matches any run of octets, a final `$` anchors the end of
    /// the path (anywhere else it is a literal `$`). Both are normalised already. Worst case O(path × pattern)
    /// octets, whatever the file holds, by tracking the set of path positions the pattern so far can end at.
    static func matches(_ pattern: [UInt8], _ path: [UInt8]) -> Bool {
        if !pattern.contains(UInt8(ascii: "*")) {
            // Most rules are plain prefixes: compare without the position set.
            if pattern.last == UInt8(ascii: "$") { return path.elementsEqual(pattern.dropLast()) }
            return path.starts(with: pattern)
        }
        // positions[0..<count]: ascending path offsets the pattern read so far can end at.
        var positions = [Int](repeating: 0, count: path.count + 1)
        var count = 1
        for (offset, octet) in pattern.enumerated() {
            if octet == UInt8(ascii: "$") && offset == pattern.count - 1 {
                return positions[count - 1] == path.count
            }
            if octet == UInt8(ascii: "*") {
                // From the smallest position on, every later one is reachable.
                let first = positions[0]
                count = path.count - first + 1
                for i in 0..<count { positions[i] = first + i }
            } else {
                var kept = 0
                for i in 0..<count where positions[i] < path.count && path[positions[i]] == octet {
                    positions[kept] = positions[i] + 1
                    kept += 1
                }
                count = kept
                if count == 0 { return false }
            }
        }
        return true
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func mustEncode(_ byte: UInt8) -> Bool {
        switch byte {
        case 0..<0x21, 0x7F..., UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "`"),
             UInt8(ascii: "{"), UInt8(ascii: "}"):
            true
        default:
            false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
