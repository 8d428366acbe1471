/// Where a job stands in the scheduler. Every key is exactly one of: done (a terminal record was accepted or
/// emitted), outstanding (leased to a worker), or queued.
public struct JobProgress: Codable, Sendable, Hashable {
    /// Keys in the job: URLs × repetitions.
    public var total: Int
    /// Keys with a terminal record, whatever its kind (fetched, failed, cancelled), resumed ones included.
    public var done: Int
    /// Of `done`: failures, `worker-lost` included.
    public var failed: Int
    /// Of `done`: cancelled keys.
    public var cancelled: Int
    /// Keys leased to a worker whose result has not arrived.
    public var outstanding: Int
    /// Leases whose worker was lost (or gave them back unfinished), so their keys went back to the queue.
    public var reassignedBatches: Int
    /// Extra leases of keys: a key leased three times counts two.
    public var retries: Int

    public init(
        total: Int, done: Int, failed: Int, cancelled: Int, outstanding: Int, reassignedBatches: Int, retries: Int
    ) {
        self.total = total
        self.done = done
        self.failed = failed
        self.cancelled = cancelled
        self.outstanding = outstanding
        self.reassignedBatches = reassignedBatches
        self.retries = retries
    }

    /// Keys waiting to be leased.
    public var queued: Int { total - done - outstanding }
}
