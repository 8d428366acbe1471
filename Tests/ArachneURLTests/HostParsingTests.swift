@testable import ArachneURL
import Testing

/// Host parsing: IPv4 numbers, IPv6 addresses, internationalized domains, opaque hosts.
@Suite struct HostParsingTests {
    static let ipv4: [ParseCase] = [
        ParseCase("http://192.168.0.1/", "http://192.168.0.1/"),
        ParseCase("http://0xC0.0xA8.0.1/", "http://192.168.0.1/"),
        ParseCase("http://0300.0250.0.01/", "http://192.168.0.1/"),
        ParseCase("http://192.168.1/", "http://192.168.0.1/"),
        ParseCase("http://192.11010049/", "http://192.168.0.1/"),
        ParseCase("http://3232235521/", "http://192.168.0.1/"),
        ParseCase("http://0xC0A80001/", "http://192.168.0.1/"),
        ParseCase("http://127.1/", "http://127.0.0.1/"),
        ParseCase("http://0x/", "http://0.0.0.0/"),
        ParseCase("http://1.2.3.4./", "http://1.2.3.4/"),
        ParseCase("http://4294967295/", "http://255.255.255.255/"),
        ParseCase("http://4294967296/", nil),
        ParseCase("http://256.1.1.1/", nil),
        ParseCase("http://1.2.3.256/", nil),
        ParseCase("http://1.2.65536/", nil),
        ParseCase("http://1.2.3.4.5/", nil),
        ParseCase("http://1.2.3.09/", nil),
        ParseCase("http://1.2.3.0x1g/", "http://1.2.3.0x1g/"),
        ParseCase("http://1.2..3/", nil),
        ParseCase("http://09.example/", "http://09.example/"),
        ParseCase("http://example.0x/", nil),
        ParseCase("http://example.1./", nil),
        ParseCase("http://1.2.3.4.5.example/", "http://1.2.3.4.5.example/"),
        ParseCase("foo://1.2/", "foo://1.2/"),
        ParseCase("http://%31%32%37.1/", "http://127.0.0.1/"),
    ]

    static let ipv6: [ParseCase] = [
        ParseCase("http://[::1]/", "http://[::1]/"),
        ParseCase("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/"),
        ParseCase("http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/"),
        ParseCase("http://[1:0:0:2:0:0:0:3]/", "http://[1:0:0:2::3]/"),
        ParseCase("http://[1:0:0:2:0:0:3:4]/", "http://[1::2:0:0:3:4]/"),
        ParseCase("http://[1:0:2:3:4:5:6:7]/", "http://[1:0:2:3:4:5:6:7]/"),
        ParseCase("http://[::]/", "http://[::]/"),
        ParseCase("http://[::ffff:192.168.0.1]/", "http://[::ffff:c0a8:1]/"),
        ParseCase("http://[::127.0.0.1]/", "http://[::7f00:1]/"),
        ParseCase("http://[1:2:3:4:5:6:1.2.3.4]/", "http://[1:2:3:4:5:6:102:304]/"),
        ParseCase("http://[0001:0002::0003]/", "http://[1:2::3]/"),
        ParseCase("foo://[::1]/", "foo://[::1]/"),
        ParseCase("http://[::1/", nil),
        ParseCase("http://[::1]x/", nil),
        ParseCase("http://[1:2:3:4:5:6:7:8:9]/", nil),
        ParseCase("http://[1::2::3]/", nil),
        ParseCase("http://[:1]/", nil),
        ParseCase("http://[1:]/", nil),
        ParseCase("http://[12345::]/", nil),
        ParseCase("http://[::1.2.3]/", nil),
        ParseCase("http://[::1.2.3.04]/", nil),
        ParseCase("http://[::256.0.0.1]/", nil),
        ParseCase("http://[1:2:3:4:5:6:7:1.2.3.4]/", nil),
        ParseCase("http://[g::1]/", nil),
    ]

    static let domains: [ParseCase] = [
        ParseCase("http://ExAmPlE.CoM/", "http://example.com/"),
        ParseCase("http://bücher.de/", "http://xn--bcher-kva.de/"),
        ParseCase("http://BÜCHER.de/", "http://xn--bcher-kva.de/"),
        ParseCase("http://ＥＸＡＭＰＬＥ．ｃｏｍ/", "http://example.com/"),
        ParseCase("http://faß.de/", "http://xn--fa-hia.de/"),
        ParseCase("http://例子。测试/", "http://xn--fsqu00a.xn--0zwm56d/"),
        ParseCase("http://XN--BCHER-KVA.de/", "http://xn--bcher-kva.de/"),
        ParseCase("http://b%C3%BCcher.de/", "http://xn--bcher-kva.de/"),
        ParseCase("http://a\u{AD}b.com/", "http://ab.com/"),
        ParseCase("http://a..b/", "http://a..b/"),
        ParseCase("http://a_b.com/", "http://a_b.com/"),
        ParseCase("http://" + String(repeating: "a", count: 70) + ".com/",
                  "http://" + String(repeating: "a", count: 70) + ".com/"),
        ParseCase("http://ex%41mple.com/", "http://example.com/"),
        ParseCase("http://a b/", nil),
        ParseCase("http://a%20b/", nil),
        ParseCase("http://a<b/", nil),
        ParseCase("http://a^b/", nil),
        ParseCase("http://a%25b/", nil),
        ParseCase("http://\u{7F}/", nil),
        ParseCase("http://xn--a/", nil),
        ParseCase("http://\u{200D}/", nil),
        ParseCase("http://%ff/", nil),
        ParseCase("http://%/", nil),
    ]

    static let opaqueHosts: [ParseCase] = [
        ParseCase("foo://ExAmPlE/", "foo://ExAmPlE/"),
        ParseCase("foo://ü/", "foo://%C3%BC/"),
        ParseCase("foo://a%20b/", "foo://a%20b/"),
        ParseCase("foo://a%/", "foo://a%/"),
        ParseCase("foo://a b/", nil),
        ParseCase("foo://a<b/", nil),
        ParseCase("foo://a^b/", nil),
        ParseCase("foo://a|b/", nil),
        ParseCase("foo://[1::x]/", nil),
        ParseCase("foo://a\u{7F}b/", "foo://a%7Fb/"),
    ]

    @Test(arguments: ipv4) func ipv4Numbers(_ parse: ParseCase) { parse.run() }
    @Test(arguments: ipv6) func ipv6Addresses(_ parse: ParseCase) { parse.run() }
    @Test(arguments: domains) func domainsToASCII(_ parse: ParseCase) { parse.run() }
    @Test(arguments: opaqueHosts) func nonSpecialHosts(_ parse: ParseCase) { parse.run() }
}

@Suite struct DottedDecimalFastPathTests {
    /// The fast path takes only hosts that the IPv4 parser would serialize to themselves; the rest go the long way.
    @Test(arguments: [
        ("1.2.3.4", true), ("0.0.0.0", true), ("255.255.255.255", true), ("127.0.0.2", true),
        ("01.2.3.4", false), ("256.1.1.1", false), ("1.2.3", false), ("1.2.3.4.", false), ("1.2.3.4.5", false),
        ("0x7f.0.0.1", false), ("1..2.3", false), (".1.2.3", false), ("1.2.3.1000", false), ("", false),
        ("a.b.c.d", false), ("1.2.3.04", false),
    ])
    func fastPathTakesOnlyCanonicalIPv4(host: String, expected: Bool) throws {
        #expect(HostParser.isCanonicalDottedDecimal(Array(host.utf8)[...]) == expected)
        if expected {
            // And the long way agrees: the same serialization.
            #expect(try WebURL.parse("http://\(host)/").host == host)
        }
    }
}
