/// The two robots directives a crawler acts on, from `<meta name="robots">` or `X-Robots-Tag` headers: `nofollow`
/// (follow no link of the page) and `noindex` (do not keep the page). `none` means both; others are ignored.
public struct RobotsDirectives: Sendable, Hashable {
    public var nofollow: Bool
    public var noindex: Bool

    public init(nofollow: Bool = false, noindex: Bool = false) {
        self.nofollow = nofollow
        self.noindex = noindex
    }

    /// Adds another source's directives: a directive from any source holds.
    public mutating func formUnion(_ other: RobotsDirectives) {
        nofollow = nofollow || other.nofollow
        noindex = noindex || other.noindex
    }

    /// The directives in a `<meta name="robots" content="...">` value: a comma-separated list, ASCII
    /// case-insensitive. Whitespace also separates, so the common `content="noindex nofollow"` counts too.
    public init(metaContent: Substring) {
        self.init()
        for token in metaContent.split(whereSeparator: { $0 == "," || Self.isSpace($0) }) {
            apply(token)
        }
    }

    public init(metaContent: String) { self.init(metaContent: metaContent[...]) }

    /// The directives that apply to `agent` in the values of one or more `X-Robots-Tag` response headers.
    ///
    /// Each value is a comma-separated list. An item `name: directive` starts directives for the user agent `name`,
    /// which last to the end of that header value; items before any such prefix apply to every agent. Agent names
    /// match `agent` ASCII case-insensitively. Valued directives (`unavailable_after: date`, `max-snippet: 20`, ...)
    /// are told apart from agent prefixes by their names and ignored.
    public init(xRobotsTag values: [String], agent: String) {
        self.init()
        let agent = agent.lowercased()
        for value in values {
            var applies = true
            for var item in value.split(separator: ",") {
                item = Self.trimmed(item)
                if let colon = item.firstIndex(of: ":") {
                    let name = Self.trimmed(item[..<colon]).lowercased()
                    if Self.valuedDirectives.contains(name) { continue }
                    applies = name == agent
                    item = Self.trimmed(item[item.index(after: colon)...])
                }
                if applies {
                    for token in item.split(whereSeparator: Self.isSpace) { apply(token) }
                }
            }
        }
    }

    public init(xRobotsTag value: String, agent: String) { self.init(xRobotsTag: [value], agent: agent) }

    private mutating func apply(_ token: Substring) {
        if Self.equalsIgnoringCase(token, "nofollow") {
            nofollow = true
        } else if Self.equalsIgnoringCase(token, "noindex") {
            noindex = true
        } else if Self.equalsIgnoringCase(token, "none") {
            nofollow = true
            noindex = true
        }
    }

    private static let valuedDirectives: Set<String> = [
        "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview",
    ]

    static func isSpace(_ c: Character) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}"
    }

    static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let first = s.first, isSpace(first) { s.removeFirst() }
        while let last = s.last, isSpace(last) { s.removeLast() }
        return s
    }

    /// ASCII case-insensitive equality; `lowercase` must already be lower-case ASCII.
    static func equalsIgnoringCase(_ s: Substring, _ lowercase: String) -> Bool {
        var a = s.utf8.makeIterator()
        var b = lowercase.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return true
            case (let x?, let y?):
                let lower = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
                if lower != y { return false }
            default: return false
            }
        }
    }
}
