import ArachneCore

import CArachnePCRE2

/// A pattern that failed to compile: the pattern, where PCRE2 stopped, and PCRE2's own message, so the user can fix
/// the option that held it.
public struct RegexError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The pattern as given.
    public let pattern: String
    /// The byte offset in the pattern's UTF-8 at which PCRE2 detected the error.
    public let offset: Int
    /// PCRE2's message, e.g. `missing closing parenthesis`.
    public let message: String

    public var description: String { "invalid pattern \"\(pattern)\" at offset \(offset): \(message)" }
}

/// A PCRE2 regular expression in UTF mode, compiled once (JIT-compiled when the platform allows) and searched
/// many times: crawl include/exclude patterns are matched against every discovered link.
///
/// PCRE2 rather than Foundation's `NSRegularExpression`: no bridging to UTF-16 per match, and JIT code
/// (docs/decisions/0011-crawl-rules-psl-pcre2.md).
///
/// Sendable: the compiled code is immutable after `init` and PCRE2 documents it as shareable between threads, JIT
/// code included (JIT matching uses the calling thread's machine stack by default). Match data is scratch space that
/// is not shareable, so `matches` creates its own per call and frees it before returning: nothing mutable is shared.
public final class Regex: @unchecked Sendable {
    /// The pattern as given.
    public let pattern: String
    /// Whether `pcre2_jit_compile` succeeded; when not, the same code runs in PCRE2's interpreter.
    public let isJIT: Bool
    private let code: OpaquePointer

    /// Compiles `pattern` in UTF mode; throws with the pattern, the offset and PCRE2's message when it is invalid.
    public init(_ pattern: String) throws(RegexError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        var source = pattern
        let compiled = source.withUTF8 { bytes in
            withNonNullBase(bytes) { base, count in
                c_arachne_pcre2_compile(base, count, PCRE2_UTF, &errorCode, &errorOffset)
            }
        }
        guard let compiled else {
            throw RegexError(pattern: pattern, offset: errorOffset, message: Self.message(for: errorCode))
        }
        self.pattern = pattern
        self.code = compiled
        self.isJIT = c_arachne_pcre2_jit_compile(compiled) == 0
    }

    deinit {
        c_arachne_pcre2_code_free(code)
    }

    /// Whether the pattern matches anywhere in `subject` (an unanchored search). A match that PCRE2 abandons (its
    /// default backtracking or depth limit) counts as no match.
    public func matches(_ subject: String) -> Bool {
        // One ovector pair: only whether there is a match matters. Per call, because match data is not shareable.
        guard let data = c_arachne_pcre2_match_data_create(1) else { return false }
        defer { c_arachne_pcre2_match_data_free(data) }
        var subject = subject
        let result = subject.withUTF8 { bytes in
            withNonNullBase(bytes) { base, count in
                // Swift strings are valid UTF-8, so PCRE2's own check of the subject is skipped.
                c_arachne_pcre2_match(code, base, count, PCRE2_NO_UTF_CHECK, data)
            }
        }
        return result >= 0
    }

    private static func message(for errorCode: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = c_arachne_pcre2_error_message(errorCode, &buffer, buffer.count)
        guard length > 0 else { return "PCRE2 error \(errorCode)" }
        return String(decoding: buffer[..<Int(length)], as: UTF8.self)
    }
}

/// PCRE2 10.42 refuses a null pointer even with length 0; an empty string's buffer may have none.
private func withNonNullBase<R>(
    _ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<UInt8>, Int) -> R
) -> R {
    if let base = bytes.baseAddress { return body(base, bytes.count) }
    var zero: UInt8 = 0
    return withUnsafePointer(to: &zero) { body($0, 0) }
}
