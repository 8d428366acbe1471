import ArachneCore
import ArachneSystem

/// With `--per-ip`: the address each host of a crawl resolves to, which is the unit politeness is kept by (hosts
/// sharing an address share its `--per-host` and `--delay`). A `--resolve` pin answers for its host; other hosts are
/// looked up once with getaddrinfo and kept for the crawl; a host that does not resolve is its own group (its pages
/// fail at fetch time anyway).
///
/// Lives on the job recorder's thread, beside the frontier: lookups block, so they never run on an event loop.
final class PolitenessGroups {
    private var groups: [String: String] = [:]
    private let pins: [String: String]

    /// `resolve`: curl-style `HOST:PORT:ADDR` pins, as the job's fetch settings carry them.
    init(resolve: [String]) {
        var pins: [String: String] = [:]
        for pin in resolve {
            let parts = pin.split(separator: ":", maxSplits: 2)
            guard parts.count == 3 else { continue }
            var address = String(parts[2])
            if address.hasPrefix("[") && address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
            pins[parts[0].lowercased()] = pins[parts[0].lowercased()] ?? address
        }
        self.pins = pins
    }

    /// The group of `host` (lower-case); `isNew` when this is its first lookup.
    func group(of host: String) -> (group: String, isNew: Bool) {
        if let known = groups[host] { return (known, false) }
        let resolved = pins[host] ?? Syscall.firstAddress(of: host) ?? host
        groups[host] = resolved
        return (resolved, true)
    }
}
