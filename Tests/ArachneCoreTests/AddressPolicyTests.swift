import ArachneCore
import Foundation
import Testing

@Suite struct AddressPolicyTests {
    /// The default guard (no adjustments) on edge addresses of every range: nil means allowed, else the reason.
    static let defaults: [(address: String, blocked: String?)] = [
        // IPv4: each special range's first and last address, and the public neighbours just outside.
        ("0.0.0.0", "this network 0.0.0.0/8"),
        ("0.255.255.255", "this network 0.0.0.0/8"),
        ("1.0.0.0", nil),
        ("9.255.255.255", nil),
        ("10.0.0.0", "private 10.0.0.0/8"),
        ("10.255.255.255", "private 10.0.0.0/8"),
        ("11.0.0.0", nil),
        ("100.63.255.255", nil),
        ("100.64.0.0", "carrier-grade NAT 100.64.0.0/10"),
        ("100.127.255.255", "carrier-grade NAT 100.64.0.0/10"),
        ("100.128.0.0", nil),
        ("126.255.255.255", nil),
        ("127.0.0.0", "loopback 127.0.0.0/8"),
        ("127.0.0.1", "loopback 127.0.0.0/8"),
        ("127.255.255.255", "loopback 127.0.0.0/8"),
        ("128.0.0.0", nil),
        ("169.253.255.255", nil),
        ("169.254.0.0", "link-local 169.254.0.0/16"),
        ("169.254.169.254", "link-local 169.254.0.0/16"),
        ("169.255.0.0", nil),
        ("172.15.255.255", nil),
        ("172.16.0.0", "private 172.16.0.0/12"),
        ("172.31.255.255", "private 172.16.0.0/12"),
        ("172.32.0.0", nil),
        ("192.0.0.0", "IETF protocol assignments 192.0.0.0/24"),
        ("192.0.0.255", "IETF protocol assignments 192.0.0.0/24"),
        ("192.0.1.0", nil),
        ("192.0.2.0", "documentation 192.0.2.0/24"),
        ("192.0.2.255", "documentation 192.0.2.0/24"),
        ("192.0.3.0", nil),
        ("192.88.98.255", nil),
        ("192.88.99.1", "6to4 relay anycast 192.88.99.0/24"),
        ("192.88.100.0", nil),
        ("192.167.255.255", nil),
        ("192.168.0.0", "private 192.168.0.0/16"),
        ("192.168.255.255", "private 192.168.0.0/16"),
        ("192.169.0.0", nil),
        ("198.17.255.255", nil),
        ("198.18.0.0", "benchmarking 198.18.0.0/15"),
        ("198.19.255.255", "benchmarking 198.18.0.0/15"),
        ("198.20.0.0", nil),
        ("198.51.100.7", "documentation 198.51.100.0/24"),
        ("203.0.113.255", "documentation 203.0.113.0/24"),
        ("203.0.114.0", nil),
        ("223.255.255.255", nil),
        ("224.0.0.0", "multicast 224.0.0.0/4"),
        ("239.255.255.255", "multicast 224.0.0.0/4"),
        ("240.0.0.0", "reserved 240.0.0.0/4"),
        ("255.255.255.254", "reserved 240.0.0.0/4"),
        ("255.255.255.255", "broadcast 255.255.255.255/32"),
        ("8.8.8.8", nil),
        ("93.184.216.34", nil),
        // IPv6.
        ("::", "unspecified ::/128"),
        ("::1", "loopback ::1/128"),
        ("::2", "IPv4-compatible (deprecated) ::/96"),
        ("::7f00:1", "IPv4-compatible (deprecated) ::/96"),
        ("::1:0:0:0", nil),
        ("2606:4700::1111", nil),
        ("2001:4860:4860::8888", nil),
        ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nil),
        ("fc00::", "unique-local fc00::/7"),
        ("fd00:ec2::254", "unique-local fc00::/7"),
        ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique-local fc00::/7"),
        ("fe00::", nil),
        ("fe80::", "link-local fe80::/10"),
        ("fe80::1", "link-local fe80::/10"),
        ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local fe80::/10"),
        ("fec0::1", "site-local (deprecated) fec0::/10"),
        ("ff00::", "multicast ff00::/8"),
        ("ff02::1", "multicast ff00::/8"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast ff00::/8"),
        ("100::", "discard-only 100::/64"),
        ("100::ffff:ffff:ffff:ffff", "discard-only 100::/64"),
        ("100:0:0:1::", nil),
        ("2001::1", "Teredo 2001::/32"),
        ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "Teredo 2001::/32"),
        ("2001:1::1", nil),  // PCP anycast: globally reachable
        ("2001:2::1", "benchmarking 2001:2::/48"),
        ("2001:2:1::", nil),
        ("2001:3::1", nil),  // AMT: globally reachable
        ("2001:10::1", "ORCHID (deprecated) 2001:10::/28"),
        ("2001:20::1", nil),  // ORCHIDv2: globally reachable
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", nil),
        ("2001:db8::", "documentation 2001:db8::/32"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation 2001:db8::/32"),
        ("2001:db9::", nil),
        ("3fff::1", "documentation 3fff::/20"),
        ("3fff:1000::", nil),
        ("5f00::1", "SRv6 segment identifiers 5f00::/16"),
        // IPv4-mapped: the IPv4 address itself.
        ("::ffff:127.0.0.1", "loopback 127.0.0.0/8"),
        ("::ffff:7f00:2", "loopback 127.0.0.0/8"),
        ("::ffff:169.254.169.254", "link-local 169.254.0.0/16"),
        ("::ffff:10.1.2.3", "private 10.0.0.0/8"),
        ("::ffff:0.0.0.0", "this network 0.0.0.0/8"),
        ("::ffff:8.8.8.8", nil),
        // NAT64 (well-known prefix): the embedded IPv4 address.
        ("64:ff9b::7f00:1", "NAT64 64:ff9b::/96 of loopback 127.0.0.0/8"),
        ("64:ff9b::169.254.169.254", "NAT64 64:ff9b::/96 of link-local 169.254.0.0/16"),
        ("64:ff9b::a00:1", "NAT64 64:ff9b::/96 of private 10.0.0.0/8"),
        ("64:ff9b::808:808", nil),
        ("64:ff9b::1:808:808", nil),  // outside the /96: neither NAT64 form, an ordinary address
        // Local-use NAT64: the IPv4 address at the /96 position, and at the /64 one (bits 72–103) when laid out so.
        ("64:ff9b:1::7f00:1", "local-use NAT64 64:ff9b:1::/48 of loopback 127.0.0.0/8"),
        ("64:ff9b:1::808:808", nil),
        ("64:ff9b:1:0:a:0:100:0", "local-use NAT64 64:ff9b:1::/48 of private 10.0.0.0/8"),  // /64: 10.0.0.1
        ("64:ff9b:1:0:8:808:800:0", nil),  // /64: 8.8.8.8, /96: 8.0.0.0
        ("64:ff9b:1:0:ff0a:0:100:0", nil),  // a "u" octet set: not the /64 layout; /96 reads 1.0.0.0
        ("64:ff9b:1:808:8:800::", "local-use NAT64 64:ff9b:1::/48 of this network 0.0.0.0/8"),  // /48 layout
        // 6to4: the embedded IPv4 address.
        ("2002:7f00:1::1", "6to4 2002::/16 of loopback 127.0.0.0/8"),
        ("2002:a9fe:a9fe::", "6to4 2002::/16 of link-local 169.254.0.0/16"),
        ("2002:808:808::1", nil),
    ]

    @Test(arguments: defaults) func defaultGuard(address: String, blocked: String?) throws {
        let ip = try #require(IPAddress(address), "\(address) parses")
        let verdict = AddressPolicy().verdict(for: ip, host: "example.test")
        #expect(verdict == (blocked.map { .blocked(reason: $0) } ?? .allowed))
    }

    /// Every special range's base address is blocked by its own row (the table has no unreachable row).
    @Test func everySpecialRangeNamesItsOwnRefusal() {
        for special in AddressPolicy.specialPurpose {
            let range = special.range
            let inside = range.prefixLength == 128 ? range.base : IPAddress(ipv6: range.base.bits | 2)
            #expect(AddressPolicy().verdict(for: inside, host: "") == .blocked(reason: special.name))
        }
    }

    /// Adjustments: (policy, address, host, allowed).
    static let adjustments: [(String, AddressPolicy, String, String, Bool)] = {
        func r(_ text: String) -> AddressRange { try! AddressRange(parsing: text) }
        let loopbackBut1 = AddressPolicy(deny: [r("127.0.0.0/8")], allowedHosts: [], allowPrivate: true)
        return [
            ("allow-private lifts the defaults", AddressPolicy(allowPrivate: true), "10.0.0.1", "x.test", true),
            ("allow-private lifts the defaults for IPv6", AddressPolicy(allowPrivate: true), "fd00::1", "x", true),
            ("allow-private keeps deny", AddressPolicy(deny: [r("10.0.0.0/8")], allowPrivate: true), "10.9.9.9", "x",
             false),
            ("allow opens a range", AddressPolicy(allow: [r("127.0.0.2/32")]), "127.0.0.2", "x", true),
            ("allow opens only its range", AddressPolicy(allow: [r("127.0.0.2/32")]), "127.0.0.3", "x", false),
            ("allow covers the mapped form", AddressPolicy(allow: [r("127.0.0.2/32")]), "::ffff:127.0.0.2", "x", true),
            ("allow of an IPv6 range", AddressPolicy(allow: [r("fd00:1::/32")]), "fd00:1::5", "x", true),
            ("deny blocks a public address", AddressPolicy(deny: [r("93.184.0.0/16")]), "93.184.216.34", "x", false),
            ("deny blocks the mapped form", AddressPolicy(deny: [r("93.184.0.0/16")]), "::ffff:93.184.216.34", "x",
             false),
            ("deny blocks the NAT64 form", AddressPolicy(deny: [r("93.184.0.0/16")]), "64:ff9b::5db8:d822", "x", false),
            ("a longer allow beats a deny", AddressPolicy(allow: [r("10.1.2.3/32")], deny: [r("10.0.0.0/8")]),
             "10.1.2.3", "x", true),
            ("a longer deny beats an allow", AddressPolicy(allow: [r("10.0.0.0/8")], deny: [r("10.1.0.0/16")]),
             "10.1.2.3", "x", false),
            ("deny wins a tie", AddressPolicy(allow: [r("10.0.0.0/8")], deny: [r("10.0.0.0/8")]), "10.1.2.3", "x",
             false),
            ("deny of 127/8 except an allow", AddressPolicy(allow: [r("127.0.0.1/32")], deny: [r("127.0.0.0/8")]),
             "127.0.0.1", "x", true),
            ("deny of 127/8 with allow-private", loopbackBut1, "127.0.0.2", "x", false),
            ("a seed host may be private", AddressPolicy(allowedHosts: ["localhost"]), "127.0.0.1", "localhost", true),
            ("seed hosts compare without case or trailing dot", AddressPolicy(allowedHosts: ["LocalHost."]),
             "127.0.0.1", "LOCALHOST.", true),
            ("an IPv6 seed host in brackets", AddressPolicy(allowedHosts: ["[::1]"]), "::1", "[::1]", true),
            ("another host is not the seed's", AddressPolicy(allowedHosts: ["localhost"]), "127.0.0.1", "evil.test",
             false),
            ("deny applies to a seed host", AddressPolicy(deny: [r("127.0.0.0/8")], allowedHosts: ["localhost"]),
             "127.0.0.1", "localhost", false),
            ("::/0 denies IPv4 too", AddressPolicy(deny: [r("::/0")], allowPrivate: true), "8.8.8.8", "x", false),
            ("0.0.0.0/0 denies no IPv6", AddressPolicy(deny: [r("0.0.0.0/0")]), "2606:4700::1111", "x", true),
        ]
    }()

    @Test(arguments: adjustments) func adjustedGuard(
        _ name: String, policy: AddressPolicy, address: String, host: String, allowed: Bool
    ) throws {
        let ip = try #require(IPAddress(address))
        #expect(policy.verdict(for: ip, host: host).isAllowed == allowed, "\(name)")
    }

    @Test func aDenyNamesItsRange() throws {
        let policy = AddressPolicy(deny: [try AddressRange(parsing: "93.184.0.0/16")])
        #expect(policy.verdict(for: try #require(IPAddress("93.184.216.34")), host: "x")
            == .blocked(reason: "denied 93.184.0.0/16"))
    }

    // MARK: Parsing

    static let ranges: [(text: String, parsed: String?, message: String?)] = [
        ("10.0.0.0/8", "10.0.0.0/8", nil),
        ("10.1.2.3", "10.1.2.3/32", nil),
        ("0.0.0.0/0", "0.0.0.0/0", nil),
        ("fc00::/7", "fc00::/7", nil),
        ("FE80::/10", "fe80::/10", nil),
        ("::1", "::1/128", nil),
        ("::/0", "::/0", nil),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8", nil),
        ("2001:db8:0:0:0:0:0:0/32", "2001:db8::/32", nil),
        ("10.0.0.1/8", nil, "'10.0.0.1/8' has address bits set past its prefix length: did you mean 10.0.0.0/8?"),
        ("fe80::1/10", nil, "'fe80::1/10' has address bits set past its prefix length: did you mean fe80::/10?"),
        ("10.0.0.0/33", nil, "'10.0.0.0/33': the prefix length must be a number from 0 to 32 for an IPv4 range"),
        ("::/129", nil, "'::/129': the prefix length must be a number from 0 to 128 for an IPv6 range"),
        ("10.0.0.0/", nil, "'10.0.0.0/': the prefix length must be a number from 0 to 32 for an IPv4 range"),
        ("10.0.0.0/-1", nil, "'10.0.0.0/-1': the prefix length must be a number from 0 to 32 for an IPv4 range"),
        ("10.0.0.0/8/8", nil, "'10.0.0.0/8/8': the prefix length must be a number from 0 to 32 for an IPv4 range"),
        ("localhost/8", nil, "'localhost/8' is not a CIDR range: write ADDRESS/LENGTH with a dotted-quad IPv4 or an "
            + "IPv6 address, e.g. 10.0.0.0/8 or fc00::/7"),
        ("", nil, "'' is not a CIDR range: write ADDRESS/LENGTH with a dotted-quad IPv4 or an IPv6 address, e.g. "
            + "10.0.0.0/8 or fc00::/7"),
    ]

    @Test(arguments: ranges) func cidrParsing(text: String, parsed: String?, message: String?) {
        do {
            let range = try AddressRange(parsing: text)
            #expect(range.description == parsed)
            #expect(message == nil)
        } catch {
            #expect(parsed == nil)
            #expect(error.description == message)
        }
    }

    /// Spellings the guard does not read as addresses in rules: URLs may use them, and those reach the guard as the
    /// address they resolve to.
    @Test(arguments: [
        "2130706433", "0x7f.0.0.1", "0177.0.0.1", "010.0.0.1", "127.1", "127.0.0.1.", "127.0.0.256", "1.2.3",
        "1.2.3.4.5",
        "01234.0.0.1", "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "fe80::1%eth0", "[::1]",
        "::ffff:1.2.3", "1.2.3.4::", "g::", ":1::", "1::+2",
    ])
    func textThatIsNotAnAddress(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(arguments: [
        ("::", "::"), ("::1", "::1"), ("1::", "1::"), ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"), ("1:0:1:0:0:1:0:1", "1:0:1::1:0:1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
        ("::ffff:1.2.3.4", "1.2.3.4"), ("64:ff9b::1.2.3.4", "64:ff9b::102:304"),
    ])
    func addressText(text: String, formatted: String) throws {
        #expect(try #require(IPAddress(text)).description == formatted)
    }

    // MARK: Travelling

    @Test func policyRoundTripsThroughJSONInFetchSettings() throws {
        var settings = FetchSettings()
        settings.addressPolicy = AddressPolicy(
            allow: [try AddressRange(parsing: "10.1.0.0/16")], deny: [try AddressRange(parsing: "fd00::/8")],
            allowedHosts: ["b.test", "A.test"], allowPrivate: false)
        let data = try JSONEncoder().encode(settings)
        let decoded = try JSONDecoder().decode(FetchSettings.self, from: data)
        #expect(decoded == settings)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains(#""allowedHosts":["a.test","b.test"]"#))
        #expect(json.contains("10.1.0.0"))
    }

    @Test func settingsWithoutAPolicyDecodeToNoGuard() throws {
        let data = try JSONEncoder().encode(FetchSettings())
        let json = String(decoding: data, as: UTF8.self)
        #expect(!json.contains("addressPolicy"))
        #expect(try JSONDecoder().decode(FetchSettings.self, from: data).addressPolicy == nil)
    }

    @Test func aBadRangeInJSONIsADecodingError() {
        let json = #"{"allow":["10.0.0.1/8"],"deny":[],"allowedHosts":[],"allowPrivate":false}"#
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(AddressPolicy.self, from: Data(json.utf8))
        }
    }
}
