// libxml2's HTML push parser (Debian's libxml2-dev) for link extraction and its XML push parser for sitemaps, with
// typed accessors for the parser-context fields ArachneLinks reads and a way to silence the errors libxml2 raises
// without a context.
#ifndef C_ARACHNE_XML2_SHIM_H
#define C_ARACHNE_XML2_SHIM_H
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, and its encoding.h then includes ICU's headers, whose types clash with the copy of
// ICU inside Foundation ("'UErrorCode' has different definitions in different modules", on some clean builds).
// Arachne uses no ICU converter, so the ICU part is hidden: it only adds two fields at the end of
// xmlCharEncodingHandler, which this code never allocates and reads no further into than `name`.
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

/// The line the parser is on: the line where the start tag being reported ends.
static inline int c_arachne_xml2_line(htmlParserCtxtPtr ctxt) {
    return (ctxt->input != NULL) ? ctxt->input->line : 0;
}

/// True when the parser has consumed all its input: a start tag reported then was cut off by the end of the body.
static inline int c_arachne_xml2_at_end(htmlParserCtxtPtr ctxt) {
    return ctxt->input == NULL || ctxt->input->cur >= ctxt->input->end;
}

/// The name of the decoder libxml2 switched to (after a `<meta charset>`), or NULL.
static inline const char *c_arachne_xml2_encoder_name(htmlParserCtxtPtr ctxt) {
    if (ctxt->input == NULL || ctxt->input->buf == NULL || ctxt->input->buf->encoder == NULL) return NULL;
    return ctxt->input->buf->encoder->name;
}

/// Nonzero when the decoder stopped early: the input buffer failed, or undecoded bytes are left over (a decoder that
/// meets bytes it cannot convert gives up, and the rest of the body is lost).
static inline int c_arachne_xml2_decoding_failed(htmlParserCtxtPtr ctxt) {
    if (ctxt->input == NULL || ctxt->input->buf == NULL) return 0;
    xmlParserInputBufferPtr buf = ctxt->input->buf;
    return buf->error != 0 || (buf->encoder != NULL && buf->raw != NULL && xmlBufUse(buf->raw) > 0);
}

/// The bytes libxml2 has not parsed, as UTF-8, when the push parser ended the document early: content after `</html>`
/// (or after a stray end tag that emptied the element stack) ends a pushed document, where HTML5 parsing goes on.
static inline const xmlChar *c_arachne_xml2_unparsed(htmlParserCtxtPtr ctxt, size_t *count) {
    *count = 0;
    if (ctxt->instate != XML_PARSER_EOF || ctxt->input == NULL || ctxt->input->cur == NULL) return NULL;
    if (ctxt->input->cur >= ctxt->input->end) return NULL;
    *count = (size_t)(ctxt->input->end - ctxt->input->cur);
    return ctxt->input->cur;
}

/// The document libxml2 makes behind a SAX parser's back (it stores internal-subset entity declarations in a fake
/// document "for expat compatibility in SAX mode"); freed with the context's other allocations.
static inline void c_arachne_xml2_free_sax_document(xmlParserCtxtPtr ctxt) {
    if (ctxt->myDoc != NULL) {
        xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
    }
}

static inline void c_arachne_xml2_ignore_generic(void *ctx, const char *msg, ...) {
    (void)ctx;
    (void)msg;
}

/// Errors raised without a parser context (decoder failures) go to a per-thread generic handler that prints to
/// stderr: replace it, on the calling thread, with one that drops them.
static inline void c_arachne_xml2_silence_thread(void) { xmlSetGenericErrorFunc(NULL, c_arachne_xml2_ignore_generic); }
#endif
