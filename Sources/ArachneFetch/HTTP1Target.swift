import ArachneSystem

/// A plain-HTTP URL the native HTTP/1.1 client can fetch: the host and port (and the address, when the URL names one
/// or a `--resolve` pin does), the connection pool it belongs to, and the request line's target. Built from URL text
/// with no I/O; names are resolved later, off the loop (`HostResolver`).
struct HTTP1Target: Sendable, Hashable {
    /// The URL as given.
    let url: String
    /// "host:port" with the host lowercased: connections are pooled and limited per authority, as curl does.
    let authority: String
    /// The host, lowercased, as it is looked up.
    let host: String
    let port: UInt16
    /// The address to connect to when the URL gives one or a pin does; nil for a name to resolve.
    let address: IPv4Address?
    /// The Host header: the host, with the port when it is not 80.
    let hostHeader: String
    /// Path and query, "/" when the URL has no path.
    let requestTarget: String

    /// Parses `url` when it is `http://` with an IPv4 literal host, a host pinned in `pins` ("host:port" → address),
    /// or a DNS name. Returns nil for everything else (https, IPv6, user info, non-ASCII, odd names): those go to
    /// libcurl.
    init?(url: String, pins: [String: IPv4Address]) {
        var utf8 = Substring(url).utf8
        guard utf8.count > 7, utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        let scheme = utf8.prefix(7)
        guard scheme.elementsEqual("http://".utf8, by: { $0 | 0x20 == $1 | 0x20 || $0 == $1 }) else { return nil }
        utf8 = utf8.dropFirst(7)
        let authorityEnd = utf8.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?")
            || $0 == UInt8(ascii: "#") }) ?? utf8.endIndex
        let authorityText = Substring(utf8[..<authorityEnd])
        guard !authorityText.isEmpty, !authorityText.contains("@"), !authorityText.hasPrefix("[") else { return nil }
        let host: Substring
        var port = 80
        if let colon = authorityText.lastIndex(of: ":") {
            host = authorityText[..<colon]
            let portText = authorityText[authorityText.index(after: colon)...]
            guard !portText.isEmpty, portText.count <= 5, let value = Int(portText), (1...65535).contains(value) else {
                return nil
            }
            port = value
        } else {
            host = authorityText
        }
        guard !host.isEmpty else { return nil }
        let lowerHost = host.lowercased()
        let authority = "\(lowerHost):\(port)"
        if let pinned = pins[authority] {
            address = IPv4Address(address: pinned.address, port: UInt16(port))
        } else if let literal = IPv4Address(lowerHost, port: UInt16(port)) {
            address = literal
        } else if Self.isHostName(lowerHost) {
            address = nil
        } else {
            return nil
        }
        self.host = lowerHost
        self.port = UInt16(port)
        var rest = Substring(utf8[authorityEnd...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if rest.isEmpty {
            requestTarget = "/"
        } else if rest.hasPrefix("?") {
            requestTarget = "/" + rest
        } else {
            requestTarget = String(rest)
        }
        self.url = url
        self.authority = authority
        hostHeader = port == 80 ? lowerHost : authority
    }

    /// Letters, digits, hyphens and dots, as DNS names are written (no trailing dot, no empty label).
    private static func isHostName(_ host: String) -> Bool {
        host.utf8.count <= 253 && !host.hasPrefix(".") && !host.hasSuffix(".") && !host.contains("..")
            && host.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }
    }

    /// Parses curl-style `--resolve` pins ("HOST:PORT:ADDR") whose address is one IPv4 literal; others are skipped
    /// (those hosts go to libcurl, which understands every form).
    static func pins(from entries: [String]) -> [String: IPv4Address] {
        var pins: [String: IPv4Address] = [:]
        for entry in entries {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].hasPrefix("+"), !parts[0].hasPrefix("-"), let port = UInt16(parts[1]),
                  let address = IPv4Address(String(parts[2]), port: port)
            else { continue }
            pins["\(parts[0].lowercased()):\(port)"] = address
        }
        return pins
    }
}

/// Resolves a redirect's Location against the URL that answered with it (RFC 3986 section 5.2, for the http and
/// https URLs a crawler follows). Returns nil when the location is not an http(s) URL.
enum RedirectLocation {
    static func resolve(_ location: String, against base: String) -> String? {
        var reference = Substring(location)
        while let first = reference.first, first == " " || first == "\t" { reference.removeFirst() }
        while let last = reference.last, last == " " || last == "\t" { reference.removeLast() }
        if let hash = reference.firstIndex(of: "#") { reference = reference[..<hash] }
        guard let baseScheme = base.firstRange(of: "://").map({ base[..<$0.lowerBound] }) else { return nil }
        if let colon = reference.firstIndex(of: ":"),
           reference[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }),
           !reference[..<colon].isEmpty
        {
            let scheme = reference[..<colon].lowercased()
            guard scheme == "http" || scheme == "https" else { return nil }
            return String(reference)
        }
        let afterScheme = base[base.firstRange(of: "://")!.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let origin = base[..<authorityEnd]
        if reference.hasPrefix("//") { return "\(baseScheme):\(reference)" }
        var basePath = afterScheme[authorityEnd...]
        if let hash = basePath.firstIndex(of: "#") { basePath = basePath[..<hash] }
        let baseQuery = basePath.firstIndex(of: "?").map { basePath[$0...] } ?? ""
        if let question = basePath.firstIndex(of: "?") { basePath = basePath[..<question] }
        if basePath.isEmpty { basePath = "/" }
        if reference.isEmpty { return "\(origin)\(basePath)\(baseQuery)" }
        if reference.hasPrefix("?") { return "\(origin)\(basePath)\(reference)" }
        let (referencePath, query) = splitQuery(reference)
        let merged: Substring
        if referencePath.hasPrefix("/") {
            merged = referencePath
        } else {
            let directory = basePath[...basePath.lastIndex(of: "/")!]
            merged = Substring(directory + referencePath)
        }
        return "\(origin)\(removeDotSegments(merged))\(query)"
    }

    private static func splitQuery(_ text: Substring) -> (Substring, Substring) {
        guard let question = text.firstIndex(of: "?") else { return (text, "") }
        return (text[..<question], text[question...])
    }

    /// RFC 3986 section 5.2.4, on the segments of an absolute path.
    static func removeDotSegments(_ path: Substring) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let last = index == segments.count - 1
            switch segment {
            case ".":
                if last { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if last { output.append("") }
            default:
                output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }
}
