/* HTTP/1.1 exchanges written and read by dynamo on a connection libcurl
 * opened (CURLOPT_CONNECT_ONLY): http_raw.c. libcurl still resolves,
 * connects and speaks TLS; a request is then one send of bytes dynamo
 * wrote and a response is read with the small parser here, instead of
 * libcurl's transfer machinery, which costs more CPU than the rest of a
 * DynamoDB call. Used by client:post_signed when no proxy is in the way. */
#ifndef DYNAMO_HTTP_RAW_H
#define DYNAMO_HTTP_RAW_H

#include <curl/curl.h>
#include <stddef.h>
#include "buf.h"

/* Longest response head accepted (status line and headers). */
#define DYN_RAW_MAX_HEAD 65536

/* A parsed response head. */
typedef struct {
    int status;             /* 100-999 */
    size_t head_len;        /* bytes through the blank line */
    long long length;       /* Content-Length, or -1 */
    int chunked;            /* Transfer-Encoding: chunked */
    int close;              /* the server closes the connection after it */
} dyn_raw_head;

/* Parses the response head at buf[0..len): 1 parsed, 0 incomplete, -1 not
 * a head dynamo accepts (then *why says what). */
DYN_HIDDEN int dyn_raw_parse_head(const char *buf, size_t len, dyn_raw_head *out,
                                  const char **why);

/* A chunked body decoded in place: the data moves down over the chunk
 * framing, so buf[start..wpos) is the body so far and buf[rpos..len) is
 * what is still to be read. */
typedef struct {
    size_t rpos, wpos;
    size_t left;            /* bytes of the current chunk still to copy */
    int phase;
} dyn_raw_chunks;

DYN_HIDDEN void dyn_raw_chunks_init(dyn_raw_chunks *c, size_t start);
/* Decodes what buf[c->rpos..len) holds: 1 the body is complete (c->rpos is
 * then the end of the message), 0 more is needed, -1 malformed. */
DYN_HIDDEN int dyn_raw_dechunk(dyn_raw_chunks *c, char *buf, size_t len, const char **why);

/* A connection and its buffers, owned by a core.http client. */
typedef struct {
    CURL *curl;             /* the CONNECT_ONLY handle; NULL when closed */
    curl_socket_t sock;
    char *url;              /* what it is connected to */
    int reused;             /* a response has been read on it */
    int busy;               /* an exchange is under way (one that raised
                             * left the connection mid-response) */
    dyn_buf in;             /* the response as received (a chunked body is
                             * decoded in place) */
    const char *body;       /* after dyn_raw_exchange: the body, in `in` */
    size_t body_len;
    dyn_raw_head head;
} dyn_raw;

/* Sends req[0..n) to url on r's connection (connecting with a copy of
 * tmpl's options first when needed) and reads the response within
 * timeout_ms. A request that finds a reused connection closed before any
 * response byte is sent again once on a new one, as libcurl does. Returns
 * CURLE_OK with r->head, r->body and r->body_len set, or an error with a
 * message in errbuf (CURL_ERROR_SIZE bytes). *connects counts the
 * connections opened. */
DYN_HIDDEN CURLcode dyn_raw_exchange(lua_State *L, dyn_raw *r, CURL *tmpl, const char *url,
                                     const char *req, size_t n, long timeout_ms,
                                     char *errbuf, long *connects);

/* Writes the head's header lines to out as "name: value\r\n": all of them
 * when all, else only x-amzn-requestid and x-amz-crc32. */
DYN_HIDDEN void dyn_raw_head_lines(lua_State *L, const dyn_raw *r, int all, dyn_buf *out);

/* Closes the connection and frees the buffers. */
DYN_HIDDEN void dyn_raw_free(dyn_raw *r);

#endif
