// Linux calls that Glibc's Swift module does not export: epoll, eventfd, timerfd.
#ifndef C_ARACHNE_LINUX_SHIM_H
#define C_ARACHNE_LINUX_SHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <time.h>

/// errno, readable from Swift without touching the thread-local macro.
static inline int c_arachne_errno(void) { return errno; }

/// The `u64` member of epoll_data, written through a typed accessor (the union is awkward from Swift).
static inline void c_arachne_epoll_event_set(struct epoll_event *ev, uint32_t events, uint64_t data) {
    ev->events = events;
    ev->data.u64 = data;
}
static inline uint64_t c_arachne_epoll_event_data(const struct epoll_event *ev) { return ev->data.u64; }
static inline uint32_t c_arachne_epoll_event_events(const struct epoll_event *ev) { return ev->events; }

/// Monotonic time in nanoseconds.
static inline uint64_t c_arachne_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif
