import ArachneTestSupport
import Foundation
import Testing

/// `arachne robots`, run as the real binary: a file, each way a fetched robots.txt can end, the exit codes.
@Suite(.serialized) struct RobotsCommandTests {
    static let robots = """
        # a shop
        User-agent: *
        Disallow: /private
        Allow: /private/public
        Crawl-delay: 2

        User-agent: ExampleBot
        Disallow: /
        Allow: /$
        Sitemap: https://shop.example/sitemap.xml
        Frobnicate: yes
        """

    @Test func aFileNamesTheDecidingRuleForEachURL() throws {
        let file = temporaryDirectory("robots") + "/robots.txt"
        try Self.robots.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try runArachne([
            "robots", file, "/private/x", "https://shop.example/private/public?a=1", "/", "/%7Eme", "/robots.txt",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n") == [
            "disallowed  /private/x  line 3: Disallow: /private (group: line 2: User-agent: *)",
            "allowed     https://shop.example/private/public?a=1  line 4: Allow: /private/public (group: line 2: "
                + "User-agent: *)",
            "allowed     /  no rule matched (group: line 2: User-agent: *)",
            "allowed     /%7Eme  no rule matched (group: line 2: User-agent: *)",
            "allowed     /robots.txt  /robots.txt is always allowed",
        ])
        #expect(result.stderr.contains("robots.txt line 11: unknown key 'Frobnicate'; ignored"))
        #expect(result.stderr.contains("crawl-delay for arachne: 2 s"))
        #expect(result.stderr.contains("sitemap: https://shop.example/sitemap.xml"))

        let bot = try runArachne(["robots", file, "--agent", "examplebot/1.0", "/", "/x", "--json"])
        #expect(bot.status == 0)
        let objects = try bot.stdout.split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.count == 2)
        #expect(objects[0]["allowed"] as? Bool == true)
        #expect((objects[0]["rule"] as? [String: Any])?["line"] as? Int == 9)
        #expect(objects[1]["allowed"] as? Bool == false)
        #expect(objects[1]["agent"] as? String == "examplebot")
        #expect(objects[1]["reason"] as? String == "rule")
        #expect((objects[1]["rule"] as? [String: Any])?["text"] as? String == "Disallow: /")
        #expect((objects[1]["group"] as? [String: Any])?["line"] as? Int == 7)
        #expect(objects[1]["crawl_delay"] is NSNull)
    }

    @Test func standardInputIsAFile() throws {
        let result = try runArachne(["robots", "-", "/a", "/b"], stdin: "User-agent: *\r\nDisallow: /a\r\n")
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("disallowed  /a  line 2: Disallow: /a"))
        #expect(result.stdout.contains("allowed     /b  no rule matched"))
    }

    /// RFC 9309 §2.3.1 through the real fetcher: 2xx parsed, 4xx allows all, 5xx and no answer disallow all,
    /// redirects followed up to five.
    @Test func aFetchedRobotsTxtFollowsTheFetchPolicy() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let served = try runArachne(["robots", site.url("/robots.txt"), "/broken/x", site.url("/page/1")])
        #expect(served.status == 0, "\(served.stderr)")
        #expect(served.stdout.contains("disallowed  /broken/x  line 2: Disallow: /broken/ (group: line 1: "))
        #expect(served.stdout.contains("allowed     \(site.url("/page/1"))  no rule matched"))
        #expect(served.stderr.contains("sitemap: \(site.url("/sitemap.xml"))"))

        let missing = try runArachne(["robots", site.url("/status/404"), "/x"])
        #expect(missing.status == 0)
        #expect(missing.stdout == "allowed     /x  everything allowed: robots.txt answered 404\n")

        let failing = try runArachne(["robots", site.url("/status/503"), "/x", "/robots.txt"])
        #expect(failing.status == 0)
        #expect(failing.stdout.hasPrefix("disallowed  /x  everything disallowed for now: robots.txt answered 503\n"))
        #expect(failing.stdout.contains("allowed     /robots.txt  /robots.txt is always allowed"))

        let fiveRedirects = try runArachne(["robots", site.url("/redirect/5"), "/x"])
        #expect(fiveRedirects.stdout.hasPrefix("allowed     /x  no group for this agent"), "\(fiveRedirects.stdout)")
        let sixRedirects = try runArachne(["robots", site.url("/redirect/6"), "/x"])
        #expect(sixRedirects.stdout == "allowed     /x  everything allowed: robots.txt redirected more than 5 times\n")

        let unreachable = try runArachne(["robots", "http://127.0.0.1:1/robots.txt", "/x", "--json"])
        #expect(unreachable.status == 0)
        #expect(unreachable.stdout.contains("\"allowed\":false"))
        #expect(unreachable.stdout.contains("\"reason\":\"disallow-all\""))
        #expect(unreachable.stdout.contains("robots.txt is unreachable"))
    }

    @Test func exitCodes() throws {
        let unreadable = try runArachne(["robots", "/nonexistent/robots.txt", "/x"])
        #expect(unreadable.status == 1)
        #expect(unreadable.stderr.contains("cannot read '/nonexistent/robots.txt'"))
        let directory = try runArachne(["robots", temporaryDirectory("robots-dir"), "/x"])
        #expect(directory.status == 1)
        let noURL = try runArachne(["robots", "-"], stdin: "")
        #expect(noURL.status == 2)
        #expect(noURL.stderr.contains("give at least one URL or path to check"))
        let badAgent = try runArachne(["robots", "-", "--agent", "*", "/x"], stdin: "")
        #expect(badAgent.status == 2)
        let badURL = try runArachne(["robots", "-", "http://"], stdin: "")
        #expect(badURL.status == 2)
        #expect(badURL.stderr.contains("'http://' is neither a URL nor a path"))
    }
}
