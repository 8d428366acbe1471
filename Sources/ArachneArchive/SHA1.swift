/// SHA-1 (FIPS 180-4), for WARC payload digests. Not for security: WARC names SHA-1 as its customary digest.
public struct SHA1: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    private var block = [UInt8](repeating: 0, count: 64)
    private var blockCount = 0
    private var length: UInt64 = 0

    public init() {}

    /// The 20-byte digest of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var sha = SHA1()
        sha.update(bytes)
        return sha.finalize()
    }

    /// Adds bytes to the message.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Adds bytes to the message.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        length += UInt64(buffer.count)
        var offset = 0
        if blockCount > 0 {
            let take = min(64 - blockCount, buffer.count)
            for index in 0..<take { block[blockCount + index] = buffer[index] }
            blockCount += take
            offset = take
            if blockCount == 64 {
                block.withUnsafeBytes { compress($0) }
                blockCount = 0
            }
        }
        while buffer.count - offset >= 64 {
            compress(UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + 64]))
            offset += 64
        }
        for index in offset..<buffer.count { block[blockCount + index - offset] = buffer[index] }
        blockCount += buffer.count - offset
    }

    /// Pads the message and returns the digest.
    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var padding: [UInt8] = [0x80]
        let afterMarker = (blockCount + 1) % 64
        padding += [UInt8](repeating: 0, count: afterMarker <= 56 ? 56 - afterMarker : 120 - afterMarker)
        for shift in stride(from: 56, through: 0, by: -8) {
            padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        let savedLength = length
        padding.withUnsafeBytes { update($0) }
        length = savedLength
        precondition(blockCount == 0, "SHA-1 padding must end on a block boundary")
        var digest: [UInt8] = []
        digest.reserveCapacity(20)
        for word in [state.0, state.1, state.2, state.3, state.4] {
            for shift in stride(from: 24, through: 0, by: -8) {
                digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
            }
        }
        return digest
    }

    private mutating func compress(_ chunk: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for index in 0..<16 {
                w[index] = UInt32(bigEndian: chunk.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            }
            for index in 16..<80 {
                let mixed = w[index - 3] ^ w[index - 8] ^ w[index - 14] ^ w[index - 16]
                w[index] = mixed << 1 | mixed >> 31
            }
            var (a, b, c, d, e) = state
            @inline(__always) func step(_ f: UInt32, _ k: UInt32, _ word: UInt32) {
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ word
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = temp
            }
            for index in 0..<20 { step((b & c) | (~b & d), 0x5A82_7999, w[index]) }
            for index in 20..<40 { step(b ^ c ^ d, 0x6ED9_EBA1, w[index]) }
            for index in 40..<60 { step((b & c) | (b & d) | (c & d), 0x8F1B_BCDC, w[index]) }
            for index in 60..<80 { step(b ^ c ^ d, 0xCA62_C1D6, w[index]) }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
        }
    }
}

/// RFC 4648 base32 (upper case, padded), the encoding of WARC's `sha1:` digests.
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 4) / 5 * 8)
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 5, bytes.count)])
            var bits: UInt64 = 0
            for position in 0..<5 { bits = bits << 8 | UInt64(position < chunk.count ? chunk[position] : 0) }
            let symbols = [0, 2, 4, 5, 7, 8][chunk.count]
            for position in 0..<8 {
                let symbol = alphabet[Int((bits >> UInt64(35 - position * 5)) & 31)]
                out.append(position < symbols ? symbol : UInt8(ascii: "="))
            }
            index += 5
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SHA1 {
    /// The digest as WARC writes it: `sha1:` and base32.
    public static func warcDigest(_ bytes: [UInt8]) -> String {
        "sha1:" + Base32.encode(hash(bytes))
    }
}
