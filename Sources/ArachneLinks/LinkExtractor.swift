/// Extracts the links of HTML and XHTML bodies with libxml2's HTML push parser, as SAX events without a tree: the
/// crawl workers run it on every page they fetch, so it must be cheap, and it must survive any bytes a server sends
/// (bounded work, no output on stderr, at most `linkCap` links).
///
/// The body's encoding is chosen as the HTML Standard orders it: a byte order mark, then the charset of the
/// `Content-Type` header, then the document's own `<meta>` declaration (libxml2's detection). Charset names nobody
/// knows are ignored. Values come back as UTF-8 strings.
public enum LinkExtractor {
    /// The most links one page yields; a page with more reports `truncatedAtLinkCap`.
    public static let defaultLinkCap = 10_000

    /// The links of `body`, `charset` being the `Content-Type` header's charset parameter, if any.
    public static func extract(from body: [UInt8], charset: String?, linkCap: Int = defaultLinkCap) -> PageLinks {
        body.withUnsafeBytes { extract(from: $0, charset: charset, linkCap: linkCap) }
    }

    /// The links of `body`, `charset` being the `Content-Type` header's charset parameter, if any. A body cut off at
    /// a size cap yields the links before the cut.
    public static func extract(from body: UnsafeRawBufferPointer, charset: String?, linkCap: Int = defaultLinkCap)
        -> PageLinks
    {
        let declared = CharsetLabel.byteOrderMark(body) ?? charset.flatMap(CharsetLabel.init).map { ($0, 0) }
        if let (label, markLength) = declared {
            let rest = UnsafeRawBufferPointer(rebasing: body[markLength...])
            switch label {
            case .utf8:
                return HTMLPushParser.parse(rest, input: .utf8, linkCap: linkCap).page
            case .other(let name):
                if let utf8 = Transcoder.utf8(from: rest, encoding: name) {
                    return utf8.withUnsafeBytes { HTMLPushParser.parse($0, input: .utf8, linkCap: linkCap).page }
                }
            }
        }
        let outcome = HTMLPushParser.parse(body, input: .detect, linkCap: linkCap)
        // libxml2 switched to the document's declared encoding and gave up at bytes it could not decode: decode
        // the whole body ourselves, with replacement characters, and parse again.
        if let failed = outcome.failedEncoding, case .other(let name)? = CharsetLabel(failed),
            let utf8 = Transcoder.utf8(from: body, encoding: name)
        {
            return utf8.withUnsafeBytes { HTMLPushParser.parse($0, input: .utf8, linkCap: linkCap).page }
        }
        return outcome.page
    }
}
