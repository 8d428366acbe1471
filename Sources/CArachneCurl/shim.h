// libcurl, with typed wrappers for the variadic setopt/getinfo calls Swift cannot make.
#ifndef C_ARACHNE_CURL_SHIM_H
#define C_ARACHNE_CURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*c_arachne_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*c_arachne_curl_socket_cb)(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp);
typedef int (*c_arachne_curl_timer_cb)(CURLM *multi, long timeout_ms, void *userp);
typedef curl_socket_t (*c_arachne_curl_opensocket_cb)(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);
typedef int (*c_arachne_curl_prereq_cb)(void *clientp, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                                        int conn_local_port);

static inline CURLcode c_arachne_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode c_arachne_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode c_arachne_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode c_arachne_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode c_arachne_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode c_arachne_easy_setopt_data_cb(CURL *h, CURLoption o, c_arachne_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode c_arachne_easy_setopt_opensocket_cb(CURL *h, c_arachne_curl_opensocket_cb v) {
    return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, v);
}
static inline CURLcode c_arachne_easy_setopt_prereq_cb(CURL *h, c_arachne_curl_prereq_cb v) {
    return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, v);
}

static inline CURLcode c_arachne_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode c_arachne_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode c_arachne_easy_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode c_arachne_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode c_arachne_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode c_arachne_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode c_arachne_multi_setopt_socket_cb(CURLM *m, c_arachne_curl_socket_cb v) {
    return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, v);
}
static inline CURLMcode c_arachne_multi_setopt_timer_cb(CURLM *m, c_arachne_curl_timer_cb v) {
    return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, v);
}

/// The socket address inside a `curl_sockaddr`: curl allocates room for any family there, past the declared
/// `struct sockaddr`, so it is read through a pointer rather than copied out as the 16-byte field.
static inline const void *c_arachne_curl_sockaddr_address(const struct curl_sockaddr *a) { return &a->addr; }

/// CURLMsg's `data` is a union; read its result through a function.
static inline CURLcode c_arachne_msg_result(const CURLMsg *m) { return m->data.result; }
#endif
