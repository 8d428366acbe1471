import ArachneCore
import ArachneSystem
import Glibc

extension FetchErrorKind {
    /// Classifies a failed socket call by its errno, the way reports count failures. While `connecting`, a reset
    /// or abort means the connection was never made (`connect`); afterwards a timeout means it went quiet (`reset`).
    public init(socketErrno code: Int32, connecting: Bool) {
        switch code {
        case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL, ENETDOWN: self = .connect
        case ETIMEDOUT: self = connecting ? .timeout : .reset
        case ECONNRESET, EPIPE, ECONNABORTED: self = connecting ? .connect : .reset
        default: self = .io
        }
    }
}
