import ArachneCore
import ArachneSystem

/// How the native HTTP/1.1 client makes requests for one `FetchSettings`, or why it cannot (then libcurl does).
/// The request's header lines after `Host` are the same for every URL of a job, so they are built once.
struct NativeRequestPlan: Sendable {
    /// `User-Agent`, `Accept`, `Accept-Encoding`, `Connection: close` when asked, the user's headers, and the blank
    /// line: everything after the `Host` line, as bytes.
    let headerTail: [UInt8]
    /// `--resolve` pins by "host:port".
    let pins: [String: IPv4Address]
    /// Content encodings the client asked for and decodes.
    let decodes: Bool

    /// Request headers whose meaning libcurl manages: a user header naming one of these goes to libcurl.
    private static let managedHeaders: Set<String> = [
        "host", "user-agent", "accept", "accept-encoding", "connection", "content-length", "transfer-encoding",
        "expect", "te", "upgrade",
    ]
    /// The codings the native client can decode (zlib): gzip and zlib-wrapped deflate.
    private static let decodableCodings: Set<String> = ["gzip", "x-gzip", "deflate", "identity"]

    /// The plan, or nil when the settings need something only libcurl does (a coding it cannot decode, a header with
    /// curl's special syntax or one that replaces a managed header).
    init?(settings: FetchSettings) {
        var lines = "User-Agent: \(settings.userAgent)\r\nAccept: */*\r\n"
        switch settings.acceptEncoding.lowercased() {
        case "identity", "none":
            decodes = false
        case "":
            // curl offers every coding it was built with; the native client offers what zlib decodes.
            lines += "Accept-Encoding: gzip, deflate\r\n"
            decodes = true
        case let list:
            let codings = list.split(separator: ",").map { $0.split(separator: ";")[0].trimmingSpacesAndTabs() }
            guard codings.allSatisfy(Self.decodableCodings.contains) else { return nil }
            lines += "Accept-Encoding: \(settings.acceptEncoding)\r\n"
            decodes = true
        }
        if settings.forbidReuse { lines += "Connection: close\r\n" }
        for header in settings.headers {
            guard let colon = header.firstIndex(of: ":") else { return nil }  // "Name;" is curl syntax
            let name = header[..<colon].lowercased()
            let value = header[header.index(after: colon)...].trimmingSpacesAndTabs()
            guard !name.isEmpty, !value.isEmpty, !Self.managedHeaders.contains(name),
                  !header.contains("\r"), !header.contains("\n")
            else { return nil }
            lines += "\(header[..<colon]): \(value)\r\n"
        }
        lines += "\r\n"
        guard lines.utf8.allSatisfy({ $0 >= 32 || $0 == 13 || $0 == 10 || $0 == 9 }) else { return nil }
        headerTail = Array(lines.utf8)
        pins = HTTP1Target.pins(from: settings.resolve)
    }

    /// The whole request for `target`.
    func request(for target: HTTP1Target) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32 + target.requestTarget.utf8.count + target.hostHeader.utf8.count + headerTail.count)
        bytes.append(contentsOf: "GET ".utf8)
        bytes.append(contentsOf: target.requestTarget.utf8)
        bytes.append(contentsOf: " HTTP/1.1\r\nHost: ".utf8)
        bytes.append(contentsOf: target.hostHeader.utf8)
        bytes.append(contentsOf: "\r\n".utf8)
        bytes.append(contentsOf: headerTail)
        return bytes
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (Foundation is not imported here).
    fileprivate func trimmingSpacesAndTabs() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
