import ArachneCore
import ArachneEventLoop
import CArachneCurl
import Glibc

/// Drives a libcurl multi handle from an `EventLoop` with the multi_socket interface: curl tells us which sockets
/// and which timeout to watch, the loop tells curl what happened, and finished transfers call their completions.
///
/// Not thread-safe: every method runs on the loop thread (curl's callbacks run inside our calls into curl).
final class CurlMultiDriver {
    let loop: EventLoop
    private let multi: UnsafeMutableRawPointer
    private var timer: TimerID?
    /// When curl last asked to be woken (monotonic ns), and when the loop timer is armed for.
    private var wantedDeadline: UInt64?
    private var armedDeadline: UInt64?
    private var idle: [CurlEasy] = []
    /// Transfers in flight by serial; holding them here also keeps their easy handles alive while curl has them.
    private var serials: [UInt64: CurlEasy] = [:]
    private var nextSerial: UInt64 = 1
    private var closed = false
    /// Per-job host limits (`perHostConnections`): transfers running per authority, and those waiting for a slot.
    /// The multi handle's own limit is per fetcher, and a worker's fetcher serves many jobs.
    private var gateActive: [String: Int] = [:]
    private var gateWaiting: [String: FIFO<CurlEasy>] = [:]

    static let globalInit: Void = {
        let code = curl_global_init(Int(CURL_GLOBAL_ALL))
        precondition(code == CURLE_OK, "curl_global_init failed: \(code.rawValue)")
    }()

    init(loop: EventLoop, maxConnections: Int, maxHostConnections: Int) {
        _ = Self.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.loop = loop
        self.multi = multi
        let me = Unmanaged.passUnretained(self).toOpaque()
        c_arachne_multi_setopt_socket_cb(multi, curlSocketCallback)
        c_arachne_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, me)
        c_arachne_multi_setopt_timer_cb(multi, curlTimerCallback)
        c_arachne_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, me)
        // Requests in flight are bounded by the callers (lanes, a worker's capacity), not here: a total-connection cap
        // equal to the concurrency made curl close a host's idle connection whenever 64 requests went to other
        // hosts, so a crawl of 200 hosts never reused one (bench/compare --variant hosts). The idle cache is sized
        // for many hosts instead.
        c_arachne_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0)
        c_arachne_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxHostConnections)
        c_arachne_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, min(4096, max(4 * maxConnections, 256)))
    }

    var inFlight: Int { serials.count }

    /// Starts a transfer; `completion` runs on the loop when it ends. Returns a serial that `cancel` accepts.
    @discardableResult
    func start(url: String, profile: FetchProfile, queuedNanoseconds: UInt64,
               completion: @escaping (FetchOutcome) -> Void) -> UInt64
    {
        guard !closed else {
            completion(.failed(.cancelled, "fetcher is closed", url: url))
            return 0
        }
        let easy = idle.popLast() ?? CurlEasy()
        easy.apply(profile)
        easy.prepare(url: url, queuedNanoseconds: queuedNanoseconds, completion: completion)
        let serial = nextSerial
        nextSerial += 1
        easy.serial = serial
        serials[serial] = easy
        easy.gate = nil
        let limit = profile.settings.perHostConnections
        if limit > 0 {
            // The same key reports count hosts by: `name[:port]` as the URL writes it.
            let key = URLAuthority.of(url) ?? url
            easy.gate = key
            if gateActive[key, default: 0] >= limit {
                gateWaiting[key, default: FIFO()].append(easy)
                return serial
            }
            gateActive[key, default: 0] += 1
        }
        add(easy)
        return serial
    }

    private func add(_ easy: CurlEasy) {
        easy.added = true
        let code = curl_multi_add_handle(multi, easy.handle)
        if code != CURLM_OK {
            finish(easy, outcome: .failed(.other, "curl_multi_add_handle: \(String(cString: curl_multi_strerror(code)))",
                                          url: easy.url))
        }
    }

    /// Ends a transfer early with a `cancelled` failure. Unknown or finished serials are ignored.
    func cancel(serial: UInt64) {
        guard let easy = serials[serial] else { return }
        if easy.added {
            curl_multi_remove_handle(multi, easy.handle)
        } else if let key = easy.gate {
            gateWaiting[key]?.removeAll { $0 === easy }
        }
        finish(easy, outcome: .failed(.cancelled, "cancelled", url: easy.url))
    }

    /// Cancels every transfer in flight.
    func cancelAll() {
        for serial in Array(serials.keys) { cancel(serial: serial) }
    }

    /// Cancels everything, then releases curl: sockets are deregistered from the loop and closed by curl.
    func close() {
        guard !closed else { return }
        cancelAll()
        closed = true
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        curl_multi_cleanup(multi)
        idle.removeAll()
    }

    /// A transfer of `key` ended: the next one waiting for that host may start.
    private func releaseGate(_ key: String) {
        if !closed, let next = gateWaiting[key]?.popFirst() {
            if gateWaiting[key]?.isEmpty == true { gateWaiting[key] = nil }
            add(next)
            return
        }
        let active = gateActive[key, default: 1] - 1
        gateActive[key] = active > 0 ? active : nil
    }

    // MARK: curl → loop

    fileprivate func watch(socket fd: Int32, what: Int32) {
        if what == CURL_POLL_REMOVE {
            loop.deregister(fd: fd)
            return
        }
        var interest: Interest = []
        if what & CURL_POLL_IN != 0 { interest.insert(.readable) }
        if what & CURL_POLL_OUT != 0 { interest.insert(.writable) }
        do {
            if loop.isRegistered(fd: fd) {
                do {
                    try loop.modify(fd: fd, interest: interest)
                    return
                } catch where error.errno == ENOENT {
                    // curl closed the old socket without a REMOVE and this is a new one with the same number: epoll
                    // dropped the old one on close, so watch the new one from scratch.
                    loop.deregister(fd: fd)
                }
            }
            try loop.register(fd: fd, interest: interest) { [unowned self] readiness in
                var flags: Int32 = 0
                if readiness.contains(.readable) || readiness.contains(.hangup) { flags |= CURL_CSELECT_IN }
                if readiness.contains(.writable) { flags |= CURL_CSELECT_OUT }
                if readiness.contains(.error) { flags |= CURL_CSELECT_ERR }
                self.action(socket: fd, flags: flags)
            }
        } catch {
            // The socket cannot be watched (out of memory): curl notices through its own timeout.
        }
    }

    /// curl asks for a new timeout after almost every action, usually the same far deadline again. Keep one loop
    /// timer: re-arm it only when curl wants to be woken earlier than it is armed for; when it fires early (curl
    /// moved its deadline later), just arm it again for the deadline curl wants now.
    fileprivate func setTimer(milliseconds: Int) {
        guard milliseconds >= 0 else {
            wantedDeadline = nil
            return
        }
        let deadline = EventLoop.now() &+ UInt64(milliseconds) * 1_000_000
        wantedDeadline = deadline
        if let armedDeadline, timer != nil, armedDeadline <= deadline { return }
        arm(at: deadline)
    }

    private func arm(at deadline: UInt64) {
        if let timer { loop.cancelTimer(timer) }
        armedDeadline = deadline
        let now = EventLoop.now()
        timer = loop.scheduleTimer(afterNanoseconds: deadline > now ? deadline - now : 0) { [unowned self] in
            self.timer = nil
            self.armedDeadline = nil
            guard let wanted = self.wantedDeadline else { return }
            if wanted > EventLoop.now() &+ 500_000 {
                self.arm(at: wanted)
                return
            }
            self.wantedDeadline = nil
            self.action(socket: CURL_SOCKET_TIMEOUT, flags: 0)
        }
    }

    // MARK: loop → curl

    private func action(socket: Int32, flags: Int32) {
        guard !closed else { return }
        var running: Int32 = 0
        curl_multi_socket_action(multi, socket, flags, &running)
        collectFinished()
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let result = c_arachne_msg_result(message)
            var pointer: UnsafeMutableRawPointer?
            c_arachne_easy_getinfo_pointer(handle, CURLINFO_PRIVATE, &pointer)
            guard let pointer else { continue }
            let easy = CurlEasy.from(pointer)
            curl_multi_remove_handle(multi, handle)
            finish(easy, outcome: easy.outcome(result: result))
        }
    }

    private func finish(_ easy: CurlEasy, outcome: FetchOutcome) {
        serials.removeValue(forKey: easy.serial)
        if let key = easy.gate {
            easy.gate = nil
            if easy.added { releaseGate(key) }
        }
        easy.added = false
        let completion = easy.completion
        easy.completion = nil
        if !closed { idle.append(easy) }
        completion?(outcome)
    }
}

private let curlSocketCallback: c_arachne_curl_socket_cb = { _, socket, what, userp, _ in
    Unmanaged<CurlMultiDriver>.fromOpaque(userp!).takeUnretainedValue().watch(socket: socket, what: what)
    return 0
}

private let curlTimerCallback: c_arachne_curl_timer_cb = { _, timeout, userp in
    Unmanaged<CurlMultiDriver>.fromOpaque(userp!).takeUnretainedValue().setTimer(milliseconds: timeout)
    return 0
}
