import ArachneCore

/// The parts of an absolute, already-resolved and canonicalised http(s) URL that crawl rules look at.
///
/// The rules never parse URLs themselves: whoever resolves a link (the WHATWG parser) fills this in once, and every
/// rule reads the same canonical parts.
public struct CrawlURL: Sendable, Hashable {
    /// The canonical URL string, e.g. `http://a.example:8080/x/y?q`.
    public var absolute: String
    /// `http` or `https`.
    public var scheme: String
    /// Lower-case, punycode, IPv6 in brackets.
    public var host: String
    /// The effective port (80 or 443 when the URL uses the default).
    public var port: Int
    /// The serialized path; starts with `/`.
    public var path: String

    public init(absolute: String, scheme: String, host: String, port: Int, path: String) {
        self.absolute = absolute
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }
}

extension CrawlURL {
    /// Whether the scheme is one a crawl follows (`http` or `https`).
    var isHTTP: Bool { scheme == "http" || scheme == "https" }

    /// Whether the host is an IP literal: IPv6 in brackets, or IPv4 in the dotted-decimal form the WHATWG parser
    /// serializes every IPv4 host to (a host whose last label is a number can be nothing else).
    var hostIsIPAddress: Bool { Self.isIPAddress(host) }

    static func isIPAddress(_ host: String) -> Bool {
        let bytes = host.utf8
        guard let first = bytes.first else { return false }
        if first == UInt8(ascii: "[") { return true }
        var sawDigit = false
        for byte in bytes.reversed() {
            if byte == UInt8(ascii: ".") { return sawDigit }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return false }
            sawDigit = true
        }
        return sawDigit
    }
}
