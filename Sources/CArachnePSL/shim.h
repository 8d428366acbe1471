// libpsl (Debian's libpsl-dev) for registrable domains; the list itself is Debian's `publicsuffix` package.
#ifndef C_ARACHNE_PSL_SHIM_H
#define C_ARACHNE_PSL_SHIM_H
#include <libpsl.h>

/// Where Debian's `publicsuffix` package installs the compiled list (the file `psl_latest(NULL)` would also try).
static inline const char *c_arachne_psl_debian_dafsa(void) {
    return "/usr/share/publicsuffix/public_suffix_list.dafsa";
}
#endif
