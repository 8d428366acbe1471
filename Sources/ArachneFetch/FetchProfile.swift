import ArachneCore
import CArachneCurl
import Synchronization

/// `FetchSettings` turned into libcurl options and the native client's request plan once, shared by every transfer
/// that uses them. Immutable after init (but for a cache of derived profiles); the curl lists it owns live as long
/// as it does, so keep it alive while transfers use it.
public final class FetchProfile: @unchecked Sendable {
    // Safety: immutable after init, but for `derived`, which its mutex guards; curl only reads the lists.
    public let settings: FetchSettings
    /// How the native HTTP/1.1 client makes requests with these settings; nil when only libcurl can.
    let nativePlan: NativeRequestPlan?
    /// The private-address guard both clients consult before connecting; nil when the settings have none.
    let addressGuard: AddressGuard?
    private let headerList: UnsafeMutablePointer<curl_slist>?
    private let resolveList: UnsafeMutablePointer<curl_slist>?
    /// Profiles with fewer redirects allowed, for transfers that move to libcurl after following some.
    private let derived = Mutex<[Int: FetchProfile]>([:])

    public init(settings: FetchSettings) {
        self.settings = settings
        nativePlan = NativeRequestPlan(settings: settings)
        addressGuard = settings.addressPolicy.map(AddressGuard.init)
        var headers: UnsafeMutablePointer<curl_slist>?
        var allHeaders = settings.headers
        if settings.forbidReuse { allHeaders.append("Connection: close") }
        for header in allHeaders { headers = curl_slist_append(headers, header) }
        headerList = headers
        var resolve: UnsafeMutablePointer<curl_slist>?
        for entry in settings.resolve { resolve = curl_slist_append(resolve, entry) }
        resolveList = resolve
    }

    /// The same settings with at most `redirects` more redirects followed.
    func allowing(redirects: Int) -> FetchProfile {
        derived.withLock { cache in
            if let profile = cache[redirects] { return profile }
            var settings = settings
            settings.maxRedirects = redirects
            let profile = FetchProfile(settings: settings)
            cache[redirects] = profile
            return profile
        }
    }

    deinit {
        curl_slist_free_all(headerList)
        curl_slist_free_all(resolveList)
    }

    func apply(to handle: UnsafeMutableRawPointer) {
        let s = settings
        c_arachne_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        c_arachne_easy_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        c_arachne_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, s.maxRedirects > 0 ? 1 : 0)
        c_arachne_easy_setopt_long(handle, CURLOPT_MAXREDIRS, s.maxRedirects)
        c_arachne_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, s.connectTimeoutMs)
        c_arachne_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, s.totalTimeoutMs)
        c_arachne_easy_setopt_string(handle, CURLOPT_USERAGENT, s.userAgent)
        c_arachne_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        c_arachne_easy_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        if s.acceptEncoding == "identity" || s.acceptEncoding == "none" {
            c_arachne_easy_setopt_pointer(handle, CURLOPT_ACCEPT_ENCODING, nil)
        } else {
            c_arachne_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, s.acceptEncoding)
        }
        c_arachne_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, s.insecure ? 0 : 1)
        c_arachne_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, s.insecure ? 0 : 2)
        if let caCert = s.caCertPath { c_arachne_easy_setopt_string(handle, CURLOPT_CAINFO, caCert) }
        c_arachne_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        c_arachne_easy_setopt_slist(handle, CURLOPT_RESOLVE, resolveList)
        c_arachne_easy_setopt_long(handle, CURLOPT_FORBID_REUSE, s.forbidReuse ? 1 : 0)
        c_arachne_easy_setopt_long(handle, CURLOPT_FRESH_CONNECT, s.forbidReuse ? 1 : 0)
        c_arachne_easy_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(s.maxResponseBytes))
        c_arachne_easy_setopt_long(handle, CURLOPT_PIPEWAIT, 1)
        // No proxy from the environment: curl would read several variables (getenv) on every transfer.
        c_arachne_easy_setopt_string(handle, CURLOPT_PROXY, "")
    }
}
