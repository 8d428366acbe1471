import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a long-running coordinator keeps its state and listens, by default. The coordinator and the client
/// commands (`submit`, `jobs`, `status`, `cancel`, `report`) compute the same values, so on one machine they find
/// each other with no flags.
///
/// - data directory: `$ARACHNE_DATA_DIR`, else `~/.arachne`
/// - control endpoint (CLI ↔ coordinator): `$ARACHNE_CONTROL`, else `ipc://DATA_DIR/control.sock`
/// - worker endpoint (local workers): `ipc://DATA_DIR/workers.sock`; remote workers use `--listen tcp://…`
public enum CoordinatorDefaults {
    /// The lock file a running coordinator holds (exclusive `flock`) in its data directory.
    public static let lockFileName = "coordinator.lock"
    public static let controlSocketName = "control.sock"
    public static let workerSocketName = "workers.sock"
    /// The coordinator's own socket for its local workers: `DATA_DIR/local-PID.sock`.
    public static let localSocketPrefix = "local-"
    public static let localSocketSuffix = ".sock"
    /// The longest path an `ipc://` endpoint may have (a Unix socket's `sun_path`, less its terminating NUL).
    public static let maxSocketPathLength = 107

    /// `$ARACHNE_DATA_DIR`, or `~/.arachne`.
    public static func dataDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        if let directory = environment["ARACHNE_DATA_DIR"], !directory.isEmpty { return directory }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.arachne"
    }

    /// `$ARACHNE_CONTROL` when set, else the control socket in `dataDirectory`.
    public static func controlEndpoint(
        dataDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let endpoint = environment["ARACHNE_CONTROL"], !endpoint.isEmpty { return endpoint }
        return "ipc://" + absolute(dataDirectory) + "/" + controlSocketName
    }

    /// The local workers' socket in `dataDirectory`.
    public static func workerEndpoint(dataDirectory: String) -> String {
        "ipc://" + absolute(dataDirectory) + "/" + workerSocketName
    }

    /// A job's output directory: `DATA_DIR/jobs/JOB`.
    public static func jobDirectory(dataDirectory: String, job: String) -> String {
        absolute(dataDirectory) + "/jobs/" + job
    }

    /// `path` made absolute against the current directory, so endpoints do not depend on where a command runs.
    public static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.standardizedFileURL.path
    }

    /// Checks that an endpoint is one ZeroMQ can bind or connect: `tcp://` or `ipc://` with a path that fits.
    public static func validate(endpoint: String) -> String? {
        if endpoint.hasPrefix("ipc://") {
            let path = String(endpoint.dropFirst("ipc://".count))
            if path.isEmpty { return "'\(endpoint)' names no socket path" }
            if path.utf8.count > maxSocketPathLength {
                return "'\(endpoint)': the socket path is \(path.utf8.count) bytes; Unix sockets allow "
                    + "\(maxSocketPathLength) (use a shorter --data-dir or --control)"
            }
            return nil
        }
        if endpoint.hasPrefix("tcp://") { return nil }
        return "'\(endpoint)' is not a tcp:// or ipc:// endpoint"
    }

    /// Whether binding `endpoint` makes it reachable from other machines: a `tcp://` endpoint on any address but
    /// loopback (`127.x.x.x`, `[::1]`, `localhost`, the `lo` interface). Wildcards (`*`, `0.0.0.0`, `[::]`) are
    /// exposed.
    public static func isExposed(endpoint: String) -> Bool {
        guard endpoint.hasPrefix("tcp://") else { return false }
        var address = Substring(endpoint.dropFirst("tcp://".count))
        if let colon = address.lastIndex(of: ":") { address = address[..<colon] }
        let host = address.lowercased()
        return !(host.hasPrefix("127.") || host == "[::1]" || host == "::1" || host == "localhost" || host == "lo")
    }
}

/// The exclusive lock a coordinator holds on its data directory (`flock` on `coordinator.lock`), so two
/// coordinators never resume the same jobs. The kernel drops it when the process ends, however it ends.
public final class DataDirectoryLock: Sendable {
    public let path: String
    private let descriptor: Int32

    /// Takes the lock, or throws naming the coordinator (pid) that holds it.
    public init(dataDirectory: String) throws {
        path = dataDirectory + "/" + CoordinatorDefaults.lockFileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CoordinatorError("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            if reason == EWOULDBLOCK {
                throw CoordinatorError(
                    "another coordinator\(holder.isEmpty ? "" : " (pid \(holder))") is already running on data dir "
                        + "\(dataDirectory) (it holds \(path)); stop it or use another --data-dir")
            }
            throw CoordinatorError("cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Whether a live coordinator holds the lock of `dataDirectory`: nil when there is no lock file (no coordinator
    /// ever ran there).
    public static func isHeld(dataDirectory: String) -> Bool? {
        let path = dataDirectory + "/" + CoordinatorDefaults.lockFileName
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}
