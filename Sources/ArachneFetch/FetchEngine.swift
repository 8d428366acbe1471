import Glibc

/// Which HTTP client a `Fetcher` uses for URLs both can fetch.
public enum FetchEngine: String, Sendable, CaseIterable {
    /// Arachne's own HTTP/1.1 client for plain `http://` URLs with settings it supports; libcurl for everything else
    /// (https, HTTP/2, IPv6-only hosts). The default.
    case auto
    /// libcurl for every URL.
    case curl

    /// `ARACHNE_HTTP_ENGINE` (`auto` or `curl`) when set, else `auto`. Worker processes inherit the variable, so it
    /// chooses for a whole cluster started from one shell.
    public static var fromEnvironment: FetchEngine {
        guard let value = getenv("ARACHNE_HTTP_ENGINE") else { return .auto }
        return FetchEngine(rawValue: String(cString: value).lowercased()) ?? .auto
    }
}
