/// Where a URL points, as one string: the key for per-host counts in reports and per-host limits in fetchers.
/// Hand-rolled over the UTF-8 bytes: it runs for every record and every limited request.
public enum URLAuthority {
    /// The authority of `url` (`name[:port]`, lower-cased, without user info), or nil when it has none.
    public static func of(_ url: String) -> String? {
        let bytes = url.utf8
        var index = bytes.startIndex
        var start: String.Index?
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") {
                let rest = bytes[bytes.index(after: index)...]
                if rest.starts(with: "//".utf8) { start = bytes.index(index, offsetBy: 3) }
                break
            }
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { break }
            index = bytes.index(after: index)
        }
        guard var authorityStart = start else { return nil }
        var end = authorityStart
        var hasUpper = false
        while end != bytes.endIndex {
            let byte = bytes[end]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { break }
            if byte == UInt8(ascii: "@") { authorityStart = bytes.index(after: end); hasUpper = false }
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { hasUpper = true }
            end = bytes.index(after: end)
        }
        guard authorityStart < end else { return nil }
        let authority = String(url[authorityStart..<end])
        return hasUpper ? authority.lowercased() : authority
    }

    /// The host of `url` as `of` finds its authority (lower-cased, IPv6 in brackets), without the port.
    public static func host(of url: String) -> String? {
        guard let authority = of(url) else { return nil }
        // Over the UTF-8 bytes: Character-wise searches would run grapheme breaking on every call.
        let bytes = authority.utf8
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            return String(Substring(bytes[...close]))
        }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) { return String(Substring(bytes[..<colon])) }
        return authority
    }
}
