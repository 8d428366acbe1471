import CArachneLinux
import Glibc

/// A host name that did not resolve to an IPv4 address, with what the resolver said.
public struct ResolutionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name that was looked up.
    public let host: String
    /// The resolver's message (`gai_strerror`), or why no usable address came back.
    public let reason: String

    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }

    public var description: String { "could not resolve '\(host)': \(reason)" }
}

/// Which direction of a blocking socket a timeout bounds.
public enum SocketTimeout: Sendable {
    /// `SO_RCVTIMEO`: a blocking read gives up (would-block) after the timeout.
    case receive
    /// `SO_SNDTIMEO`: a blocking write, and a blocking connect, give up after the timeout.
    case send
}

/// System calls the IO-model ladder needs beyond the event loop's: name resolution and blocking-socket timeouts.
extension Syscall {
    /// Resolves `host` to its first IPv4 address with getaddrinfo (numeric addresses are returned as they are).
    public static func resolveIPv4(host: String, port: UInt16) throws(ResolutionError) -> IPv4Address {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            let reason = status == EAI_SYSTEM
                ? String(cString: strerror(c_arachne_errno())) : String(cString: gai_strerror(status))
            throw ResolutionError(host: host, reason: reason)
        }
        defer { freeaddrinfo(list) }
        var entry = list
        while let current = entry {
            if current.pointee.ai_family == AF_INET, let address = current.pointee.ai_addr {
                let sin = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                var resolved = IPv4Address(sin)
                resolved.port = port
                return resolved
            }
            entry = current.pointee.ai_next
        }
        throw ResolutionError(host: host, reason: "no IPv4 address")
    }

    /// Bounds how long blocking reads or writes (and connect, for `.send`) on `fd` may wait. The timeout is rounded
    /// up to a whole microsecond: zero would mean "wait forever" to the kernel, so it is never passed.
    public static func setTimeout(_ fd: Int32, _ direction: SocketTimeout, _ timeout: Duration) throws(SystemError) {
        let (seconds, attoseconds) = timeout.components
        var microseconds = max(Int64(0), seconds) * 1_000_000 + max(Int64(0), attoseconds) / 1_000_000_000_000
        if microseconds < 1 { microseconds = 1 }
        var value = timeval(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
        let name = direction == .receive ? SO_RCVTIMEO : SO_SNDTIMEO
        _ = try call("setsockopt(\(direction == .receive ? "SO_RCVTIMEO" : "SO_SNDTIMEO"))") {
            setsockopt(fd, SOL_SOCKET, name, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }
}

extension Syscall {
    /// The first address `host` resolves to (getaddrinfo, IPv4 or IPv6), as a numeric string ("192.0.2.1", "2001:db8::1");
    /// nil when it does not resolve. Blocks while the resolver works: never call it on an event-loop thread.
    public static func firstAddress(of host: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
                          NI_NUMERICHOST) == 0
        else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
