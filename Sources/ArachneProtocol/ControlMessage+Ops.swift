/// A worker with a session, as `arachne workers` shows it.
public struct WorkerStatus: Codable, Sendable, Hashable {
    /// Where a worker stands.
    public enum State: String, Codable, Sendable, Hashable, CaseIterable {
        /// Holds leased requests without a result.
        case busy
        /// Holds nothing.
        case idle
        /// The coordinator is stopping: it sends no new leases, the worker finishes what it holds.
        case draining
    }

    /// Its id (its ZeroMQ routing id).
    public var id: String
    public var host: String
    public var pid: Int
    /// Requests it keeps in flight.
    public var capacity: Int
    /// Requests leased to it without a result.
    public var inFlight: Int
    /// Results the coordinator accepted from this session.
    public var done: Int
    /// When the coordinator last heard from it (any message), in seconds since the Unix epoch.
    public var lastHeartbeat: Double
    /// When this session started (its `hello`), in seconds since the Unix epoch.
    public var joinedAt: Double
    /// The coordinator endpoint it connected to.
    public var endpoint: String
    public var state: State

    public init(
        id: String, host: String, pid: Int, capacity: Int, inFlight: Int, done: Int, lastHeartbeat: Double,
        joinedAt: Double, endpoint: String, state: State
    ) {
        self.id = id
        self.host = host
        self.pid = pid
        self.capacity = capacity
        self.inFlight = inFlight
        self.done = done
        self.lastHeartbeat = lastHeartbeat
        self.joinedAt = joinedAt
        self.endpoint = endpoint
        self.state = state
    }

    enum CodingKeys: String, CodingKey {
        case id, host, pid, capacity
        case inFlight = "in_flight"
        case done
        case lastHeartbeat = "last_heartbeat"
        case joinedAt = "joined_at"
        case endpoint, state
    }
}

/// The answer to `removeJobs` and `pruneJobs`: the jobs removed (store rows, records and directory), and the ones
/// refused with the reason (still running, unknown).
public struct RemovedJobs: Codable, Sendable, Hashable {
    public struct Refusal: Codable, Sendable, Hashable {
        public var job: String
        public var reason: String

        public init(job: String, reason: String) {
            self.job = job
            self.reason = reason
        }
    }

    public var removed: [String]
    public var refused: [Refusal]

    public init(removed: [String] = [], refused: [Refusal] = []) {
        self.removed = removed
        self.refused = refused
    }
}

struct EmptyPayload: Codable {}

struct WorkersPayload: Codable {
    var workers: [WorkerStatus]
}

struct RemoveJobsPayload: Codable {
    var jobs: [String]
}

struct PruneJobsPayload: Codable {
    var olderThan: Double

    enum CodingKeys: String, CodingKey {
        case olderThan = "older_than"
    }
}
