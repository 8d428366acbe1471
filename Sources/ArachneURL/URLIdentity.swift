/// The identity a crawl de-duplicates by: the href without its fragment, with percent-escapes upper-cased and
/// escapes of unreserved characters (ALPHA DIGIT - . _ ~) decoded in path and query, so that two spellings of one
/// URL give one identity; and a stable 64-bit fingerprint of it for the frontier's on-disk sets.
public enum URLIdentity {
    /// The canonical string of `url` (see the type's comment). Escapes in the userinfo and an opaque host are
    /// upper-cased but not decoded: servers treat those bytes as opaque.
    public static func canonical(_ url: WebURL) -> String {
        // Most links have no fragment and no escape: their identity is their href, already serialized.
        if url.record.fragment == nil, !hasEscape(url.record) { return url.href }
        var record = url.record
        record.fragment = nil
        record.username = normalizeEscapes(record.username, decodeUnreserved: false)
        record.password = normalizeEscapes(record.password, decodeUnreserved: false)
        record.host = record.host.map { normalizeEscapes($0, decodeUnreserved: false) }
        record.path = record.path.map { normalizeEscapes($0, decodeUnreserved: true) }
        record.opaquePath = record.opaquePath.map { normalizeEscapes($0, decodeUnreserved: true) }
        record.query = record.query.map { normalizeEscapes($0, decodeUnreserved: true) }
        return String(decoding: record.serialize(), as: UTF8.self)
    }

    /// A stable 64-bit fingerprint of a canonical string: SipHash-2-4 of its UTF-8 bytes under the fixed key
    /// `fingerprintKey`. Stored on disk, so it must never change across processes or versions (Swift's `Hasher` is
    /// randomly seeded per process). Among 10 million URLs, the odds of any collision are about 2.7 in a million.
    public static func fingerprint(_ canonical: String) -> UInt64 {
        SipHash24.hash(canonical.utf8, key: fingerprintKey)
    }

    /// The fingerprint's key: the ASCII bytes of "ArachneURLIdent1" read as two little-endian 64-bit words.
    /// Changing it changes every stored fingerprint.
    public static let fingerprintKey: (UInt64, UInt64) = (0x5565_6E68_6361_7241, 0x3174_6E65_6449_4C52)

    /// Upper-cases the hex digits of every escape and, when `decodeUnreserved`, decodes escapes of unreserved bytes.
    static func normalizeEscapes(_ bytes: [UInt8], decodeUnreserved: Bool) -> [UInt8] {
        guard bytes.contains(0x25) else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x25, index + 2 < bytes.count, let high = hexValue(bytes[index + 1]),
                let low = hexValue(bytes[index + 2])
            {
                let decoded = high << 4 | low
                if decodeUnreserved && isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    output += [0x25, hexDigit(high), hexDigit(low)]
                }
                index += 3
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    private static func hasEscape(_ record: URLRecord) -> Bool {
        if record.username.contains(0x25) || record.password.contains(0x25) { return true }
        if record.host?.contains(0x25) == true || record.query?.contains(0x25) == true { return true }
        if record.opaquePath?.contains(0x25) == true { return true }
        return record.path.contains { $0.contains(0x25) }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        isASCIIAlphanumeric(Int(byte)) || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
    }
}

/// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), written from the paper: 64-bit
/// output, 2 compression rounds per 8-byte word, 4 finalization rounds.
enum SipHash24 {
    static func hash<Bytes: Sequence<UInt8>>(_ message: Bytes, key: (UInt64, UInt64)) -> UInt64 {
        // Contiguous bytes (a native String's UTF-8, an Array) are read a word at a time.
        if let hash = message.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0), key: key) }) {
            return hash
        }
        return hashBytewise(message, key: key)
    }

    /// The same over a buffer, eight bytes per load.
    static func hash(_ message: UnsafeRawBufferPointer, key: (UInt64, UInt64)) -> UInt64 {
        var state = State(key: key)
        let count = message.count
        var offset = 0
        while offset + 8 <= count {
            state.compress(UInt64(littleEndian: message.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        var word: UInt64 = 0
        var shift: UInt64 = 0
        while offset < count {
            word |= UInt64(message[offset]) << shift
            shift += 8
            offset += 1
        }
        return state.finish(lastBytes: word, length: count)
    }

    /// Byte by byte, for sequences without contiguous storage.
    static func hashBytewise<Bytes: Sequence<UInt8>>(_ message: Bytes, key: (UInt64, UInt64)) -> UInt64 {
        var state = State(key: key)
        var word: UInt64 = 0
        var length = 0
        for byte in message {
            word |= UInt64(byte) << (8 * UInt64(length & 7))
            length += 1
            if length & 7 == 0 {
                state.compress(word)
                word = 0
            }
        }
        return state.finish(lastBytes: word, length: length)
    }

    /// The four words of SipHash's state.
    private struct State {
        var v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64

        init(key: (UInt64, UInt64)) {
            v0 = 0x736f_6d65_7073_6575 ^ key.0
            v1 = 0x646f_7261_6e64_6f6d ^ key.1
            v2 = 0x6c79_6765_6e65_7261 ^ key.0
            v3 = 0x7465_6462_7974_6573 ^ key.1
        }

        @inline(__always)
        mutating func round() {
            v0 &+= v1; v1 = v1.rotatedLeft(13); v1 ^= v0; v0 = v0.rotatedLeft(32)
            v2 &+= v3; v3 = v3.rotatedLeft(16); v3 ^= v2
            v0 &+= v3; v3 = v3.rotatedLeft(21); v3 ^= v0
            v2 &+= v1; v1 = v1.rotatedLeft(17); v1 ^= v2; v2 = v2.rotatedLeft(32)
        }

        /// One 8-byte word of the message (little-endian), two compression rounds.
        @inline(__always)
        mutating func compress(_ word: UInt64) {
            v3 ^= word
            round(); round()
            v0 ^= word
        }

        /// The last word — the remaining bytes, with the length's low byte in the top byte — and the four
        /// finalization rounds.
        mutating func finish(lastBytes: UInt64, length: Int) -> UInt64 {
            compress(lastBytes | UInt64(truncatingIfNeeded: length) << 56)
            v2 ^= 0xFF
            round(); round(); round(); round()
            return v0 ^ v1 ^ v2 ^ v3
        }
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
