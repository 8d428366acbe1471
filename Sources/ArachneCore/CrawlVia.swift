/// How a crawl came to a URL: one of its seeds, a link on a page, a redirect's `Location`, or a sitemap.
public enum CrawlVia: String, Codable, Sendable, CaseIterable {
    /// Given as a seed of the job (depth 0).
    case seed
    /// Found as a followable link on a fetched page.
    case link
    /// The `Location` of a 3xx response; in crawl mode redirects enter the frontier instead of being followed.
    case redirect
    /// Listed in a sitemap.
    case sitemap
}
