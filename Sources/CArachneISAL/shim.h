// ISA-L's igzip (Debian's libisal-dev): whole-buffer gzip members at a few hundred bytes per microsecond, with no
// per-call table clearing.
#ifndef C_ARACHNE_ISAL_SHIM_H
#define C_ARACHNE_ISAL_SHIM_H
#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>
#endif
