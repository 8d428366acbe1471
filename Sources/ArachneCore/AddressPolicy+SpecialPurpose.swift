extension AddressPolicy {
    /// The ranges a crawl may not connect to unless allowed: from the IANA IPv4 and IPv6 Special-Purpose Address
    /// Registries, every range that is not globally reachable or that reaches something other than one public host.
    /// First match names the refusal, so narrower ranges come before the ranges that hold them.
    ///
    /// | range | why |
    /// |---|---|
    /// | 0.0.0.0/8 | "this network" (RFC 791): Linux connects 0.0.0.0 to the local host |
    /// | 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 | private networks (RFC 1918): intranets, admin panels |
    /// | 100.64.0.0/10 | carrier-grade NAT shared space (RFC 6598): the provider's side of the NAT |
    /// | 127.0.0.0/8 | loopback (RFC 1122): this machine's own services |
    /// | 169.254.0.0/16 | link-local (RFC 3927): cloud metadata at 169.254.169.254 hands out credentials |
    /// | 192.0.0.0/24 | IETF protocol assignments (RFC 6890): NAT64 discovery, DS-Lite; not for hosts |
    /// | 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 | documentation (RFC 5737): never a real host |
    /// | 192.88.99.0/24 | 6to4 relay anycast (RFC 7526, deprecated): a relay, not a web server |
    /// | 198.18.0.0/15 | benchmarking (RFC 2544): lab networks |
    /// | 224.0.0.0/4 | multicast (RFC 5771): not a TCP peer |
    /// | 255.255.255.255/32 | limited broadcast (RFC 919) |
    /// | 240.0.0.0/4 | reserved (RFC 1112) |
    /// | ::/128 | unspecified (RFC 4291): like 0.0.0.0, reaches the local host |
    /// | ::1/128 | loopback (RFC 4291) |
    /// | ::/96 | IPv4-compatible (RFC 4291, deprecated): no legitimate peer uses them |
    /// | ::ffff:0:0/96 | IPv4-mapped: judged as the IPv4 address it is (see `IPAddress`) |
    /// | 64:ff9b::/96 | NAT64 (RFC 6052): judged by the embedded IPv4 address, the translator's destination |
    /// | 64:ff9b:1::/48 | local-use NAT64 (RFC 8215): judged by the IPv4 address at the /96 and /64 positions |
    /// | 2002::/16 | 6to4 (RFC 3056): judged by the embedded IPv4 address of the relay's tunnel end |
    /// | 100::/64 | discard-only (RFC 6666): black-holed by design |
    /// | 2001::/32 | Teredo (RFC 4380): a tunnel through a relay to an IPv4 host behind NAT |
    /// | 2001:2::/48 | benchmarking (RFC 5180) |
    /// | 2001:10::/28 | ORCHID (RFC 4843, deprecated): identifiers, not locators |
    /// | 2001:db8::/32, 3fff::/20 | documentation (RFC 3849, RFC 9637) |
    /// | 5f00::/16 | SRv6 segment identifiers (RFC 9602): not globally reachable |
    /// | fc00::/7 | unique-local (RFC 4193): the IPv6 private networks; AWS's IPv6 metadata is fd00:ec2::254 |
    /// | fe80::/10 | link-local (RFC 4291): the local segment's hosts |
    /// | fec0::/10 | site-local (RFC 3879, deprecated): still routed by old networks |
    /// | ff00::/8 | multicast (RFC 4291) |
    ///
    /// The rest of 2001::/23 (PCP and TURN anycast, AMT, AS112, ORCHIDv2) is globally reachable and stays allowed.
    public static let specialPurpose: [SpecialRange] = [
        SpecialRange("0.0.0.0/8", "this network"),
        SpecialRange("10.0.0.0/8", "private"),
        SpecialRange("100.64.0.0/10", "carrier-grade NAT"),
        SpecialRange("127.0.0.0/8", "loopback"),
        SpecialRange("169.254.0.0/16", "link-local"),
        SpecialRange("172.16.0.0/12", "private"),
        SpecialRange("192.0.0.0/24", "IETF protocol assignments"),
        SpecialRange("192.0.2.0/24", "documentation"),
        SpecialRange("192.88.99.0/24", "6to4 relay anycast"),
        SpecialRange("192.168.0.0/16", "private"),
        SpecialRange("198.18.0.0/15", "benchmarking"),
        SpecialRange("198.51.100.0/24", "documentation"),
        SpecialRange("203.0.113.0/24", "documentation"),
        SpecialRange("224.0.0.0/4", "multicast"),
        SpecialRange("255.255.255.255/32", "broadcast"),
        SpecialRange("240.0.0.0/4", "reserved"),
        SpecialRange("::/128", "unspecified"),
        SpecialRange("::1/128", "loopback"),
        SpecialRange("::/96", "IPv4-compatible (deprecated)"),
        SpecialRange("100::/64", "discard-only"),
        SpecialRange("2001::/32", "Teredo"),
        SpecialRange("2001:2::/48", "benchmarking"),
        SpecialRange("2001:10::/28", "ORCHID (deprecated)"),
        SpecialRange("2001:db8::/32", "documentation"),
        SpecialRange("3fff::/20", "documentation"),
        SpecialRange("5f00::/16", "SRv6 segment identifiers"),
        SpecialRange("fc00::/7", "unique-local"),
        SpecialRange("fe80::/10", "link-local"),
        SpecialRange("fec0::/10", "site-local (deprecated)"),
        SpecialRange("ff00::/8", "multicast"),
    ]

    private static let nat64 = try! AddressRange(parsing: "64:ff9b::/96")  // literals of this file
    private static let localNAT64 = try! AddressRange(parsing: "64:ff9b:1::/48")
    private static let sixToFour = try! AddressRange(parsing: "2002::/16")

    /// The IPv4 addresses an IPv6 address carries for a translator or tunnel to connect to (NAT64, 6to4), each with
    /// the form's name. Empty for other addresses (IPv4-mapped ones already are their IPv4 address).
    static func embeddedIPv4(in address: IPAddress) -> [(form: String, ipv4: IPAddress)] {
        let bits = address.bits
        // Cheap rejection first: every form below starts with 0x0064 or 0x2002.
        let top = UInt16(truncatingIfNeeded: bits >> 112)
        guard top == 0x0064 || top == 0x2002 else { return [] }
        if nat64.contains(address) {
            return [("NAT64 \(nat64)", IPAddress(ipv4: UInt32(truncatingIfNeeded: bits)))]
        }
        if sixToFour.contains(address) {
            return [("6to4 \(sixToFour)", IPAddress(ipv4: UInt32(truncatingIfNeeded: bits >> 80)))]
        }
        if localNAT64.contains(address) {
            // The operator's prefix length inside the /48 is unknown, so each RFC 6052 layout is read: /96 (bits
            // 96–127, the usual deployment), and /64 (bits 72–103) when the address is laid out as one, with its "u"
            // octet (bits 64–71) and suffix zero. The /48 and /56 layouts leave bits 96–127 zero, which the /96
            // reading judges as 0.0.0.0: refused, as are those rare deployments (`--allow` lifts it).
            let form = "local-use NAT64 \(localNAT64)"
            var readings = [(form, IPAddress(ipv4: UInt32(truncatingIfNeeded: bits)))]
            if (bits >> 56) & 0xFF == 0, bits & 0xFF_FFFF == 0 {
                readings.append((form, IPAddress(ipv4: UInt32(truncatingIfNeeded: bits >> 24))))
            }
            return readings
        }
        return []
    }
}
