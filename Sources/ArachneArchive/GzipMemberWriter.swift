import CArachneZlib

/// Compresses byte pieces into one complete gzip member each, reusing one zlib stream (`deflateReset` between
/// members). The `z_stream` lives at a fixed address because zlib keeps a pointer back to it.
///
/// Not thread-safe: owned by one `WARCWriter`.
final class GzipMemberWriter {
    private let stream: UnsafeMutablePointer<z_stream>

    init(level: Int32) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = c_arachne_deflate_init_gzip(stream, level)
        precondition(status == Z_OK, "deflateInit2 failed (\(status)): zlib is out of memory or the level is invalid")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Appends one gzip member holding the concatenation of `pieces` to `out`.
    func appendMember(_ pieces: [UnsafeRawBufferPointer], to out: inout [UInt8]) {
        precondition(deflateReset(stream) == Z_OK, "deflateReset failed")
        let total = pieces.reduce(0) { $0 + $1.count }
        let memberStart = out.count
        var produced = 0
        // deflateBound is enough for the whole member; the loop below still grows the room if zlib wants more.
        out.append(contentsOf: repeatElement(0, count: Int(deflateBound(stream, uLong(total))) + 64))
        let inputs = pieces.isEmpty ? [UnsafeRawBufferPointer(start: nil, count: 0)] : pieces
        for (index, piece) in inputs.enumerated() {
            let flush = index == inputs.count - 1 ? Z_FINISH : Z_NO_FLUSH
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: piece.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(piece.count)
            while true {
                let status = out.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    let room = buffer.count - memberStart - produced
                    stream.pointee.next_out = buffer.baseAddress! + memberStart + produced
                    stream.pointee.avail_out = uInt(room)
                    let status = deflate(stream, flush)
                    produced += room - Int(stream.pointee.avail_out)
                    return status
                }
                precondition(
                    status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate failed (\(status))")
                if flush == Z_FINISH ? status == Z_STREAM_END : stream.pointee.avail_in == 0 { break }
                if stream.pointee.avail_out == 0 { out.append(contentsOf: repeatElement(0, count: 64 * 1024)) }
            }
        }
        out.removeLast(out.count - memberStart - produced)
    }
}
