extension LinkExtractor {
    /// Whether a response with this `Content-Type` is a page to extract links from: `text/html` or
    /// `application/xhtml+xml`, parameters and case ignored.
    public static func isHTML(contentType: String?) -> Bool {
        guard let contentType else { return false }
        // Cut at ";" by bytes: a Character-wise split ran grapheme breaking for every response a crawl fetched.
        let end = contentType.utf8.firstIndex(of: UInt8(ascii: ";")) ?? contentType.endIndex
        let essence = RobotsDirectives.trimmed(contentType[..<end])
        return RobotsDirectives.equalsIgnoringCase(essence, "text/html")
            || RobotsDirectives.equalsIgnoringCase(essence, "application/xhtml+xml")
    }

    /// The `charset` parameter of a `Content-Type` value, unquoted and trimmed, or nil when it has none.
    public static func charset(contentType: String?) -> String? {
        // Most Content-Type values have no parameter at all.
        guard let contentType, contentType.utf8.contains(UInt8(ascii: ";")) else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            guard RobotsDirectives.equalsIgnoringCase(RobotsDirectives.trimmed(parameter[..<equals]), "charset") else {
                continue
            }
            var value = RobotsDirectives.trimmed(parameter[parameter.index(after: equals)...])
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = RobotsDirectives.trimmed(value.dropFirst().dropLast())
            }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }
}

/// Character encodings as ArachneLinks decodes them: a label (from a header, a BOM or libxml2) mapped to the name
/// iconv knows, with the WHATWG Encoding Standard's aliases that matter (Latin-1 and ASCII labels mean windows-1252).
enum CharsetLabel {
    case utf8
    /// Decoded by iconv to UTF-8 before parsing, under this name.
    case other(String)

    init?(_ label: String) {
        let trimmed = RobotsDirectives.trimmed(label[...]).filter { $0 != "\"" && $0 != "'" }.lowercased()
        guard !trimmed.isEmpty else { return nil }
        switch trimmed {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8":
            self = .utf8
        case "windows-1252", "cp1252", "x-cp1252", "iso-8859-1", "iso8859-1", "iso_8859-1", "iso88591", "latin1",
            "l1", "cp819", "ibm819", "csisolatin1", "iso-ir-100", "iso_8859-1:1987", "us-ascii", "ascii",
            "ansi_x3.4-1968":
            self = .other("WINDOWS-1252")
        case "utf-16", "utf-16le", "unicode", "ucs-2", "csunicode", "iso-10646-ucs-2", "unicodefeff":
            self = .other("UTF-16LE")
        case "utf-16be", "unicodefffe":
            self = .other("UTF-16BE")
        default:
            self = .other(trimmed)
        }
    }

    /// The encoding a byte order mark at the start of `body` names, and the mark's length.
    static func byteOrderMark(_ body: UnsafeRawBufferPointer) -> (CharsetLabel, Int)? {
        if body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF { return (.utf8, 3) }
        if body.count >= 2, body[0] == 0xFF, body[1] == 0xFE { return (.other("UTF-16LE"), 2) }
        if body.count >= 2, body[0] == 0xFE, body[1] == 0xFF { return (.other("UTF-16BE"), 2) }
        return nil
    }
}
