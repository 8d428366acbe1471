import ArachneSite
import ArachneTestSupport
import Foundation
import Testing

/// `arachne links`, run as the real binary.
@Suite(.serialized) struct LinksCommandTests {
    static let html = """
        <!DOCTYPE html>
        <html><head><title>links</title><base href="sub/"></head><body>
        <a href="a#frag">a</a>
        <a href="../b?q=1">b</a>
        <a href="/root/%7Etilde">tilde</a>
        <a href="mailto:spider@example.invalid">mail</a>
        <a rel="nofollow" href="hidden">nofollow</a>
        <a href="javascript:void(0)">js</a>
        <a href="http://[::1">broken</a>
        <!-- <a href="in-comment">no</a> -->
        <a href="./a">a again</a>
        <area href="//other.example/x#y">
        <a href="#top">self</a>
        </body></html>

        """

    /// The file's links resolved against http://h.example/dir/page.html and its <base href="sub/">.
    static let expected = [
        "http://h.example/dir/sub/a",
        "http://h.example/dir/b?q=1",
        "http://h.example/root/%7Etilde",
        "http://h.example/dir/sub/a",
        "http://other.example/x",
        "http://h.example/dir/sub/",
    ]

    static func writeFile(_ text: String = html) throws -> String {
        let path = temporaryDirectory("links") + "/page.html"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func objects(_ text: String) throws -> [[String: Any]] {
        try lines(text).map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }

    @Test func aFileWithBaseGivesTheResolvedHrefsInDocumentOrder() throws {
        let file = try Self.writeFile()
        let result = try runArachne(["links", file, "--base", "http://h.example/dir/page.html"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.lines(result.stdout) == Self.expected)
        #expect(!result.stdout.contains("#"))
        // What was dropped is counted on standard error.
        #expect(result.stderr.contains("1 invalid-url"), "\(result.stderr)")
        #expect(result.stderr.contains("1 nofollow"), "\(result.stderr)")
        #expect(result.stderr.contains("2 unsupported-scheme"), "\(result.stderr)")
    }

    @Test func standardInputWorksLikeAFile() throws {
        let result = try runArachne(["links", "-", "--base", "http://h.example/dir/page.html"], stdin: Self.html)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.lines(result.stdout) == Self.expected)
    }

    @Test func jsonGivesEveryLinkWithItsCanonicalIdentityAndWhyItIsDropped() throws {
        let file = try Self.writeFile()
        let result = try runArachne(["links", file, "--base", "http://h.example/dir/page.html", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let links = try Self.objects(result.stdout)
        try #require(links.count == 10, "\(result.stdout)")
        struct Row: Equatable {
            var href: String
            var element: String
            var url: String?
            var canonical: String?
            var followed: Bool
            var dropped: String?
        }
        let rows = links.map { object in
            Row(href: object["href"] as? String ?? "?", element: object["element"] as? String ?? "?",
                url: object["url"] as? String, canonical: object["canonical"] as? String,
                followed: object["followed"] as? Bool ?? false, dropped: object["dropped"] as? String)
        }
        let expected: [Row] = [
            Row(href: "a#frag", element: "a", url: "http://h.example/dir/sub/a", canonical: "http://h.example/dir/sub/a",
                followed: true, dropped: nil),
            Row(href: "../b?q=1", element: "a", url: "http://h.example/dir/b?q=1",
                canonical: "http://h.example/dir/b?q=1", followed: true, dropped: nil),
            Row(href: "/root/%7Etilde", element: "a", url: "http://h.example/root/%7Etilde",
                canonical: "http://h.example/root/~tilde", followed: true, dropped: nil),
            Row(href: "mailto:spider@example.invalid", element: "a", url: "mailto:spider@example.invalid",
                canonical: "mailto:spider@example.invalid", followed: false, dropped: "unsupported-scheme"),
            Row(href: "hidden", element: "a", url: "http://h.example/dir/sub/hidden",
                canonical: "http://h.example/dir/sub/hidden", followed: false, dropped: "nofollow"),
            Row(href: "javascript:void(0)", element: "a", url: "javascript:void(0)", canonical: "javascript:void(0)",
                followed: false, dropped: "unsupported-scheme"),
            Row(href: "http://[::1", element: "a", url: nil, canonical: nil, followed: false, dropped: "invalid-url"),
            Row(href: "./a", element: "a", url: "http://h.example/dir/sub/a", canonical: "http://h.example/dir/sub/a",
                followed: true, dropped: "duplicate"),
            Row(href: "//other.example/x#y", element: "area", url: "http://other.example/x",
                canonical: "http://other.example/x", followed: true, dropped: nil),
            Row(href: "#top", element: "a", url: "http://h.example/dir/sub/", canonical: "http://h.example/dir/sub/",
                followed: true, dropped: nil),
        ]
        // The link in the comment is not a link.
        #expect(rows == expected)
        #expect(rows.allSatisfy { $0.href != "in-comment" })
        // Every line has every field; a dropped link says why, a kept one does not.
        for object in links {
            #expect(Set(object.keys) == ["href", "element", "line", "url", "canonical", "followed", "dropped", "reason",
                                          "trap"])
            let dropped = object["dropped"] as? String
            let reason = object["reason"] as? String
            #expect((dropped == nil) == (reason == nil), "\(object)")
        }
        let reasons = Dictionary(links.compactMap { object -> (String, String)? in
            guard let dropped = object["dropped"] as? String, let reason = object["reason"] as? String else { return nil }
            return (dropped, reason)
        }, uniquingKeysWith: { first, _ in first })
        #expect(reasons["unsupported-scheme"]?.contains("mailto") == true)
        #expect(reasons["invalid-url"]?.hasPrefix("does not parse") == true)
        #expect(reasons["nofollow"] == "nofollow")
        #expect((links[0]["line"] as? Int) == 3)
    }

    @Test(arguments: ["file", "directory"])
    func aMissingFileOrADirectoryIsAClearError(kind: String) throws {
        let directory = temporaryDirectory("links-bad")
        let path = kind == "file" ? directory + "/no-such-page.html" : directory
        let result = try runArachne(["links", path, "--base", "http://h.example/"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        if kind == "file" {
            #expect(result.stderr.contains("cannot read '\(path)'"), "\(result.stderr)")
            #expect(result.stderr.contains("no such file"), "\(result.stderr)")
        } else {
            #expect(result.stderr.contains("'\(path)' is a directory"), "\(result.stderr)")
        }
    }

    @Test func aBaseThatIsNotAURLIsAnError() throws {
        let file = try Self.writeFile()
        let result = try runArachne(["links", file, "--base", "not a url"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("not a URL"), "\(result.stderr)")
    }

    /// The demo-site pages whose links resolve differently against the wrong base, as the site's own data has them.
    @Test(arguments: ["/crawl/relative/", "/crawl/relative/deeper", "/crawl/base", "/crawl/hidden", "/"])
    func aURLOnTheDemoSiteResolvesAgainstTheFetchedURL(path: String) throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let resource = try #require(DemoSite.crawlResource(at: path))
        let text = try runArachne(["links", site.url(path)])
        #expect(text.status == 0, "\(text.stderr)")
        let json = try runArachne(["links", site.url(path), "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let rows = try Self.objects(json.stdout)
        // The site's data lists every reference; only anchors are links, in document order.
        let anchors = resource.links.filter {
            switch $0.placement {
            case .anchor, .anchorRel: true
            default: false
            }
        }
        #expect(rows.map { $0["href"] as? String } == anchors.map(\.href))
        for (row, link) in zip(rows, anchors) {
            switch link.target {
            case .path(let target):
                #expect(row["canonical"] as? String == site.url(target), "\(link.href)")
            case .otherHost(let url):
                #expect(row["canonical"] as? String == url, "\(link.href)")
            case .notHTTP:
                #expect(row["dropped"] as? String == "unsupported-scheme", "\(link.href)")
            }
            #expect((row["dropped"] as? String == "nofollow") == !link.placement.isFollowed, "\(link.href)")
        }
        // The text output: the followed http(s) links, each as resolved (no fragment), duplicates included.
        let printed = Self.lines(text.stdout)
        let followedHTTP = zip(rows, anchors).filter { row, link in
            link.placement.isFollowed && !(link.target == .notHTTP)
        }
        #expect(printed == followedHTTP.map { $0.0["url"] as? String ?? "?" })
        #expect(printed.allSatisfy { !$0.contains("#") })
    }

    @Test func aRedirectedURLResolvesAgainstWhereItEnded() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        // A loopback server on another port that redirects everything to the site's page of relative links: they
        // must resolve against the site's URL, not the redirecting one.
        let redirector = try Redirector(to: site.url("/crawl/relative/"))
        defer { redirector.stop() }
        let result = try runArachne(["links", redirector.url + "/go/somewhere/deep"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try runArachne(["links", redirector.url + "/go/somewhere/deep", "--json"])
        let resource = try #require(DemoSite.crawlResource(at: "/crawl/relative/"))
        let canonical = try Self.objects(json.stdout).map { $0["canonical"] as? String ?? "?" }
        #expect(canonical == resource.links.map { link -> String in
            if case .path(let path) = link.target { site.url(path) } else { "?" }
        })
        #expect(Self.lines(result.stdout).count == resource.links.count)
        #expect(Self.lines(result.stdout).allSatisfy { $0.hasPrefix(site.url("/")) }, "\(result.stdout)")
    }

    @Test func aMetaNofollowPagePrintsNothingAndSaysSo() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let result = try runArachne(["links", site.url("/crawl/meta-nofollow")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("2 nofollow"), "\(result.stderr)")
    }

    @Test func aURLThatCannotBeFetchedIsAnError() throws {
        let result = try runArachne(["links", "http://127.0.0.1:1/"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot fetch http://127.0.0.1:1/"), "\(result.stderr)")
    }
}

/// A loopback HTTP server (Python's http.server, a child process of the test) that answers every GET with a 301 to
/// one URL.
final class Redirector {
    let process = Process()
    let url: String

    init(to target: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import http.server, sys
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(301)
                    self.send_header("Location", sys.argv[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                def log_message(self, *args):
                    pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """, target]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { break }
            line.append(byte)
        }
        let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard Int(port) != nil else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw RedirectorError(message: "the redirecting server did not start: '\(port)'")
        }
        url = "http://127.0.0.1:\(port)"
    }

    func stop() {
        // Our own child, not reaped before waitUntilExit, so the pid is still its.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

struct RedirectorError: Error {
    var message: String
}
