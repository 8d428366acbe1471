// libidn2 (Debian's libidn2-dev) for the URL parser's domain-to-ASCII (UTS #46, non-transitional).
#ifndef C_ARACHNE_IDN2_SHIM_H
#define C_ARACHNE_IDN2_SHIM_H
#include <idn2.h>
#endif
