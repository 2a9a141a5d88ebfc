// See include/ccurl.h for why libcurl is loaded at run time.
#include "ccurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_error = NULL;
static char load_message[512];

static void *resolve(void *lib, const char *name) {
    void *symbol = dlsym(lib, name);
    if (symbol == NULL && load_error == NULL) {
        snprintf(load_message, sizeof load_message, "libcurl.so.4 lacks %s: install Debian's libcurl4", name);
        load_error = load_message;
    }
    return symbol;
}

static void load(void) {
    // RTLD_LOCAL: libcurl's symbols stay out of the global namespace; only the pointers are used.
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(load_message, sizeof load_message,
                 "libcurl.so.4 not found: apt-get install libcurl4 (%s)", why ? why : "dlopen failed");
        load_error = load_message;
        return;
    }
    *(void **)&api.global_init = resolve(lib, "curl_global_init");
    *(void **)&api.easy_init = resolve(lib, "curl_easy_init");
    *(void **)&api.easy_cleanup = resolve(lib, "curl_easy_cleanup");
    *(void **)&api.easy_reset = resolve(lib, "curl_easy_reset");
    *(void **)&api.easy_perform = resolve(lib, "curl_easy_perform");
    *(void **)&api.easy_strerror = resolve(lib, "curl_easy_strerror");
    *(void **)&api.easy_setopt = resolve(lib, "curl_easy_setopt");
    *(void **)&api.easy_getinfo = resolve(lib, "curl_easy_getinfo");
    *(void **)&api.slist_append = resolve(lib, "curl_slist_append");
    *(void **)&api.slist_free_all = resolve(lib, "curl_slist_free_all");
    if (load_error != NULL) return;
    // Not thread-safe in older libcurl; pthread_once makes this the only call.
    CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(load_message, sizeof load_message, "curl_global_init failed: %s", api.easy_strerror(rc));
        load_error = load_message;
    }
}

const char *ccurl_load(void) {
    pthread_once(&load_once, load);
    return load_error;
}

// The functions below are only called after ccurl_load() returned NULL.

CURL *ccurl_easy_init(void) { return api.easy_init(); }
void ccurl_easy_cleanup(CURL *handle) { api.easy_cleanup(handle); }
void ccurl_easy_reset(CURL *handle) { api.easy_reset(handle); }
CURLcode ccurl_easy_perform(CURL *handle) { return api.easy_perform(handle); }
const char *ccurl_easy_strerror(CURLcode code) { return api.easy_strerror(code); }

CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return api.easy_setopt(handle, option, value);
}
CURLcode ccurl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return api.easy_setopt(handle, option, value);
}
CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return api.easy_setopt(handle, option, value);
}
CURLcode ccurl_setopt_data_callback(CURL *handle, CURLoption option, ccurl_data_callback callback) {
    return api.easy_setopt(handle, option, callback);
}
CURLcode ccurl_setopt_xferinfo_callback(CURL *handle, ccurl_xferinfo_callback callback) {
    return api.easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}
CURLcode ccurl_setopt_seek_callback(CURL *handle, ccurl_seek_callback callback) {
    return api.easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}

CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return api.easy_getinfo(handle, info, value);
}
CURLcode ccurl_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    return api.easy_getinfo(handle, info, value);
}

struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *string) {
    return api.slist_append(list, string);
}
void ccurl_slist_free_all(struct curl_slist *list) {
    if (list != NULL) api.slist_free_all(list);
}
