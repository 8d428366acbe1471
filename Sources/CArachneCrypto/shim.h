// OpenSSL's libcrypto (libssl-dev, which libcurl4-openssl-dev brings): SHA-1 with the CPU's SHA extensions.
#ifndef C_ARACHNE_CRYPTO_SHIM_H
#define C_ARACHNE_CRYPTO_SHIM_H
#include <openssl/evp.h>
/// EVP_sha1 returns a const pointer; a typed wrapper keeps Swift's view simple.
static inline const EVP_MD *c_arachne_sha1(void) { return EVP_sha1(); }
#endif
