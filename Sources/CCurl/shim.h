// libcurl for Swift (Debian: libcurl4-openssl-dev). Only BatonCurl imports this module.
#ifndef BATON_CCURL_SHIM_H
#define BATON_CCURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are C varargs, which Swift cannot call: one
// typed wrapper per argument kind.
static inline CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }

typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode ccurl_setopt_write(CURL *h, ccurl_data_callback f) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f); }
static inline CURLcode ccurl_setopt_header(CURL *h, ccurl_data_callback f) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f); }
static inline CURLcode ccurl_setopt_read(CURL *h, ccurl_data_callback f) { return curl_easy_setopt(h, CURLOPT_READFUNCTION, f); }

// CURLAUTH_BASIC is a cast macro Swift does not import.
static const long CCURLAUTH_BASIC = (long)CURLAUTH_BASIC;

static inline long ccurl_response_code(CURL *h) { long c = 0; curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c); return c; }
static inline long ccurl_os_errno(CURL *h) { long c = 0; curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &c); return c; }
// Bytes of request (headers) and of upload (body, SMTP DATA) that left this machine: a
// failure after any did is one the server may have acted on.
static inline long ccurl_request_size(CURL *h) { long c = 0; curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &c); return c; }
static inline curl_off_t ccurl_upload_size(CURL *h) { curl_off_t c = 0; curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &c); return c; }

// The multi interface: curl_multi_setopt is varargs too, and CURLMsg's result sits in
// an anonymous union Swift reads awkwardly.
static inline CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLcode ccurl_msg_result(const CURLMsg *msg) { return msg->data.result; }

#endif
