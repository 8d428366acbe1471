/// A link a crawl worker sends back: the URL to fetch and the identity it is de-duplicated by.
public struct DiscoveredLink: Sendable, Hashable {
    /// The resolved URL without its fragment (WHATWG serialization): what gets fetched.
    public var url: String
    /// The canonical identity (see `URLIdentity`); empty when it equals `url`, as it mostly does.
    public var identity: String
    /// How it was found: `link` or `redirect` (seeds and sitemaps come from the coordinator).
    public var via: CrawlVia
    /// Set when the worker's trap rules caught it: the skip kind its record will carry. It still travels, because a
    /// trapped URL ends with a record of its own.
    public var trap: FetchErrorKind?

    public init(url: String, identity: String = "", via: CrawlVia, trap: FetchErrorKind? = nil) {
        self.url = url
        self.identity = identity
        self.via = via
        self.trap = trap
    }

    /// The identity, `url` when it was sent empty.
    public var canonical: String { identity.isEmpty ? url : identity }
}

/// What a crawl worker learned from one fetched page, beyond the fetch itself: its media type, where a redirect
/// pointed, and the in-scope links it yields. Dropped links (out of scope, filtered, nofollow) are only counted.
public struct CrawlFindings: Sendable, Hashable {
    /// The response's media type, lower-case, without parameters; empty when there was none.
    public var contentType: String
    /// A 3xx response's `Location`, as sent (resolved, it is also in `links` with `via: redirect`).
    public var location: String?
    /// Links for the coordinator's frontier, one per identity, in document order.
    public var links: [DiscoveredLink]
    /// The page's counts: found, out of scope, filtered, nofollow, and duplicates within the page.
    public var counts: CrawlLinkCounts

    public init(contentType: String = "", location: String? = nil, links: [DiscoveredLink] = [],
                counts: CrawlLinkCounts = CrawlLinkCounts())
    {
        self.contentType = contentType
        self.location = location
        self.links = links
        self.counts = counts
    }

    /// Followable links on the page (the record's `links`): in scope or not, duplicates included. The page's `found`.
    public var linksFound: Int { counts.found }
}
