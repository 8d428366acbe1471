import ArachneURL
import Foundation
import Testing

/// Runs the URL Standard's own test data (WPT `url/resources/urltestdata.json`) as data. The file is not in the
/// repository: point ARACHNE_URLTESTDATA at a copy to run it.
@Suite struct WPTURLTestDataTests {
    static let path = ProcessInfo.processInfo.environment["ARACHNE_URLTESTDATA"]

    /// Cases where libidn2 2.3.3 and UTS #46 as the Standard configures it disagree (see
    /// docs/decisions/0009-whatwg-url-parser.md), by input.
    static let knownDifferences: Set<String> = [
        // The A-label decodes to circled/squared compatibility characters (U+3253 U+32CE ...) that libidn2 rejects
        // for an A-label (IDN2_INVALID_NONTRANSITIONAL); the Standard's test data accepts the label as is.
        "http://a.b.c.xn--pokxncvks", "http://10.0.0.xn--pokxncvks", "http://a.b.c.XN--pokxncvks",
        "http://a.b.c.Xn--pokxncvks", "http://10.0.0.XN--pokxncvks", "http://10.0.0.xN--pokxncvks",
        // U+2603 SNOWMAN: valid in UTS #46, DISALLOWED in IDNA2008, whose tables libidn2 also applies.
        "ftp://%e2%98%83", "https://%e2%98%83",
        // "xn--" (empty Punycode): libidn2 fails to decode it (IDN2_PUNYCODE_BAD_INPUT); the test data accepts it.
        "file://xn--/p", "https://xn--/",
    ]

    @Test(.enabled(if: path != nil, "set ARACHNE_URLTESTDATA to the path of urltestdata.json to run the WPT cases"))
    func urlTestData() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.path!))
        let cases = try #require(try JSONSerialization.jsonObject(with: data) as? [Any]).compactMap {
            $0 as? [String: Any]
        }
        var passed = 0
        var failures: [String] = []
        for testCase in cases {
            let input = testCase["input"] as! String
            let problem = check(testCase)
            if let problem {
                failures.append("\(Self.quoted(input)) base \(Self.quoted(testCase["base"] as? String)): \(problem)")
                if !Self.knownDifferences.contains(input) {
                    Issue.record("\(Self.quoted(input)) base \(Self.quoted(testCase["base"] as? String)): \(problem)")
                }
            } else {
                passed += 1
            }
        }
        print("WPT urltestdata: \(passed) of \(cases.count) pass")
        for failure in failures { print("  FAIL \(failure)") }
    }

    /// nil when the case passes, else what differs.
    private func check(_ testCase: [String: Any]) -> String? {
        let input = testCase["input"] as! String
        let expectFailure = testCase["failure"] as? Bool ?? false
        let url: WebURL
        do {
            if let base = testCase["base"] as? String {
                url = try WebURL.parse(input, base: base)
            } else {
                url = try WebURL.parse(input)
            }
        } catch {
            return expectFailure ? nil : "failed (\(error)), expected \(testCase["href"] ?? "")"
        }
        if expectFailure { return "parsed as \(url.href), expected failure" }
        let hostname = url.host ?? ""
        let actual: [String: String] = [
            "href": url.href,
            "protocol": url.scheme + ":",
            "username": url.username,
            "password": url.password,
            "hostname": hostname,
            "host": url.port.map { "\(hostname):\($0)" } ?? hostname,
            "port": url.port.map(String.init) ?? "",
            "pathname": url.pathname,
            "search": url.query.map { $0.isEmpty ? "" : "?" + $0 } ?? "",
            "hash": url.fragment.map { $0.isEmpty ? "" : "#" + $0 } ?? "",
        ]
        for (key, value) in actual.sorted(by: { $0.key < $1.key }) {
            if let expected = testCase[key] as? String, expected != value {
                return "\(key) is \(Self.quoted(value)), expected \(Self.quoted(expected))"
            }
        }
        return nil
    }

    static func quoted(_ string: String?) -> String {
        guard let string else { return "null" }
        return "\"" + string.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined() + "\""
    }
}
