// libdeflate (Debian's libdeflate-dev): whole-buffer gzip, several times faster than zlib for small members.
#ifndef C_ARACHNE_DEFLATE_SHIM_H
#define C_ARACHNE_DEFLATE_SHIM_H
#include <libdeflate.h>
#endif
