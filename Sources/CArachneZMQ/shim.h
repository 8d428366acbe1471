// libzmq, linked without pkg-config (its .pc adds an -isystem flag SwiftPM rejects).
#ifndef C_ARACHNE_ZMQ_SHIM_H
#define C_ARACHNE_ZMQ_SHIM_H
#include <zmq.h>
#include <errno.h>
static inline int c_arachne_zmq_errno(void) { return zmq_errno(); }
#endif
