/* SHA-256 and HMAC-SHA256 for the signer, from OpenSSL (sha256.c says
 * which of its interfaces, and why). Every function returns 1, or 0 when
 * OpenSSL fails (out of memory). */
#ifndef DYNAMO_SHA256_H
#define DYNAMO_SHA256_H

#include <stddef.h>
#include <openssl/opensslv.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include "compat.h"

#if !defined(DYN_SHA256_EVP) && OPENSSL_VERSION_MAJOR == 3 && !defined(OPENSSL_NO_DEPRECATED_3_0)
#define DYN_SHA256_LOWLEVEL 1
#endif

typedef struct {
#ifdef DYN_SHA256_LOWLEVEL
    SHA256_CTX ctx;
#else
    EVP_MD_CTX *ctx;
#endif
} dyn_sha256;

/* An HMAC-SHA256 key, as the hash states after its inner and outer pads
 * (RFC 2104): a MAC with it hashes the message and one more block. */
typedef struct {
    dyn_sha256 inner, outer;
} dyn_hmac;

/* new before anything else, free (which wipes) when done. */
DYN_HIDDEN int dyn_sha256_new(dyn_sha256 *c);
DYN_HIDDEN void dyn_sha256_free(dyn_sha256 *c);
DYN_HIDDEN int dyn_sha256_init(dyn_sha256 *c);
DYN_HIDDEN int dyn_sha256_update(dyn_sha256 *c, const void *p, size_t n);
DYN_HIDDEN int dyn_sha256_final(dyn_sha256 *c, unsigned char out[32]);
DYN_HIDDEN int dyn_sha256_copy(dyn_sha256 *to, const dyn_sha256 *from);

DYN_HIDDEN int dyn_hmac_new(dyn_hmac *h);
DYN_HIDDEN void dyn_hmac_free(dyn_hmac *h);
/* Sets the key (any length). */
DYN_HIDDEN int dyn_hmac_key(dyn_hmac *h, const void *key, size_t n);
/* The MAC of msg under h's key; work is scratch space. */
DYN_HIDDEN int dyn_hmac_sign(const dyn_hmac *h, dyn_sha256 *work, const void *msg, size_t n,
                             unsigned char out[32]);

#endif
