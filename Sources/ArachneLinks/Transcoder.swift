#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes a body to UTF-8 with iconv before libxml2 sees it, replacing undecodable bytes with U+FFFD: libxml2's own
/// decoders give up at the first such byte and lose the rest of the page.
enum Transcoder {
    /// The body in UTF-8, or nil when iconv does not know `encoding`.
    static func utf8(from body: UnsafeRawBufferPointer, encoding: String) -> [UInt8]? {
        guard let converter = iconv_open("UTF-8", encoding), converter != UnsafeMutableRawPointer(bitPattern: -1) else {
            return nil
        }
        defer { iconv_close(converter) }
        guard let base = body.baseAddress, body.count > 0 else { return [] }
        // An undecodable UTF-16 unit is two bytes: skipping one would misalign the rest.
        let unit = encoding.uppercased().hasPrefix("UTF-16") ? 2 : 1
        var output: [UInt8] = []
        output.reserveCapacity(body.count + body.count / 2 + 16)
        var input: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(
            mutating: base.assumingMemoryBound(to: CChar.self))
        var inputLeft = body.count
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        while inputLeft > 0 {
            let (result, error) = scratch.withUnsafeMutableBytes { scratch in
                var out: UnsafeMutablePointer<CChar>? = scratch.baseAddress!.assumingMemoryBound(to: CChar.self)
                var outLeft = scratch.count
                let result = iconv(converter, &input, &inputLeft, &out, &outLeft)
                let error = errno
                output.append(contentsOf: scratch.prefix(scratch.count - outLeft))
                return (result, error)
            }
            guard result == -1 else { break }
            switch error {
            case E2BIG:
                continue
            case EILSEQ:
                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                let skip = min(unit, inputLeft)
                input = input.map { $0 + skip }
                inputLeft -= skip
            default:  // EINVAL: an incomplete sequence at the end of a truncated body.
                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                inputLeft = 0
            }
        }
        return output
    }
}
