import ArachneCore

/// Which discovered links belong to the crawl, decided from its seeds: the first and cheapest of the link rules.
///
/// Links out of scope are only counted, never recorded (DESIGN.md, "Crawling").
public struct CrawlScope: Sendable {
    /// How far from its seeds a crawl may go (defined in ArachneCore, where job specs carry it).
    public typealias Kind = CrawlScopeKind

    /// Scheme, host and port: what `host` and `prefix` scope compare.
    struct Origin: Hashable, Sendable {
        var scheme: String
        var host: String
        var port: Int

        init(_ url: CrawlURL) {
            scheme = url.scheme
            host = url.host
            port = url.port
        }
    }

    /// The kind this scope was built with.
    public let kind: Kind
    private let origins: Set<Origin>
    private let directories: [Origin: [String]]
    private let seedHosts: Set<String>
    private let registrableDomains: Set<String>
    private let suffixList: PublicSuffixList

    /// Precomputes, from the seeds, what `contains` compares against, so each link costs at most one set lookup and
    /// one Public Suffix List lookup.
    public init(kind: Kind, seeds: [CrawlURL], suffixList: PublicSuffixList = .shared) {
        self.kind = kind
        self.suffixList = suffixList
        var origins = Set<Origin>()
        var directories: [Origin: [String]] = [:]
        var seedHosts = Set<String>()
        var registrableDomains = Set<String>()
        for seed in seeds where seed.isHTTP {
            switch kind {
            case .host:
                origins.insert(Origin(seed))
            case .prefix:
                let directory = Self.directory(of: seed.path)
                if !directories[Origin(seed), default: []].contains(directory) {
                    directories[Origin(seed), default: []].append(directory)
                }
            case .domain:
                seedHosts.insert(seed.host)
                if !seed.hostIsIPAddress, let domain = suffixList.registrableDomain(of: seed.host) {
                    registrableDomains.insert(domain)
                }
            case .any:
                break
            }
        }
        self.origins = origins
        self.directories = directories
        self.seedHosts = seedHosts
        self.registrableDomains = registrableDomains
    }

    /// Whether `url` is in scope.
    public func contains(_ url: CrawlURL) -> Bool {
        guard url.isHTTP else { return false }
        switch kind {
        case .any:
            return true
        case .host:
            return origins.contains(Origin(url))
        case .prefix:
            guard let candidates = directories[Origin(url)] else { return false }
            return candidates.contains { url.path.utf8.starts(with: $0.utf8) }
        case .domain:
            // A seed's own host is in scope whether or not it has a registrable domain; this also spares most
            // links of a single-site crawl the Public Suffix List lookup.
            if seedHosts.contains(url.host) { return true }
            guard !url.hostIsIPAddress, !registrableDomains.isEmpty,
                let domain = suffixList.registrableDomain(of: url.host)
            else { return false }
            return registrableDomains.contains(domain)
        }
    }

    /// The path up to and including its last `/` (`/a/b` → `/a/`, `/a/` → `/a/`).
    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "/" }
        return String(Substring(path.utf8[...slash]))
    }
}
