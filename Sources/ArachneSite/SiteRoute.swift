/// Every path the demo site answers, parsed from a request target. Pure: tests drive it without sockets.
///
/// The numbers in paths are plain decimal (at most 10 digits); a query string is ignored. A path that matches no
/// route, or a page number not below the site's page count, is `.notFound`; a number over a route's limit is
/// `.outOfRange`.
enum SiteRoute: Equatable, Sendable {
    case index
    case robots
    case sitemap
    case page(Int)
    /// `/moved/N`: 301 to `/page/N`.
    case moved(Int)
    /// `DemoSite.trapPages[i]`.
    case trap(Int)
    case bytes(Int)
    case status(Int)
    case delay(milliseconds: Int)
    case redirect(Int)
    case redirectLoop
    case chunked(Int)
    case gzip(Int)
    case headers
    case brokenGarbage
    case brokenReset
    case brokenStall
    case brokenTruncated
    case brokenEndless
    case brokenBadStatus
    case brokenHugeHeader
    case brokenInterim
    case notFound
    case outOfRange(String)

    static let maxBytes = 1 << 30
    static let maxGzipBytes = 8 << 20
    static let maxDelayMilliseconds = 600_000
    static let maxRedirects = 10_000

    init(path target: UnsafeRawBufferPointer, pageCount: Int = DemoSite.defaultPageCount) {
        var end = target.count
        if let query = HTTPRequestParser.firstIndex(of: UInt8(ascii: "?"), in: target, from: 0, to: end) {
            end = query
        }
        let path = UnsafeRawBufferPointer(rebasing: target[0..<end])
        self = Self.route(path, pageCount: pageCount)
    }

    init(path: String, pageCount: Int = DemoSite.defaultPageCount) {
        var path = path
        self = path.withUTF8 { SiteRoute(path: UnsafeRawBufferPointer($0), pageCount: pageCount) }
    }

    private static func route(_ path: UnsafeRawBufferPointer, pageCount: Int) -> SiteRoute {
        if let n = number(path, after: "/page/") { return n < pageCount ? .page(n) : .notFound }
        if equals(path, "/") { return .index }
        if equals(path, "/robots.txt") { return .robots }
        if equals(path, "/sitemap.xml") { return .sitemap }
        if equals(path, "/headers") { return .headers }
        if equals(path, "/redirect-loop") { return .redirectLoop }
        if let n = number(path, after: "/moved/") { return n < pageCount ? .moved(n) : .notFound }
        if let n = number(path, after: "/bytes/") {
            return n <= maxBytes ? .bytes(n) : .outOfRange("/bytes/N allows N up to \(maxBytes)")
        }
        if let n = number(path, after: "/status/") {
            return (200...599).contains(n) ? .status(n) : .outOfRange("/status/CODE allows CODE from 200 to 599")
        }
        if let n = number(path, after: "/delay/") {
            return n <= maxDelayMilliseconds
                ? .delay(milliseconds: n) : .outOfRange("/delay/MS allows MS up to \(maxDelayMilliseconds)")
        }
        if let n = number(path, after: "/redirect/") {
            return n <= maxRedirects ? .redirect(n) : .outOfRange("/redirect/N allows N up to \(maxRedirects)")
        }
        if let n = number(path, after: "/chunked/") {
            return n <= maxBytes ? .chunked(n) : .outOfRange("/chunked/N allows N up to \(maxBytes)")
        }
        if let n = number(path, after: "/gzip/") {
            return n <= maxGzipBytes ? .gzip(n) : .outOfRange("/gzip/N allows N up to \(maxGzipBytes)")
        }
        if equals(path, "/broken/garbage") { return .brokenGarbage }
        if equals(path, "/broken/reset") { return .brokenReset }
        if equals(path, "/broken/stall") { return .brokenStall }
        if equals(path, "/broken/truncated") { return .brokenTruncated }
        if equals(path, "/broken/endless") { return .brokenEndless }
        if equals(path, "/broken/bad-status") { return .brokenBadStatus }
        if equals(path, "/broken/huge-header") { return .brokenHugeHeader }
        if equals(path, "/broken/interim") { return .brokenInterim }
        for (index, trap) in DemoSite.trapPathBytes.enumerated() where trap.elementsEqual(path) {
            return .trap(index)
        }
        return .notFound
    }

    private static func equals(_ path: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        path.count == literal.utf8CodeUnitCount
            && path.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// The decimal number that makes up the rest of `path` after `prefix`; nil if the prefix differs or the rest is
    /// not 1 to 10 digits.
    private static func number(_ path: UnsafeRawBufferPointer, after prefix: StaticString) -> Int? {
        let prefixCount = prefix.utf8CodeUnitCount
        let digits = path.count - prefixCount
        guard digits >= 1, digits <= 10 else { return nil }
        let pointer = prefix.utf8Start
        for index in 0..<prefixCount where path[index] != pointer[index] { return nil }
        var value = 0
        for index in prefixCount..<path.count {
            let byte = path[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
