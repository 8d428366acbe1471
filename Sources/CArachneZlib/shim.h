// zlib, for gzip members in WARC files.
#ifndef C_ARACHNE_ZLIB_SHIM_H
#define C_ARACHNE_ZLIB_SHIM_H
#include <zlib.h>
/// deflateInit2 is a macro; Swift needs a function.
static inline int c_arachne_deflate_init_gzip(z_stream *strm, int level) {
    // memLevel 4: a 4 KiB hash table instead of 64 KiB; deflateReset clears it per record, and records are small.
    return deflateInit2(strm, level, Z_DEFLATED, 15 + 16, 4, Z_DEFAULT_STRATEGY);
}
static inline int c_arachne_inflate_init_gzip(z_stream *strm) {
    return inflateInit2(strm, 15 + 32);
}
#endif
