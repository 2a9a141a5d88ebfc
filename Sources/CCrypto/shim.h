/* OpenSSL's libcrypto: SHA-256 with SHA-NI, used for every digest in the store. */
#include <openssl/evp.h>
#include <openssl/sha.h>
