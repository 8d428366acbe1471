import CArachneXML2

/// One run of libxml2's XML push parser over a sitemap, delivering elements and text to a `SitemapCollector` through
/// SAX2 callbacks (no tree is built). All of the sitemap code's libxml2 calls are in this file.
///
/// Hostile XML is refused by what the parser is *not* given: no `XML_PARSE_NOENT` (entities are not substituted),
/// no `XML_PARSE_DTDLOAD`/`DTDATTR`/`DTDVALID` (no external subset), `XML_PARSE_NONET`, and no `XML_PARSE_HUGE`, so
/// libxml2's own limits hold (10 MB text nodes and lookahead); nesting is limited by `SitemapCollector.maxDepth`.
/// The SAX handler has no `getEntity`, `entityDecl`, `resolveEntity` or `reference` callback, so a declared entity
/// can never be found: a reference to one is a well-formedness error (parsing stops there) and billion-laughs
/// expansion cannot happen.
/// Predefined entities (`&amp;`) and character references are decoded by libxml2 itself.
///
/// Not Sendable: it lives for one read, on the calling thread; libxml2 reaches it through an unretained pointer that
/// does not outlive the read.
final class SitemapXMLParser {
    private(set) var collector: SitemapCollector
    private var context: xmlParserCtxtPtr?
    /// Lines before the body libxml2 sees (leading blank lines the reader skipped).
    private let lineOffset: Int
    /// Parsing ended: a fatal error, or the root is not a sitemap.
    private(set) var ended = false
    private(set) var error: SitemapError?
    /// The namespace URI last classified, and whether it is a sitemap namespace: libxml2 interns URIs in the
    /// context's dictionary, so one pointer comparison usually answers.
    private var lastNamespace: UnsafePointer<UInt8>?
    private var lastNamespaceIsSitemap = false

    init(limits: SitemapLimits, lineOffset: Int) {
        collector = SitemapCollector(limits: limits)
        self.lineOffset = lineOffset
    }

    deinit {
        if let context { release(context) }
    }

    /// Parses the next part of the body. Returns false once parsing has ended.
    func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !ended, let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else { return !ended }
        var offset = 0
        if context == nil {
            // The first bytes go to the constructor, which detects the encoding from them.
            let first = min(bytes.count, 4)
            guard makeContext(base, count: first) else { return false }
            offset = first
        }
        guard let ctxt = context else { return false }
        // In slices, so libxml2's buffer stays small and a stop takes effect soon.
        while offset < bytes.count, !ended {
            let size = min(bytes.count - offset, 256 * 1024)
            _ = xmlParseChunk(ctxt, base + offset, Int32(size), 0)
            offset += size
        }
        return !ended
    }

    /// The body ended. `complete` is false when it was cut off (a cap, a truncated gzip stream): the parser is then
    /// not told, so the cut is not also reported as malformed XML.
    func finish(complete: Bool) -> SitemapDocument {
        if complete, !ended, let ctxt = context { _ = xmlParseChunk(ctxt, nil, 0, 1) }
        if let context { release(context) }
        context = nil
        collector.finish()
        var document = collector.document
        document.error = error
        return document
    }

    private func makeContext(_ base: UnsafePointer<CChar>, count: Int) -> Bool {
        c_arachne_xml2_silence_thread()
        let userData = Unmanaged.passUnretained(self).toOpaque()
        guard let ctxt = xmlCreatePushParserCtxt(SitemapSAXHandler.shared.pointer, userData, base, Int32(count), nil)
        else {
            ended = true
            return false
        }
        context = ctxt
        let options = XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
            | XML_PARSE_NOCDATA.rawValue
        xmlCtxtUseOptions(ctxt, Int32(bitPattern: options))
        return true
    }

    private func release(_ ctxt: xmlParserCtxtPtr) {
        c_arachne_xml2_free_sax_document(ctxt)
        xmlFreeParserCtxt(ctxt)
    }

    private var line: Int { lineOffset + Int(context.map { c_arachne_xml2_line($0) } ?? 0) }

    // MARK: Callbacks

    fileprivate func startElement(_ name: UnsafePointer<UInt8>, namespace: UnsafePointer<UInt8>?) {
        guard !ended else { return }
        let element = isSitemapNamespace(namespace) ? Self.classify(name) : .other
        let line = self.line
        switch collector.start(element, line: line, name: { String(cString: name) }) {
        case .goOn:
            break
        case .notSitemap:
            stop()
        case .tooDeep:
            error = SitemapError(
                kind: .tooDeep, line: line, detail: "more than \(SitemapCollector.maxDepth) nested elements")
            stop()
        }
    }

    fileprivate func endElement() {
        guard !ended else { return }
        collector.end()
    }

    fileprivate func characters(_ bytes: UnsafePointer<UInt8>, count: Int) {
        guard !ended else { return }
        collector.characters(UnsafeBufferPointer(start: bytes, count: count))
    }

    fileprivate func failed(message: String, line: Int) {
        guard !ended else { return }
        error = SitemapError(kind: .malformedXML, line: lineOffset + line, detail: message)
        ended = true
    }

    private func stop() {
        ended = true
        if let context { xmlStopParser(context) }
    }

    /// No namespace, or the sitemaps.org one (`http://www.sitemaps.org/schemas/sitemap/0.9`) or Google's older
    /// ones (`http://www.google.com/schemas/sitemap/0.84`), over http or https, any version. Extensions
    /// (`…/sitemap-image/1.1`) are other namespaces.
    private func isSitemapNamespace(_ uri: UnsafePointer<UInt8>?) -> Bool {
        guard let uri, uri[0] != 0 else { return true }
        if uri == lastNamespace { return lastNamespaceIsSitemap }
        lastNamespace = uri
        lastNamespaceIsSitemap = Self.isSitemapNamespace(String(cString: uri))
        return lastNamespaceIsSitemap
    }

    static func isSitemapNamespace(_ uri: String) -> Bool {
        var rest = Substring(uri)
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.hasPrefix("https://") {
            rest = rest.dropFirst(8)
        } else {
            return false
        }
        let hosts = ["www.sitemaps.org", "sitemaps.org", "www.google.com"]
        for known in hosts.map({ $0 + "/schemas/sitemap" }) where rest.hasPrefix(known) {
            let after = rest.dropFirst(known.utf8.count)
            return after.isEmpty || after.first == "/"
        }
        return false
    }

    static func classify(_ name: UnsafePointer<UInt8>) -> SitemapElement {
        switch name[0] {
        case UInt8(ascii: "l"):
            if ElementKind.matches(name, "loc") { return .loc }
            if ElementKind.matches(name, "lastmod") { return .lastmod }
        case UInt8(ascii: "u"):
            if ElementKind.matches(name, "url") { return .url }
            if ElementKind.matches(name, "urlset") { return .urlset }
        case UInt8(ascii: "s"):
            if ElementKind.matches(name, "sitemap") { return .sitemap }
            if ElementKind.matches(name, "sitemapindex") { return .sitemapindex }
        default:
            break
        }
        return .other
    }
}

/// The SAX2 callbacks, built once; libxml2 copies them into each parser context. Only element, text and error
/// callbacks are set: see `SitemapXMLParser` for why the entity callbacks are absent.
///
/// `@unchecked Sendable`: the handler is written only in `shared`'s one-time initializer and only read afterwards.
private struct SitemapSAXHandler: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<xmlSAXHandler>

    static let shared: SitemapSAXHandler = {
        xmlInitParser()
        let pointer = UnsafeMutablePointer<xmlSAXHandler>.allocate(capacity: 1)
        pointer.initialize(to: xmlSAXHandler())
        pointer.pointee.initialized = UInt32(XML_SAX2_MAGIC)
        pointer.pointee.startElementNs = { userData, localName, _, uri, _, _, _, _, _ in
            guard let userData, let localName else { return }
            parser(userData).startElement(localName, namespace: uri)
        }
        pointer.pointee.endElementNs = { userData, _, _, _ in
            guard let userData else { return }
            parser(userData).endElement()
        }
        let characters: charactersSAXFunc = { userData, bytes, count in
            guard let userData, let bytes, count > 0 else { return }
            parser(userData).characters(bytes, count: Int(count))
        }
        pointer.pointee.characters = characters
        pointer.pointee.cdataBlock = characters
        // Structured errors reach `serror` with the context's user data; warnings and recoverable errors (a
        // namespace URI that is not absolute) are dropped, fatal ones end the read.
        pointer.pointee.serror = { userData, error in
            guard let userData, let error, error.pointee.level == XML_ERR_FATAL else { return }
            var message = error.pointee.message.map { String(cString: $0) } ?? "error \(error.pointee.code)"
            while message.last?.isNewline == true || message.last == " " { message.removeLast() }
            parser(userData).failed(message: message, line: Int(error.pointee.line))
        }
        return SitemapSAXHandler(pointer: pointer)
    }()

    private static func parser(_ userData: UnsafeMutableRawPointer) -> SitemapXMLParser {
        Unmanaged<SitemapXMLParser>.fromOpaque(userData).takeUnretainedValue()
    }
}
