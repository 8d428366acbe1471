import ArachneCore
import CArachneCurl
import Glibc

/// One libcurl easy handle with the state of the transfer it is running: the body gathered so far, the header
/// block of the last response, and the continuation or callback to complete. Pooled and reused.
///
/// Not thread-safe: owned by a `Fetcher` and touched only on its event loop thread.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// curl writes its detailed error message here.
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// The `FetchProfile` whose options are set on the handle (held, so its identity cannot be reused).
    var profile: FetchProfile?

    // Transfer state, reset by `prepare`.
    var url = ""
    var body: [UInt8] = []
    var rawHeader: [UInt8] = []
    var bytesReceived: Int64 = 0
    var truncated = false
    var tooLarge = false
    var bodyCap = 0
    var maxResponseBytes: Int64 = 0
    var keepHeaders = true
    var queuedNanoseconds: UInt64 = 0
    var serial: UInt64 = 0
    var completion: ((FetchOutcome) -> Void)?
    /// The authority this transfer counts against when its job limits connections per host; nil otherwise.
    var gate: String?
    /// True while the multi handle has it (false while it waits for its host's gate).
    var added = false
    /// Set when the address guard refused a connection of this transfer: the failure it ends with, whatever curl
    /// then reports (a failed connect, an aborted request).
    var blocked: String?

    init() {
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        installCallbacks()
    }

    /// Points curl's callbacks and private data at this object (again after `curl_easy_reset`).
    private func installCallbacks() {
        let me = Unmanaged.passUnretained(self).toOpaque()
        c_arachne_easy_setopt_pointer(handle, CURLOPT_PRIVATE, me)
        c_arachne_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        c_arachne_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, me)
        c_arachne_easy_setopt_data_cb(handle, CURLOPT_WRITEFUNCTION, curlEasyWrite)
        c_arachne_easy_setopt_data_cb(handle, CURLOPT_HEADERFUNCTION, curlEasyHeader)
        c_arachne_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Applies a profile's options unless they are set already (curl keeps options between transfers).
    func apply(_ profile: FetchProfile) {
        guard self.profile !== profile else { return }
        if self.profile != nil {
            curl_easy_reset(handle)
            installCallbacks()
        }
        profile.apply(to: handle)
        if profile.addressGuard != nil {
            // Only guarded jobs pay for the callbacks: curl's own socket() otherwise.
            let me = Unmanaged.passUnretained(self).toOpaque()
            c_arachne_easy_setopt_opensocket_cb(handle, curlEasyOpenSocket)
            c_arachne_easy_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, me)
            c_arachne_easy_setopt_prereq_cb(handle, curlEasyPrereq)
            c_arachne_easy_setopt_pointer(handle, CURLOPT_PREREQDATA, me)
        }
        self.profile = profile
        bodyCap = profile.settings.keepBodies ? profile.settings.bodyCap : 0
        maxResponseBytes = profile.settings.maxResponseBytes
        keepHeaders = profile.settings.keepBodies
    }

    func prepare(url: String, queuedNanoseconds: UInt64, completion: @escaping (FetchOutcome) -> Void) {
        self.url = url
        body = []  // `outcome` handed the last body over; a cancelled transfer may have left one
        rawHeader.removeAll(keepingCapacity: true)
        bytesReceived = 0
        truncated = false
        tooLarge = false
        blocked = nil
        errorBuffer[0] = 0
        self.queuedNanoseconds = queuedNanoseconds
        self.completion = completion
        c_arachne_easy_setopt_string(handle, CURLOPT_URL, url)
    }

    static func from(_ pointer: UnsafeMutableRawPointer) -> CurlEasy {
        Unmanaged<CurlEasy>.fromOpaque(pointer).takeUnretainedValue()
    }

    // MARK: Reading results

    func longInfo(_ info: CURLINFO) -> Int {
        var value = 0
        c_arachne_easy_getinfo_long(handle, info, &value)
        return value
    }

    func offInfo(_ info: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        c_arachne_easy_getinfo_off(handle, info, &value)
        return Int64(value)
    }

    func stringInfo(_ info: CURLINFO) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        c_arachne_easy_getinfo_string(handle, info, &value)
        return value.map { String(cString: $0) }
    }

    /// Builds the outcome of the finished transfer and hands the body over (the handle keeps no copy).
    func outcome(result: CURLcode) -> FetchOutcome {
        var timings = PhaseTimings(
            queue: Int64(queuedNanoseconds / 1000),
            namelookup: offInfo(CURLINFO_NAMELOOKUP_TIME_T),
            connect: offInfo(CURLINFO_CONNECT_TIME_T),
            appconnect: offInfo(CURLINFO_APPCONNECT_TIME_T),
            pretransfer: offInfo(CURLINFO_PRETRANSFER_TIME_T),
            starttransfer: offInfo(CURLINFO_STARTTRANSFER_TIME_T),
            total: offInfo(CURLINFO_TOTAL_TIME_T))
        if timings.starttransfer == 0 && result == CURLE_OK { timings.starttransfer = timings.total }
        let redirects = longInfo(CURLINFO_REDIRECT_COUNT)
        let finalURL = redirects > 0 ? (stringInfo(CURLINFO_EFFECTIVE_URL) ?? url) : url
        var outcome = FetchOutcome(
            status: longInfo(CURLINFO_RESPONSE_CODE), body: body, bytesReceived: bytesReceived,
            truncated: truncated, finalURL: finalURL, redirects: redirects, timings: timings, failure: nil,
            httpVersion: Self.versionName(longInfo(CURLINFO_HTTP_VERSION)))
        body = []
        if keepHeaders {
            // Only the raw block is kept: the WARC writer uses it as bytes, and nothing on the fetch hot path
            // parses headers into strings.
            outcome.rawHeader = rawHeader
        }
        if result != CURLE_OK, let blocked {
            outcome.failure = FetchFailure(kind: .blockedAddress, message: blocked)
        } else if result != CURLE_OK {
            var message = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(result))
            let kind: FetchErrorKind = tooLarge ? .tooLarge : CurlErrorClassifier.kind(of: result, message: message)
            if tooLarge { message = "response exceeded \(maxResponseBytes) bytes" }
            outcome.failure = FetchFailure(kind: kind, message: message)
        }
        return outcome
    }

    /// Judges an address curl is about to connect to (or to send a request on), remembering a refusal.
    /// - Returns: true when the connection may be used.
    fileprivate func admit(_ address: IPAddress?, port: Int, _ addressGuard: AddressGuard) -> Bool {
        // The URL of the current hop: curl updates it before connecting for a redirect it follows.
        let url = stringInfo(CURLINFO_EFFECTIVE_URL) ?? self.url
        let host = URLAuthority.host(of: url) ?? ""
        guard let address else {
            blocked = "Not connecting for \(host): the address is neither IPv4 nor IPv6, and the address guard is on"
            return false
        }
        if let refusal = addressGuard.refusal(address, host: host, port: port) {
            blocked = refusal
            return false
        }
        return true
    }

    static func versionName(_ version: Int) -> String {
        switch version {
        case Int(CURL_HTTP_VERSION_1_0): "1.0"
        case Int(CURL_HTTP_VERSION_1_1): "1.1"
        case Int(CURL_HTTP_VERSION_2_0): "2"
        case 30: "3"
        default: ""
        }
    }
}

/// curl's write callback: keeps body bytes up to the cap, counts the rest, aborts past the response limit.
private let curlEasyWrite: c_arachne_curl_data_cb = { data, size, count, userdata in
    let easy = CurlEasy.from(userdata!)
    let length = size * count
    easy.bytesReceived += Int64(length)
    if easy.maxResponseBytes > 0 && easy.bytesReceived > easy.maxResponseBytes {
        easy.tooLarge = true
        return 0  // makes curl fail the transfer with CURLE_WRITE_ERROR
    }
    let room = easy.bodyCap - easy.body.count
    if room > 0 {
        let kept = min(room, length)
        data!.withMemoryRebound(to: UInt8.self, capacity: kept) {
            easy.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: kept))
        }
        if kept < length { easy.truncated = true }
    } else if length > 0 && easy.bodyCap > 0 {
        easy.truncated = true
    }
    return length
}

/// curl's header callback: keeps the header block of the last response (a new status line starts a new block).
private let curlEasyHeader: c_arachne_curl_data_cb = { data, size, count, userdata in
    let easy = CurlEasy.from(userdata!)
    let length = size * count
    guard easy.keepHeaders else { return length }
    data!.withMemoryRebound(to: UInt8.self, capacity: length) { pointer in
        let line = UnsafeBufferPointer(start: pointer, count: length)
        if length >= 5 && line[0] == UInt8(ascii: "H") && line[1] == UInt8(ascii: "T") && line[4] == UInt8(ascii: "/") {
            easy.rawHeader.removeAll(keepingCapacity: true)
        }
        if easy.rawHeader.count + length <= 256 * 1024 { easy.rawHeader.append(contentsOf: line) }
    }
    return length
}

/// curl's open-socket callback, set for guarded jobs: the address guard judges each address curl is about to connect
/// to, after its lookup or `--resolve` pin. A refused address gets no socket, so no connection is attempted; curl
/// tries the name's next address, or fails the transfer, which `blocked` then classifies.
private let curlEasyOpenSocket: c_arachne_curl_opensocket_cb = { clientp, _, address in
    guard let clientp, let address else { return CURL_SOCKET_BAD }
    let easy = CurlEasy.from(clientp)
    if let addressGuard = easy.profile?.addressGuard {
        let socketAddress = c_arachne_curl_sockaddr_address(address)!
        let port = IPAddress.port(socketAddress: socketAddress)
        guard easy.admit(IPAddress(socketAddress: socketAddress), port: port, addressGuard) else {
            return CURL_SOCKET_BAD
        }
    }
    let spec = address.pointee
    return socket(spec.family, spec.socktype | Int32(SOCK_CLOEXEC.rawValue), spec.protocol)
}

/// curl's pre-request callback, set for guarded jobs: a connection curl reuses was opened without this callback's
/// say (perhaps for a job with no guard), so its address is judged before each request is sent on it.
private let curlEasyPrereq: c_arachne_curl_prereq_cb = { clientp, primaryIP, _, primaryPort, _ in
    guard let clientp else { return CURL_PREREQFUNC_ABORT }
    let easy = CurlEasy.from(clientp)
    guard let addressGuard = easy.profile?.addressGuard else { return CURL_PREREQFUNC_OK }
    var text = primaryIP.map { String(cString: $0) } ?? ""
    if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
    let admitted = easy.admit(IPAddress(text), port: Int(primaryPort), addressGuard)
    return admitted ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT
}
