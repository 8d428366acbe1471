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
