import CArachneZlib

/// Inflates a gzip *file* (`sitemap.xml.gz`: gzip as the body's format, not as a `Content-Encoding` curl already
/// decoded) in bounded steps, so the caller can stop at a size cap and a gzip bomb is never inflated in full. All of
/// ArachneLinks' zlib calls are in this file.
enum GzipFile {
    /// How inflating ended.
    enum End: Equatable {
        /// The last gzip member ended (bytes after it that start no member are ignored, as gzip(1) does).
        case complete
        /// The sink asked to stop.
        case stopped
        /// The input ended inside a member.
        case truncated
        /// zlib found the data corrupt; its message.
        case corrupt(String)
    }

    /// Whether `body` starts with the gzip magic bytes 1f 8b.
    static func hasMagic(_ body: UnsafeRawBufferPointer) -> Bool {
        body.count >= 2 && body[0] == 0x1F && body[1] == 0x8B
    }

    /// Inflates `input`, member after member (concatenated gzip files are one file), handing at most `chunkSize`
    /// bytes at a time to `sink`, which returns false to stop.
    static func inflate(
        _ input: UnsafeRawBufferPointer, chunkSize: Int = 64 * 1024, into sink: (UnsafeRawBufferPointer) -> Bool
    ) -> End {
        guard let base = input.baseAddress, input.count > 0 else { return .truncated }
        // zlib's state points back at its z_stream, which must therefore stay at one address.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard c_arachne_inflate_init_gzip(stream) == Z_OK else { return .corrupt("zlib could not start inflating") }
        defer { inflateEnd(stream) }
        let start = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        var handedOver = 0  // input bytes given to zlib so far
        var output = [UInt8](repeating: 0, count: max(chunkSize, 1))
        while true {
            if stream.pointee.avail_in == 0, handedOver < input.count {
                let count = min(input.count - handedOver, 1 << 30)
                stream.pointee.next_in = start + handedOver
                stream.pointee.avail_in = uInt(count)
                handedOver += count
            }
            let (code, produced) = output.withUnsafeMutableBytes { buffer -> (Int32, Int) in
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.pointee.avail_out = uInt(buffer.count)
                let code = CArachneZlib.inflate(stream, Z_NO_FLUSH)
                return (code, buffer.count - Int(stream.pointee.avail_out))
            }
            if produced > 0 {
                let goOn = output.withUnsafeBytes { sink(UnsafeRawBufferPointer(rebasing: $0[..<produced])) }
                if !goOn { return .stopped }
            }
            // Input zlib has not consumed: not handed over yet, or handed over and still in its buffer.
            let inputLeft = input.count - handedOver + Int(stream.pointee.avail_in)
            switch code {
            case Z_STREAM_END:
                let next = input.count - inputLeft
                guard inputLeft >= 2, input[next] == 0x1F, input[next + 1] == 0x8B else { return .complete }
                // Another member: inflateReset keeps next_in and avail_in.
                guard inflateReset(stream) == Z_OK else { return .corrupt("zlib could not start the next member") }
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR: no progress was possible, which only happens once the input is used up.
                if inputLeft == 0, stream.pointee.avail_out > 0 || code == Z_BUF_ERROR { return .truncated }
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(code)"
                return .corrupt(message)
            }
        }
    }
}
