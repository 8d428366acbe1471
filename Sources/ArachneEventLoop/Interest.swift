import CArachneLinux

/// Which readiness a registration asks epoll to report.
public struct Interest: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = Interest(rawValue: EPOLLIN.rawValue)
    public static let writable = Interest(rawValue: EPOLLOUT.rawValue)
    /// Edge-triggered: reported once per change, so the handler must drain until it would block (ZeroMQ's ZMQ_FD).
    public static let edgeTriggered = Interest(rawValue: EPOLLET.rawValue)
}

/// What epoll reported for a descriptor.
public struct Readiness: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = Readiness(rawValue: EPOLLIN.rawValue)
    public static let writable = Readiness(rawValue: EPOLLOUT.rawValue)
    public static let error = Readiness(rawValue: EPOLLERR.rawValue)
    public static let hangup = Readiness(rawValue: EPOLLHUP.rawValue | EPOLLRDHUP.rawValue)
}
