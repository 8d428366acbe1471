/// The URL Standard's URL record, held as UTF-8 bytes while the parser builds it.
struct URLRecord: Sendable {
    var scheme: [UInt8] = []
    var username: [UInt8] = []
    var password: [UInt8] = []
    /// The serialized host; nil is the Standard's null host, empty is its empty host.
    var host: [UInt8]? = nil
    /// nil when absent or equal to the scheme's default port.
    var port: Int? = nil
    var path: [[UInt8]] = []
    /// Non-nil when the URL has an opaque path (e.g. `mailto:a@b`); then `path` is unused.
    var opaquePath: [UInt8]? = nil
    var query: [UInt8]? = nil
    var fragment: [UInt8]? = nil
    var isSpecial = false

    /// The serialized path: the opaque path, or "/" before every segment.
    func serializedPath(into output: inout [UInt8]) {
        if let opaquePath {
            output += opaquePath
            return
        }
        for segment in path {
            output.append(0x2F)
            output += segment
        }
    }

    /// The URL serializer (href), without the fragment when `excludeFragment`.
    func serialize(excludeFragment: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(
            scheme.count + (host?.count ?? 0) + path.reduce(0) { $0 + $1.count + 1 } + (query?.count ?? 0) + 16)
        output += scheme
        output.append(0x3A)
        if let host {
            output += [0x2F, 0x2F]
            if !username.isEmpty || !password.isEmpty {
                output += username
                if !password.isEmpty {
                    output.append(0x3A)
                    output += password
                }
                output.append(0x40)
            }
            output += host
            if let port {
                output.append(0x3A)
                output += Array(String(port).utf8)
            }
        }
        if host == nil, opaquePath == nil, path.count > 1, path[0].isEmpty {
            output += [0x2F, 0x2E]  // "/." keeps "//" at the start of the path from reading as an authority
        }
        serializedPath(into: &output)
        if let query {
            output.append(0x3F)
            output += query
        }
        if !excludeFragment, let fragment {
            output.append(0x23)
            output += fragment
        }
        return output
    }
}

/// The special schemes and their default ports; nil for a scheme that is not special.
@inline(__always)
func specialSchemeDefaultPort(_ scheme: [UInt8]) -> Int?? {
    switch scheme.count {
    case 2 where scheme.elementsEqual("ws".utf8): return .some(80)
    case 3 where scheme.elementsEqual("wss".utf8): return .some(443)
    case 3 where scheme.elementsEqual("ftp".utf8): return .some(21)
    case 4 where scheme.elementsEqual("http".utf8): return .some(80)
    case 4 where scheme.elementsEqual("file".utf8): return .some(nil)
    case 5 where scheme.elementsEqual("https".utf8): return .some(443)
    default: return nil
    }
}
