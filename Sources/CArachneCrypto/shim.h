// OpenSSL's libcrypto (libssl-dev, which libcurl4-openssl-dev brings): SHA-1 with the CPU's SHA extensions.
#ifndef C_ARACHNE_CRYPTO_SHIM_H
#define C_ARACHNE_CRYPTO_SHIM_H
#include <openssl/evp.h>
#endif
