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
        // Over the UTF-8 bytes (no Character-wise searching): it runs for every URL a crawl fetches.
        guard let parts = url.utf8.withContiguousStorageIfAvailable(Self.split) ?? nil else { return nil }
        let lowerHost = parts.host
        let port = parts.port
        let authority = "\(lowerHost):\(port)"
        if let pinned = pins[authority] {
            address = IPv4Address(address: pinned.address, port: port)
        } else if let literal = IPv4Address(lowerHost, port: port) {
            address = literal
        } else if Self.isHostName(lowerHost) {
            address = nil
        } else {
            return nil
        }
        self.host = lowerHost
        self.port = port
        self.url = url
        self.authority = authority
        requestTarget = parts.requestTarget
        hostHeader = port == 80 ? lowerHost : authority
    }

    /// The lower-cased host, the port (80 when none) and the request target of an `http://` URL of printable
    /// ASCII without user info or an IPv6 literal; nil for anything else.
    private static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> (host: String, port: UInt16, requestTarget: String)? {
        let count = bytes.count
        guard count > 7, bytes.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        for (index, expected) in "http://".utf8.enumerated() where bytes[index] | 0x20 != expected | 0x20 {
            return nil
        }
        var authorityEnd = 7
        while authorityEnd < count, bytes[authorityEnd] != UInt8(ascii: "/"), bytes[authorityEnd] != UInt8(ascii: "?"),
            bytes[authorityEnd] != UInt8(ascii: "#")
        {
            authorityEnd += 1
        }
        let authority = UnsafeBufferPointer(rebasing: bytes[7..<authorityEnd])
        guard !authority.isEmpty, !authority.contains(UInt8(ascii: "@")), authority[0] != UInt8(ascii: "[") else {
            return nil
        }
        var hostEnd = authority.count
        var port = 80
        if let colon = authority.lastIndex(of: UInt8(ascii: ":")) {
            let digits = authority[(colon + 1)...]
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            port = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard (1...65535).contains(port) else { return nil }
            hostEnd = colon
        }
        guard hostEnd > 0 else { return nil }
        let host = String(unsafeUninitializedCapacity: hostEnd) { buffer in
            for index in 0..<hostEnd {
                let byte = authority[index]
                buffer[index] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            }
            return hostEnd
        }
        var targetEnd = authorityEnd
        while targetEnd < count, bytes[targetEnd] != UInt8(ascii: "#") { targetEnd += 1 }
        let rest = UnsafeBufferPointer(rebasing: bytes[authorityEnd..<targetEnd])
        let requestTarget: String
        if rest.isEmpty {
            requestTarget = "/"
        } else if rest[0] == UInt8(ascii: "?") {
            requestTarget = "/" + String(decoding: rest, as: UTF8.self)
        } else {
            requestTarget = String(decoding: rest, as: UTF8.self)
        }
        return (host, UInt16(port), requestTarget)
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
