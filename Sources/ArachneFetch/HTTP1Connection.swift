import ArachneCore
import ArachneEventLoop
import ArachneSystem

/// One transfer of the native HTTP/1.1 client: a request, the hops of its redirects, and the response so far.
/// Not thread-safe: owned by an `HTTP1Driver` on its loop thread.
final class HTTP1Transfer {
    let serial: UInt64
    let profile: FetchProfile
    let plan: NativeRequestPlan
    let completion: (FetchOutcome) -> Void
    let queuedNanoseconds: UInt64
    let startedAt: UInt64
    let deadline: UInt64
    var target: HTTP1Target
    /// The connections of `target`'s authority.
    var pool: HTTP1HostPool
    var request: [UInt8]
    /// The URL of the current hop: `target.url`, kept as given for the outcome.
    var url: String { target.url }
    var redirects = 0
    /// Where the Fetcher looks for this transfer when it is cancelled; updated if it moves to libcurl.
    var handle: TransferHandle?
    /// The target host's address once looked up (names only), and when the lookup ended (0: no wait for one).
    var resolvedAddress: IPv4Address?
    var resolvedAt: UInt64 = 0
    /// Set when the request has been sent again on a new connection after a reused one closed unanswered.
    var retried = false

    // The current hop's response.
    var connection: HTTP1Connection?
    var body: [UInt8] = []
    var bytesReceived: Int64 = 0
    var truncated = false
    var tooLarge = false
    var bodyPrepared = false
    var inflater: ZlibInflater?
    var decodeFailure: String?
    var connectedAt: UInt64 = 0
    var sentAt: UInt64 = 0
    var firstByteAt: UInt64 = 0

    init(serial: UInt64, target: HTTP1Target, pool: HTTP1HostPool, profile: FetchProfile, plan: NativeRequestPlan,
         request: [UInt8], queuedNanoseconds: UInt64, completion: @escaping (FetchOutcome) -> Void)
    {
        self.serial = serial
        self.target = target
        self.pool = pool
        self.profile = profile
        self.plan = plan
        self.request = request
        self.queuedNanoseconds = queuedNanoseconds
        self.completion = completion
        startedAt = EventLoop.now()
        let timeout = profile.settings.totalTimeoutMs
        deadline = timeout > 0 ? startedAt &+ UInt64(timeout) * 1_000_000 : .max
    }

    /// Forgets the response of a hop, before a retry or the next redirect.
    func resetResponse() {
        body = []
        bytesReceived = 0
        truncated = false
        tooLarge = false
        bodyPrepared = false
        inflater = nil
        decodeFailure = nil
        connectedAt = 0
        sentAt = 0
        firstByteAt = 0
    }

    /// Microseconds since the transfer started, for a timestamp taken during it (0 when it was not reached).
    func elapsed(_ at: UInt64) -> Int64 {
        at == 0 ? 0 : Int64((at &- startedAt) / 1000)
    }

    /// Takes body bytes (decoded): counts them all, keeps them up to the cap, flags a response past the limit.
    func store(_ bytes: UnsafeRawBufferPointer) {
        bytesReceived += Int64(bytes.count)
        let settings = profile.settings
        if settings.maxResponseBytes > 0 && bytesReceived > settings.maxResponseBytes {
            tooLarge = true
            return
        }
        let cap = settings.keepBodies ? settings.bodyCap : 0
        let room = cap - body.count
        if room >= bytes.count {
            body.append(contentsOf: bytes)
        } else {
            if room > 0 { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<room])) }
            if cap > 0 { truncated = true }
        }
    }
}

/// One TCP connection of the native client, idle in its pool or carrying one transfer's exchange.
/// Not thread-safe: owned by an `HTTP1Driver` on its loop thread.
final class HTTP1Connection {
    let fd: Int32
    /// The pool of the connection's authority (it holds the connection while it idles).
    let pool: HTTP1HostPool
    /// The address connected to (the address guard judges it again when a job reuses the connection).
    let remote: IPv4Address
    var parser = HTTP1ResponseParser()
    var transfer: HTTP1Transfer?
    /// True until the non-blocking connect completes.
    var connecting: Bool
    /// Bytes of the current request written so far.
    var sent = 0
    /// Exchanges completed on this connection: a reused connection may have been closed by the server meanwhile.
    var exchanges = 0
    /// What the loop watches the descriptor for now.
    var interest: Interest
    /// Set when the connection is closed and deregistered: late callbacks ignore it.
    var closed = false
    /// Non-zero while it idles in its pool: when it was parked there (the driver's order of idle connections).
    var idleStamp: UInt64 = 0

    /// The authority it is connected to.
    var authority: String { pool.authority }

    /// When the connect started, for the connect timeout.
    let openedAt: UInt64

    init(fd: Int32, pool: HTTP1HostPool, remote: IPv4Address, connecting: Bool) {
        self.fd = fd
        self.pool = pool
        self.remote = remote
        self.connecting = connecting
        openedAt = connecting ? EventLoop.now() : 0
        interest = connecting ? .writable : .readable
    }

    /// The request still has bytes to write.
    var sending: Bool {
        guard let transfer else { return false }
        return sent < transfer.request.count
    }
}

/// The connections of one authority: idle ones ready for reuse, how many are open, and transfers waiting for a
/// connection when a per-host limit is reached.
final class HTTP1HostPool {
    let authority: String
    var idle: [HTTP1Connection] = []
    /// Set when the driver dropped this pool (it had no connection): whoever holds it must look up a new one.
    var retired = false
    var open = 0
    private var waiting = FIFO<HTTP1Transfer>()

    init(authority: String) {
        self.authority = authority
    }

    var hasWaiting: Bool { !waiting.isEmpty }

    func enqueue(_ transfer: HTTP1Transfer) {
        waiting.append(transfer)
    }

    func dequeue() -> HTTP1Transfer? {
        waiting.popFirst()
    }

    func removeWaiting(_ transfer: HTTP1Transfer) {
        waiting.removeAll { $0 === transfer }
    }
}
