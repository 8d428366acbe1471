import ArachneArchive
import ArachneCore
import ArachneEventLoop
import ArachneProtocol
import ArachneZMQ
import Foundation

/// How a flood worker runs (`arachne flood-worker`, a hidden command for `bench/coordinator-flood`).
public struct FloodWorkerConfiguration: Sendable {
    /// The coordinator's worker endpoint.
    public var endpoint: String
    public var workerID: String
    /// The capacity announced in `hello`: the coordinator sizes leases from it, and the worker grants four times
    /// as much credit, as a real worker does.
    public var capacity: Int
    /// The canned body's size: with a job that keeps bodies, each result carries that body's two WARC members.
    public var bodyBytes: Int

    public init(endpoint: String, workerID: String, capacity: Int, bodyBytes: Int) {
        self.endpoint = endpoint
        self.workerID = workerID
        self.capacity = capacity
        self.bodyBytes = bodyBytes
    }
}

/// A stand-in for a worker that fetches nothing: it speaks the real worker protocol over a real ZeroMQ DEALER
/// (hello, credit, leases, `results`, `batchDone`, heartbeats, goodbye) and answers every leased key at once with
/// a canned 200 result — with the canned body's WARC members, built once as a real worker would build them, when
/// the job keeps bodies. Several of them flood one coordinator, so the coordinator's own cost per result can be
/// measured without any fetching (docs/performance.md, "Issue 16").
public enum FloodWorker {
    /// Runs until the coordinator says `shutdown` or `stop` is set; returns the results sent.
    public static func run(_ configuration: FloodWorkerConfiguration, stop: StopSignal = StopSignal()) async throws
        -> Int
    {
        let loop = try EventLoop(name: "arachne-flood")
        defer { loop.shutdown() }
        let context = ZMQContext()
        let done = AsyncStream<Int>.makeStream()
        let runtime = try await loop.submit {
            let runtime = FloodWorkerRuntime(configuration: configuration, loop: loop, context: context) { sent in
                done.continuation.yield(sent)
                done.continuation.finish()
            }
            try runtime.start()
            return LoopBox(runtime)
        }
        stop.onSet { _ = loop.executeIfRunning { runtime.value.stop(reason: "asked to stop by a signal") } }
        var sent = 0
        for await count in done.stream { sent = count }
        return sent
    }
}

/// The flood worker's state on its loop. Loop-confined.
final class FloodWorkerRuntime {
    private let configuration: FloodWorkerConfiguration
    private let loop: EventLoop
    private let context: ZMQContext
    private var channel: ZMQChannel?
    private var onExit: ((Int) -> Void)?
    private var keepsBodies: Set<String> = []
    private var pending: [FetchResult] = []
    private var pendingBatches: [UInt64] = []
    private var pendingCredits = 0
    private var flushScheduled = false
    private var welcomed = false
    private var sent = 0
    private var lastSent: UInt64 = 0
    private var heartbeatMs = 1_000
    private var timer: TimerID?
    /// The canned response: what a real worker's fetch of a page of `bodyBytes` gives, less the body.
    private let outcome: FetchOutcome
    private let head: [UInt8]
    private let body: [UInt8]
    private let builder = WARCRecordBuilder()
    /// The canned body's members for the last URL seen (a bench job repeats one URL).
    private var members: (url: String, body: ArchivedBody)?

    init(configuration: FloodWorkerConfiguration, loop: EventLoop, context: ZMQContext,
         onExit: @escaping (Int) -> Void)
    {
        self.configuration = configuration
        self.loop = loop
        self.context = context
        self.onExit = onExit
        body = Self.page(configuration.bodyBytes)
        head = Array((
            "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 04 Dec 2026 10:00:00 GMT\r\n"
                + "Content-Type: text/html\r\nContent-Length: \(body.count)\r\n"
                + "Last-Modified: Thu, 04 Dec 2026 09:00:00 GMT\r\nConnection: keep-alive\r\n"
                + "ETag: \"6930e0a0-800\"\r\nAccept-Ranges: bytes\r\n\r\n").utf8)
        var outcome = FetchOutcome()
        outcome.status = 200
        outcome.bytesReceived = Int64(head.count + body.count)
        outcome.httpVersion = "1.1"
        outcome.timings = PhaseTimings(queue: 3, namelookup: 0, connect: 0, appconnect: 0, pretransfer: 1,
                                       starttransfer: 180, total: 210)
        self.outcome = outcome
    }

    /// The bench page's shape (bench/nginx-up): a line of text repeated, padded to `size` bytes.
    static func page(_ size: Int) -> [UInt8] {
        let line = Array("<p>Arachne benchmark page: the quick brown fox jumps over the lazy dog.</p>\n".utf8)
        var page = Array("<!doctype html><html><head><title>bench</title></head><body>\n".utf8)
        let tail = Array("</body></html>\n".utf8)
        while page.count + line.count + tail.count <= size { page += line }
        page += [UInt8](repeating: UInt8(ascii: "x"), count: max(0, size - page.count - tail.count)) + tail
        return Array(page.prefix(size))
    }

    func start() throws {
        let socket = try ZMQSocket(context: context, type: .dealer)
        try socket.setRoutingID(configuration.workerID)
        try socket.connect(configuration.endpoint)
        channel = try ZMQChannel(socket: socket, loop: loop) { [unowned self] frames in
            self.received(frames)
        }
        send(WorkerMessage.hello(WorkerHello(workerID: configuration.workerID, host: "flood", pid: Int(getpid()),
                                             capacity: configuration.capacity)).encode())
        scheduleTick()
    }

    private func received(_ frames: [[UInt8]]) {
        guard let message = try? CoordinatorMessage.decode(frames) else { return }
        switch message {
        case .welcome(let welcome):
            welcomed = true
            heartbeatMs = max(50, welcome.heartbeatIntervalMs)
            pendingCredits += 4 * configuration.capacity
            scheduleFlush()
        case .jobSettings(let job, let settings, _):
            if settings.keepBodies { keepsBodies.insert(job) } else { keepsBodies.remove(job) }
        case .lease(let lease):
            let keeps = keepsBodies.contains(lease.job)
            let finishedAt = Date().timeIntervalSince1970
            for item in lease.items {
                pending.append(FetchResult(job: lease.job, batch: lease.batch, key: item.key, outcome: outcome,
                                           finishedAt: finishedAt, archived: keeps ? archived(item.url) : nil))
            }
            pendingCredits += lease.items.count
            pendingBatches.append(lease.batch)
            scheduleFlush()
        case .cancelJob:
            break  // Every lease is answered at once: nothing is ever queued to drop.
        case .shutdown(let reason):
            stop(reason: reason)
        case .refuse(let reason), .error(message: let reason):
            FileHandle.standardError.write(Data("arachne flood-worker \(configuration.workerID): \(reason)\n".utf8))
            stop(reason: reason)
        case .heartbeat, .robotsCached:
            break
        }
    }

    /// The canned body's members for `url`, built once per URL (the request record names it).
    private func archived(_ url: String) -> ArchivedBody {
        if let members, members.url == url { return members.body }
        var bytes: [UInt8] = []
        let built = builder.appendMembers(url: url, status: 200, rawHeader: head, body: body, truncated: false,
                                          date: Date(), httpVersion: "1.1", to: &bytes)
        let body = ArchivedBody(members: bytes, requestLength: built.requestLength, digest: built.digest)
        members = (url, body)
        return body
    }

    /// Answers go once per loop turn, 256 results to a message at most, as a real worker's flush sends them.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.runSoon { [unowned self] in
            self.flushScheduled = false
            self.flush()
        }
    }

    private func flush() {
        guard welcomed, channel != nil else { return }
        var start = 0
        while start < pending.count {
            let end = min(pending.count, start + 256)
            send(WorkerMessage.results(Array(pending[start..<end])).encode())
            sent += end - start
            start = end
        }
        pending.removeAll(keepingCapacity: true)
        for batch in pendingBatches { send(WorkerMessage.batchDone(batch: batch).encode()) }
        pendingBatches.removeAll(keepingCapacity: true)
        if pendingCredits > 0 {
            send(WorkerMessage.credit(pendingCredits).encode())
            pendingCredits = 0
        }
    }

    private func send(_ frames: [[UInt8]]) {
        try? channel?.send(frames)
        lastSent = EventLoop.now()
    }

    private func scheduleTick() {
        timer = loop.scheduleTimer(afterMilliseconds: min(heartbeatMs, 250)) { [unowned self] in
            self.timer = nil
            if self.welcomed && Int((EventLoop.now() &- self.lastSent) / 1_000_000) >= self.heartbeatMs {
                self.send(WorkerMessage.heartbeat.encode())
            }
            if self.onExit != nil { self.scheduleTick() }
        }
    }

    func stop(reason: String) {
        guard let onExit else { return }
        self.onExit = nil
        if welcomed { send(WorkerMessage.goodbye(reason: reason).encode()) }
        if let timer { loop.cancelTimer(timer) }
        channel?.close()
        channel = nil
        onExit(sent)
    }
}
