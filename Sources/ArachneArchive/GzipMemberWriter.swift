import CArachneDeflate

/// Compresses byte pieces into one complete gzip member each. WARC records are small and whole in memory, so the
/// pieces are gathered into one buffer and compressed in one call with libdeflate, which does for a 2 KB record in
/// a few microseconds what a zlib stream (deflateReset + deflate) did in about twenty.
///
/// Not thread-safe: owned by one `WARCWriter`.
final class GzipMemberWriter {
    private let compressor: OpaquePointer
    private var input: [UInt8] = []

    /// `level` is 1 (fastest) … 12 (smallest); zlib's 1 … 9 mean about the same here.
    init(level: Int32) {
        guard let compressor = libdeflate_alloc_compressor(max(1, min(12, level))) else {
            fatalError("libdeflate_alloc_compressor failed: out of memory")
        }
        self.compressor = compressor
    }

    deinit {
        libdeflate_free_compressor(compressor)
    }

    /// Appends one gzip member holding the concatenation of `pieces` to `out`.
    func appendMember(_ pieces: [UnsafeRawBufferPointer], to out: inout [UInt8]) {
        input.removeAll(keepingCapacity: true)
        for piece in pieces { input.append(contentsOf: piece) }
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        let memberStart = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = input.withUnsafeBytes { source in
            out.withUnsafeMutableBytes { destination in
                libdeflate_gzip_compress(
                    compressor, source.baseAddress, source.count, destination.baseAddress! + memberStart, bound)
            }
        }
        precondition(written > 0, "libdeflate_gzip_compress: the bound it gave was too small")
        out.removeLast(bound - written)
    }
}
