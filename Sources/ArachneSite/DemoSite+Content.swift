/// The deterministic content of the demo site, public so tests elsewhere (the fetcher's, the crawler's) can compute
/// what a response must contain without copying the rules.
extension DemoSite {
    /// Pages are `/page/0` through `/page/999`.
    public static let pageCount = 1000

    /// How many pages the index links to: `/page/0` … `/page/9`.
    public static let indexLinkCount = 10

    /// The five pages `/page/n` links to, in document order: `n + 1` (mod 1000) first, so every page is reachable
    /// from `/page/0`, then four more picked by a linear congruential generator seeded with `n`, never `n` itself
    /// and never repeated.
    public static func pageLinks(_ n: Int) -> [Int] {
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

    /// The HTML of `/page/n`: a title, a few sentences of deterministic text, five links and a link home.
    public static func pageHTML(_ n: Int) -> String {
        var state = UInt32(truncatingIfNeeded: n &* 40_503 &+ 7)
        func nextWord() -> String {
            state = state &* 1_103_515_245 &+ 12_345
            return words[Int(state >> 16) % words.count]
        }
        var text = ""
        for sentence in 0..<4 {
            var words: [String] = []
            for _ in 0..<(8 + sentence) { words.append(nextWord()) }
            let first = words[0]
            words[0] = first.prefix(1).uppercased() + first.dropFirst()
            text += words.joined(separator: " ") + ". "
        }
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Arachne demo page \(n)</title></head>
            <body>
            <h1>Page \(n)</h1>
            <p>\(text)</p>
            <ul>

            """
        for link in pageLinks(n) {
            html += "<li><a href=\"/page/\(link)\">page \(link)</a></li>\n"
        }
        html += "</ul>\n<p><a href=\"/\">home</a></p>\n</body></html>\n"
        return html
    }

    /// The HTML of `/`: links to the first `indexLinkCount` pages.
    public static var indexHTML: String {
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
        html += "</ul>\n</body></html>\n"
        return html
    }

    /// `/robots.txt`: keeps crawlers away from the hostile, slow and looping endpoints.
    public static let robotsTxt = """
        User-agent: *
        Disallow: /broken/
        Disallow: /delay/
        Disallow: /redirect-loop

        """
}
