/* SHA-256 for the signer: OpenSSL's, through its thinnest interface.
 *
 * SigV4 hashes a few short strings per request. Through EVP that costs
 * more than the hashing itself: provider dispatch on every call, and an
 * allocation for every context copy, two of them per signature for the
 * HMAC. Measured inside the request loop of bench/ (W3), that was 1 to 1.5
 * us of a 30 us GetItem. OpenSSL 3 still has the low-level SHA256_*
 * functions (deprecated since 3.0, present in every 3.x); they run the same
 * assembly (SHA-NI, AVX2, ARMv8) on a context that is a plain struct, so a
 * copy is an assignment and nothing is allocated.
 *
 * Where they are missing, and in builds with DYN_SHA256_EVP (the ASan build
 * uses it, so the whole suite runs on both), the same functions go through
 * EVP. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <string.h>
#include <openssl/crypto.h>
#include "sha256.h"

#ifdef DYN_SHA256_LOWLEVEL

int dyn_sha256_new(dyn_sha256 *c)
{
    memset(c, 0, sizeof *c);
    return 1;
}

void dyn_sha256_free(dyn_sha256 *c)
{
    OPENSSL_cleanse(c, sizeof *c);
}

int dyn_sha256_init(dyn_sha256 *c)
{
    return SHA256_Init(&c->ctx);
}

int dyn_sha256_update(dyn_sha256 *c, const void *p, size_t n)
{
    return SHA256_Update(&c->ctx, p, n);
}

int dyn_sha256_final(dyn_sha256 *c, unsigned char out[32])
{
    return SHA256_Final(out, &c->ctx);
}

int dyn_sha256_copy(dyn_sha256 *to, const dyn_sha256 *from)
{
    *to = *from;
    return 1;
}

#else

int dyn_sha256_new(dyn_sha256 *c)
{
    return (c->ctx = EVP_MD_CTX_new()) != NULL;
}

void dyn_sha256_free(dyn_sha256 *c)
{
    EVP_MD_CTX_free(c->ctx); /* wipes */
    c->ctx = NULL;
}

int dyn_sha256_init(dyn_sha256 *c)
{
    return EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL);
}

int dyn_sha256_update(dyn_sha256 *c, const void *p, size_t n)
{
    return EVP_DigestUpdate(c->ctx, p, n);
}

int dyn_sha256_final(dyn_sha256 *c, unsigned char out[32])
{
    return EVP_DigestFinal_ex(c->ctx, out, NULL);
}

int dyn_sha256_copy(dyn_sha256 *to, const dyn_sha256 *from)
{
    return EVP_MD_CTX_copy_ex(to->ctx, from->ctx);
}

#endif

int dyn_hmac_new(dyn_hmac *h)
{
    int ok = dyn_sha256_new(&h->inner);
    return dyn_sha256_new(&h->outer) && ok;
}

void dyn_hmac_free(dyn_hmac *h)
{
    dyn_sha256_free(&h->inner);
    dyn_sha256_free(&h->outer);
}

int dyn_hmac_key(dyn_hmac *h, const void *key, size_t n)
{
    unsigned char k[64], pad[64];
    int i, ok = 1;
    memset(k, 0, sizeof k);
    if (n > sizeof k) {
        /* a key longer than the block is hashed first */
        ok = dyn_sha256_init(&h->inner) && dyn_sha256_update(&h->inner, key, n)
            && dyn_sha256_final(&h->inner, k);
    } else if (n > 0) {
        memcpy(k, key, n);
    }
    for (i = 0; i < 64; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x36);
    ok = ok && dyn_sha256_init(&h->inner) && dyn_sha256_update(&h->inner, pad, 64);
    for (i = 0; i < 64; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x5c);
    ok = ok && dyn_sha256_init(&h->outer) && dyn_sha256_update(&h->outer, pad, 64);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok;
}

int dyn_hmac_sign(const dyn_hmac *h, dyn_sha256 *work, const void *msg, size_t n,
                  unsigned char out[32])
{
    unsigned char inner[32];
    return dyn_sha256_copy(work, &h->inner) && dyn_sha256_update(work, msg, n)
        && dyn_sha256_final(work, inner)
        && dyn_sha256_copy(work, &h->outer) && dyn_sha256_update(work, inner, 32)
        && dyn_sha256_final(work, out);
}
