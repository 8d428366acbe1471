import CArachneDeflate

/// Compresses a byte buffer into one complete gzip member. WARC records are small and whole in memory, so each is
/// compressed in one call with libdeflate, which does for a 2 KB record in a few microseconds what a zlib stream
/// (deflateReset + deflate) did in about twenty.
///
/// A member can also be *stored* (deflate's uncompressed blocks, still a valid gzip member): libdeflate pays about
/// 5 µs per member whatever its size (it clears a 128 KB hash table), which a record of a few hundred bytes does not
/// earn back.
///
/// Not thread-safe: owned by one `WARCWriter`.
final class GzipMemberWriter {
    private let compressor: OpaquePointer
    private let storer: OpaquePointer

    /// `level` is 1 (fastest) … 12 (smallest); zlib's 1 … 9 mean about the same here.
    init(level: Int32) {
        guard let compressor = libdeflate_alloc_compressor(max(1, min(12, level))),
              let storer = libdeflate_alloc_compressor(0)
        else {
            fatalError("libdeflate_alloc_compressor failed: out of memory")
        }
        self.compressor = compressor
        self.storer = storer
    }

    deinit {
        libdeflate_free_compressor(compressor)
        libdeflate_free_compressor(storer)
    }

    /// Appends one gzip member holding `input` to `out`, deflated, or stored when `compressed` is false.
    func appendMember(_ input: UnsafeRawBufferPointer, compressed: Bool, to out: inout [UInt8]) {
        let compressor = compressed ? self.compressor : storer
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        let memberStart = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBytes { destination in
            libdeflate_gzip_compress(
                compressor, input.baseAddress, input.count, destination.baseAddress! + memberStart, bound)
        }
        precondition(written > 0, "libdeflate_gzip_compress: the bound it gave was too small")
        out.removeLast(bound - written)
    }
}
