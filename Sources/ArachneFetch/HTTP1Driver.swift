import ArachneCore
import ArachneEventLoop
import ArachneSystem
import Glibc

/// Arachne's own HTTP/1.1 client for plain `http://` URLs (names looked up off the loop): keep-alive connections
/// pooled per authority, one non-blocking socket per exchange, watched by the loop for as long as it is open (so a
/// reused connection costs one `send` and one `recv` per request, and no `epoll_ctl`). Everything else goes to libcurl
/// (`CurlMultiDriver`); see docs/decisions/0008-native-http1-path.md.
///
/// Not thread-safe: every method runs on the loop thread.
final class HTTP1Driver {
    let loop: EventLoop
    private let maxHostConnections: Int
    private var pools: [String: HTTP1HostPool] = [:]
    private var transfers: [UInt64: HTTP1Transfer] = [:]
    /// Parsed targets and their requests by URL, for the profile they were built with.
    private var targets: [String: CachedTarget] = [:]
    private let readBuffer: UnsafeMutableRawBufferPointer
    /// Idle connections across all pools at most; past it the longest idle is closed (as curl's MAXCONNECTS).
    private let maxIdle: Int
    private var idleTotal = 0
    /// Idle connections in the order they were parked, with the stamp they were parked with; an entry whose
    /// connection has another stamp now (reused, closed) is stale and skipped.
    private var idleOrder = FIFO<(connection: HTTP1Connection, stamp: UInt64)>()
    private var nextIdleStamp: UInt64 = 1
    private var sweepTimer: TimerID?
    private let resolver: HostResolver
    private var nextSerial: UInt64 = 1
    private var closed = false
    /// Called when a transfer must continue in libcurl (a redirect to https, a host without an IPv4 address): it
    /// has left this driver; the callee continues it at `url`.
    var continueElsewhere: ((HTTP1Transfer, String) -> Void)?

    private struct CachedTarget {
        let profile: FetchProfile
        let target: HTTP1Target
        let request: [UInt8]
        let pool: HTTP1HostPool
    }

    /// How often deadlines are checked while transfers are in flight.
    private static let sweepInterval: UInt64 = 10_000_000
    private static let readBufferSize = 64 * 1024
    private static let targetCacheLimit = 4096
    /// Pools kept when they have no connection, before empty ones are dropped.
    private static let emptyPoolsKept = 1024

    /// - Parameter maxIdle: idle keep-alive connections kept across all hosts.
    init(loop: EventLoop, maxHostConnections: Int, maxIdle: Int) {
        self.loop = loop
        self.maxHostConnections = maxHostConnections
        self.maxIdle = max(1, maxIdle)
        resolver = HostResolver(loop: loop)
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }

    var inFlight: Int { transfers.count }
    /// Pools kept (per authority) and idle connections, for tests and status.
    var poolCount: Int { pools.count }
    var idleCount: Int { idleTotal }

    /// Starts fetching `url` when this client can (plain http, settings it supports, a host not known to lack an
    /// IPv4 address); returns its serial, or nil when libcurl must fetch it instead.
    func start(url: String, profile: FetchProfile, queuedNanoseconds: UInt64, handle: TransferHandle? = nil,
               completion: @escaping (FetchOutcome) -> Void) -> UInt64?
    {
        guard !closed, let plan = profile.nativePlan, let cached = target(for: url, profile, plan) else {
            return nil
        }
        if cached.target.address == nil, case .elsewhere? = resolver.cached(cached.target.host) { return nil }
        let serial = nextSerial
        nextSerial += 1
        let transfer = HTTP1Transfer(
            serial: serial, target: cached.target, pool: cached.pool, profile: profile, plan: plan,
            request: cached.request, queuedNanoseconds: queuedNanoseconds, completion: completion)
        transfer.handle = handle
        transfers[serial] = transfer
        armSweep()
        // Taking an idle connection now needs no second clock read: the transfer started this moment.
        assign(transfer, now: transfer.startedAt)
        return serial
    }

    /// Ends a transfer early with a `cancelled` failure. Unknown or finished serials are ignored.
    func cancel(serial: UInt64) {
        guard let transfer = transfers[serial] else { return }
        fail(transfer, .cancelled, "cancelled")
    }

    func cancelAll() {
        for transfer in Array(transfers.values) { fail(transfer, .cancelled, "cancelled") }
    }

    /// Cancels everything and closes every connection.
    func close() {
        guard !closed else { return }
        closed = true  // first: a connection closed while cancelling must not be reopened for a waiting transfer
        cancelAll()
        for pool in pools.values {
            for connection in pool.idle { closeConnection(connection) }
        }
        pools.removeAll()
        targets.removeAll()
        if let sweepTimer { loop.cancelTimer(sweepTimer) }
        sweepTimer = nil
    }

    // MARK: Targets

    /// The parsed target, its request and its pool, cached by URL for the profile they were built with.
    private func target(for url: String, _ profile: FetchProfile, _ plan: NativeRequestPlan) -> CachedTarget? {
        if let cached = targets[url], cached.profile === profile, !cached.pool.retired { return cached }
        guard let target = HTTP1Target(url: url, pins: plan.pins) else { return nil }
        let cached = CachedTarget(
            profile: profile, target: target, request: plan.request(for: target), pool: pool(target.authority))
        if targets.count >= Self.targetCacheLimit { targets.removeAll(keepingCapacity: true) }
        targets[url] = cached
        return cached
    }

    // MARK: Connections

    private func pool(_ authority: String) -> HTTP1HostPool {
        if let pool = pools[authority] { return pool }
        let pool = HTTP1HostPool(authority: authority)
        pools[authority] = pool
        return pool
    }

    /// Gives the transfer an idle connection, a new one, or a place in the host's queue.
    /// - Parameter now: the time, when the caller has it (for `connect` on a reused connection).
    private func assign(_ transfer: HTTP1Transfer, now: UInt64 = EventLoop.now()) {
        if transfer.pool.retired { transfer.pool = pool(transfer.target.authority) }
        let pool = transfer.pool
        if transfer.profile.settings.forbidReuse {
            // A new connection for every request: close what idles instead of reusing it.
            while let connection = takeIdle(from: pool) { closeConnection(connection) }
        } else if let connection = takeIdle(from: pool) {
            // Idle connections are shared by every job fetching from the authority: one opened for a job without a
            // guard must not carry this one's request to an address its guard blocks.
            if let addressGuard = transfer.profile.addressGuard, let refusal = addressGuard.refusal(
                IPAddress(connection.remote), host: transfer.target.host, port: Int(connection.remote.port))
            {
                park(connection, in: pool)
                fail(transfer, .blockedAddress, refusal)
                return
            }
            bind(transfer, to: connection, at: now)
            send(connection)
            return
        }
        // The job's own per-host limit when it has one (a worker fetches for many jobs), else the fetcher's.
        let jobLimit = transfer.profile.settings.perHostConnections
        let limit = jobLimit > 0 ? jobLimit : maxHostConnections
        if limit > 0 && pool.open >= limit {
            pool.enqueue(transfer)
            return
        }
        open(for: transfer, in: pool)
    }

    private func open(for transfer: HTTP1Transfer, in pool: HTTP1HostPool) {
        guard let address = transfer.target.address ?? transfer.resolvedAddress else {
            resolve(transfer)
            return
        }
        // The guard judges the address about to be connected to: after the lookup or pin, whatever the URL spelled.
        if let addressGuard = transfer.profile.addressGuard, let refusal = addressGuard.refusal(
            IPAddress(address), host: transfer.target.host, port: Int(address.port))
        {
            fail(transfer, .blockedAddress, refusal)
            return
        }
        let fd: Int32
        let connected: Bool
        do {
            fd = try Syscall.tcpSocket(nonBlocking: true)
        } catch {
            fail(transfer, .io, "socket: \(error)")
            return
        }
        do {
            try Syscall.setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
            connected = try Syscall.connect(fd, address)
        } catch {
            try? Syscall.close(fd)
            connectFailed(transfer, error.errno)
            return
        }
        let connection = HTTP1Connection(fd: fd, pool: pool, remote: address, connecting: !connected)
        do {
            try loop.register(fd: fd, interest: connection.interest) { [unowned self, unowned connection] readiness in
                self.handle(connection, readiness)
            }
        } catch {
            try? Syscall.close(fd)
            fail(transfer, .io, "epoll: \(error)")
            return
        }
        pool.open += 1
        bind(transfer, to: connection, at: connected ? EventLoop.now() : 0)
        if connected { send(connection) }
    }

    /// A connection could not be made. To an address from the URL or a pin, that is the transfer's failure. To a
    /// looked-up name, libcurl tries again: it tries every address of the name, IPv6 ones too, as the native client
    /// (first IPv4 address only) does not, and reports the failure itself if they all fail.
    private func connectFailed(_ transfer: HTTP1Transfer, _ code: Int32) {
        guard transfer.target.address == nil, transfer.resolvedAddress != nil, continueElsewhere != nil else {
            fail(transfer, FetchErrorKind(socketErrno: code, connecting: true), connectMessage(transfer, code))
            return
        }
        handOver(transfer, at: transfer.url)
    }

    /// The transfer leaves this client: libcurl goes on with it at `url`.
    private func handOver(_ transfer: HTTP1Transfer, at url: String) {
        transfers.removeValue(forKey: transfer.serial)
        continueElsewhere?(transfer, url)
    }

    /// Looks the transfer's host up off the loop, then opens its connection; a name without an IPv4 address (or
    /// whose lookup failed) moves the transfer to libcurl.
    private func resolve(_ transfer: HTTP1Transfer) {
        let host = transfer.target.host
        let port = transfer.target.port
        let started = EventLoop.now()
        resolver.resolve(host) { [weak self] answer in
            guard let self, !self.closed, self.transfers[transfer.serial] === transfer, transfer.connection == nil
            else { return }
            switch answer {
            case .address(let address):
                if EventLoop.now() &- started > 100_000 { transfer.resolvedAt = EventLoop.now() }
                transfer.resolvedAddress = IPv4Address(address: address.address, port: port)
                self.assign(transfer)
            case .elsewhere:
                self.handOver(transfer, at: transfer.url)
            }
        }
    }

    /// Gives the connection to the transfer; `connectedAt` is when it was (or, for a reused one, is) connected,
    /// 0 while a new connection is still connecting.
    private func bind(_ transfer: HTTP1Transfer, to connection: HTTP1Connection, at connectedAt: UInt64) {
        connection.transfer = transfer
        connection.sent = 0
        transfer.connection = connection
        if !connection.connecting { transfer.connectedAt = connectedAt }
    }

    private func watch(_ connection: HTTP1Connection, _ interest: Interest) {
        guard connection.interest != interest, !connection.closed else { return }
        connection.interest = interest
        try? loop.modify(fd: connection.fd, interest: interest)
    }

    /// Closes a connection that carries no transfer (or whose transfer has been finished or moved).
    private func closeConnection(_ connection: HTTP1Connection) {
        guard !connection.closed else { return }
        connection.closed = true
        connection.transfer = nil
        loop.deregister(fd: connection.fd)
        try? Syscall.close(connection.fd)
        let pool = connection.pool
        pool.open -= 1
        if connection.idleStamp != 0 {
            connection.idleStamp = 0
            idleTotal -= 1
            if let index = pool.idle.firstIndex(where: { $0 === connection }) { pool.idle.remove(at: index) }
        }
        // A slot is free: a transfer waiting for this host can have it.
        while pool.hasWaiting, !closed, let next = pool.dequeue() {
            open(for: next, in: pool)
            // It holds the slot now, or is looking its host up; one that ended at once (refused by the address
            // guard, a failed socket) leaves the slot to the next.
            if transfers[next.serial] === next { break }
        }
        if pool.open == 0, !pool.hasWaiting, !pool.retired, pools.count > Self.emptyPoolsKept {
            // A crawl of many hosts must not keep a pool for every host it ever met.
            pools.removeValue(forKey: connection.authority)
            pool.retired = true
        }
    }

    private func takeIdle(from pool: HTTP1HostPool) -> HTTP1Connection? {
        guard let connection = pool.idle.popLast() else { return nil }
        connection.idleStamp = 0
        idleTotal -= 1
        return connection
    }

    /// Keeps a connection for reuse; closes the longest idle one when more than `maxIdle` are kept.
    private func park(_ connection: HTTP1Connection, in pool: HTTP1HostPool) {
        connection.idleStamp = nextIdleStamp
        nextIdleStamp += 1
        pool.idle.append(connection)
        idleTotal += 1
        idleOrder.append((connection, connection.idleStamp))
        while idleTotal > maxIdle, let (oldest, stamp) = idleOrder.popFirst() {
            if oldest.idleStamp == stamp { closeConnection(oldest) }
        }
        // Stale entries (connections reused or closed since) pile up: drop them once they outnumber the live ones.
        if idleOrder.count > 2 * idleTotal + 256 {
            idleOrder.removeAll { $0.connection.idleStamp != $0.stamp }
        }
    }

    /// After a complete exchange: the connection idles for reuse, serves a waiting transfer, or closes.
    private func release(_ connection: HTTP1Connection, keepAlive: Bool) {
        connection.transfer = nil
        connection.exchanges += 1
        connection.parser.reset()
        let pool = connection.pool
        guard keepAlive, !closed else {
            closeConnection(connection)
            return
        }
        watch(connection, .readable)
        if let next = pool.dequeue() {
            bind(next, to: connection, at: EventLoop.now())
            send(connection)
        } else {
            park(connection, in: pool)
        }
    }

    // MARK: I/O

    private func handle(_ connection: HTTP1Connection, _ readiness: Readiness) {
        guard !connection.closed else { return }
        guard let transfer = connection.transfer else {
            // An idle connection became readable: the server closed it, or sent what nobody asked for.
            closeConnection(connection)
            return
        }
        if connection.connecting {
            let code = (try? Syscall.socketError(connection.fd)) ?? EIO
            guard code == 0 else {
                transfer.connection = nil
                closeConnection(connection)
                connectFailed(transfer, code)
                return
            }
            connection.connecting = false
            transfer.connectedAt = EventLoop.now()
            send(connection)
            return
        }
        if connection.sending {
            if readiness.contains(.writable) { send(connection) }
            if readiness.contains(.error) || readiness.contains(.hangup) { receive(connection) }
            return
        }
        receive(connection)
    }

    private func send(_ connection: HTTP1Connection) {
        guard let transfer = connection.transfer else { return }
        // Sending starts as soon as the connection is there: curl's `pretransfer` is that moment for plain HTTP.
        if connection.sent == 0 { transfer.sentAt = transfer.connectedAt }
        while connection.sent < transfer.request.count {
            let result: IOResult<Int>
            do {
                result = try transfer.request.withUnsafeBytes { bytes throws(SystemError) in
                    try Syscall.write(connection.fd, from: UnsafeRawBufferPointer(rebasing: bytes[connection.sent...]))
                }
            } catch let error as SystemError {
                lostConnection(connection, FetchErrorKind(socketErrno: error.errno, connecting: false), "send: \(error)")
                return
            } catch {
                lostConnection(connection, .io, "send: \(error)")
                return
            }
            guard case .processed(let count) = result else {
                watch(connection, .writable)
                return
            }
            connection.sent += count
        }
        watch(connection, .readable)
    }

    private func receive(_ connection: HTTP1Connection) {
        while let transfer = connection.transfer {
            let result: IOResult<Int>
            do {
                result = try Syscall.read(connection.fd, into: readBuffer)
            } catch {
                lostConnection(connection, FetchErrorKind(socketErrno: error.errno, connecting: false), "recv: \(error)")
                return
            }
            guard case .processed(let count) = result else { return }
            if count == 0 {
                endOfStream(connection, transfer)
                return
            }
            if transfer.firstByteAt == 0 { transfer.firstByteAt = EventLoop.now() }
            let used: Int
            do {
                used = try connection.parser.feed(UnsafeRawBufferPointer(rebasing: readBuffer[..<count])) {
                    self.takeBody($0, transfer, $1)
                }
            } catch {
                failConnection(connection, .protocol, error.message)
                return
            }
            if transfer.tooLarge {
                failConnection(connection, .tooLarge,
                               "response exceeded \(transfer.profile.settings.maxResponseBytes) bytes")
                return
            }
            if let decodeFailure = transfer.decodeFailure {
                failConnection(connection, .protocol, decodeFailure)
                return
            }
            if connection.parser.isComplete {
                // Bytes beyond the response answer no request: the connection cannot be trusted with another.
                responseComplete(connection, transfer, reusable: used == count)
                return
            }
            if count < readBuffer.count { return }  // drained for now: epoll says when more arrives
        }
    }

    private func endOfStream(_ connection: HTTP1Connection, _ transfer: HTTP1Transfer) {
        do {
            try connection.parser.finishAtEndOfStream()
        } catch {
            lostConnection(connection, error.kind == .incomplete ? .reset : .protocol, error.message)
            return
        }
        responseComplete(connection, transfer, reusable: false)
    }

    /// Body bytes as the parser frames them: checked against the limit, decoded when the response is encoded.
    private func takeBody(_ chunk: UnsafeRawBufferPointer, _ transfer: HTTP1Transfer, _ head: HTTP1ResponseHead) {
        if !transfer.bodyPrepared {
            transfer.bodyPrepared = true
            let limit = transfer.profile.settings.maxResponseBytes
            if let length = head.contentLength, head.contentEncoding == nil {
                if limit > 0 && Int64(length) > limit { transfer.tooLarge = true }
                let settings = transfer.profile.settings
                // One allocation for the kept body instead of a doubling series.
                if settings.keepBodies { transfer.body.reserveCapacity(min(length, settings.bodyCap)) }
            }
            if transfer.plan.decodes, let coding = head.contentEncoding,
               coding == "gzip" || coding == "x-gzip" || coding == "deflate"
            {
                transfer.inflater = ZlibInflater()
            }
        }
        guard !transfer.tooLarge, transfer.decodeFailure == nil else { return }
        guard let inflater = transfer.inflater else {
            transfer.store(chunk)
            return
        }
        do {
            try inflater.inflate(chunk) { transfer.store($0) }
        } catch {
            transfer.decodeFailure = error.message
        }
    }

    // MARK: Outcomes

    private func responseComplete(_ connection: HTTP1Connection, _ transfer: HTTP1Transfer, reusable: Bool) {
        guard let head = connection.parser.head else {
            failConnection(connection, .protocol, "no response head")
            return
        }
        let rawHeader = transfer.profile.settings.keepBodies ? connection.parser.headBytes : []
        release(connection, keepAlive: reusable && head.keepAlive && !transfer.profile.settings.forbidReuse)
        transfer.connection = nil
        let maxRedirects = transfer.profile.settings.maxRedirects
        if maxRedirects > 0, head.isRedirect, let location = head.location {
            redirect(transfer, location: location)
            return
        }
        let now = EventLoop.now()
        var outcome = FetchOutcome(
            status: head.status, body: transfer.body, bytesReceived: transfer.bytesReceived,
            truncated: transfer.truncated, finalURL: transfer.url, redirects: transfer.redirects,
            timings: timings(transfer, end: now), failure: nil, httpVersion: head.version)
        outcome.rawHeader = rawHeader
        transfer.body = []
        finish(transfer, outcome)
    }

    private func redirect(_ transfer: HTTP1Transfer, location: String) {
        let settings = transfer.profile.settings
        guard transfer.redirects < settings.maxRedirects else {
            finish(transfer, failedOutcome(transfer, .tooManyRedirects,
                                           "Maximum (\(settings.maxRedirects)) redirects followed"))
            return
        }
        guard let next = RedirectLocation.resolve(location, against: transfer.url) else {
            finish(transfer, failedOutcome(transfer, .protocol, "redirect to an unsupported location: \(location)"))
            return
        }
        transfer.redirects += 1
        transfer.resetResponse()
        transfer.retried = false
        if let cached = target(for: next, transfer.profile, transfer.plan) {
            transfer.target = cached.target
            transfer.request = cached.request
            transfer.pool = cached.pool
            transfer.resolvedAddress = nil
            transfer.resolvedAt = 0
            assign(transfer)
        } else {
            handOver(transfer, at: next)
        }
    }

    /// The connection broke mid-exchange. A reused connection that the server closed before answering is the
    /// keep-alive race every client meets: the request is sent once more, on a new connection.
    private func lostConnection(_ connection: HTTP1Connection, _ kind: FetchErrorKind, _ message: String) {
        guard let transfer = connection.transfer else {
            closeConnection(connection)
            return
        }
        if connection.exchanges > 0 && !connection.parser.hasStarted && !transfer.retried {
            transfer.retried = true
            transfer.connection = nil
            closeConnection(connection)
            transfer.resetResponse()
            assign(transfer)
            return
        }
        failConnection(connection, kind, message)
    }

    /// Fails the connection's transfer and closes the connection (its state is unknown).
    private func failConnection(_ connection: HTTP1Connection, _ kind: FetchErrorKind, _ message: String) {
        guard let transfer = connection.transfer else {
            closeConnection(connection)
            return
        }
        fail(transfer, kind, message)
    }

    private func fail(_ transfer: HTTP1Transfer, _ kind: FetchErrorKind, _ message: String) {
        if let connection = transfer.connection {
            transfer.connection = nil
            closeConnection(connection)
        } else {
            transfer.pool.removeWaiting(transfer)
        }
        finish(transfer, failedOutcome(transfer, kind, message))
    }

    private func failedOutcome(_ transfer: HTTP1Transfer, _ kind: FetchErrorKind, _ message: String) -> FetchOutcome {
        var outcome = FetchOutcome.failed(kind, message, url: transfer.url, timings: timings(transfer, end: EventLoop.now()))
        outcome.redirects = transfer.redirects
        outcome.bytesReceived = transfer.bytesReceived
        return outcome
    }

    private func finish(_ transfer: HTTP1Transfer, _ outcome: FetchOutcome) {
        guard transfers.removeValue(forKey: transfer.serial) != nil else { return }
        transfer.completion(outcome)
    }

    /// curl's cumulative phases: name lookup only when a name was looked up (not for an address, a pin or a cached
    /// answer), TLS absent.
    private func timings(_ transfer: HTTP1Transfer, end: UInt64) -> PhaseTimings {
        let total = transfer.elapsed(end)
        let connect = transfer.elapsed(transfer.connectedAt)
        let pretransfer = max(connect, transfer.elapsed(transfer.sentAt))
        let starttransfer = transfer.firstByteAt == 0 ? 0 : max(pretransfer, transfer.elapsed(transfer.firstByteAt))
        return PhaseTimings(
            queue: Int64(transfer.queuedNanoseconds / 1000), namelookup: transfer.elapsed(transfer.resolvedAt),
            connect: connect, appconnect: 0,
            pretransfer: pretransfer, starttransfer: starttransfer, total: max(total, starttransfer))
    }

    // MARK: Deadlines

    private func armSweep() {
        guard sweepTimer == nil else { return }
        sweepTimer = loop.scheduleTimer(afterNanoseconds: Self.sweepInterval) { [unowned self] in
            self.sweepTimer = nil
            self.sweep()
        }
    }

    private func sweep() {
        let now = EventLoop.now()
        for transfer in Array(transfers.values) {
            let connectTimeout = UInt64(max(0, transfer.profile.settings.connectTimeoutMs)) * 1_000_000
            if now >= transfer.deadline {
                fail(transfer, .timeout, "Operation timed out after \(transfer.elapsed(now) / 1000) milliseconds "
                    + "with \(transfer.bytesReceived) bytes received")
            } else if connectTimeout > 0, let connection = transfer.connection, connection.connecting,
                      now &- connection.openedAt >= connectTimeout
            {
                fail(transfer, .timeout, "Connection timed out after \(transfer.elapsed(now) / 1000) milliseconds")
            }
        }
        if !transfers.isEmpty { armSweep() }
    }

    // MARK: Errors

    private func connectMessage(_ transfer: HTTP1Transfer, _ code: Int32) -> String {
        let address = (transfer.target.address ?? transfer.resolvedAddress).map(\.host)
        let resolved = address.map { $0 == transfer.target.host ? "" : " (\($0))" } ?? ""
        return "Failed to connect to \(transfer.target.host):\(transfer.target.port)\(resolved): "
            + String(cString: strerror(code))
    }
}
