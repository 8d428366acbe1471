// PCRE2, 8-bit code units (Debian's libpcre2-dev), for crawl include/exclude patterns.
// pcre2.h names its functions through width macros (pcre2_compile -> pcre2_compile_8) and spells some constants as
// casts; Swift imports neither, so each call used is a typed wrapper here.
#ifndef C_ARACHNE_PCRE2_SHIM_H
#define C_ARACHNE_PCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stddef.h>
#include <stdint.h>
#include <pcre2.h>

typedef pcre2_code_8 c_arachne_pcre2_code;
typedef pcre2_match_data_8 c_arachne_pcre2_match_data;

/// Compiles `length` bytes of `pattern` (no terminator needed) with the default compile context.
static inline c_arachne_pcre2_code *c_arachne_pcre2_compile(
    const uint8_t *pattern, size_t length, uint32_t options, int *error_code, size_t *error_offset) {
    PCRE2_SIZE offset = 0;
    pcre2_code_8 *code = pcre2_compile_8(pattern, length, options, error_code, &offset, NULL);
    *error_offset = offset;
    return code;
}
static inline int c_arachne_pcre2_jit_compile(c_arachne_pcre2_code *code) {
    return pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE);
}
static inline void c_arachne_pcre2_code_free(c_arachne_pcre2_code *code) { pcre2_code_free_8(code); }

static inline c_arachne_pcre2_match_data *c_arachne_pcre2_match_data_create(uint32_t pairs) {
    return pcre2_match_data_create_8(pairs, NULL);
}
static inline void c_arachne_pcre2_match_data_free(c_arachne_pcre2_match_data *data) {
    pcre2_match_data_free_8(data);
}
/// Searches `length` bytes of `subject` from offset 0 with the default match context; uses the JIT code if any.
static inline int c_arachne_pcre2_match(
    const c_arachne_pcre2_code *code, const uint8_t *subject, size_t length, uint32_t options,
    c_arachne_pcre2_match_data *data) {
    return pcre2_match_8(code, subject, length, 0, options, data, NULL);
}
/// PCRE2's own text for an error code; returns its length, or a negative value when the code is unknown.
static inline int c_arachne_pcre2_error_message(int error_code, uint8_t *buffer, size_t size) {
    return pcre2_get_error_message_8(error_code, buffer, size);
}
#endif
