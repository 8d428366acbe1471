import ArachneEventLoop

/// Gathers finished requests on a loop thread and hands them to a `JobRecorder` in batches: one hand-off per
/// 10 ms (or per 4,096 records, or 256 KiB of bodies) instead of one per request. Every hand-off may wake the writer
/// thread, and at 60k requests a second a hand-off per loop iteration woke it thousands of times a second.
/// Loop-confined.
final class RecordBatcher {
    private let loop: EventLoop
    private let recorder: JobRecorder
    /// At most one hand-off per `intervalMs`, unless `maxEntries` records or `maxBytes` of bodies and WARC members
    /// are waiting. Each hand-off wakes the writer thread, and on this VM a wake-up of a sleeping thread costs tens of
    /// microseconds of CPU (charged to the switch): at 1 ms, `fetch --no-bodies` spent over half its writer's samples
    /// waking it. 10 ms cut that run's CPU per request by ~12% and `run --workers 2`'s by ~7%. The byte bound keeps a
    /// batch with bodies cache-sized: 4,096 unbounded 2 KB bodies per batch made `fetch` slower, not faster.
    /// (docs/performance.md, issue 16, session 7.)
    static let intervalMs = 10
    static let maxEntries = 4096
    static let maxBytes = 256 << 10
    /// Body and WARC-member bytes in `entries`.
    private var bytes = 0
    private var entries: [RecordEntry] = []
    /// The pending hand-off, cancelled by an early `flush()`. Its closure holds the batcher weakly: a job's batcher
    /// is released when the job ends, and with a hand-off due in up to 10 ms an unowned reference was read after
    /// the batcher was gone (the job's last `flush()` has handed everything over by then).
    private var timer: TimerID?
    private(set) var added = 0
    private(set) var failed = 0

    init(loop: EventLoop, recorder: JobRecorder) {
        self.loop = loop
        self.recorder = recorder
        entries.reserveCapacity(512)
    }

    /// Takes the entry (`consuming`: moved into the batch, not copied, which would retain each of its strings and
    /// arrays once more for every result).
    func add(_ entry: consuming RecordEntry) {
        added += 1
        if !entry.outcome.succeeded { failed += 1 }
        bytes += entry.outcome.body.count + (entry.archived?.members.count ?? 0)
        entries.append(entry)
        if entries.count >= Self.maxEntries || bytes >= Self.maxBytes {
            flush()
        } else if timer == nil {
            timer = loop.scheduleTimer(afterMilliseconds: Self.intervalMs) { [weak self] in
                guard let self else { return }
                self.timer = nil
                self.flush()
            }
        }
    }

    func flush() {
        if let timer {
            loop.cancelTimer(timer)
            self.timer = nil
        }
        guard !entries.isEmpty else { return }
        recorder.submit(entries)
        entries.removeAll(keepingCapacity: true)
        bytes = 0
    }
}
