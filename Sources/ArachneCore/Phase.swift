/// A phase of one request's life, named as curl names it, plus `queue`: time spent waiting in Arachne's
/// own queues before the transfer started (client-side delay, kept apart from network time).
public enum Phase: String, CaseIterable, Codable, Sendable, Hashable {
    case queue
    case namelookup
    case connect
    case appconnect
    case pretransfer
    case starttransfer
    case total

    /// The phases curl measures, in the order curl reports them (every phase but `queue`).
    public static let curlPhases: [Phase] = [.namelookup, .connect, .appconnect, .pretransfer, .starttransfer, .total]
}

/// Per-phase durations of one request in microseconds. Curl's phases are cumulative from the start of the
/// transfer (`connect` includes `namelookup`, and so on); `queue` precedes the transfer and is not in `total`.
public struct PhaseTimings: Codable, Sendable, Hashable {
    public var queue: Int64
    public var namelookup: Int64
    public var connect: Int64
    public var appconnect: Int64
    public var pretransfer: Int64
    public var starttransfer: Int64
    public var total: Int64

    public init(
        queue: Int64 = 0, namelookup: Int64 = 0, connect: Int64 = 0, appconnect: Int64 = 0,
        pretransfer: Int64 = 0, starttransfer: Int64 = 0, total: Int64 = 0
    ) {
        self.queue = queue
        self.namelookup = namelookup
        self.connect = connect
        self.appconnect = appconnect
        self.pretransfer = pretransfer
        self.starttransfer = starttransfer
        self.total = total
    }

    public static let zero = PhaseTimings()

    public subscript(phase: Phase) -> Int64 {
        get {
            switch phase {
            case .queue: queue
            case .namelookup: namelookup
            case .connect: connect
            case .appconnect: appconnect
            case .pretransfer: pretransfer
            case .starttransfer: starttransfer
            case .total: total
            }
        }
        set {
            switch phase {
            case .queue: queue = newValue
            case .namelookup: namelookup = newValue
            case .connect: connect = newValue
            case .appconnect: appconnect = newValue
            case .pretransfer: pretransfer = newValue
            case .starttransfer: starttransfer = newValue
            case .total: total = newValue
            }
        }
    }
}
