import ArachneCore
import ArachneSystem
import Glibc

/// A job's `AddressPolicy` as both clients consult it at connect time: the native client before `connect()`, libcurl
/// from its open-socket callback (and, for a connection it would reuse, its pre-request callback). A class so that a
/// profile without a guard costs one nil check per connection.
final class AddressGuard: Sendable {
    let policy: AddressPolicy
    /// True when the verdict depends on the host name (a crawl's seed hosts): libcurl then reads the transfer's URL.
    let needsHost: Bool

    init(_ policy: AddressPolicy) {
        self.policy = policy
        needsHost = !policy.allowedHosts.isEmpty
    }

    /// The failure message for a refused connection, or nil when the connection may go ahead.
    func refusal(_ address: IPAddress, host: String, port: Int) -> String? {
        guard case .blocked(let reason) = policy.verdict(for: address, host: host) else { return nil }
        return Self.message(address, host: host, port: port, reason: reason)
    }

    static func message(_ address: IPAddress, host: String, port: Int, reason: String) -> String {
        let shown = address.ipv4 == nil ? "[\(address)]" : "\(address)"
        let via = AddressPolicy.normalizedHost(host) == "\(address)" || host.isEmpty ? "" : " for \(host)"
        return "Not connecting to \(shown):\(port)\(via): \(reason) is blocked by the address guard"
    }
}

extension IPAddress {
    init(_ address: IPv4Address) {
        self.init(ipv4: address.address)
    }

    /// The address of an `AF_INET` or `AF_INET6` socket address; nil for other families.
    init?(socketAddress pointer: UnsafeRawPointer) {
        switch Int32(pointer.loadUnaligned(as: sockaddr.self).sa_family) {
        case AF_INET:
            let sin = pointer.loadUnaligned(as: sockaddr_in.self)
            self.init(ipv4: UInt32(bigEndian: sin.sin_addr.s_addr))
        case AF_INET6:
            var sin6 = pointer.loadUnaligned(as: sockaddr_in6.self)
            self = withUnsafeBytes(of: &sin6.sin6_addr) { IPAddress(ipv6Bytes: $0) }
        default:
            return nil
        }
    }

    /// The port of an `AF_INET` or `AF_INET6` socket address, 0 for other families.
    static func port(socketAddress pointer: UnsafeRawPointer) -> Int {
        switch Int32(pointer.loadUnaligned(as: sockaddr.self).sa_family) {
        case AF_INET: Int(UInt16(bigEndian: pointer.loadUnaligned(as: sockaddr_in.self).sin_port))
        case AF_INET6: Int(UInt16(bigEndian: pointer.loadUnaligned(as: sockaddr_in6.self).sin6_port))
        default: 0
        }
    }
}
