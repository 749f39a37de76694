/* AWS Signature Version 4: the canonicalisation rules shared by
 * signer:sign and signer:sign_post (sigv4_canon.c). Pure functions over
 * bytes; the signer, its key cache and the Lua API are in sigv4.c. */
#ifndef DYNAMO_SIGV4_H
#define DYNAMO_SIGV4_H

#include <stddef.h>
#include "buf.h"

/* A canonical header or query parameter. Name and value live in a text
 * buffer that may still move while pairs are added, so pairs hold offsets;
 * sigv4_sort fills in the pointers once the text is complete. */
typedef struct {
    size_t name_off, name_len;
    size_t value_off, value_len;
    size_t index;               /* request order, for duplicate headers */
    const char *name, *value;
} sigv4_pair;

/* Lower-case hex of n bytes into out (2n bytes, not terminated). */
DYN_HIDDEN void sigv4_hex(char *out, const unsigned char *in, size_t n);

/* Percent-encodes every byte outside A-Z a-z 0-9 - . _ ~ (upper-case hex). */
DYN_HIDDEN void sigv4_encode(lua_State *L, dyn_buf *b, const char *s, size_t n);

/* Canonical URI of a raw request path. normalize: remove dot segments,
 * collapse empty ones, encode each segment (so an escape already in the
 * path is encoded again, as every non-S3 service expects). Otherwise
 * (S3): keep the path and its escapes, encode only what is not allowed.
 * scratch holds the segment list. */
DYN_HIDDEN void sigv4_path(lua_State *L, dyn_buf *out, dyn_buf *scratch,
                           const char *path, size_t n, int normalize);

/* Header value with surrounding white space trimmed and each inner run of
 * white space (including folded line breaks) collapsed to one space. */
DYN_HIDDEN void sigv4_header_value(lua_State *L, dyn_buf *b, const char *v, size_t n);

/* Adds a header pair: lower-cased name, canonical value. */
DYN_HIDDEN void sigv4_add_header(lua_State *L, dyn_buf *text, dyn_buf *pairs,
                                 const char *name, size_t nlen,
                                 const char *value, size_t vlen, size_t index);

/* Adds a query parameter, percent-encoded. decode: the input is raw query
 * text whose %XX escapes are decoded first (so they are not encoded twice). */
DYN_HIDDEN void sigv4_add_param(lua_State *L, dyn_buf *text, dyn_buf *pairs,
                                const char *name, size_t nlen,
                                const char *value, size_t vlen, int decode);

/* Splits a raw query string (no '?') into parameters. */
DYN_HIDDEN void sigv4_parse_query(lua_State *L, dyn_buf *text, dyn_buf *pairs,
                                  const char *q, size_t n);

/* Sorts the pairs (headers: by name, then request order; parameters: by
 * encoded name, then encoded value) and returns them; *count is set. */
DYN_HIDDEN sigv4_pair *sigv4_sort(dyn_buf *text, dyn_buf *pairs, int headers, size_t *count);

/* Writes sorted headers as "name:v1,v2\n" lines into out and the
 * ';'-joined names into signed_headers. */
DYN_HIDDEN void sigv4_write_headers(lua_State *L, dyn_buf *out, dyn_buf *signed_headers,
                                    const sigv4_pair *p, size_t count);

/* Writes sorted parameters as "k=v&k=v". */
DYN_HIDDEN void sigv4_write_params(lua_State *L, dyn_buf *out, const sigv4_pair *p, size_t count);

/* Formats epoch seconds as YYYYMMDDTHHMMSSZ (UTC, locale-free) into out[17].
 * Returns 0 when the time is outside years 0000-9999. */
DYN_HIDDEN int sigv4_format_time(lua_Integer t, char out[17]);

/* 1 when s is a well-formed YYYYMMDDTHHMMSSZ. */
DYN_HIDDEN int sigv4_check_time(const char *s, size_t n);

/* ---- the signer (sigv4.c), for the transport ---- */

/* A signed DynamoDB POST's header lines, in the signer's buffers (and
 * NUL-terminated): valid until the signer is used again. token is NULL
 * without a session token. */
typedef struct {
    const char *authorization, *date, *token;
    size_t authorization_len, date_len, token_len;
} dyn_sigv4_lines;

/* signer:sign_post's work: signs with the signer at stack slot self, from
 * the arguments host, target, body, access_key, secret_key, token, region,
 * service at slots at..at+7, and the time at time_at (0 or nil: now). fn
 * names the caller in argument errors, which raise. */
DYN_HIDDEN void dyn_sigv4_sign_post(lua_State *L, int self, int at, int time_at,
                                    const char *fn, dyn_sigv4_lines *out);

#endif
