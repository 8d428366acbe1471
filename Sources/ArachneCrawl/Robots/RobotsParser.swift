/// One `key: value` line of a robots.txt, as the parser hands it to a `RobotsParseHandler`.
///
/// The value is kept as written (trimmed, comment removed, not percent-encoded): the matcher normalises patterns
/// itself, and `arachne robots` shows rules the way the file spells them.
public struct RobotsLine: Sendable, Hashable {
    /// What a line's key names. Keys compare ASCII case-insensitively; Google's frequent typos are accepted.
    public enum Key: Sendable, Hashable {
        case userAgent
        case allow
        case disallow
        case sitemap
        case crawlDelay
        /// Any other key, as written (`Host`, `Clean-param`, `Noindex`, a typo we do not accept, …).
        case unknown(String)
    }

    /// The line number, counting from 1; CR, LF and CRLF each end one line.
    public var number: Int
    public var key: Key
    /// The value: after the separator, surrounding whitespace trimmed, without its comment.
    public var value: String
    /// The line as written, without its comment and surrounding whitespace (`Disallow: /private`).
    public var text: String

    public init(number: Int, key: Key, value: String, text: String) {
        self.number = number
        self.key = key
        self.value = value
        self.text = text
    }
}

/// Receives the lines of a robots.txt in order. The parser only tokenizes; what the lines mean (groups, rules,
/// matching) is a handler's business — `RobotsRules` is one handler, a linter or a line lister could be another.
public protocol RobotsParseHandler {
    mutating func handle(_ line: RobotsLine)
}

/// Something about a robots.txt worth telling its author: a line that was cut, guessed at or ignored.
public struct RobotsIssue: Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public enum Kind: Sendable, Hashable {
        /// Longer than `RobotsParser.maxLineBytes`: the rest of the line was ignored (as Google does).
        case lineTooLong
        /// A NUL byte: the rest of the line was ignored (as Google's C parser does).
        case nulByte
        /// No `:`, but exactly two words: read as `key value` (as Google does).
        case whitespaceSeparator
        /// Neither `key: value` nor `key value`: ignored.
        case notKeyValue
        /// A key the matcher does not use; kept for reporting.
        case unknownKey(String)
        /// An `allow` or `disallow` line before any `user-agent` line: it belongs to no group and is ignored.
        case ruleOutsideGroup
        /// A `crawl-delay` that is not a non-negative decimal number of seconds, or comes before any group.
        case invalidCrawlDelay
        /// A `user-agent` value with no product token (`*` aside): the line names no crawler.
        case emptyUserAgent
        /// The body was longer than `RobotsParser.maxBytes`; this many bytes after the limit were not parsed.
        /// Its line is the first one not parsed whole.
        case bytesIgnored(Int)
    }

    /// The line it is about.
    public var line: Int
    public var kind: Kind

    public init(line: Int, kind: Kind) {
        self.line = line
        self.kind = kind
    }

    public var description: String {
        let what: String
        switch kind {
        case .lineTooLong: what = "longer than \(RobotsParser.maxLineBytes) bytes; the rest of the line is ignored"
        case .nulByte: what = "a NUL byte; the rest of the line is ignored"
        case .whitespaceSeparator: what = "no ':'; read as 'key value'"
        case .notKeyValue: what = "not a 'key: value' line; ignored"
        case .unknownKey(let key): what = "unknown key '\(key)'; ignored"
        case .ruleOutsideGroup: what = "a rule before any user-agent line; ignored"
        case .invalidCrawlDelay: what = "crawl-delay is not a number of seconds in a group; ignored"
        case .emptyUserAgent: what = "user-agent names no product token; ignored"
        case .bytesIgnored(let count):
            what = "the file is longer than \(RobotsParser.maxBytes) bytes; the last \(count) bytes are not parsed"
        }
        return "line \(line): \(what)"
    }
}

/// How a parse went: how much of the body was read, and what was cut, guessed or ignored on the way.
public struct RobotsParseSummary: Sendable, Hashable {
    /// Bytes parsed (at most `RobotsParser.maxBytes`, less the partial line at the limit).
    public var bytesParsed = 0
    /// Bytes after the limit, not parsed (RFC 9309 §2.5).
    public var bytesIgnored = 0
    /// Lines seen, including blank and comment lines.
    public var lineCount = 0
    /// The first `maxIssues` issues in line order; `issueCount` counts them all.
    public var issues: [RobotsIssue] = []
    public var issueCount = 0

    /// Issues kept: a hostile file could otherwise make one per line.
    public static let maxIssues = 100

    public init() {}

    mutating func record(_ issue: RobotsIssue) {
        issueCount += 1
        if issues.count < Self.maxIssues { issues.append(issue) }
    }
}

/// Tokenizes a robots.txt body into `RobotsLine`s with line numbers (RFC 9309 §2.2), and nothing more.
///
/// Tolerant the way real files need: a UTF-8 byte order mark is skipped; CR, LF and CRLF end lines; `#` starts a
/// comment; whitespace around `:` is trimmed; a line with no `:` but exactly two words is read as `key value`
/// (Google's rule, so `Disallow /tmp` works and `Disallow this page please` does not). Lines longer than
/// `maxLineBytes` are cut there, and a NUL ends a line's content, both as Google does. Only the first `maxBytes` of a
/// body are parsed (RFC 9309 §2.5 asks for at least 500 KiB); a line the limit cuts through is dropped whole, so a
/// cut rule never widens.
public enum RobotsParser {
    /// The parsing limit: 500 KiB, RFC 9309's minimum.
    public static let maxBytes = 500 * 1024
    /// Longest line read, as Google: eight times the longest URL old browsers accept (2,083 bytes).
    public static let maxLineBytes = 2083 * 8

    /// Parses `body`, handing each `key: value` line to `handler` in order; returns what was cut or ignored.
    @discardableResult
    public static func parse(_ body: [UInt8], into handler: inout some RobotsParseHandler) -> RobotsParseSummary {
        var summary = RobotsParseSummary()
        body.withUnsafeBufferPointer { bytes in
            // The parsed region: the first maxBytes, less a line the limit cuts through.
            var end = bytes.count
            if bytes.count > maxBytes {
                end = maxBytes
                if !isLineEnd(bytes[maxBytes]) {
                    while end > 0, !isLineEnd(bytes[end - 1]) { end -= 1 }
                }
            }
            var index = 0
            // A leading byte order mark, whole or in part (Google skips a partial one too).
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            while index < min(3, end), bytes[index] == bom[index] { index += 1 }
            var number = 0
            while index < end {
                var lineEnd = index
                while lineEnd < end, !isLineEnd(bytes[lineEnd]) { lineEnd += 1 }
                number += 1
                emit(UnsafeBufferPointer(rebasing: bytes[index..<lineEnd]), number: number, to: &handler,
                     summary: &summary)
                index = lineEnd
                // CRLF ends one line, a lone CR or LF one each.
                if index < end {
                    index += bytes[index] == 0x0D && index + 1 < end && bytes[index + 1] == 0x0A ? 2 : 1
                }
            }
            summary.lineCount = number
            summary.bytesParsed = end
            summary.bytesIgnored = bytes.count - end
            if summary.bytesIgnored > 0 {
                summary.record(RobotsIssue(line: number + 1, kind: .bytesIgnored(summary.bytesIgnored)))
            }
        }
        return summary
    }

    private static func isLineEnd(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    /// The lines of `body`, collected: for tools and tests that want them all at once.
    public static func lines(_ body: [UInt8]) -> (lines: [RobotsLine], summary: RobotsParseSummary) {
        var collector = LineCollector()
        let summary = parse(body, into: &collector)
        return (collector.lines, summary)
    }

    private struct LineCollector: RobotsParseHandler {
        var lines: [RobotsLine] = []
        mutating func handle(_ line: RobotsLine) { lines.append(line) }
    }

    private static func emit(
        _ raw: UnsafeBufferPointer<UInt8>, number: Int, to handler: inout some RobotsParseHandler,
        summary: inout RobotsParseSummary
    ) {
        var line = raw
        if line.count > maxLineBytes {
            summary.record(RobotsIssue(line: number, kind: .lineTooLong))
            line = UnsafeBufferPointer(rebasing: line[0..<maxLineBytes])
        }
        if let nul = line.firstIndex(of: 0) {
            summary.record(RobotsIssue(line: number, kind: .nulByte))
            line = UnsafeBufferPointer(rebasing: line[0..<nul])
        }
        if let hash = line.firstIndex(of: UInt8(ascii: "#")) {
            line = UnsafeBufferPointer(rebasing: line[0..<hash])
        }
        let content = trimmed(line.startIndex..<line.endIndex, in: line)
        guard !content.isEmpty else { return }  // blank or comment-only
        let keyRange: Range<Int>
        let valueRange: Range<Int>
        if let colon = line[content].firstIndex(of: UInt8(ascii: ":")) {
            keyRange = trimmed(content.lowerBound..<colon, in: line)
            valueRange = trimmed(colon + 1..<content.upperBound, in: line)
        } else if let space = line[content].firstIndex(where: isSpace) {
            // Google: a missing colon may be whitespace, if the line is exactly two words.
            let rest = trimmed(space..<content.upperBound, in: line)
            guard !line[rest].contains(where: isSpace) else {
                summary.record(RobotsIssue(line: number, kind: .notKeyValue))
                return
            }
            summary.record(RobotsIssue(line: number, kind: .whitespaceSeparator))
            keyRange = content.lowerBound..<space
            valueRange = rest
        } else {
            summary.record(RobotsIssue(line: number, kind: .notKeyValue))
            return
        }
        guard !keyRange.isEmpty else {
            summary.record(RobotsIssue(line: number, kind: .notKeyValue))
            return
        }
        let keyText = string(line[keyRange])
        let key = Self.key(keyText)
        handler.handle(RobotsLine(number: number, key: key, value: string(line[valueRange]),
                                  text: string(line[content])))
    }

    /// The key a line's key text names: exact names, ASCII case-insensitive, plus the typos Google accepts.
    static func key(_ text: String) -> RobotsLine.Key {
        switch text.lowercased() {
        case "user-agent", "useragent", "user agent": return .userAgent
        case "allow": return .allow
        case "disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw": return .disallow
        case "sitemap", "site-map": return .sitemap
        case "crawl-delay", "crawldelay", "crawl delay": return .crawlDelay
        default: return .unknown(text)
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0B || byte == 0x0C
    }

    private static func trimmed(_ range: Range<Int>, in line: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isSpace(line[lower]) { lower += 1 }
        while upper > lower, isSpace(line[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    private static func string(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes), as: UTF8.self)
    }
}
