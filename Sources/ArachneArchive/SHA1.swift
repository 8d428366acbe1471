import CArachneCrypto

/// SHA-1, for WARC payload digests, computed by OpenSSL's libcrypto (which uses the CPU's SHA extensions: several
/// times faster than portable Swift on the coordinator's writer thread, where every kept body is hashed).
///
/// A value wrapping one digest context: copies share it, so hash with one variable at a time.
public struct SHA1: @unchecked Sendable {
    // Safety: the context is used by one owner at a time, as the doc comment says.
    private final class Context {
        let pointer: OpaquePointer
        /// The SHA-1 implementation, fetched once: `EVP_sha1()` makes OpenSSL 3 look it up again on every
        /// `EVP_DigestInit_ex` (~0.2 µs per digest, measured).
        let digest: OpaquePointer

        init() {
            guard let pointer = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
            guard let digest = EVP_MD_fetch(nil, "SHA1", nil) else { fatalError("EVP_MD_fetch(SHA1) failed") }
            self.pointer = pointer
            self.digest = digest
            restart()
        }

        func restart() {
            precondition(EVP_DigestInit_ex(pointer, digest, nil) == 1, "EVP_DigestInit_ex(sha1) failed")
        }

        deinit {
            EVP_MD_CTX_free(pointer)
            EVP_MD_free(digest)
        }
    }

    private let context = Context()

    public init() {}

    /// The 20-byte digest of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var sha = SHA1()
        sha.update(bytes)
        return sha.finalize()
    }

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard buffer.count > 0 else { return }
        precondition(EVP_DigestUpdate(context.pointer, buffer.baseAddress, buffer.count) == 1, "EVP_DigestUpdate failed")
    }

    /// The digest of everything given so far. The value starts over afterwards.
    public mutating func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        digest.withUnsafeMutableBytes { finalize(into: $0) }
        return digest
    }

    /// Writes the digest of everything given so far into the first 20 bytes of `digest`, and starts over: the
    /// value hashes again from empty (reusing its context saves allocating one per digest).
    public mutating func finalize(into digest: UnsafeMutableRawBufferPointer) {
        precondition(digest.count >= 20, "a SHA-1 digest is 20 bytes")
        var length: UInt32 = 0
        let status = EVP_DigestFinal_ex(
            context.pointer, digest.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
        precondition(status == 1 && length == 20, "EVP_DigestFinal_ex failed")
        context.restart()
    }

    /// The payload digest as WARC writes it (`sha1:` and base32) of `bytes`, hashed with this value's context,
    /// which is ready for the next digest afterwards.
    public mutating func warcDigest(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { update($0) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digest in
            finalize(into: UnsafeMutableRawBufferPointer(digest))
            // "sha1:" and 32 base32 digits (20 bytes are exactly 32 symbols: no padding), in one String.
            return String(unsafeUninitializedCapacity: 37) { text in
                for (index, byte) in "sha1:".utf8.enumerated() { text[index] = byte }
                Base32.encode(UnsafeBufferPointer(digest), into: UnsafeMutableBufferPointer(rebasing: text[5...]))
                return 37
            }
        }
    }
}

/// RFC 4648 base32 (upper case, padded), the encoding of WARC's `sha1:` digests.
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Encodes `bytes`, a multiple of 5 bytes long, into `out` (8 symbols per 5 bytes, no padding needed).
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(bytes.count % 5 == 0 && out.count >= bytes.count / 5 * 8, "whole 5-byte groups only")
        var index = 0
        var position = 0
        while index < bytes.count {
            var bits: UInt64 = 0
            for offset in 0..<5 { bits = bits << 8 | UInt64(bytes[index + offset]) }
            for symbol in 0..<8 { out[position + symbol] = alphabet[Int((bits >> UInt64(35 - symbol * 5)) & 31)] }
            index += 5
            position += 8
        }
    }

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
        var sha = SHA1()
        return sha.warcDigest(bytes)
    }
}
