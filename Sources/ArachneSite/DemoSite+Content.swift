/// The deterministic content of the demo site, public so tests elsewhere (the fetcher's, the crawler's) can compute
/// what a response must contain without copying the rules.
extension DemoSite {
    /// The number of pages a site has unless started with another count: `/page/0` through `/page/999`.
    public static let defaultPageCount = 1000

    /// The page counts a site can be started with (`arachne site --pages N`): at least the ten the index links.
    public static let pageCountRange = 10...10_000_000

    /// The default page count.
    @available(*, deprecated, renamed: "defaultPageCount")
    public static let pageCount = defaultPageCount

    /// How many pages the index links to: `/page/0` … `/page/9`.
    public static let indexLinkCount = 10

    /// The five pages `/page/n` links to, in document order: `n + 1` (mod `pageCount`) first, so every page is
    /// reachable from `/page/0`, then four more picked by a linear congruential generator seeded with `n`, never `n`
    /// itself and never repeated.
    public static func pageLinks(_ n: Int, pageCount: Int = defaultPageCount) -> [Int] {
        precondition((0..<pageCount).contains(n), "page \(n) does not exist")
        var links = [(n + 1) % pageCount]
        var state = UInt32(truncatingIfNeeded: n &* 2_654_435_761 &+ 1)
        while links.count < 5 {
            state = state &* 1_664_525 &+ 1_013_904_223
            let candidate = Int(state >> 8) % pageCount
            if candidate != n && !links.contains(candidate) { links.append(candidate) }
        }
        return links
    }

    /// Byte `i` of every `/bytes/N`, `/chunked/N` and (before compression) `/gzip/N` body: the base64 alphabet,
    /// repeated (`i % 64`).
    public static func bodyByte(at index: Int) -> UInt8 { patternAlphabet[index & 63] }

    /// The body of `/bytes/count` (and the decoded body of `/chunked/count`, `/gzip/count`).
    public static func body(count: Int) -> [UInt8] { (0..<count).map(bodyByte(at:)) }

    /// The size of each chunk of `/chunked/count` (the last may be shorter): a quarter of the body, at least 1 byte
    /// and at most 16 KiB, so small bodies come in four chunks and large ones in many.
    public static func chunkSize(forBodyOf count: Int) -> Int { max(1, min(16 * 1024, (count + 3) / 4)) }

    static let patternAlphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 64 KiB of the pattern, starting at index 0: any run of up to 64 KiB − 63 bytes starting at any index is a
    /// slice of it, because the period divides its length.
    static let patternBlock: [UInt8] = body(count: 64 * 1024)

    // MARK: Pages

    private static let words = [
        "spider", "thread", "silk", "web", "crawl", "fetch", "page", "link", "loop", "event", "socket", "actor",
        "worker", "batch", "lease", "report", "latency", "request", "response", "header", "body", "chunk", "redirect",
        "status", "timer", "epoll", "curl", "queue", "credit", "heartbeat", "histogram", "record",
    ]

    private static let wordBytes: [[UInt8]] = words.map { Array($0.utf8) }

    /// The HTML of `/page/n`: a title, a few sentences of deterministic text, five links and a link home.
    public static func pageHTML(_ n: Int, pageCount: Int = defaultPageCount) -> String {
        String(decoding: pageBytes(n, pageCount: pageCount), as: UTF8.self)
    }

    /// `pageHTML` as bytes, built without `String` or Foundation: a site with millions of pages renders the pages
    /// that are not in its cache on every request.
    static func pageBytes(_ n: Int, pageCount: Int) -> [UInt8] {
        var html: [UInt8] = []
        html.reserveCapacity(1024)
        html.appendLiteral("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Arachne demo page ")
        html.appendDecimal(n)
        html.appendLiteral("</title></head>\n<body>\n<h1>Page ")
        html.appendDecimal(n)
        html.appendLiteral("</h1>\n<p>")
        var state = UInt32(truncatingIfNeeded: n &* 40_503 &+ 7)
        for sentence in 0..<4 {
            for index in 0..<(8 + sentence) {
                state = state &* 1_103_515_245 &+ 12_345
                let word = wordBytes[Int(state >> 16) % wordBytes.count]
                if index == 0 {
                    html.append(word[0] - 32)  // the words are lowercase ASCII: capitalise the sentence
                    html.append(contentsOf: word[1...])
                } else {
                    html.append(UInt8(ascii: " "))
                    html.append(contentsOf: word)
                }
            }
            html.appendLiteral(". ")
        }
        html.appendLiteral("</p>\n<ul>\n")
        for link in pageLinks(n, pageCount: pageCount) {
            html.appendLiteral("<li><a href=\"/page/")
            html.appendDecimal(link)
            html.appendLiteral("\">page ")
            html.appendDecimal(link)
            html.appendLiteral("</a></li>\n")
        }
        html.appendLiteral("</ul>\n<p><a href=\"/\">home</a></p>\n</body></html>\n")
        return html
    }

    /// The HTML of `/` on the default site.
    public static var indexHTML: String { indexHTML(pageCount: defaultPageCount) }

    /// The HTML of `/`: links to the first `indexLinkCount` pages, then the crawler test links
    /// (`crawlResource(at: "/")`; see docs/demo-site.md, "Crawling the demo site").
    public static func indexHTML(pageCount: Int) -> String {
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Arachne demo site</title></head>
            <body>
            <h1>Arachne demo site</h1>
            <p>A deterministic synthetic site of \(pageCount) pages, served for tests and demos.</p>
            <ul>

            """
        for link in 0..<indexLinkCount {
            html += "<li><a href=\"/page/\(link)\">page \(link)</a></li>\n"
        }
        html += "</ul>\n<h2>Crawler tests</h2>\n<ul>\n"
        html += renderLinks(indexTrapLinks)
        html += "</body></html>\n"
        return html
    }

    /// The rules of `/robots.txt`: keep crawlers away from the hostile, slow and looping endpoints.
    public static let robotsTxt = """
        User-agent: *
        Disallow: /broken/
        Disallow: /delay/
        Disallow: /redirect-loop

        """

    /// `/robots.txt` as served by the site at `baseURL`: the rules, then a `Sitemap:` line (an absolute URL, as the
    /// sitemaps protocol asks, so it names the site's own port).
    public static func robotsTxt(baseURL: String) -> String {
        robotsTxt + "Sitemap: \(baseURL)/sitemap.xml\n"
    }
}
