#ifndef SLIPWAY_CCURL_H
#define SLIPWAY_CCURL_H

// libcurl, reached through dlopen("libcurl.so.4") on first use instead of being linked, so a
// `slipway` process that never touches the network does not load libcurl and the ~30 libraries
// behind it (TLS, HTTP/2, IDN, LDAP, Kerberos...). The types and constants come from Debian's
// libcurl4-openssl-dev headers; every function goes through a pointer resolved at load time.
// curl_easy_setopt/getinfo are variadic, which Swift cannot call: the wrappers below are typed.

#include <curl/curl.h>

/// Loads libcurl and runs curl_global_init, once per process (thread-safe). Returns NULL when
/// libcurl is usable, else a readable message (the same one on every later call).
const char *ccurl_load(void);

CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *handle);
/// Clears every option but keeps the handle's connection cache, DNS cache and TLS sessions.
void ccurl_easy_reset(CURL *handle);
CURLcode ccurl_easy_perform(CURL *handle);
const char *ccurl_easy_strerror(CURLcode code);

CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);
/// Strings (copied by libcurl), slists and userdata pointers.
CURLcode ccurl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

/// The shape of CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION and CURLOPT_READFUNCTION.
typedef size_t (*ccurl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
/// CURLOPT_XFERINFOFUNCTION: non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK.
typedef int (*ccurl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                       curl_off_t ultotal, curl_off_t ulnow);
/// CURLOPT_SEEKFUNCTION: rewinds an upload body (CURL_SEEKFUNC_OK / _FAIL / _CANTSEEK).
typedef int (*ccurl_seek_callback)(void *userdata, curl_off_t offset, int origin);

CURLcode ccurl_setopt_data_callback(CURL *handle, CURLoption option, ccurl_data_callback callback);
CURLcode ccurl_setopt_xferinfo_callback(CURL *handle, ccurl_xferinfo_callback callback);
CURLcode ccurl_setopt_seek_callback(CURL *handle, ccurl_seek_callback callback);

CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_getinfo_string(CURL *handle, CURLINFO info, const char **value);

struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *string);
void ccurl_slist_free_all(struct curl_slist *list);

#endif
