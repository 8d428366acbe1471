import CArachneLinux
import Glibc

/// Every system call Arachne makes, each wrapped once: `EINTR` is retried, errnos that can only mean a bug
/// (`EBADF`, `EFAULT`) trap, and anything else is thrown as a `SystemError` naming the call.
public enum Syscall {
    @inline(__always)
    static func call<T: FixedWidthInteger>(_ name: String, _ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = c_arachne_errno()
            if code == EINTR { continue }
            if code == EBADF || code == EFAULT {
                preconditionFailure("\(name) failed with \(SystemError(call: name, errno: code)): a programming error")
            }
            throw SystemError(call: name, errno: code)
        }
    }

    @inline(__always)
    static func io(_ name: String, _ body: () -> Int) throws(SystemError) -> IOResult<Int> {
        do {
            return .processed(try call(name, body))
        } catch {
            if error.wouldBlock { return .wouldBlock }
            throw error
        }
    }

    // MARK: epoll, eventfd

    public static func epollCreate() throws(SystemError) -> Int32 {
        try call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    public static func epollControl(_ epfd: Int32, _ op: Int32, _ fd: Int32, events: UInt32, data: UInt64)
        throws(SystemError)
    {
        var event = epoll_event()
        c_arachne_epoll_event_set(&event, events, data)
        _ = try call("epoll_ctl") { epoll_ctl(epfd, op, fd, &event) }
    }

    public static func epollWait(
        _ epfd: Int32, _ events: UnsafeMutablePointer<epoll_event>, maxEvents: Int32, timeoutMs: Int32
    ) throws(SystemError) -> Int {
        Int(try call("epoll_wait") { epoll_wait(epfd, events, maxEvents, timeoutMs) })
    }

    public static func eventfd(initial: UInt32 = 0) throws(SystemError) -> Int32 {
        try call("eventfd") { CArachneLinux.eventfd(initial, Int32(EFD_CLOEXEC | EFD_NONBLOCK)) }
    }

    /// Adds 1 to an eventfd's counter (wakes a waiter). A full counter would block: that already means "awake".
    public static func eventfdSignal(_ fd: Int32) throws(SystemError) {
        var one: UInt64 = 1
        _ = try io("write(eventfd)") { Glibc.write(fd, &one, 8) }
    }

    /// Resets an eventfd's counter.
    public static func eventfdDrain(_ fd: Int32) throws(SystemError) {
        var value: UInt64 = 0
        _ = try io("read(eventfd)") { Glibc.read(fd, &value, 8) }
    }

    // MARK: descriptors

    public static func close(_ fd: Int32) throws(SystemError) {
        // EINTR on close must not be retried on Linux: the descriptor is gone either way.
        if Glibc.close(fd) < 0 {
            let code = c_arachne_errno()
            if code == EINTR { return }
            if code == EBADF { preconditionFailure("close(\(fd)): EBADF, a programming error") }
            throw SystemError(call: "close", errno: code)
        }
    }

    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError)
        -> IOResult<Int>
    {
        try io("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    public static func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try io("write") { Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
    }

    public static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        let flags = try call("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
        _ = try call("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    // MARK: sockets

    public static func socketPair() throws(SystemError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try call("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        return (fds[0], fds[1])
    }

    public static func tcpSocket(nonBlocking: Bool) throws(SystemError) -> Int32 {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        return try call("socket") { socket(AF_INET, type, 0) }
    }

    public static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32) throws(SystemError) {
        var value = value
        _ = try call("setsockopt") { setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }

    public static func bind(_ fd: Int32, _ address: IPv4Address) throws(SystemError) {
        var sin = address.sockaddr
        _ = try call("bind") {
            withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    public static func listen(_ fd: Int32, backlog: Int32) throws(SystemError) {
        _ = try call("listen") { Glibc.listen(fd, backlog) }
    }

    /// Accepts a connection as a non-blocking, close-on-exec descriptor.
    public static func accept(_ fd: Int32) throws(SystemError) -> IOResult<Int32> {
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        switch try io("accept4", { Int(c_arachne_accept4(fd, flags)) }) {
        case .processed(let newFD): return .processed(Int32(newFD))
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Starts (or completes, for a blocking socket) a connection. `false` means it is in progress.
    public static func connect(_ fd: Int32, _ address: IPv4Address) throws(SystemError) -> Bool {
        var sin = address.sockaddr
        let result = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result == 0 { return true }
        let code = c_arachne_errno()
        if code == EINPROGRESS || code == EINTR { return false }
        throw SystemError(call: "connect", errno: code)
    }

    /// The pending error of a socket (after a non-blocking connect completes), 0 when none.
    public static func socketError(_ fd: Int32) throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try call("getsockopt(SO_ERROR)") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value
    }

    public static func localAddress(_ fd: Int32) throws(SystemError) -> IPv4Address {
        var sin = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try call("getsockname") {
            withUnsafeMutablePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        return IPv4Address(sin)
    }

    // MARK: process

    /// User and system CPU time this process has used, in seconds.
    public static func processCPUSeconds() -> (user: Double, system: Double) {
        var usage = rusage()
        c_arachne_getrusage_self(&usage)
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }

    /// User plus system CPU time of this process's children that have exited and been waited for, in seconds.
    public static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000 }

    /// Peak resident set size of this process, in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        c_arachne_getrusage_self(&usage)
        return Int(usage.ru_maxrss) * 1024
    }

    /// How many descriptors this process has open (entries of /proc/self/fd).
    public static func openDescriptorCount() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while readdir(dir) != nil { count += 1 }
        return count - 3  // ".", "..", and the directory's own descriptor
    }
}
