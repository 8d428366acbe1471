@testable import ArachneURL
import Testing

/// Canonical identities and their fingerprints: one per URL, whatever its spelling.
@Suite struct URLIdentityTests {
    /// Spellings of one URL, and the canonical string they all share.
    static let sameURL: [(spellings: [String], canonical: String)] = [
        (
            [
                "http://example.com/a/%7euser?q=%41",
                "HTTP://EXAMPLE.COM:80/a/./%7Euser?q=A#top",
                "http://example.com/a/b/../~user?q=%41#other",
                "  http://example.com\\a\\%7E%75ser?%71=A",
            ],
            "http://example.com/a/~user?q=A"
        ),
        (["https://bücher.de/x%2fy", "https://XN--BCHER-KVA.DE:443/x%2Fy"], "https://xn--bcher-kva.de/x%2Fy"),
        (["http://127.1/", "http://0x7f.0.0.1", "http://2130706433/#f"], "http://127.0.0.1/"),
        (["http://[0:0::1]/%c3%a9", "http://[::1]/é"], "http://[::1]/%C3%A9"),
        (["foo://H%6f/%2d%5f", "foo://H%6F/-_"], "foo://H%6F/-_"),
    ]

    /// URLs that must keep distinct identities.
    static let distinct = [
        "http://example.com/", "https://example.com/", "http://example.com:8080/", "http://example.com/a",
        "http://example.com/A", "http://example.com/a?", "http://example.com/a?b", "http://example.com/a%2Fb",
        "http://example.com/a/b", "http://user@example.com/", "http://example.org/", "http://example.com/?a=1&b=2",
        "http://example.com/?b=2&a=1",
    ]

    @Test(arguments: sameURL.indices) func spellingsShareOneIdentity(_ index: Int) throws {
        let (spellings, canonical) = Self.sameURL[index]
        for spelling in spellings {
            let identity = URLIdentity.canonical(try WebURL.parse(spelling))
            #expect(identity == canonical, "\(spelling)")
            #expect(URLIdentity.fingerprint(identity) == URLIdentity.fingerprint(canonical))
        }
    }

    @Test func distinctURLsDiffer() throws {
        let canonicals = try Self.distinct.map { URLIdentity.canonical(try WebURL.parse($0)) }
        #expect(Set(canonicals).count == Self.distinct.count)
        #expect(Set(canonicals.map(URLIdentity.fingerprint)).count == Self.distinct.count)
    }

    /// The fingerprint is stored on disk: these values must never change.
    @Test func fingerprintIsStable() {
        #expect(URLIdentity.fingerprintKey == (0x5565_6E68_6361_7241, 0x3174_6E65_6449_4C52))
        #expect(URLIdentity.fingerprint("http://example.com/") == Self.pinnedFingerprint)
    }
    static let pinnedFingerprint: UInt64 = 0xc43c_8e99_3387_78cc

    /// SipHash-2-4 against the paper's vectors, read both ways: key 00 01 … 0f, messages 00 01 … (n-1).
    @Test(arguments: [
        (0, 0x726f_db47_dd0e_0e31 as UInt64), (1, 0x74f8_39c5_93dc_67fd), (7, 0xab02_00f5_8b01_d137),
        (8, 0x93f5_f579_9a93_2462), (15, 0xa129_ca61_49be_45e5), (63, 0x958a_324c_eb06_4572),
    ])
    func sipHashReferenceVectors(_ length: Int, _ expected: UInt64) {
        let key: (UInt64, UInt64) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908)
        let message = (0..<length).map { UInt8($0) }
        // Both readings: a word at a time (contiguous bytes) and byte by byte (any sequence).
        #expect(SipHash24.hash(message, key: key) == expected)
        #expect(SipHash24.hash(message.lazy.map { $0 }, key: key) == expected)
    }
}
