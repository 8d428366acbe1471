/// Why a string is not a URL: the URL Standard's parse failures (validation errors that are not failures are
/// ignored, as browsers ignore them). The message names what to fix.
public struct URLParseError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: Sendable, Hashable {
        case missingSchemeNonRelativeURL
        case hostMissing
        case invalidCredentials
        case portOutOfRange
        case portInvalid
        case ipv6Unclosed
        case ipv6Invalid
        case ipv4Invalid
        case forbiddenHostCodePoint
        case domainToASCII
        case invalidBase
    }

    let code: Code

    init(_ code: Code) { self.code = code }

    public var description: String {
        switch code {
        case .missingSchemeNonRelativeURL:
            "missing scheme and no base URL (or the base URL has an opaque path, like mailto:)"
        case .hostMissing: "missing host: a special URL (http, https, ws, wss, ftp) needs one"
        case .invalidCredentials: "credentials without a host: an '@' must be followed by a host"
        case .portOutOfRange: "port out of range: it must be at most 65535"
        case .portInvalid: "invalid port: a port has only the digits 0–9"
        case .ipv6Unclosed: "invalid IPv6 address: '[' without a closing ']'"
        case .ipv6Invalid: "invalid IPv6 address"
        case .ipv4Invalid: "invalid IPv4 address: a host ending in a number must be a valid IPv4 address"
        case .forbiddenHostCodePoint: "forbidden code point in host (one of space # % / : < > ? @ [ \\ ] ^ | or a control)"
        case .domainToASCII: "invalid internationalized domain name (UTS #46 processing failed)"
        case .invalidBase: "invalid base URL"
        }
    }
}
