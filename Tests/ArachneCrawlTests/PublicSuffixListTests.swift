import ArachneCore
import Testing

@testable import ArachneCrawl

@Suite struct PublicSuffixListTests {
    static let list = PublicSuffixList.shared

    @Test func loadsDebiansList() {
        #expect(Self.list.source == .file(PublicSuffixList.debianListPath))
    }

    static let registrable: [(host: String, domain: String?)] = [
        ("www.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("co.uk", nil),
        ("uk", nil),
        ("www.example.com", "example.com"),
        ("a.b.c.example.com", "example.com"),
        // Private section, as browsers use it.
        ("a.b.github.io", "b.github.io"),
        ("github.io", nil),
        ("x.bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com"),
        // No registrable domain: a single unlisted label is a suffix under the implicit `*` rule.
        ("localhost", nil),
        ("", nil),
        // Wildcard and exception rules (`*.kawasaki.jp`, `!city.kawasaki.jp`, `*.ck`, `!www.ck`).
        ("a.b.c.kawasaki.jp", "b.c.kawasaki.jp"),
        ("www.city.kawasaki.jp", "city.kawasaki.jp"),
        ("a.www.ck", "www.ck"),
        ("a.b.c.ck", "b.c.ck"),
        // IDNs in punycode: 公司.cn, дети.рф.
        ("www.example.xn--55qx5d.cn", "example.xn--55qx5d.cn"),
        ("www.xn--d1acj3b.xn--p1ai", "xn--d1acj3b.xn--p1ai"),
        ("xn--d1acj3b.xn--p1ai", "xn--d1acj3b.xn--p1ai"),
        // Unlisted TLD: the implicit `*` rule.
        ("www.example.internal-tld", "example.internal-tld"),
    ]

    @Test(arguments: registrable)
    func registrableDomain(host: String, domain: String?) {
        #expect(Self.list.registrableDomain(of: host) == domain)
    }

    static let suffixes: [(host: String, isSuffix: Bool)] = [
        ("co.uk", true), ("uk", true), ("github.io", true), ("xn--p1ai", true), ("xn--55qx5d.cn", true),
        ("c.kawasaki.jp", true), ("city.kawasaki.jp", false), ("example.co.uk", false), ("b.github.io", false),
        ("localhost", true), ("www.example.com", false),
    ]

    @Test(arguments: suffixes)
    func publicSuffix(host: String, isSuffix: Bool) {
        #expect(Self.list.isPublicSuffix(host) == isSuffix)
    }

    @Test func missingFileFallsBackToBuiltinList() {
        let list = PublicSuffixList(path: "/nonexistent/public_suffix_list.dafsa")
        #expect(list.source != .file("/nonexistent/public_suffix_list.dafsa"))
        if list.source == .builtin {
            #expect(list.registrableDomain(of: "www.example.co.uk") == "example.co.uk")
        } else {
            #expect(list.registrableDomain(of: "www.example.co.uk") == nil)
        }
    }
}
