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
#include <pthread.h>
#include <string.h>

/// errno, readable from Swift without touching the thread-local macro.
static inline int c_arachne_errno(void) { return errno; }

/// The `u64` member of epoll_data, written through a typed accessor (the union is awkward from Swift).
static inline void c_arachne_epoll_event_set(struct epoll_event *ev, uint32_t events, uint64_t data) {
    ev->events = events;
    ev->data.u64 = data;
}
static inline uint64_t c_arachne_epoll_event_data(const struct epoll_event *ev) { return ev->data.u64; }
static inline uint32_t c_arachne_epoll_event_events(const struct epoll_event *ev) { return ev->events; }

/// accept4 is a GNU extension Glibc's module hides; declared here with its real signature.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
static inline int c_arachne_accept4(int fd, int flags) { return accept4(fd, 0, 0, flags); }

/// Names the calling thread (shown by top -H, perf, gdb); names are cut to 15 bytes.
extern int pthread_setname_np(pthread_t thread, const char *name);
static inline void c_arachne_set_thread_name(const char *name) {
    char buffer[16];
    strncpy(buffer, name, 15);
    buffer[15] = 0;
    pthread_setname_np(pthread_self(), buffer);
}

/// getrusage for the calling process.
static inline int c_arachne_getrusage_self(struct rusage *usage) { return getrusage(RUSAGE_SELF, usage); }

/// Monotonic time in nanoseconds.
static inline uint64_t c_arachne_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif
