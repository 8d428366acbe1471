import CArachneISAL

/// Turns a byte buffer into one complete gzip member. WARC records are small and whole in memory, so each is
/// compressed in one call.
///
/// Compression is ISA-L's igzip at its level 0 (`isal_deflate_stateless`): on a 2.5 KB HTML record it takes about
/// 4 µs where libdeflate's fastest level took 10 µs, because libdeflate clears a 128 KB hash table on every call
/// (about 5 µs whatever the input size). Its output is about a quarter larger than libdeflate level 1 on real
/// pages.
///
/// A member can also be *stored*: deflate's uncompressed blocks, still a valid gzip member, written here with no
/// compressor at all. For records of a few hundred bytes (WARC request records) compression buys little.
///
/// Not thread-safe: owned by one `WARCWriter`.
final class GzipMemberWriter {
    private let stream: UnsafeMutablePointer<isal_zstream>
    /// Where igzip writes a member before it is appended to the output: the member's worst-case size need not be
    /// zero-filled in the output array first (a generic `append(contentsOf: repeatElement(0, …))` was ~1% of a
    /// worker's samples), and only the bytes written are copied.
    private var scratch: UnsafeMutableRawPointer
    private var scratchCapacity: Int

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: isal_zstream())
        scratchCapacity = 64 << 10
        scratch = .allocate(byteCount: scratchCapacity, alignment: 64)
    }

    deinit {
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// The most a member of `count` input bytes can take: igzip falls back to stored blocks when compression
    /// does not fit, and stored blocks cost 5 bytes per 65,535; gzip adds a 10-byte header and an 8-byte trailer.
    static func bound(_ count: Int) -> Int { count + 5 * (count / 65_535 + 1) + 18 + 64 }

    /// Appends one gzip member holding `input` to `out`, deflated, or stored when `compressed` is false.
    func appendMember(_ input: UnsafeRawBufferPointer, compressed: Bool, to out: inout [UInt8]) {
        guard compressed, input.count > 0 else {
            appendStoredMember(input, to: &out)
            return
        }
        let bound = Self.bound(input.count)
        if bound > scratchCapacity {
            scratch.deallocate()
            scratchCapacity = bound
            scratch = .allocate(byteCount: scratchCapacity, alignment: 64)
        }
        isal_deflate_stateless_init(stream)
        stream.pointee.level = 0
        stream.pointee.gzip_flag = UInt16(IGZIP_GZIP)
        stream.pointee.end_of_stream = 1
        stream.pointee.flush = UInt16(NO_FLUSH)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.next_out = scratch.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(bound)
        let status = isal_deflate_stateless(stream)
        precondition(status == COMP_OK, "isal_deflate_stateless failed (\(status)) with a \(bound)-byte bound")
        out.append(contentsOf: UnsafeRawBufferPointer(start: scratch, count: Int(stream.pointee.total_out)))
        if scratchCapacity > 1 << 20 {
            // A rare large body: give its buffer back rather than hold it for the small pages that follow.
            scratch.deallocate()
            scratchCapacity = 64 << 10
            scratch = .allocate(byteCount: scratchCapacity, alignment: 64)
        }
    }

    /// A gzip member of stored deflate blocks (RFC 1951 §3.2.4, RFC 1952): header, blocks of at most 65,535 bytes
    /// each with LEN and NLEN, then the CRC-32 and the length.
    private func appendStoredMember(_ input: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        // ID1 ID2, CM = deflate, no flags, no mtime, XFL 0, OS unknown.
        out.append(contentsOf: [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF] as [UInt8])
        var offset = 0
        repeat {
            let length = min(65_535, input.count - offset)
            let final = offset + length == input.count
            out.append(final ? 0x01 : 0x00)
            appendLittleEndian(UInt16(length), to: &out)
            appendLittleEndian(~UInt16(length), to: &out)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)]))
            offset += length
        } while offset < input.count
        let crc = input.count == 0
            ? 0 : crc32_gzip_refl(0, input.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(input.count))
        appendLittleEndian(crc, to: &out)
        appendLittleEndian(UInt32(truncatingIfNeeded: input.count), to: &out)
    }

    private func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: Value.bitWidth, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}
