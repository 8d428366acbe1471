import Foundation

/// A URL the fetchers can use: absolute, `http` or `https`, with a host.
public struct TargetURL: Sendable, Hashable, Codable, CustomStringConvertible {
    public let string: String
    public let scheme: String
    public let host: String
    public let port: Int

    /// Validates `text`, throwing a message that says what is wrong with it.
    public init(validating text: String) throws(URLProblem) {
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
