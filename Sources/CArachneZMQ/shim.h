// libzmq, linked without pkg-config (its .pc adds an -isystem flag SwiftPM rejects).
#ifndef C_ARACHNE_ZMQ_SHIM_H
#define C_ARACHNE_ZMQ_SHIM_H
#include <zmq.h>
#include <errno.h>
static inline int c_arachne_zmq_errno(void) { return zmq_errno(); }

// A draft option in libzmq 4.3 (zmq.h declares it only with ZMQ_BUILD_DRAFT_API), which Debian's libzmq5 4.3.4
// accepts: a CURVE server with no ZAP handler then refuses every peer instead of accepting any key ("Stonehouse").
// ZMQSocket.enforceZAPDomain() reports whether the library took it.
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif
#endif
