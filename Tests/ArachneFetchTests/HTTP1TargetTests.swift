import ArachneCore
@testable import ArachneFetch
import ArachneSystem
import Testing

@Suite struct HTTP1TargetTests {
    @Test func plainHTTPToAnAddressIsNative() throws {
        let target = try #require(HTTP1Target(url: "HTTP://127.0.0.1:8080/a/b?c=d#frag", pins: [:]))
        #expect(target.authority == "127.0.0.1:8080")
        #expect(target.address == IPv4Address("127.0.0.1", port: 8080))
        #expect(target.hostHeader == "127.0.0.1:8080")
        #expect(target.requestTarget == "/a/b?c=d")
        let bare = try #require(HTTP1Target(url: "http://10.1.2.3?q", pins: [:]))
        #expect(bare.requestTarget == "/?q")
        #expect(bare.hostHeader == "10.1.2.3")
        #expect(bare.address?.port == 80)
    }

    @Test func pinnedNamesAreNativeAndEverythingElseGoesToCurl() throws {
        let pins = HTTP1Target.pins(from: ["h1.test:80:127.0.0.2", "+h2.test:80:127.0.0.3", "h3.test:80:::1"])
        #expect(pins == ["h1.test:80": IPv4Address("127.0.0.2", port: 80)!])
        let pinned = try #require(HTTP1Target(url: "http://H1.test/x", pins: pins))
        #expect(pinned.hostHeader == "h1.test")
        #expect(pinned.address == IPv4Address("127.0.0.2", port: 80))
        // Names are native too, looked up later; an unpinned port of a pinned name is a name like any other.
        let name = try #require(HTTP1Target(url: "http://LocalHost:8080/x", pins: pins))
        #expect(name.address == nil && name.host == "localhost" && name.port == 8080)
        #expect(HTTP1Target(url: "http://h1.test:81/", pins: pins)?.address == nil)
        for url in ["https://127.0.0.1/", "http://[::1]/", "http://user@127.0.0.1/", "http://127.0.0.1:0/",
                    "http://127.0.0.1:99999/", "http://127.0.0.1/é", "http:///x", "ftp://127.0.0.1/",
                    "http://under_score.test/", "http://trailing.dot./", "http://a..b/"]
        {
            #expect(HTTP1Target(url: url, pins: pins) == nil, "\(url)")
        }
    }

    @Test func redirectLocationsResolveAsBrowsersDo() {
        let base = "http://127.0.0.1:80/a/b/c?q=1"
        let cases: [(String, String?)] = [
            ("/x", "http://127.0.0.1:80/x"),
            ("x", "http://127.0.0.1:80/a/b/x"),
            ("../x?y=2", "http://127.0.0.1:80/a/x?y=2"),
            ("./", "http://127.0.0.1:80/a/b/"),
            ("?z=3", "http://127.0.0.1:80/a/b/c?z=3"),
            ("//other.test/p", "http://other.test/p"),
            ("HTTPS://secure.test/#top", "HTTPS://secure.test/"),
            ("/../../x#f", "http://127.0.0.1:80/x"),
            ("mailto:someone@example.com", nil),
        ]
        for (location, expected) in cases {
            #expect(RedirectLocation.resolve(location, against: base) == expected, "\(location)")
        }
    }

    @Test func theRequestIsBuiltOnceFromTheSettings() throws {
        let plan = try #require(NativeRequestPlan(settings: FetchSettings(userAgent: "ua/1", headers: ["X-A: 1"])))
        let target = try #require(HTTP1Target(url: "http://127.0.0.1:81/p", pins: [:]))
        #expect(String(decoding: plan.request(for: target), as: UTF8.self)
            == "GET /p HTTP/1.1\r\nHost: 127.0.0.1:81\r\nUser-Agent: ua/1\r\nAccept: */*\r\n"
            + "Accept-Encoding: gzip, deflate\r\nX-A: 1\r\n\r\n")
        let identity = try #require(NativeRequestPlan(settings: FetchSettings(acceptEncoding: "identity", forbidReuse: true)))
        #expect(!identity.decodes)
        #expect(!String(decoding: identity.headerTail, as: UTF8.self).contains("Accept-Encoding"))
        #expect(String(decoding: identity.headerTail, as: UTF8.self).contains("Connection: close\r\n"))
        // What only libcurl does: codings zlib cannot decode, curl's header syntax, managed headers.
        #expect(NativeRequestPlan(settings: FetchSettings(acceptEncoding: "br")) == nil)
        #expect(NativeRequestPlan(settings: FetchSettings(headers: ["X-Empty;"])) == nil)
        #expect(NativeRequestPlan(settings: FetchSettings(headers: ["Host: other"])) == nil)
        #expect(NativeRequestPlan(settings: FetchSettings(headers: ["Accept:"])) == nil)
    }
}
