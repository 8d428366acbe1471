import ArachneEventLoop

/// Gathers finished requests on a loop thread and hands them to a `JobRecorder` in batches: one hand-off per
/// millisecond (or per 512 records) instead of one per request. Every hand-off may wake the writer thread, and at
/// 60k requests a second a hand-off per loop iteration woke it thousands of times a second. Loop-confined.
final class RecordBatcher {
    private let loop: EventLoop
    private let recorder: JobRecorder
    private var entries: [RecordEntry] = []
    private var scheduled = false
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
        entries.append(entry)
        if entries.count >= 512 {
            flush()
        } else if !scheduled {
            scheduled = true
            loop.scheduleTimer(afterMilliseconds: 1) { [unowned self] in
                self.scheduled = false
                self.flush()
            }
        }
    }

    func flush() {
        guard !entries.isEmpty else { return }
        recorder.submit(entries)
        entries.removeAll(keepingCapacity: true)
    }
}
