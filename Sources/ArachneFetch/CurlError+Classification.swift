import ArachneCore
import CArachneCurl

/// Maps libcurl result codes onto Arachne's failure kinds. Our URLs are validated before curl sees them, so an
/// unsupported protocol means a response that is not HTTP (curl calls a garbage reply "HTTP/0.9") or a redirect to
/// another scheme: both the server's doing, classified `protocol`.
enum CurlErrorClassifier {
    /// The kind for `code`, refined by libcurl's message where one code covers two kinds: libcurl reports response
    /// headers past its limit (one line over 100 KiB, or 300 KiB in all, interim responses included) as a receive
    /// error, but that is the server's protocol failure — the native client calls it `protocol` too.
    static func kind(of code: CURLcode, message: String) -> FetchErrorKind {
        if code == CURLE_RECV_ERROR && message.lowercased().contains("header") {
            return .protocol
        }
        return kind(of: code)
    }

    static func kind(of code: CURLcode) -> FetchErrorKind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .dns
        case CURLE_COULDNT_CONNECT:
            return .connect
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_TOO_MANY_REDIRECTS:
            return .tooManyRedirects
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_SHUTDOWN_FAILED,
             CURLE_SSL_CRL_BADFILE, CURLE_USE_SSL_FAILED:
            return .tls
        case CURLE_FILESIZE_EXCEEDED:
            return .tooLarge
        case CURLE_URL_MALFORMAT:
            return .invalidURL
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_BAD_CONTENT_ENCODING,
             CURLE_HTTP_RETURNED_ERROR, CURLE_RANGE_ERROR, CURLE_HTTP3:
            return .protocol
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            return .reset
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled
        case CURLE_WRITE_ERROR, CURLE_READ_ERROR, CURLE_OUT_OF_MEMORY:
            return .io
        default:
            return .other
        }
    }
}
