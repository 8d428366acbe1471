import CArachneXML2

/// One run of libxml2's HTML push parser over a body, delivering start and end tags to a `LinkCollector` through SAX
/// callbacks (no tree is built). All of ArachneLinks' libxml2 calls are in this file.
///
/// Not Sendable: it lives for one `parse` call, on the calling thread; libxml2 reaches it through an unretained
/// pointer that does not outlive that call.
final class HTMLPushParser {
    /// How libxml2 should decode the body.
    enum Input {
        /// Detect the encoding: `<meta charset>`, `<meta http-equiv="content-type">`, else UTF-8 until an invalid
        /// byte, then ISO-8859-1.
        case detect
        /// The body is UTF-8 whatever the document declares.
        case utf8
    }

    struct Outcome {
        var page: PageLinks
        /// The encoding libxml2 switched to and then failed to decode with, losing the rest of the body.
        var failedEncoding: String?
    }

    private var collector: LinkCollector
    private var context: htmlParserCtxtPtr?
    /// Lines before the current context's input, when a document is resumed after libxml2 ended it early.
    private var lineOffset = 0

    private init(linkCap: Int) {
        collector = LinkCollector(linkCap: linkCap)
    }

    static func parse(_ body: UnsafeRawBufferPointer, input: Input, linkCap: Int) -> Outcome {
        HTMLPushParser(linkCap: linkCap).run(body, input: input)
    }

    /// How many times a document that libxml2 ended early is resumed before the rest of the body is given up.
    static let maxResumes = 100

    private func run(_ body: UnsafeRawBufferPointer, input: Input) -> Outcome {
        var resumed = 0
        var pass = runOnce(body, input: input)
        while let rest = pass.unparsed, resumed < Self.maxResumes, !collector.isFull {
            resumed += 1
            lineOffset += pass.lines - 1
            pass = rest.withUnsafeBytes { runOnce($0, input: .utf8) }
        }
        return Outcome(page: collector.page, failedEncoding: pass.failedEncoding)
    }

    /// One push-parser context over `body`; `unparsed` is the (decoded) rest when libxml2 ended the document early.
    private func runOnce(_ body: UnsafeRawBufferPointer, input: Input)
        -> (failedEncoding: String?, unparsed: [UInt8]?, lines: Int)
    {
        let handler = SAXHandler.shared
        c_arachne_xml2_silence_thread()
        let userData = Unmanaged.passUnretained(self).toOpaque()
        guard let ctxt = htmlCreatePushParserCtxt(handler.pointer, userData, nil, 0, nil, XML_CHAR_ENCODING_NONE) else {
            return (nil, nil, 1)
        }
        context = ctxt
        defer {
            htmlFreeParserCtxt(ctxt)
            context = nil
        }
        var options = HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue
        switch input {
        case .utf8:
            xmlSwitchToEncoding(ctxt, xmlFindCharEncodingHandler("UTF-8"))
            options |= HTML_PARSE_IGNORE_ENC.rawValue
        case .detect:
            // Undeclared means UTF-8 (libxml2 would guess ISO-8859-1 at the first non-ASCII byte); a <meta>
            // declaration still switches the decoder, as no decoder is installed.
            xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8)
        }
        htmlCtxtUseOptions(ctxt, Int32(bitPattern: options))

        if let base = body.baseAddress?.assumingMemoryBound(to: CChar.self) {
            var offset = 0
            while offset < body.count, !collector.isFull {
                let size = min(body.count - offset, 1 << 30)
                _ = htmlParseChunk(ctxt, base + offset, Int32(size), 0)
                offset += size
            }
        }
        if !collector.isFull { _ = htmlParseChunk(ctxt, nil, 0, 1) }

        if c_arachne_xml2_decoding_failed(ctxt) != 0, let name = c_arachne_xml2_encoder_name(ctxt) {
            return (String(cString: name), nil, 1)
        }
        var count = 0
        guard let rest = c_arachne_xml2_unparsed(ctxt, &count), count > 0 else { return (nil, nil, 1) }
        return (nil, Array(UnsafeBufferPointer(start: rest, count: count)), Int(c_arachne_xml2_line(ctxt)))
    }

    fileprivate func startElement(
        _ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?
    ) {
        let kind = ElementKind(cName: name)
        guard kind != .other, let ctxt = context else { return }
        // A start tag the end of the body cut off (no `>`): the HTML tokenizer drops it, and its values may be
        // truncated URLs. libxml2 reports it when the parser is terminated.
        guard c_arachne_xml2_at_end(ctxt) == 0 else { return }
        collector.start(kind, line: lineOffset + Int(c_arachne_xml2_line(ctxt))) { Self.value(of: $0, in: attributes) }
        if collector.isFull { xmlStopParser(ctxt) }
    }

    fileprivate func endElement(_ name: UnsafePointer<UInt8>) {
        if ElementKind.matches(name, "template") { collector.end(.template) }
    }

    /// The value of the lower-case attribute `name` in libxml2's NULL-terminated name/value array.
    private static func value(of name: StaticString, in attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?)
        -> String?
    {
        guard let attributes else { return nil }
        var index = 0
        while let attributeName = attributes[index] {
            if ElementKind.matches(attributeName, name) {
                return attributes[index + 1].map { String(cString: $0) } ?? ""
            }
            index += 2
        }
        return nil
    }
}

/// The SAX callbacks, built once; libxml2 copies them into each parser context.
///
/// `@unchecked Sendable`: the handler is written only in `shared`'s one-time initializer and only read afterwards.
private struct SAXHandler: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<htmlSAXHandler>

    static let shared: SAXHandler = {
        xmlInitParser()
        let pointer = UnsafeMutablePointer<htmlSAXHandler>.allocate(capacity: 1)
        pointer.initialize(to: htmlSAXHandler())
        pointer.pointee.startElement = { userData, name, attributes in
            guard let userData, let name else { return }
            Unmanaged<HTMLPushParser>.fromOpaque(userData).takeUnretainedValue().startElement(name, attributes)
        }
        pointer.pointee.endElement = { userData, name in
            guard let userData, let name else { return }
            Unmanaged<HTMLPushParser>.fromOpaque(userData).takeUnretainedValue().endElement(name)
        }
        // Errors with a context go to `serror` once the handler is marked SAX2; dropping them keeps stderr quiet
        // even where HTML_PARSE_NOERROR does not reach.
        pointer.pointee.initialized = UInt32(XML_SAX2_MAGIC)
        pointer.pointee.serror = { _, _ in }
        return SAXHandler(pointer: pointer)
    }()
}

extension ElementKind {
    /// The kind of a NUL-terminated lower-case tag name from libxml2.
    init(cName name: UnsafePointer<UInt8>) {
        switch name[0] {
        case UInt8(ascii: "a"): self = name[1] == 0 ? .a : Self.matches(name, "area") ? .area : .other
        case UInt8(ascii: "b"): self = Self.matches(name, "base") ? .base : .other
        case UInt8(ascii: "f"): self = Self.matches(name, "frame") ? .frame : .other
        case UInt8(ascii: "i"): self = Self.matches(name, "iframe") ? .iframe : .other
        case UInt8(ascii: "m"): self = Self.matches(name, "meta") ? .meta : .other
        case UInt8(ascii: "t"): self = Self.matches(name, "template") ? .template : .other
        default: self = .other
        }
    }

    /// Whether the NUL-terminated `cString` equals `literal` (stops at the first difference, so never reads past
    /// the terminator).
    static func matches(_ cString: UnsafePointer<UInt8>, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        let bytes = literal.utf8Start
        for index in 0..<count where cString[index] != bytes[index] { return false }
        return cString[count] == 0
    }
}
