/// A URL parsed by the WHATWG URL Standard, so that a link a crawler finds resolves exactly as a browser resolves it
/// (Foundation's URL follows RFC 3986 and resolves some links differently). Equal when their hrefs are equal.
public struct WebURL: Hashable, Sendable, CustomStringConvertible {
    let record: URLRecord
    /// The serialization, computed once: it is what most callers read and what equality compares.
    public let href: String

    init(record: URLRecord) {
        self.record = record
        self.href = String(decoding: record.serialize(), as: UTF8.self)
    }

    /// Parses `input` against an optional base (the Standard's API URL parser).
    public static func parse(_ input: String, base: WebURL? = nil) throws(URLParseError) -> WebURL {
        var input = input
        let result = input.withUTF8 { bytes in
            var parser = URLParser(input: bytes, base: base?.record)
            return Result { () throws(URLParseError) in try parser.parse() }
        }
        return WebURL(record: try result.get())
    }

    /// Parses `input` against a base given as a string, which is parsed first.
    public static func parse(_ input: String, base: String) throws(URLParseError) -> WebURL {
        let baseURL: WebURL
        do { baseURL = try parse(base) } catch { throw URLParseError(.invalidBase) }
        return try parse(input, base: baseURL)
    }

    /// Whether `input` parses against `base`, without building the URL's strings.
    public static func canParse(_ input: String, base: WebURL? = nil) -> Bool {
        (try? parse(input, base: base)) != nil
    }

    public static func == (lhs: WebURL, rhs: WebURL) -> Bool { lhs.href == rhs.href }
    public func hash(into hasher: inout Hasher) { hasher.combine(href) }

    public var description: String { href }

    /// The scheme, lower-case, without ":".
    public var scheme: String { string(record.scheme) }
    public var username: String { string(record.username) }
    public var password: String { string(record.password) }
    /// The serialized host: lower-case ASCII/punycode, IPv4 dotted, IPv6 "[..]", or an opaque host; nil when none.
    public var host: String? { record.host.map(string) }
    /// The port; nil when absent or the scheme's default.
    public var port: Int? { record.port }
    /// `port`, or the special scheme's default port.
    public var effectivePort: Int? { record.port ?? (specialSchemeDefaultPort(record.scheme) ?? nil) }
    /// The serialized path: "/"-separated segments, or the opaque path (as in `mailto:` URLs).
    public var pathname: String {
        var bytes: [UInt8] = []
        record.serializedPath(into: &bytes)
        return string(bytes)
    }
    /// The query without "?"; nil when none (an empty query is "").
    public var query: String? { record.query.map(string) }
    /// The fragment without "#"; nil when none (an empty fragment is "").
    public var fragment: String? { record.fragment.map(string) }
    /// Whether the scheme is special (http, https, ws, wss, ftp, file), which changes how the URL parses.
    public var isSpecial: Bool { record.isSpecial }
    /// Whether the path is opaque (a non-special URL with no "/" after the scheme, such as `mailto:x@y`).
    public var hasOpaquePath: Bool { record.opaquePath != nil }
    /// The href without "#" and the fragment: what a request for this URL asks the server for.
    public var hrefWithoutFragment: String {
        record.fragment == nil ? href : string(record.serialize(excludeFragment: true))
    }

    private func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
