import ArachneCore

import CArachnePSL

/// The Public Suffix List, through libpsl: which part of a host name is a public suffix (`co.uk`, `github.io`) and
/// which is the registrable domain under it (`example.co.uk`), so `domain` scope can tell sites apart the way
/// browsers draw cookie boundaries.
///
/// Lookups use the whole list, ICANN and private sections alike, as browsers do: `a.b.github.io` belongs to
/// `b.github.io`, not to `github.io`. Hosts must be what `CrawlURL.host` holds: lower case, IDNs in punycode.
///
/// Sendable: the libpsl context is loaded in `init` and never changed afterwards; libpsl's lookups take a
/// `const psl_ctx_t *` and keep no state between calls, so any number of threads may query one instance at once.
public final class PublicSuffixList: @unchecked Sendable {
    /// Where the list was loaded from.
    public enum Source: Sendable, Hashable {
        /// A compiled list file (DAFSA or text), normally Debian's `publicsuffix` package.
        case file(String)
        /// The copy compiled into libpsl, used when the file is missing; it is as old as the libpsl build.
        case builtin
        /// Neither could be loaded: no host has a registrable domain, so `domain` scope is `host` scope.
        case none
    }

    /// Debian's compiled list, from the `publicsuffix` package.
    public static let debianListPath = String(cString: c_arachne_psl_debian_dafsa())

    /// The process's one list, loaded on first use from `debianListPath` (libpsl's built-in copy if it is absent).
    public static let shared = PublicSuffixList()

    /// Where this instance's list came from; worth logging once, since a built-in list may be years old.
    public let source: Source
    private let context: OpaquePointer?

    /// Loads the list at `path`, falling back to libpsl's built-in copy when the file is missing or unreadable.
    public init(path: String = PublicSuffixList.debianListPath) {
        if let loaded = psl_load_file(path) {
            context = loaded
            source = .file(path)
        } else if let builtin = psl_builtin() {
            // Note: the built-in list is static data inside libpsl, as old as the library build.
            context = builtin
            source = .builtin
        } else {
            context = nil
            source = .none
        }
    }

    deinit {
        // psl_free ignores the built-in context, which libpsl owns.
        if let context { psl_free(context) }
    }

    /// The registrable domain of `host` (the public suffix plus one label), or nil when the host is itself a public
    /// suffix (`co.uk`, `localhost` under the list's implicit `*` rule) or empty.
    public func registrableDomain(of host: String) -> String? {
        guard let context, !host.isEmpty else { return nil }
        return host.withCString { start -> String? in
            // libpsl returns a pointer into the string it was given: the domain is a suffix of `host`.
            guard let found = psl_registrable_domain(context, start) else { return nil }
            let offset = found - start
            let utf8 = host.utf8
            return String(Substring(utf8[utf8.index(utf8.startIndex, offsetBy: offset)...]))
        }
    }

    /// Whether `host` is a public suffix (ICANN or private section, or a single unlisted label such as `localhost`).
    public func isPublicSuffix(_ host: String) -> Bool {
        guard let context else { return false }
        return psl_is_public_suffix(context, host) != 0
    }
}
