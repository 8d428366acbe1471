/// The URL Standard's basic URL parser (without state override: Arachne parses, it does not edit URLs), run as
/// its state machine over UTF-8 bytes. Non-ASCII bytes are only ever copied or percent-encoded, never split from
/// their code point, so working on bytes gives the Standard's results on code points.
struct URLParser {
    private enum State {
        case schemeStart, scheme, noScheme, specialRelativeOrAuthority, pathOrAuthority, relative, relativeSlash
        case specialAuthoritySlashes, specialAuthorityIgnoreSlashes, authority, host, port
        case file, fileSlash, fileHost, pathStart, path, opaquePath, query, fragment
    }

    private let input: [UInt8]
    private let base: URLRecord?
    private var url = URLRecord()
    /// Whether a ":" has split the credentials; it stays set across every "@" of the authority.
    private var passwordTokenSeen = false

    init(input: UnsafeBufferPointer<UInt8>, base: URLRecord?) {
        // Remove leading and trailing C0 control or space, then every ASCII tab or newline.
        var start = 0
        var end = input.count
        while start < end, input[start] <= 0x20 { start += 1 }
        while end > start, input[end - 1] <= 0x20 { end -= 1 }
        let trimmed = UnsafeBufferPointer(rebasing: input[start..<end])
        if trimmed.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            self.input = trimmed.filter { $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        } else {
            self.input = Array(trimmed)
        }
        self.base = base
    }

    private static let eof = -1

    @inline(__always)
    private func remaining(startsWith byte: UInt8, after pointer: Int) -> Bool {
        pointer + 1 < input.count && input[pointer + 1] == byte
    }

    mutating func parse() throws(URLParseError) -> URLRecord {
        var state = State.schemeStart
        var buffer: [UInt8] = []
        var atSignSeen = false
        var insideBrackets = false
        var pointer = 0
        let count = input.count

        while true {
            let c = pointer < count ? Int(input[pointer]) : Self.eof
            // "/", "?", "#" or the end, and for special URLs "\": the end of an authority or path segment.
            let endsSegment = c == Self.eof || c == 0x2F || c == 0x3F || c == 0x23 || (url.isSpecial && c == 0x5C)

            switch state {
            case .schemeStart:
                if isASCIIAlpha(c) {
                    buffer.append(UInt8(c) | 0x20)
                    state = .scheme
                } else {
                    state = .noScheme
                    pointer -= 1
                }

            case .scheme:
                if isASCIIAlphanumeric(c) || c == 0x2B || c == 0x2D || c == 0x2E {
                    buffer.append(isASCIIAlpha(c) ? UInt8(c) | 0x20 : UInt8(c))
                } else if c == 0x3A {
                    url.scheme = buffer
                    buffer.removeAll(keepingCapacity: true)
                    url.isSpecial = specialSchemeDefaultPort(url.scheme) != nil
                    if url.scheme.elementsEqual("file".utf8) {
                        state = .file
                    } else if url.isSpecial, let base, base.scheme == url.scheme {
                        state = .specialRelativeOrAuthority
                    } else if url.isSpecial {
                        state = .specialAuthoritySlashes
                    } else if remaining(startsWith: 0x2F, after: pointer) {
                        state = .pathOrAuthority
                        pointer += 1
                    } else {
                        url.opaquePath = []
                        state = .opaquePath
                    }
                } else {
                    buffer.removeAll(keepingCapacity: true)
                    state = .noScheme
                    pointer = -1
                }

            case .noScheme:
                guard let base, base.opaquePath == nil || c == 0x23 else {
                    throw URLParseError(.missingSchemeNonRelativeURL)
                }
                if base.opaquePath != nil {
                    url.scheme = base.scheme
                    url.isSpecial = base.isSpecial
                    url.opaquePath = base.opaquePath
                    url.query = base.query
                    url.fragment = []
                    state = .fragment
                } else {
                    state = base.scheme.elementsEqual("file".utf8) ? .file : .relative
                    pointer -= 1
                }

            case .specialRelativeOrAuthority:
                if c == 0x2F, remaining(startsWith: 0x2F, after: pointer) {
                    state = .specialAuthorityIgnoreSlashes
                    pointer += 1
                } else {
                    state = .relative
                    pointer -= 1
                }

            case .pathOrAuthority:
                if c == 0x2F {
                    state = .authority
                } else {
                    state = .path
                    pointer -= 1
                }

            case .relative:
                let base = self.base!
                url.scheme = base.scheme
                url.isSpecial = base.isSpecial
                if c == 0x2F || (url.isSpecial && c == 0x5C) {
                    state = .relativeSlash
                } else {
                    copyAuthority(from: base)
                    url.path = base.path
                    url.query = base.query
                    if c == 0x3F {
                        url.query = []
                        state = .query
                    } else if c == 0x23 {
                        url.fragment = []
                        state = .fragment
                    } else if c != Self.eof {
                        url.query = nil
                        shortenPath()
                        state = .path
                        pointer -= 1
                    }
                }

            case .relativeSlash:
                if url.isSpecial && (c == 0x2F || c == 0x5C) {
                    state = .specialAuthorityIgnoreSlashes
                } else if c == 0x2F {
                    state = .authority
                } else {
                    copyAuthority(from: base!)
                    state = .path
                    pointer -= 1
                }

            case .specialAuthoritySlashes:
                if c == 0x2F, remaining(startsWith: 0x2F, after: pointer) {
                    state = .specialAuthorityIgnoreSlashes
                    pointer += 1
                } else {
                    state = .specialAuthorityIgnoreSlashes
                    pointer -= 1
                }

            case .specialAuthorityIgnoreSlashes:
                if c != 0x2F && c != 0x5C {
                    state = .authority
                    pointer -= 1
                }

            case .authority:
                if c == 0x40 {
                    if atSignSeen { buffer.insert(contentsOf: [0x25, 0x34, 0x30], at: 0) }
                    atSignSeen = true
                    appendCredentials(buffer)
                    buffer.removeAll(keepingCapacity: true)
                } else if endsSegment {
                    if atSignSeen && buffer.isEmpty { throw URLParseError(.invalidCredentials) }
                    pointer -= buffer.count + 1
                    buffer.removeAll(keepingCapacity: true)
                    state = .host
                } else {
                    buffer.append(UInt8(c))
                }

            case .host:
                if c == 0x3A && !insideBrackets {
                    if buffer.isEmpty { throw URLParseError(.hostMissing) }
                    url.host = try HostParser.parse(buffer[...], isOpaque: !url.isSpecial)
                    buffer.removeAll(keepingCapacity: true)
                    state = .port
                } else if endsSegment {
                    pointer -= 1
                    if url.isSpecial && buffer.isEmpty { throw URLParseError(.hostMissing) }
                    url.host = try HostParser.parse(buffer[...], isOpaque: !url.isSpecial)
                    buffer.removeAll(keepingCapacity: true)
                    state = .pathStart
                } else {
                    if c == 0x5B { insideBrackets = true }
                    if c == 0x5D { insideBrackets = false }
                    buffer.append(UInt8(c))
                }

            case .port:
                if isASCIIDigit(c) {
                    buffer.append(UInt8(c))
                } else if endsSegment {
                    if !buffer.isEmpty {
                        var port = 0
                        for digit in buffer {
                            port = port * 10 + Int(digit - 0x30)
                            if port > 65535 { throw URLParseError(.portOutOfRange) }
                        }
                        url.port = specialSchemeDefaultPort(url.scheme) == .some(port) ? nil : port
                        buffer.removeAll(keepingCapacity: true)
                    }
                    state = .pathStart
                    pointer -= 1
                } else {
                    throw URLParseError(.portInvalid)
                }

            case .file:
                url.scheme = Array("file".utf8)
                url.isSpecial = true
                url.host = []
                if c == 0x2F || c == 0x5C {
                    state = .fileSlash
                } else if let base, base.scheme.elementsEqual("file".utf8) {
                    url.host = base.host
                    url.path = base.path
                    url.query = base.query
                    if c == 0x3F {
                        url.query = []
                        state = .query
                    } else if c == 0x23 {
                        url.fragment = []
                        state = .fragment
                    } else if c != Self.eof {
                        url.query = nil
                        if startsWithWindowsDriveLetter(at: pointer) {
                            url.path = []
                        } else {
                            shortenPath()
                        }
                        state = .path
                        pointer -= 1
                    }
                } else {
                    state = .path
                    pointer -= 1
                }

            case .fileSlash:
                if c == 0x2F || c == 0x5C {
                    state = .fileHost
                } else {
                    if let base, base.scheme.elementsEqual("file".utf8) {
                        url.host = base.host
                        if !startsWithWindowsDriveLetter(at: pointer), let first = base.path.first,
                            isWindowsDriveLetter(first[...], normalized: true)
                        {
                            url.path.append(first)
                        }
                    }
                    state = .path
                    pointer -= 1
                }

            case .fileHost:
                if c == Self.eof || c == 0x2F || c == 0x5C || c == 0x3F || c == 0x23 {
                    pointer -= 1
                    if isWindowsDriveLetter(buffer[...], normalized: false) {
                        state = .path  // the buffer is kept: it becomes the first path segment
                    } else if buffer.isEmpty {
                        url.host = []
                        state = .pathStart
                    } else {
                        var host = try HostParser.parse(buffer[...], isOpaque: false)
                        if host.elementsEqual("localhost".utf8) { host = [] }
                        url.host = host
                        buffer.removeAll(keepingCapacity: true)
                        state = .pathStart
                    }
                } else {
                    buffer.append(UInt8(c))
                }

            case .pathStart:
                if url.isSpecial {
                    state = .path
                    if c != 0x2F && c != 0x5C { pointer -= 1 }
                } else if c == 0x3F {
                    url.query = []
                    state = .query
                } else if c == 0x23 {
                    url.fragment = []
                    state = .fragment
                } else if c != Self.eof {
                    state = .path
                    if c != 0x2F { pointer -= 1 }
                }

            case .path:
                if endsSegment {
                    let slash = c == 0x2F || (url.isSpecial && c == 0x5C)
                    if isDoubleDotSegment(buffer) {
                        shortenPath()
                        if !slash { url.path.append([]) }
                    } else if isSingleDotSegment(buffer) {
                        if !slash { url.path.append([]) }
                    } else {
                        if url.path.isEmpty, url.scheme.elementsEqual("file".utf8),
                            isWindowsDriveLetter(buffer[...], normalized: false)
                        {
                            buffer[1] = 0x3A
                        }
                        url.path.append(buffer)
                    }
                    buffer.removeAll(keepingCapacity: true)
                    if c == 0x3F {
                        url.query = []
                        state = .query
                    } else if c == 0x23 {
                        url.fragment = []
                        state = .fragment
                    }
                } else {
                    buffer.appendEncoding(UInt8(c), .path)
                }

            case .opaquePath:
                if c == 0x3F {
                    url.query = []
                    state = .query
                } else if c == 0x23 {
                    url.fragment = []
                    state = .fragment
                } else if c == 0x20 {
                    let next = pointer + 1 < count ? input[pointer + 1] : 0
                    if next == 0x3F || next == 0x23 {
                        url.opaquePath! += [0x25, 0x32, 0x30]
                    } else {
                        url.opaquePath!.append(0x20)
                    }
                } else if c != Self.eof {
                    url.opaquePath!.appendEncoding(UInt8(c), .c0Control)
                }

            case .query:
                if c == 0x23 || c == Self.eof {
                    // Read to the end of the query at once, then encode it with the scheme's query set.
                    url.query!.appendEncoding(contentsOf: buffer, url.isSpecial ? .specialQuery : .query)
                    buffer.removeAll(keepingCapacity: true)
                    if c == 0x23 {
                        url.fragment = []
                        state = .fragment
                    }
                } else {
                    buffer.append(UInt8(c))
                }

            case .fragment:
                if c != Self.eof {
                    url.fragment!.appendEncoding(UInt8(c), .fragment)
                }
            }

            if pointer >= count { break }  // a state that stepped back runs again on the same code point
            pointer += 1
        }
        return url
    }

    private mutating func copyAuthority(from base: URLRecord) {
        url.username = base.username
        url.password = base.password
        url.host = base.host
        url.port = base.port
    }

    /// Splits the authority's credentials at the first ":" and percent-encodes them with the userinfo set.
    private mutating func appendCredentials(_ buffer: [UInt8]) {
        for byte in buffer {
            if byte == 0x3A && !passwordTokenSeen {
                passwordTokenSeen = true
                continue
            }
            if passwordTokenSeen {
                url.password.appendEncoding(byte, .userinfo)
            } else {
                url.username.appendEncoding(byte, .userinfo)
            }
        }
    }

    private mutating func shortenPath() {
        if url.scheme.elementsEqual("file".utf8), url.path.count == 1,
            isWindowsDriveLetter(url.path[0][...], normalized: true)
        {
            return
        }
        if !url.path.isEmpty { url.path.removeLast() }
    }

    /// Whether the input from `pointer` starts with a Windows drive letter followed by the end, "/", "\", "?" or "#".
    private func startsWithWindowsDriveLetter(at pointer: Int) -> Bool {
        guard pointer >= 0, input.count - pointer >= 2,
            isWindowsDriveLetter(input[pointer..<pointer + 2], normalized: false)
        else { return false }
        if input.count - pointer == 2 { return true }
        let third = input[pointer + 2]
        return third == 0x2F || third == 0x5C || third == 0x3F || third == 0x23
    }
}

@inline(__always) func isASCIIAlpha(_ c: Int) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
@inline(__always) func isASCIIDigit(_ c: Int) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) func isASCIIAlphanumeric(_ c: Int) -> Bool { isASCIIAlpha(c) || isASCIIDigit(c) }

/// An ASCII letter then ":" (or, when not `normalized`, "|").
func isWindowsDriveLetter(_ bytes: ArraySlice<UInt8>, normalized: Bool) -> Bool {
    guard bytes.count == 2, isASCIIAlpha(Int(bytes[bytes.startIndex])) else { return false }
    let second = bytes[bytes.startIndex + 1]
    return second == 0x3A || (!normalized && second == 0x7C)
}

/// "." or "%2e", ASCII case-insensitively.
func isSingleDotSegment(_ segment: [UInt8]) -> Bool {
    switch segment.count {
    case 1: segment[0] == 0x2E
    case 3: isPercent2E(segment, 0)
    default: false
    }
}

/// "..", ".%2e", "%2e." or "%2e%2e", ASCII case-insensitively.
func isDoubleDotSegment(_ segment: [UInt8]) -> Bool {
    switch segment.count {
    case 2: segment[0] == 0x2E && segment[1] == 0x2E
    case 4: (segment[0] == 0x2E && isPercent2E(segment, 1)) || (isPercent2E(segment, 0) && segment[3] == 0x2E)
    case 6: isPercent2E(segment, 0) && isPercent2E(segment, 3)
    default: false
    }
}

@inline(__always)
private func isPercent2E(_ bytes: [UInt8], _ at: Int) -> Bool {
    bytes[at] == 0x25 && bytes[at + 1] == 0x32 && (bytes[at + 2] | 0x20) == 0x65
}
