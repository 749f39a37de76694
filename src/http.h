/* Shared by the libcurl transports: core.http's blocking requests
 * (http_curl.c) and core.multi's concurrent transfers (http_multi.c). */
#ifndef DYNAMO_HTTP_H
#define DYNAMO_HTTP_H

#include <curl/curl.h>
#include "core.h"
#include "buf.h"

#define HTTP_MT "dynamo.http"

/* Where a transfer's callbacks put the response. */
typedef struct {
    dyn_buf body;
    dyn_buf head;    /* header lines of the final response (dyn_http_collect_head) */
    int oom;         /* a callback ran out of memory */
    char errbuf[CURL_ERROR_SIZE];
} http_sink;

/* A request's arguments, checked: method, url, headers, body, and an
 * optional timeout in seconds for this request only. */
typedef struct {
    const char *method, *url, *body;
    size_t mlen, blen;
    int is_head;
    long timeout_ms;             /* 0: the client's timeout */
} http_args;

/* libcurl 7.84 and later keep a response's headers for curl_easy_header:
 * nothing is copied while a response arrives, and only an error (a status
 * outside 2xx) has them all written out. Before 7.84 a header callback
 * copies every line as it comes. */
#if LIBCURL_VERSION_NUM >= 0x075400
#define DYN_HTTP_HEADER_API 1
#endif

/* libcurl write (and before 7.84 header) callbacks; ud is an http_sink. */
DYN_HIDDEN size_t dyn_http_on_body(char *p, size_t size, size_t n, void *ud);
#ifndef DYN_HTTP_HEADER_API
DYN_HIDDEN size_t dyn_http_on_header(char *p, size_t size, size_t n, void *ud);
#endif
/* After a transfer: the final response's header lines, "name: value\r\n",
 * into s->head. A success (2xx) gets only those dynamo reads of one
 * (x-amzn-requestid, x-amz-crc32); other statuses get all. 0 when out of
 * memory. */
DYN_HIDDEN int dyn_http_collect_head(CURL *h, long status, http_sink *s);

/* Walks a raw header block: each call sets the next header's name and
 * value (trimmed) and returns 1, or returns 0 at the end. Lines that are
 * blank, folded or lack a colon are skipped. */
DYN_HIDDEN int dyn_http_next_header(const char **pos, const char *end, const char **name,
                                    size_t *nlen, const char **value, size_t *vlen);
/* Whether the header name s (n bytes, any case) is lname (lower case). */
DYN_HIDDEN int dyn_http_name_is(const char *s, size_t n, const char *lname);

/* Checks method, url, headers, body, timeout at idx..idx+4 for function fn. */
DYN_HIDDEN void dyn_http_check_args(lua_State *L, int idx, const char *fn, http_args *a);
/* The checked header string headers[i] (headers at idx); raises for CR/LF/NUL. */
DYN_HIDDEN const char *dyn_http_header(lua_State *L, int idx, size_t i, const char *fn);
/* Sets method and body options; copy_body makes libcurl keep its own copy. */
DYN_HIDDEN CURLcode dyn_http_set_method(CURL *h, const http_args *a, int copy_body);
/* Points the transfer's callbacks and error buffer at the sink. */
DYN_HIDDEN CURLcode dyn_http_set_sink(CURL *h, http_sink *s);

/* Pushes nil, kind, message for a failed transfer; returns 3. */
DYN_HIDDEN int dyn_http_push_failure(lua_State *L, const http_sink *s, CURLcode rc, const char *url);
/* core.http_headers(head): the raw header block -> a table (lower-case names). */
DYN_HIDDEN int dyn_http_headers_lua(lua_State *L);
/* 1 if the raw header block head has no x-amz-crc32 or it matches the
 * body, else pushes nil, "crc32", message and returns 0. */
DYN_HIDDEN int dyn_http_check_crc32(lua_State *L, const char *head, size_t hlen,
                                    const char *body, size_t len);
/* An RFC 9110 token: what may stand as a request method. */
DYN_HIDDEN int dyn_http_is_token(const char *s, size_t n);

/* The easy handle core.http(opts) configured, for copies (NULL once closed). */
DYN_HIDDEN CURL *dyn_http_template(lua_State *L, int idx, const char *fn);
/* Initializes libcurl once per Lua state; CURLE_OK or the failure. */
DYN_HIDDEN CURLcode dyn_http_global(lua_State *L);

DYN_HIDDEN void dyn_open_multi(lua_State *L);

#endif
