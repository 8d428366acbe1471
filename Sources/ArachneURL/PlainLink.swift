/// The shortcut for the common link: an `href` already written the way the URL Standard serializes it (lower-case
/// `http`/`https`, a lower-case ASCII host or canonical IPv4 address, no default port, no escapes, no dot segments),
/// absolute or relative to an http(s) base. For such input the basic URL parser's result is the input itself (or
/// the base's origin and directory followed by it), so its parts are read off the bytes without running the state
/// machine or building a `URLRecord`. A crawl worker resolves every link of every page: most take this path.
///
/// `resolve` answers only when it is sure and returns nil for anything else (escapes, upper case, `..`, `\`,
/// userinfo, a query-only or fragment-only href, non-ASCII, whitespace, a port the scheme implies...), and the caller
/// then runs `WebURL.parse`. Agreement with the parser is tested against the Web Platform Tests' URL data and random
/// inputs (PlainLinkTests).
public struct PlainLink: Sendable, Hashable {
    /// The resolved URL without its fragment. It is also the URL's canonical identity (`URLIdentity.canonical`):
    /// there are no escapes to normalise.
    public let href: String
    /// Whether the scheme is `https` (else `http`).
    public let isHTTPS: Bool
    /// The serialized host.
    public let host: String
    /// The effective port (80 or 443 when the URL names none).
    public let port: Int
    /// The serialized path; starts with `/`.
    public let path: String
    /// Where the path starts in `href`, in UTF-8 bytes: the length of the origin.
    let pathOffset: Int

    /// The scheme, `http` or `https`.
    public var scheme: String { isHTTPS ? "https" : "http" }
    /// `scheme://host[:port]`, as `href` writes it (the port only when it is not the scheme's default).
    public var origin: Substring { Substring(href.utf8.prefix(pathOffset)) }
    /// The path and the query (`/a?b=1`): what robots.txt rules are matched against.
    public var pathAndQuery: Substring { Substring(href.utf8.dropFirst(pathOffset)) }

    /// A base URL prepared once for the links of one page; nil when links cannot be resolved against it by the
    /// shortcut (not http(s), userinfo, escapes in its path).
    public struct Base: Sendable, Equatable {
        /// `scheme://host[:port]`, as the base serializes it.
        let origin: [UInt8]
        /// The base's path up to and including its last `/`.
        let directory: [UInt8]
        /// `origin` and `directory`: what a path-relative link is appended to.
        let directoryURL: [UInt8]
        let isHTTPS: Bool
        let host: String
        let port: Int

        public init?(_ url: WebURL) {
            let record = url.record
            guard record.isSpecial, let host = record.host, !host.isEmpty, record.username.isEmpty,
                record.password.isEmpty, record.opaquePath == nil
            else { return nil }
            let isHTTPS: Bool
            switch record.scheme.count {
            case 4 where record.scheme.elementsEqual("http".utf8): isHTTPS = false
            case 5 where record.scheme.elementsEqual("https".utf8): isHTTPS = true
            default: return nil
            }
            var origin = record.scheme
            origin += [0x3A, 0x2F, 0x2F]
            origin += host
            if let port = record.port {
                origin.append(0x3A)
                origin += Array(String(port).utf8)
            }
            var path: [UInt8] = []
            record.serializedPath(into: &path)
            guard !path.contains(0x25), let lastSlash = path.lastIndex(of: 0x2F) else { return nil }
            self.origin = origin
            self.directory = Array(path[...lastSlash])
            self.directoryURL = origin + directory
            self.isHTTPS = isHTTPS
            self.host = String(decoding: host, as: UTF8.self)
            self.port = record.port ?? (isHTTPS ? 443 : 80)
        }

        /// The base a link resolved by the shortcut makes for its own page's links (what `init(_: WebURL)` gives
        /// for its href, without parsing it).
        public init(_ link: PlainLink) {
            let bytes = Array(link.href.utf8)
            let pathEnd = link.pathOffset + link.path.utf8.count
            let lastSlash = bytes[link.pathOffset..<pathEnd].lastIndex(of: 0x2F) ?? link.pathOffset
            origin = Array(bytes[..<link.pathOffset])
            directory = Array(bytes[link.pathOffset...lastSlash])
            directoryURL = Array(bytes[...lastSlash])
            isHTTPS = link.isHTTPS
            host = link.host
            port = link.port
        }
    }

    init(href: String, isHTTPS: Bool, host: String, port: Int, path: String, pathOffset: Int) {
        self.href = href
        self.isHTTPS = isHTTPS
        self.host = host
        self.port = port
        self.path = path
        self.pathOffset = pathOffset
    }

    /// `href` resolved against `base` when the shortcut applies; nil when the full parser must decide.
    public static func resolve(_ href: String, base: Base?) -> PlainLink? {
        // Native strings are contiguous UTF-8; anything else takes the parser's way.
        href.utf8.withContiguousStorageIfAvailable { resolve(bytes: $0, href: href, base: base) } ?? nil
    }

    private static func resolve(bytes: UnsafeBufferPointer<UInt8>, href: String, base: Base?) -> PlainLink? {
        let count = bytes.count
        guard count > 0 else { return nil }
        // The fragment is dropped; the parser never fails on one, and whitespace inside it is removed with it.
        var end = 0
        while end < count, bytes[end] != 0x23 { end += 1 }
        let first = bytes[0]
        if first == 0x68 {  // "h": an absolute http(s) URL, or a relative path that starts with "h"
            if let absolute = absolute(bytes, end: end, href: href) { return absolute }
        }
        guard let base else { return nil }
        if first == 0x2F {
            // Path-absolute: "/x", never "//host" (scheme-relative) or "/\".
            guard end > 1 ? bytes[1] != 0x2F && bytes[1] != 0x5C : true else { return nil }
            guard let pathEnd = pathAndQueryEnd(bytes, from: 0, end: end) else { return nil }
            return relative(bytes, prefix: base.origin, end: end, pathEnd: pathEnd, base: base)
        }
        // Path-relative: its first segment must not look like a scheme (no ":" in it) nor be a dot segment.
        guard end > 0, isPathByte(first), first != 0x2F else { return nil }
        var index = 0
        while index < end, bytes[index] != 0x2F, bytes[index] != 0x3F {
            if bytes[index] == 0x3A { return nil }
            index += 1
        }
        guard let pathEnd = pathAndQueryEnd(bytes, from: 0, end: end) else { return nil }
        return relative(bytes, prefix: base.directoryURL, end: end, pathEnd: pathEnd, base: base)
    }

    /// `http://` or `https://`, a plain host, an optional non-default port, then a path (and query) in plain form.
    private static func absolute(_ bytes: UnsafeBufferPointer<UInt8>, end: Int, href: String) -> PlainLink? {
        let isHTTPS: Bool
        var index: Int
        if end > 7, bytes[1] == 0x74, bytes[2] == 0x74, bytes[3] == 0x70, bytes[4] == 0x3A, bytes[5] == 0x2F,
            bytes[6] == 0x2F
        {
            isHTTPS = false
            index = 7
        } else if end > 8, bytes[1] == 0x74, bytes[2] == 0x74, bytes[3] == 0x70, bytes[4] == 0x73,
            bytes[5] == 0x3A, bytes[6] == 0x2F, bytes[7] == 0x2F
        {
            isHTTPS = true
            index = 8
        } else {
            return nil
        }
        let hostStart = index
        while index < end, isHostByte(bytes[index]) { index += 1 }
        let hostEnd = index
        guard hostEnd > hostStart, index < end else { return nil }
        let host = UnsafeBufferPointer(rebasing: bytes[hostStart..<hostEnd])
        guard isPlainHost(host) else { return nil }
        var port = isHTTPS ? 443 : 80
        if bytes[index] == 0x3A {
            index += 1
            let portStart = index
            var value = 0
            while index < end, bytes[index] >= 0x30, bytes[index] <= 0x39, index - portStart < 5 {
                value = value * 10 + Int(bytes[index] - 0x30)
                index += 1
            }
            // Digits only, no leading zero, in range, and not the default (the parser would drop it).
            guard index > portStart, bytes[portStart] != 0x30, value <= 65535, value != port else { return nil }
            port = value
        }
        // The path must be written out: "http://host" and "http://host?q" gain a "/".
        guard index < end, bytes[index] == 0x2F, let pathEnd = pathAndQueryEnd(bytes, from: index, end: end)
        else { return nil }
        let text = end == bytes.count
            ? href : String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        return PlainLink(
            href: text, isHTTPS: isHTTPS, host: String(decoding: host, as: UTF8.self), port: port,
            path: String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<pathEnd]), as: UTF8.self),
            pathOffset: index)
    }

    private static func relative(
        _ bytes: UnsafeBufferPointer<UInt8>, prefix: [UInt8], end: Int, pathEnd: Int, base: Base
    ) -> PlainLink {
        var text = prefix
        text.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<end]))
        let pathStart = base.origin.count
        let href = String(decoding: text, as: UTF8.self)
        let path = String(decoding: text[pathStart..<(prefix.count + pathEnd)], as: UTF8.self)
        return PlainLink(
            href: href, isHTTPS: base.isHTTPS, host: base.host, port: base.port, path: path, pathOffset: pathStart)
    }

    /// Checks the path from `start` (at a "/" or the first byte of a relative path) and the query after it up to
    /// `end`; returns where the path ends, or nil when a byte or a dot segment needs the parser.
    private static func pathAndQueryEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, end: Int) -> Int? {
        var index = start
        var segmentStart = start
        while index <= end {
            let byte: UInt8 = index < end ? bytes[index] : 0x3F
            if byte == 0x2F || byte == 0x3F {
                // A "." or ".." segment is removed or climbs: the parser's business.
                let length = index - segmentStart
                if length == 1 || length == 2, bytes[segmentStart] == 0x2E,
                    length == 1 || bytes[segmentStart + 1] == 0x2E
                {
                    return nil
                }
                if byte == 0x3F { break }
                segmentStart = index + 1
            } else if !isPathByte(byte) {
                return nil
            }
            index += 1
        }
        let pathEnd = min(index, end)
        var queryIndex = pathEnd + 1
        while queryIndex < end {
            guard isQueryByte(bytes[queryIndex]) else { return nil }
            queryIndex += 1
        }
        return pathEnd
    }

    /// A host the parser keeps as it is: a canonical dotted-decimal IPv4 address, or labels of lower-case ASCII
    /// letters, digits and "-", none empty, none starting "xn--" (IDNA decides those), the last not starting with
    /// a digit (it might end in a number: an IPv4 form to rewrite).
    private static func isPlainHost(_ host: UnsafeBufferPointer<UInt8>) -> Bool {
        if HostParser.isCanonicalDottedDecimal(host) { return true }
        var labelStart = 0
        for index in 0...host.count where index == host.count || host[index] == 0x2E {
            guard index > labelStart else { return false }
            if index - labelStart >= 4, host[labelStart] == 0x78, host[labelStart + 1] == 0x6E,
                host[labelStart + 2] == 0x2D, host[labelStart + 3] == 0x2D
            {
                return false
            }
            if index == host.count { return !(host[labelStart] >= 0x30 && host[labelStart] <= 0x39) }
            labelStart = index + 1
        }
        return false
    }

    @inline(__always)
    private static func isHostByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E
    }

    /// RFC 3986's pchar without "%" and "/": bytes the parser copies into a path as they are.
    @inline(__always)
    private static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39: true
        case 0x2D, 0x2E, 0x5F, 0x7E: true  // - . _ ~
        case 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D: true  // ! $ & ' ( ) * + , ; =
        case 0x3A, 0x40: true  // : @
        default: false
        }
    }

    /// Path bytes and "/" and "?", except "'" (escaped in the query of a special URL).
    @inline(__always)
    private static func isQueryByte(_ byte: UInt8) -> Bool {
        byte == 0x2F || byte == 0x3F || (byte != 0x27 && isPathByte(byte))
    }
}
