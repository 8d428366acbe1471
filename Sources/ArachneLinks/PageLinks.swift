/// The links one HTML page yields, in document order, as raw attribute values for the URL parser to resolve against
/// `baseHref` (or the page's own URL), with what the page says about following them.
public struct PageLinks: Sendable, Hashable {
    /// One hyperlink or embedded frame: where it points and whether the page asks crawlers not to follow it.
    public struct Link: Sendable, Hashable {
        /// The `href` (a, area) or `src` (frame, iframe) value, character references decoded, otherwise untouched:
        /// not trimmed, not resolved. An attribute present without a value gives "".
        public var href: String
        /// The element's lower-case name: "a", "area", "frame" or "iframe".
        public var element: String
        /// The element's `rel` contains the token `nofollow`.
        public var nofollow: Bool
        /// libxml2's line number: the line on which the start tag ends (1-based).
        public var line: Int

        public init(href: String, element: String, nofollow: Bool = false, line: Int) {
            self.href = href
            self.element = element
            self.nofollow = nofollow
            self.line = line
        }
    }

    public var links: [Link]
    /// The first `<base>` element's `href` that has one (HTML Standard: later ones are ignored).
    public var baseHref: String?
    /// The union of the page's `<meta name="robots">` directives.
    public var robots: RobotsDirectives
    /// The page had more links than the extractor's cap: `links` holds the first ones and parsing stopped there.
    public var truncatedAtLinkCap: Bool

    public init(
        links: [Link] = [], baseHref: String? = nil, robots: RobotsDirectives = RobotsDirectives(),
        truncatedAtLinkCap: Bool = false
    ) {
        self.links = links
        self.baseHref = baseHref
        self.robots = robots
        self.truncatedAtLinkCap = truncatedAtLinkCap
    }

    /// The links a crawler may follow: none when the page says `nofollow`, otherwise those without `rel=nofollow`.
    public var followableLinks: [Link] {
        robots.nofollow ? [] : links.filter { !$0.nofollow }
    }
}
