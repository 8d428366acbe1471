import Glibc

/// An IPv4 address and port, convertible to and from `sockaddr_in`.
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    /// The address in host byte order.
    public var address: UInt32
    public var port: UInt16

    public init(address: UInt32, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses dotted-quad text ("127.0.0.1"); nil if it is not one.
    public init?(_ text: String, port: UInt16) {
        var addr = in_addr()
        guard inet_pton(AF_INET, text, &addr) == 1 else { return nil }
        self.init(address: UInt32(bigEndian: addr.s_addr), port: port)
    }

    public static func loopback(port: UInt16) -> IPv4Address { IPv4Address(address: 0x7F00_0001, port: port) }

    init(_ sin: sockaddr_in) {
        self.init(address: UInt32(bigEndian: sin.sin_addr.s_addr), port: UInt16(bigEndian: sin.sin_port))
    }

    var sockaddr: sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = address.bigEndian
        return sin
    }

    public var host: String {
        "\(address >> 24).\((address >> 16) & 0xFF).\((address >> 8) & 0xFF).\(address & 0xFF)"
    }

    public var description: String { "\(host):\(port)" }
}
