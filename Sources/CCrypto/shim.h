/* OpenSSL's libcrypto: SHA-256 with SHA-NI, used for every digest in the store.
   The one-call SHA256_* API is deprecated in OpenSSL 3 in favour of EVP, but it is the same code
   underneath and needs no heap context; keep it warning-free. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/sha.h>
