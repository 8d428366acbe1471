/// Why a request failed, classified so reports can count failures by kind.
public enum FetchErrorKind: String, CaseIterable, Codable, Sendable, Hashable {
    /// The URL could not be used (bad scheme, no host, unparsable).
    case invalidURL = "invalid-url"
    /// The host name did not resolve.
    case dns
    /// The TCP connection was refused or could not be made.
    case connect
    /// TLS handshake or certificate verification failed.
    case tls
    /// A connect or total timeout expired.
    case timeout
    /// More redirects than allowed.
    case tooManyRedirects = "too-many-redirects"
    /// The server spoke something that is not valid HTTP.
    case `protocol`
    /// The response was larger than the configured maximum.
    case tooLarge = "too-large"
    /// The connection was reset or closed before the response was complete.
    case reset
    /// Reading or writing failed locally (out of memory, file errors, receive errors).
    case io
    /// The request was cancelled (job cancelled, or shutting down) before it completed.
    case cancelled
    /// The worker running the request was lost and the request could not be retried.
    case workerLost = "worker-lost"
    /// Anything else; the message says what.
    case other

    // Skips: a crawl found the URL in scope but decided not to fetch it. Each ends with one record of its own.

    /// Deeper than the crawl's maximum depth.
    case maxDepth = "max-depth"
    /// The crawl had already fetched its maximum number of pages.
    case maxPages = "max-pages"
    /// The URL's host had already had its maximum number of pages fetched.
    case maxPagesPerHost = "max-pages-per-host"
    /// The URL is longer than the crawl allows.
    case urlTooLong = "url-too-long"
    /// The URL's path has more segments than the crawl allows.
    case tooManySegments = "too-many-segments"
    /// The URL's path repeats a segment more often than the crawl allows (a likely crawler trap).
    case repeatedSegments = "repeated-segments"
    /// The host's robots.txt disallows the URL for Arachne's user agent.
    case robots
    /// The host resolves to an address the crawl may not connect to (loopback, private, link-local, …).
    case blockedAddress = "blocked-address"

    /// True for the kinds that are decisions of a crawl not to fetch a URL, not failures of a fetch: reports count
    /// these records as `skipped`, not `failed`, and leave them out of rates and latency.
    public var isSkip: Bool {
        switch self {
        case .maxDepth, .maxPages, .maxPagesPerHost, .urlTooLong, .tooManySegments, .repeatedSegments, .robots,
             .blockedAddress:
            true
        case .invalidURL, .dns, .connect, .tls, .timeout, .tooManyRedirects, .protocol, .tooLarge, .reset, .io,
             .cancelled, .workerLost, .other:
            false
        }
    }
}

/// A classified failure with the underlying library's message.
public struct FetchFailure: Codable, Sendable, Hashable, Error {
    public var kind: FetchErrorKind
    public var message: String

    public init(kind: FetchErrorKind, message: String) {
        self.kind = kind
        self.message = message
    }
}
