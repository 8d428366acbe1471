import ArachneCore
import Testing

@testable import ArachneCrawl

/// A response for the harvester, and what it must make of it.
struct HarvestCase: Sendable, CustomTestStringConvertible {
    var name: String
    var url = "http://a.example/dir/page.html"
    var status = 200
    var headers: [String] = ["Content-Type: text/html; charset=utf-8"]
    var body = ""
    var options = CrawlOptionsSpec()
    var seeds = ["http://a.example/"]
    /// (url, identity, via, trap) of each link sent to the frontier, in order.
    var links: [Sent] = []
    var counts = CrawlLinkCounts()
    var contentType = "text/html"
    var location: String?

    struct Sent: Sendable, Hashable, CustomStringConvertible {
        var url: String
        var identity = ""
        var via = CrawlVia.link
        var trap: FetchErrorKind?

        var description: String { "\(url) [\(identity)] \(via) \(trap?.rawValue ?? "-")" }
    }

    var testDescription: String { name }

    var rawHeader: [UInt8] {
        Array((["HTTP/1.1 \(status) X"] + headers).map { $0 + "\r\n" }.joined().utf8) + Array("\r\n".utf8)
    }
}

private func sent(_ url: String, _ identity: String = "", via: CrawlVia = .link, trap: FetchErrorKind? = nil)
    -> HarvestCase.Sent
{
    HarvestCase.Sent(url: url, identity: identity, via: via, trap: trap)
}

private func page(_ anchors: String..., head: String = "") -> String {
    "<!DOCTYPE html><html><head><title>t</title>\(head)</head><body>\n" + anchors.joined(separator: "\n")
        + "\n</body></html>\n"
}

private func a(_ href: String, rel: String? = nil) -> String {
    "<a \(rel.map { "rel=\"\($0)\" " } ?? "")href=\"\(href)\">x</a>"
}

@Suite struct PageHarvesterTests {
    static let cases: [HarvestCase] = [
        HarvestCase(
            name: "relative forms resolve against the page's URL; fragments are dropped; a repeat is a duplicate",
            body: page(a("x"), a("../y"), a("/z?q=1#f"), a("?q=2"), a("#only"), a("//a.example/abs"),
                       a("./x#again"), a("http://a.example/dir/sub/../x"), a(" spaced "), a("")),
            links: [
                sent("http://a.example/dir/x"), sent("http://a.example/y"), sent("http://a.example/z?q=1"),
                sent("http://a.example/dir/page.html?q=2"), sent("http://a.example/dir/page.html"),
                sent("http://a.example/abs"), sent("http://a.example/dir/spaced"),
            ],
            // "" is the page itself again.
            counts: CrawlLinkCounts(found: 10, duplicate: 3)),
        HarvestCase(
            name: "<base href> (itself relative) is what links resolve against; only the first <base> counts",
            body: page(a("a"), a("./b"), a("../c"), a("/d"), a("?e"),
                       head: "<base href=\"../other/sub/\"><base href=\"/ignored/\">"),
            links: [
                sent("http://a.example/other/sub/a"), sent("http://a.example/other/sub/b"),
                sent("http://a.example/other/c"), sent("http://a.example/d"), sent("http://a.example/other/sub/?e"),
            ],
            counts: CrawlLinkCounts(found: 5)),
        HarvestCase(
            name: "an absolute <base href> on another host moves the links out of scope",
            body: page(a("a"), a("http://a.example/kept"), head: "<base href=\"http://b.example/\">"),
            links: [sent("http://a.example/kept")],
            counts: CrawlLinkCounts(found: 2, outOfScope: 1)),
        HarvestCase(
            name: "two spellings, one identity: the first spelling is sent with its canonical identity",
            body: page(a("/p/%7Efoo"), a("/p/~foo"), a("/page/%35"), a("/page/5"), a("/q?x=%2f"), a("/q?x=%2F"),
                       a("HTTP://A.EXAMPLE:80/caps")),
            links: [
                sent("http://a.example/p/%7Efoo", "http://a.example/p/~foo"),
                sent("http://a.example/page/%35", "http://a.example/page/5"),
                sent("http://a.example/q?x=%2f", "http://a.example/q?x=%2F"),
                sent("http://a.example/caps"),
            ],
            counts: CrawlLinkCounts(found: 7, duplicate: 3)),
        HarvestCase(
            name: "rel=nofollow links are counted, not found; rel=noopener is followed",
            body: page(a("/n1", rel: "nofollow"), a("/n2", rel: "noopener NoFollow"), a("/ok", rel: "noopener"),
                       a("/n1")),
            links: [sent("http://a.example/ok"), sent("http://a.example/n1")],
            counts: CrawlLinkCounts(found: 2, nofollow: 2)),
        HarvestCase(
            name: "--follow-nofollow follows rel=nofollow links",
            body: page(a("/n1", rel: "nofollow"), a("/ok")),
            options: CrawlOptionsSpec(followNofollow: true),
            links: [sent("http://a.example/n1"), sent("http://a.example/ok")],
            counts: CrawlLinkCounts(found: 2)),
        HarvestCase(
            name: "<meta name=robots content=nofollow>: no link of the page is followed",
            body: page(a("/a"), a("/b"), a("mailto:x@a.example"),
                       head: "<meta name=\"robots\" content=\"noindex, nofollow\">"),
            counts: CrawlLinkCounts(nofollow: 2)),
        HarvestCase(
            name: "meta robots content=none means nofollow too",
            body: page(a("/a"), head: "<meta name=\"ROBOTS\" content=\"none\">"),
            counts: CrawlLinkCounts(nofollow: 1)),
        HarvestCase(
            name: "X-Robots-Tag: nofollow in the response head: no link is followed",
            headers: ["Content-Type: text/html", "X-Robots-Tag: noarchive", "x-robots-tag: nofollow"],
            body: page(a("/a"), a("/b")),
            counts: CrawlLinkCounts(nofollow: 2)),
        HarvestCase(
            name: "X-Robots-Tag for our product token applies",
            headers: ["Content-Type: text/html", "X-Robots-Tag: Arachne: nofollow"],
            body: page(a("/a")),
            counts: CrawlLinkCounts(nofollow: 1)),
        HarvestCase(
            name: "X-Robots-Tag for another agent does not apply",
            headers: ["Content-Type: text/html", "X-Robots-Tag: otherbot: nofollow"],
            body: page(a("/a")),
            links: [sent("http://a.example/a")],
            counts: CrawlLinkCounts(found: 1)),
        HarvestCase(
            name: "--follow-nofollow also overrides meta robots and X-Robots-Tag",
            headers: ["Content-Type: text/html", "X-Robots-Tag: nofollow"],
            body: page(a("/a"), head: "<meta name=\"robots\" content=\"nofollow\">"),
            options: CrawlOptionsSpec(followNofollow: true),
            links: [sent("http://a.example/a")],
            counts: CrawlLinkCounts(found: 1)),
        HarvestCase(
            name: "other schemes and unparsable hrefs are neither found nor counted; other hosts are out of scope",
            body: page(a("mailto:x@a.example"), a("javascript:void(0)"), a("ftp://a.example/f"), a("http://[::1"),
                       a("http://b.example/"), a("https://a.example/"), a("http://a.example:8080/"),
                       a("http://a.example/in")),
            links: [sent("http://a.example/in")],
            counts: CrawlLinkCounts(found: 4, outOfScope: 3)),
        HarvestCase(
            name: "a redirect's relative Location is resolved against the response's URL and sent via redirect",
            status: 301, headers: ["Content-Type: text/html", "Location: ../moved#frag"],
            body: page(a("/ignored")),
            links: [sent("http://a.example/moved", via: .redirect)],
            counts: CrawlLinkCounts(found: 1), location: "../moved#frag"),
        HarvestCase(
            name: "an absolute Location in scope, with another spelling",
            status: 302, headers: ["location: http://a.example/p/%7Efoo"], body: "",
            links: [sent("http://a.example/p/%7Efoo", "http://a.example/p/~foo", via: .redirect)],
            counts: CrawlLinkCounts(found: 1), contentType: "", location: "http://a.example/p/%7Efoo"),
        HarvestCase(
            name: "a Location out of scope is counted, not sent",
            status: 307, headers: ["Location: https://b.example/"], body: "",
            counts: CrawlLinkCounts(found: 1, outOfScope: 1), contentType: "", location: "https://b.example/"),
        HarvestCase(
            name: "an excluded Location is counted as filtered",
            status: 308, headers: ["Location: /files/x.pdf"], body: "",
            options: CrawlOptionsSpec(exclude: ["\\.pdf$"]),
            counts: CrawlLinkCounts(found: 1, filtered: ["exclude:\\.pdf$": 1]), contentType: "",
            location: "/files/x.pdf"),
        HarvestCase(
            name: "a trapped Location is sent with its trap",
            status: 301, headers: ["Location: /a/b/a/b/a/b"], body: "",
            links: [sent("http://a.example/a/b/a/b/a/b", via: .redirect, trap: .repeatedSegments)],
            counts: CrawlLinkCounts(found: 1), contentType: "", location: "/a/b/a/b/a/b"),
        HarvestCase(
            name: "a 3xx without Location yields nothing, and its body is not parsed",
            status: 300, headers: ["Content-Type: text/html"], body: page(a("/x"))),
        HarvestCase(
            name: "a Location to another scheme is kept as the location but sends nothing",
            status: 301, headers: ["Location: mailto:x@a.example"], body: "", contentType: "",
            location: "mailto:x@a.example"),
        HarvestCase(
            name: "text/csv that looks like HTML gives no links",
            headers: ["Content-Type: text/csv"], body: "id,link\n1,\"<a href=\"\"/x\"\">x</a>\"\n",
            contentType: "text/csv"),
        HarvestCase(
            name: "a body without a Content-Type gives no links",
            headers: [], body: page(a("/x")), contentType: ""),
        HarvestCase(
            name: "text/plain gives no links", headers: ["Content-Type: text/plain"], body: page(a("/x")),
            contentType: "text/plain"),
        HarvestCase(
            name: "application/xhtml+xml gives links; the media type is lower-cased without parameters",
            headers: ["Content-Type: Application/XHTML+XML ; charset=UTF-8"], body: page(a("/x")),
            links: [sent("http://a.example/x")], counts: CrawlLinkCounts(found: 1),
            contentType: "application/xhtml+xml"),
        HarvestCase(
            name: "a 404 page gives no links", status: 404, body: page(a("/x"))),
        HarvestCase(
            name: "a 500 page gives no links", status: 500, body: page(a("/x"))),
        HarvestCase(
            name: "a failed fetch (status 0) gives no links", status: 0, headers: [], body: page(a("/x")),
            contentType: ""),
        HarvestCase(
            name: "include and exclude patterns: each filtered link is counted under its rule",
            body: page(a("/docs/a"), a("/docs/b.pdf"), a("/blog/c"), a("/shop/d"), a("/docs/e.pdf")),
            options: CrawlOptionsSpec(include: ["/docs/", "/blog/"], exclude: ["\\.pdf$"]),
            links: [sent("http://a.example/docs/a"), sent("http://a.example/blog/c")],
            counts: CrawlLinkCounts(found: 5, filtered: ["exclude:\\.pdf$": 2, "include": 1])),
        HarvestCase(
            name: "trap kinds are set on the links sent; the frontier turns them into skip records",
            body: page(a("/a/b/a/b/a/b"), a("/" + (1...21).map(String.init).joined(separator: "/")),
                       a("/" + String(repeating: "l", count: 2100)), a("/fine/a/b/a/b")),
            links: [
                sent("http://a.example/a/b/a/b/a/b", trap: .repeatedSegments),
                sent("http://a.example/" + (1...21).map(String.init).joined(separator: "/"), trap: .tooManySegments),
                sent("http://a.example/" + String(repeating: "l", count: 2100), trap: .urlTooLong),
                sent("http://a.example/fine/a/b/a/b"),
            ],
            counts: CrawlLinkCounts(found: 4)),
        HarvestCase(
            name: "--no-trap-defences sends them without a trap",
            body: page(a("/a/b/a/b/a/b")), options: CrawlOptionsSpec(trapDefences: false),
            links: [sent("http://a.example/a/b/a/b/a/b")], counts: CrawlLinkCounts(found: 1)),
        HarvestCase(
            name: "prefix scope: links outside the seed's directory are out of scope",
            url: "http://a.example/docs/index.html",
            body: page(a("guide"), a("../blog/"), a("/docs/x/y")),
            options: CrawlOptionsSpec(scope: .prefix), seeds: ["http://a.example/docs/"],
            links: [sent("http://a.example/docs/guide"), sent("http://a.example/docs/x/y")],
            counts: CrawlLinkCounts(found: 3, outOfScope: 1)),
        HarvestCase(
            name: "area, frame and iframe elements are links too",
            body: "<html><body><map><area href=\"/area\"></map><iframe src=\"/iframe\"></iframe></body></html>",
            links: [sent("http://a.example/area"), sent("http://a.example/iframe")],
            counts: CrawlLinkCounts(found: 2)),
    ]

    @Test(arguments: cases)
    func harvest(_ c: HarvestCase) throws {
        let harvester = try PageHarvester(options: c.options, seeds: c.seeds, userAgent: "Arachne/0.1 (+test)")
        let findings = harvester.harvest(url: c.url, status: c.status, rawHeader: c.rawHeader, body: Array(c.body.utf8))
        let links = findings.links.map { HarvestCase.Sent(url: $0.url, identity: $0.identity, via: $0.via, trap: $0.trap) }
        #expect(links == c.links)
        #expect(findings.counts == c.counts)
        #expect(findings.contentType == c.contentType)
        #expect(findings.location == c.location)
        // The page's buckets add up: every found link is sent, a duplicate, out of scope or filtered.
        #expect(c.counts.found == links.count + c.counts.duplicate + c.counts.outOfScope + c.counts.filteredTotal)
    }

    /// A page with more links than are compared one by one: repeats on either side of the switch to hashing count as
    /// duplicates, once each.
    @Test func duplicatesOnALongPage() throws {
        let distinct = SmallStringSet.linearLimit + 8
        let hrefs = (0..<distinct).map { "/p\($0)" } + ["/p0", "/p3", "/p\(distinct - 1)", "/p3"]
        let body = "<html><body>" + hrefs.map { "<a href=\"\($0)\">x</a>" }.joined() + "</body></html>"
        let harvester = try PageHarvester(options: CrawlOptionsSpec(), seeds: ["http://a.example/"], userAgent: "t")
        let findings = harvester.harvest(
            url: "http://a.example/", status: 200, rawHeader: Array("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n".utf8),
            body: Array(body.utf8))
        #expect(findings.links.map(\.url) == (0..<distinct).map { "http://a.example/p\($0)" })
        #expect(findings.counts == CrawlLinkCounts(found: distinct + 4, duplicate: 4))
    }

    @Test func productTokens() {
        #expect(PageHarvester.productToken("arachne/0.1 (+https://x)") == "arachne")
        #expect(PageHarvester.productToken("MyBot") == "MyBot")
        #expect(PageHarvester.productToken("") == "arachne")
    }

    /// One `decide` call and its answer (nil: admitted).
    struct Decision: Sendable {
        var depth: Int
        var host: String
        var trap: FetchErrorKind? = nil
        var expected: FetchErrorKind?
    }

    static let admissionCases: [(name: String, options: CrawlOptionsSpec, admitted: Int, decisions: [Decision])] = [
        ("depth limit; a trap comes first, even past the depth", CrawlOptionsSpec(maxDepth: 2), 0, [
            Decision(depth: 0, host: "a", expected: nil),
            Decision(depth: 2, host: "a", expected: nil),
            Decision(depth: 3, host: "a", expected: .maxDepth),
            Decision(depth: 1, host: "a", trap: .repeatedSegments, expected: .repeatedSegments),
            Decision(depth: 9, host: "a", trap: .urlTooLong, expected: .urlTooLong),
        ]),
        ("max depth 0 fetches the seeds only", CrawlOptionsSpec(maxDepth: 0), 0, [
            Decision(depth: 0, host: "a", expected: nil),
            Decision(depth: 1, host: "a", expected: .maxDepth),
        ]),
        ("max pages counts admitted URLs only; skipped ones do not use up the budget",
         CrawlOptionsSpec(maxDepth: 1, maxPages: 3), 0, [
            Decision(depth: 0, host: "a", expected: nil),
            Decision(depth: 2, host: "a", expected: .maxDepth),
            Decision(depth: 1, host: "a", trap: .tooManySegments, expected: .tooManySegments),
            Decision(depth: 1, host: "b", expected: nil),
            Decision(depth: 1, host: "a", expected: nil),
            Decision(depth: 1, host: "c", expected: .maxPages),
            Decision(depth: 2, host: "c", expected: .maxDepth),
            Decision(depth: 1, host: "c", trap: .urlTooLong, expected: .urlTooLong),
        ]),
        ("per host, and max pages before per host", CrawlOptionsSpec(maxPages: 4, maxPagesPerHost: 2), 0, [
            Decision(depth: 0, host: "a:80", expected: nil),
            Decision(depth: 1, host: "a:80", expected: nil),
            Decision(depth: 1, host: "a:80", expected: .maxPagesPerHost),
            Decision(depth: 1, host: "a:8080", expected: nil),
            Decision(depth: 1, host: "b:80", expected: nil),
            Decision(depth: 1, host: "a:80", expected: .maxPages),
            Decision(depth: 1, host: "c:80", expected: .maxPages),
        ]),
        ("a resumed frontier starts from its counts", CrawlOptionsSpec(maxPages: 5), 5, [
            Decision(depth: 0, host: "a", expected: .maxPages),
        ]),
    ]

    @Test(arguments: admissionCases)
    func admission(name: String, options: CrawlOptionsSpec, admitted: Int, decisions: [Decision]) {
        var admission = FrontierAdmission(options: options, admitted: admitted)
        var count = admitted
        for (step, decision) in decisions.enumerated() {
            let got = admission.decide(depth: decision.depth, host: decision.host, trap: decision.trap)
            #expect(got == decision.expected, "\(name): step \(step)")
            if got == nil { count += 1 }
            #expect(admission.admitted == count, "\(name): step \(step)")
        }
    }

    @Test func admissionCountsPerHostAndSaysWhy() {
        var admission = FrontierAdmission(options: CrawlOptionsSpec(maxDepth: 3, maxPages: 10, maxPagesPerHost: 2))
        for host in ["a", "b", "a", "a"] { _ = admission.decide(depth: 1, host: host) }
        #expect(admission.admittedPerHost == ["a": 2, "b": 1])
        #expect(admission.admitted == 3)
        #expect(admission.message(for: .maxDepth, depth: 4, host: "a") == "depth 4 is past --max-depth 3; not fetched")
        #expect(admission.message(for: .maxPages, depth: 1, host: "a") == "the crawl reached --max-pages 10; not fetched")
        #expect(admission.message(for: .maxPagesPerHost, depth: 1, host: "a")
            == "host a reached --max-pages-per-host 2; not fetched")
    }
}
