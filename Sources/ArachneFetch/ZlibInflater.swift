import CArachneZlib

/// Decodes a gzip or zlib (`deflate`) response body as it arrives, with zlib's streaming inflate.
/// Not thread-safe: owned by one transfer on the fetch loop.
final class ZlibInflater {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 32 * 1024)
    private var finished = false

    init?() {
        guard c_arachne_inflate_init_gzip(&stream) == Z_OK else { return nil }
    }

    deinit {
        inflateEnd(&stream)
    }

    /// Inflates `input`, handing decoded bytes to `sink`. Bytes after the end of the compressed stream are ignored.
    func inflate(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) -> Void) throws(FetchFailureText) {
        guard !finished, input.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(input.count)
        repeat {
            let (code, produced) = output.withUnsafeMutableBytes { buffer -> (Int32, Int) in
                stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(buffer.count)
                let code = CArachneZlib.inflate(&stream, Z_NO_FLUSH)
                return (code, buffer.count - Int(stream.avail_out))
            }
            if produced > 0 { output.withUnsafeBytes { sink(UnsafeRawBufferPointer(rebasing: $0[..<produced])) } }
            switch code {
            case Z_STREAM_END:
                finished = true
                return
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_in == 0:
                return
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "code \(code)"
                throw FetchFailureText("could not decode the content encoding: \(reason)")
            }
        } while stream.avail_in > 0 || stream.avail_out == 0
    }
}

/// A message for a failure the caller classifies.
struct FetchFailureText: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
