/// Which addresses a job may connect to: the private-address guard. A pure value that travels with the job's
/// `FetchSettings`; both HTTP clients ask it about the address they are about to connect to (after any DNS lookup or
/// `--resolve` pin, so rebinding and odd spellings of an address are judged as the address they reach).
///
/// The decision, for an address and the host name it was reached by:
/// 1. the explicit ranges (`deny`, `allow`): the longest matching prefix decides, `deny` on a tie;
/// 2. a host in `allowedHosts` (a crawl's seed hosts, which the user chose) is allowed;
/// 3. unless `allowPrivate`, an address in `specialPurpose` (loopback, private, link-local, …) is blocked;
/// 4. anything else is allowed.
/// IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by that IPv4 address as well.
public struct AddressPolicy: Codable, Sendable, Hashable {
    /// Ranges always allowed (`--allow`), even inside the special-purpose ones.
    public var allow: [AddressRange]
    /// Ranges always blocked (`--deny`), even with `allowPrivate` or for a seed host.
    public var deny: [AddressRange]
    /// Host names whose addresses are allowed, whatever they are (a crawl's seed hosts), normalized by
    /// `normalizedHost`.
    public private(set) var allowedHosts: Set<String>
    /// Lifts the special-purpose blocks (`--allow-private`); `deny` still applies.
    public var allowPrivate: Bool

    public init(allow: [AddressRange] = [], deny: [AddressRange] = [], allowedHosts: some Sequence<String> = [String](),
                allowPrivate: Bool = false)
    {
        self.allow = allow
        self.deny = deny
        self.allowedHosts = Set(allowedHosts.map(Self.normalizedHost))
        self.allowPrivate = allowPrivate
    }

    /// Adds a host name whose addresses are allowed.
    public mutating func allowHost(_ host: String) {
        allowedHosts.insert(Self.normalizedHost(host))
    }

    /// What to do about connecting to `address`, reached by the name `host` (the URL's host as written, or an
    /// address literal).
    public func verdict(for address: IPAddress, host: String) -> AddressVerdict {
        let embedded = Self.embeddedIPv4(in: address)
        if !allow.isEmpty || !deny.isEmpty {
            let denied = Self.longestMatch(deny, address, embedded)
            let allowed = Self.longestMatch(allow, address, embedded)
            if let denied, denied.prefixLength >= (allowed?.prefixLength ?? -1) {
                return .blocked(reason: "denied \(denied)")
            }
            if allowed != nil { return .allowed }
        }
        if !allowedHosts.isEmpty, allowedHosts.contains(host) || allowedHosts.contains(Self.normalizedHost(host)) {
            return .allowed
        }
        guard !allowPrivate else { return .allowed }
        if let special = Self.special(address) { return .blocked(reason: special.name) }
        for (form, ipv4) in embedded {
            if let special = Self.special(ipv4) { return .blocked(reason: "\(form) of \(special.name)") }
        }
        return .allowed
    }

    /// A host name as `allowedHosts` keeps it: lowercased, without IPv6 brackets or a trailing dot.
    public static func normalizedHost(_ host: String) -> String {
        var text = Substring(host.lowercased())
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if text.count > 1, text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }

    enum CodingKeys: String, CodingKey {
        case allow, deny, allowedHosts, allowPrivate
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            allow: try container.decodeIfPresent([AddressRange].self, forKey: .allow) ?? [],
            deny: try container.decodeIfPresent([AddressRange].self, forKey: .deny) ?? [],
            allowedHosts: try container.decodeIfPresent([String].self, forKey: .allowedHosts) ?? [],
            allowPrivate: try container.decodeIfPresent(Bool.self, forKey: .allowPrivate) ?? false)
    }

    /// Host names sorted, so one policy always encodes to the same JSON.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(allow, forKey: .allow)
        try container.encode(deny, forKey: .deny)
        try container.encode(allowedHosts.sorted(), forKey: .allowedHosts)
        try container.encode(allowPrivate, forKey: .allowPrivate)
    }

    private static func longestMatch(
        _ ranges: [AddressRange], _ address: IPAddress, _ embedded: [(form: String, ipv4: IPAddress)]
    ) -> AddressRange? {
        var best: AddressRange?
        for range in ranges where range.prefixLength > (best?.prefixLength ?? -1) {
            if range.contains(address) || embedded.contains(where: { range.contains($0.ipv4) }) { best = range }
        }
        return best
    }

    private static func special(_ address: IPAddress) -> SpecialRange? {
        specialPurpose.first { $0.range.contains(address) }
    }
}

/// The guard's answer for one address.
public enum AddressVerdict: Sendable, Hashable {
    case allowed
    /// Not to be connected to; `reason` names the rule, e.g. "loopback 127.0.0.0/8".
    case blocked(reason: String)

    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}

/// A range of the special-purpose table and its name in a refusal.
public struct SpecialRange: Sendable, Hashable {
    public let range: AddressRange
    /// What the range is, then the range: "loopback 127.0.0.0/8".
    public let name: String

    init(_ text: String, _ what: String) {
        range = try! AddressRange(parsing: text)  // the table's own literals
        name = "\(what) \(range)"
    }
}
