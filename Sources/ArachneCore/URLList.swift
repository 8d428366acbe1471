import Foundation

/// A URL the fetchers can use: absolute, `http` or `https`, with a host.
public struct TargetURL: Sendable, Hashable, Codable, CustomStringConvertible {
    public let string: String
    public let scheme: String
    public let host: String
    public let port: Int

    /// Validates `text`, throwing a message that says what is wrong with it.
    public init(validating text: String) throws(URLProblem) {
        var text = text
        if let fast = text.withUTF8({ Self.quickCheck($0) }) {
            self.init(string: text, scheme: fast.https ? "https" : "http", host: fast.host,
                      port: fast.port ?? (fast.https ? 443 : 80))
            return
        }
        try self.init(slowValidating: text)
    }

    private init(string: String, scheme: String, host: String, port: Int) {
        self.string = string
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The URL of a line's bytes (without its line end), or nil when the byte-level check cannot decide; then the
    /// line goes through `init(validating:)`'s full path, which gives the messages.
    public static func quickString(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard quickCheck(bytes) != nil else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The byte-level check: accepts only URLs `URLComponents` certainly accepts with the same scheme, host and port
    /// — `http`/`https` (any case) "://", a host of letters, digits and "-._~", an optional port of 1–5 digits in
    /// 1...65535, then a path, query and fragment of RFC 3986 characters with well-formed %-escapes. Anything else
    /// (white space, non-ASCII, user info, IP-literal hosts, empty or out-of-range ports...) returns nil and goes
    /// the `URLComponents` way, which rejects it or not, with its message.
    static func quickCheck(_ b: UnsafeBufferPointer<UInt8>) -> (https: Bool, host: String, port: Int?)? {
        let n = b.count
        @inline(__always) func lower(_ c: UInt8) -> UInt8 { c | 0x20 }
        var i: Int
        let https: Bool
        guard n >= 8, lower(b[0]) == 0x68, lower(b[1]) == 0x74, lower(b[2]) == 0x74, lower(b[3]) == 0x70 else {
            return nil
        }
        if b[4] == 0x3A {
            https = false
            i = 5
        } else if lower(b[4]) == 0x73, b[5] == 0x3A {
            https = true
            i = 6
        } else {
            return nil
        }
        guard i + 2 < n, b[i] == 0x2F, b[i + 1] == 0x2F else { return nil }
        i += 2
        let hostStart = i
        var hasUpper = false
        while i < n {
            let c = b[i]
            if (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E || c == 0x5F
                || c == 0x7E
            {
                i += 1
            } else if c >= 0x41 && c <= 0x5A {
                hasUpper = true
                i += 1
            } else {
                break
            }
        }
        let hostEnd = i
        guard hostEnd > hostStart else { return nil }
        var port: Int?
        if i < n, b[i] == 0x3A {
            i += 1
            var value = 0
            var digits = 0
            while i < n, b[i] >= 0x30, b[i] <= 0x39 {
                value = value * 10 + Int(b[i] - 0x30)
                digits += 1
                i += 1
                if digits > 5 { return nil }
            }
            guard digits > 0, (1...65535).contains(value) else { return nil }
            port = value
        }
        guard i == n || b[i] == 0x2F || b[i] == 0x3F || b[i] == 0x23 else { return nil }
        var inFragment = false
        while i < n {
            let c = b[i]
            switch c {
            case 0x61...0x7A, 0x41...0x5A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E,  // unreserved
                0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D,  // sub-delims
                0x3A, 0x40, 0x2F, 0x3F:  // : @ / ?
                i += 1
            case 0x23:
                if inFragment { return nil }
                inFragment = true
                i += 1
            case 0x25:
                guard i + 2 < n, isHex(b[i + 1]), isHex(b[i + 2]) else { return nil }
                i += 3
            default:
                return nil
            }
        }
        var host = String(decoding: UnsafeBufferPointer(rebasing: b[hostStart..<hostEnd]), as: UTF8.self)
        if hasUpper { host = host.lowercased() }
        return (https, host, port)
    }

    @inline(__always) private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
    }

    /// The `URLComponents` path: every input the byte-level check leaves undecided, and the reference it is tested
    /// against.
    init(slowValidating text: String) throws(URLProblem) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw URLProblem("empty URL") }
        guard !trimmed.contains(where: { $0.isWhitespace }) else { throw URLProblem("URL contains white space") }
        guard let components = URLComponents(string: trimmed) else { throw URLProblem("not a valid URL") }
        guard let scheme = components.scheme?.lowercased() else {
            throw URLProblem("missing scheme (expected http:// or https://)")
        }
        guard scheme == "http" || scheme == "https" else {
            throw URLProblem("unsupported scheme '\(scheme)' (expected http or https)")
        }
        guard let host = components.host, !host.isEmpty else { throw URLProblem("missing host") }
        if let port = components.port, !(1...65535).contains(port) { throw URLProblem("port \(port) out of range") }
        self.string = trimmed
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
    }

    public var description: String { string }

    /// "host:port", the key per-host statistics and connection limits use.
    public var authority: String { "\(host):\(port)" }
}

/// Why a URL was rejected.
public struct URLProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A rejected line of a URL file: where it was and what was wrong.
public struct BadURLLine: Sendable, Hashable, CustomStringConvertible {
    /// Where the line came from ("urls.txt", "<stdin>", "<argument>").
    public var source: String
    /// 1-based line number (or argument position).
    public var line: Int
    public var text: String
    public var reason: String

    public init(source: String, line: Int, text: String, reason: String) {
        self.source = source
        self.line = line
        self.text = text
        self.reason = reason
    }

    public var description: String { "\(source):\(line): \(reason): \(text)" }
}

/// Parses URL lists: one URL per line, blank lines and `#` comments skipped, every bad line reported with its number.
public struct URLList: Sendable {
    public private(set) var urls: [TargetURL] = []
    public private(set) var problems: [BadURLLine] = []

    public init() {}

    /// Adds the lines of a URL file's text.
    public mutating func addLines(_ text: String, source: String) {
        var number = 0
        // "\r\n" is one Character in Swift, and a newline: CRLF files split like LF files.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            add(trimmed, source: source, line: number)
        }
    }

    /// Adds one URL (from the command line, say), recording a problem if it is not usable.
    public mutating func add(_ text: String, source: String, line: Int) {
        do {
            urls.append(try TargetURL(validating: text))
        } catch {
            problems.append(BadURLLine(source: source, line: line, text: text, reason: error.reason))
        }
    }
}
