import ArachneCore
import ArachneCrawl

extension CrawlURL {
    /// Splits an already-canonical test URL (`scheme://host[:port]/path?query`) into its parts; tests only.
    init(_ string: String) {
        let schemeEnd = string.firstRange(of: "://")!
        let scheme = String(string[..<schemeEnd.lowerBound])
        let rest = string[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var host = String(authority)
        var port = scheme == "https" ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), authority.firstIndex(of: "]").map({ $0 < colon }) ?? true {
            host = String(authority[..<colon])
            port = Int(authority[authority.index(after: colon)...])!
        }
        let tail = rest[authorityEnd...]
        let pathEnd = tail.firstIndex { $0 == "?" || $0 == "#" } ?? tail.endIndex
        let path = tail[..<pathEnd].isEmpty ? "/" : String(tail[..<pathEnd])
        self.init(absolute: string, scheme: scheme, host: host, port: port, path: path)
    }
}
