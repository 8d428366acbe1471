/// What politeness and robots.txt read of a URL to fetch: its origin, the unit a crawl is polite to and fetches
/// robots.txt for, and its path and query, what robots.txt rules are matched against.
public struct OriginAndPath: Sendable, Hashable {
    /// `scheme://host[:port]`, the port only when it is not the scheme's default.
    public var origin: String
    /// The path and the query (`/a?b=1`).
    public var pathAndQuery: String

    public init(origin: String, pathAndQuery: String) {
        self.origin = origin
        self.pathAndQuery = pathAndQuery
    }

    /// nil when `url` does not parse or has no host. A URL in serialized form (nearly every URL a crawl fetches:
    /// the crawl resolved it) is read off its bytes by `PlainLink`; any other is parsed.
    public init?(_ url: String) {
        if let plain = PlainLink.resolve(url, base: nil) {
            self.init(origin: String(plain.origin), pathAndQuery: String(plain.pathAndQuery))
            return
        }
        guard let parsed = try? WebURL.parse(url) else { return nil }
        self.init(parsed)
    }

    /// nil when `url` has no host.
    public init?(_ url: WebURL) {
        guard let host = url.host else { return nil }
        self.init(origin: "\(url.scheme)://\(host)" + (url.port.map { ":\($0)" } ?? ""), pathAndQuery: url.pathAndQuery)
    }
}

extension WebURL {
    /// The path and the query (`/a?b=1`), as the URL serializes them.
    public var pathAndQuery: String { pathname + (query.map { "?" + $0 } ?? "") }
}
