#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor with the few calls the archive needs, each retried on `EINTR` and failing with the path and
/// the system's reason. Not shared between threads: its owner (a writer or reader) serialises use.
struct PosixFile {
    let path: String
    private(set) var descriptor: Int32

    /// Opens `path`; `flags` as for open(2) (`O_CLOEXEC` is added).
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(ArchiveError) -> PosixFile {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return PosixFile(path: path, descriptor: fd) }
            if errno != EINTR { throw .system(path, "open", errno: errno) }
        }
    }

    /// Writes every byte, looping over short writes.
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .system(path, "write", errno: errno)
            }
            offset += written
        }
    }

    func writeAll(_ bytes: [UInt8]) throws(ArchiveError) {
        let result: Result<Void, ArchiveError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(ArchiveError) in try writeAll(buffer) }
        }
        try result.get()
    }

    /// Reads up to `buffer.count` bytes; 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw .system(path, "read", errno: errno) }
        }
    }

    /// The file's current size.
    func size() throws(ArchiveError) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .system(path, "stat", errno: errno) }
        return Int64(info.st_size)
    }

    func truncate(to length: Int64) throws(ArchiveError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw .system(path, "truncate", errno: errno) }
    }

    /// Tells the kernel that `length` bytes from `offset` will not be read again: Linux starts writing them to the
    /// device without waiting (posix_fadvise(2), POSIX_FADV_DONTNEED) and drops them from the page cache once
    /// written, so that a later `sync` has little left to wait for and a long crawl's bodies do not crowd out the
    /// cache. Advisory: its result is ignored, as `sync` reports any error that matters.
    func releaseWritten(offset: Int64, length: Int64) {
        _ = posix_fadvise(descriptor, off_t(offset), off_t(length), POSIX_FADV_DONTNEED)
    }

    /// Flushes the file's data to the device.
    func sync() throws(ArchiveError) {
        guard fsync(descriptor) == 0 else { throw .system(path, "fsync", errno: errno) }
    }

    mutating func close() throws(ArchiveError) {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        // close(2) is not retried on EINTR on Linux: the descriptor is released either way.
        if Glibc.close(fd) != 0 && errno != EINTR { throw .system(path, "close", errno: errno) }
    }

    /// Renames `from` to `to` atomically (same file system).
    static func rename(_ from: String, to: String) throws(ArchiveError) {
        guard Glibc.rename(from, to) == 0 else { throw .system(from, "rename to \(to)", errno: errno) }
    }
}
