/* AWS Signature Version 4 (AWS4-HMAC-SHA256) with OpenSSL 3.
 *
 *   core.signer()                      -> signer
 *   signer:sign(req)                   -> { canonical_request, string_to_sign,
 *                                           signature, authorization, headers | query }
 *   signer:sign_post(host, target, body, access_key, secret_key, token,
 *                    region, service[, time])
 *                                      -> "Authorization: ...", "X-Amz-Date: ..."
 *   core.sha256_hex(s), core.hmac_sha256(key, msg)   (OpenSSL's EVP one-shots:
 *                                       the tests' reference)
 *
 * A signer owns its hash contexts (sha256.c), its scratch buffers and a
 * small cache of derived signing keys, so signing allocates nothing once
 * warm and a raised error leaks nothing. Secrets never appear in messages. */
#include <string.h>
#include <limits.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "core.h"
#include "sha256.h"
#include "sigv4.h"

#define SIGNER_MT "dynamo.signer"
#define ALGORITHM "AWS4-HMAC-SHA256"
#define JSON_CONTENT_TYPE "application/x-amz-json-1.0"
#define KEY_CACHE_SIZE 4
#define MAX_EXPIRES 604800 /* seven days, the SigV4 presign limit */

/* Scratch buffers, reused by every call. */
enum {
    B_HTEXT,    /* header names and values */
    B_HPAIRS,   /* sigv4_pair array for headers */
    B_QTEXT,    /* encoded query names and values */
    B_QPAIRS,   /* sigv4_pair array for the query */
    B_HEADERS,  /* canonical header lines */
    B_SIGNED,   /* signed header names */
    B_QUERY,    /* canonical query string */
    B_CREQ,     /* canonical request */
    B_STS,      /* string to sign */
    B_OUT,      /* authorization value, presigned query, credential */
    B_KEY,      /* "AWS4" + secret, wiped after use */
    B_SEGS,     /* path segments */
    B_COUNT
};

typedef struct {
    unsigned char id[32];  /* SHA-256 over secret, date, region, service */
    unsigned char key[32]; /* derived signing key */
    /* the key as HMAC states: signing hashes the string to sign and one
     * block more, without keying an HMAC again */
    dyn_hmac hmac;
    int used;
} key_entry;

typedef struct {
    int ready;        /* set up; 0 once collected */
    dyn_sha256 md;    /* scratch */
    dyn_hmac kdf;     /* the key of the HMAC being derived */
    key_entry cache[KEY_CACHE_SIZE];
    unsigned next;    /* cache slot to replace: the oldest */
    /* The last key used, by the strings it came from: the signer's user
     * value keeps those strings alive, so the same pointers are the same
     * strings and the usual call (same credentials, same day) finds its
     * key without hashing the secret. */
    const char *last_secret, *last_region, *last_service;
    char last_date[8];
    const key_entry *last;
    /* sign_post's clock: the second last read, and its time stamp */
    time_t now;
    char now_stamp[17];
    dyn_buf buf[B_COUNT];
} signer;

/* What one signature needs besides the canonical request. */
typedef struct {
    const char *access_key, *secret_key, *token, *region, *service;
    size_t access_key_len, secret_key_len, token_len, region_len, service_len;
    char amz_date[17];
    /* stack slots of the signer and of the secret, region and service
     * strings, which the key cache keeps in the signer's user value */
    int self, slots[3];
} credentials;

/* ---- errors ---------------------------------------------------------- */

static int arg_error(lua_State *L, const char *fn, const char *name, const char *msg)
{
    return luaL_error(L, "bad argument '%s' to '%s' (%s)", name, fn, msg);
}

static int type_error(lua_State *L, const char *fn, const char *name,
                      const char *expected, int idx)
{
    return luaL_error(L, "bad argument '%s' to '%s' (%s expected, got %s)",
                      name, fn, expected, luaL_typename(L, idx));
}

/* A string at idx; NULL for nil when optional. */
static const char *get_string(lua_State *L, int idx, const char *fn, const char *name,
                              size_t *len, int required)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        return lua_tolstring(L, idx, len);
    if (!required && lua_isnil(L, idx)) {
        *len = 0;
        return NULL;
    }
    type_error(L, fn, name, "string", idx);
    return NULL;
}

/* An optional session token: nil and "" both mean none. */
static void get_token(lua_State *L, int idx, const char *fn, credentials *c)
{
    c->token = get_string(L, idx, fn, "session_token", &c->token_len, 0);
    if (c->token && c->token_len == 0)
        c->token = NULL;
}

static int get_boolean(lua_State *L, int idx, const char *fn, const char *name, int dflt)
{
    if (lua_isnil(L, idx))
        return dflt;
    if (!lua_isboolean(L, idx))
        type_error(L, fn, name, "boolean", idx);
    return lua_toboolean(L, idx);
}

/* An integer at idx (a float with an exact integer value is accepted). */
static lua_Integer get_integer(lua_State *L, int idx, const char *fn, const char *name)
{
    lua_Integer v;
    if (lua_type(L, idx) != LUA_TNUMBER)
        type_error(L, fn, name, "integer", idx);
#if DYN_HAS_INTEGER
    {
        int ok;
        v = lua_tointegerx(L, idx, &ok);
        if (!ok)
            arg_error(L, fn, name, "number has no integer representation");
    }
#else
    {
        lua_Number d = lua_tonumber(L, idx);
        v = (lua_Integer)d;
        if (!(d >= -9.2e18 && d <= 9.2e18) || (lua_Number)v != d)
            arg_error(L, fn, name, "number has no integer representation");
    }
#endif
    return v;
}

/* The request time as YYYYMMDDTHHMMSSZ: epoch seconds, or the string form
 * when allow_string. */
static void get_time(lua_State *L, int idx, const char *fn, int allow_string, char out[17])
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (!sigv4_format_time(get_integer(L, idx, fn, "time"), out))
            arg_error(L, fn, "time", "out of range");
    } else if (allow_string && lua_type(L, idx) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (!sigv4_check_time(s, n))
            arg_error(L, fn, "time", "string must be YYYYMMDDTHHMMSSZ");
        memcpy(out, s, 16);
        out[16] = '\0';
    } else {
        type_error(L, fn, "time", allow_string ? "integer or string" : "integer", idx);
    }
}

/* ---- the signer userdata -------------------------------------------- */

static signer *check_signer(lua_State *L, int idx, const char *fn)
{
    signer *S = lua_touserdata(L, idx);
    if (S && lua_getmetatable(L, idx)) {
        int same;
        luaL_getmetatable(L, SIGNER_MT);
        same = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
        if (same) {
            if (!S->ready)
                arg_error(L, fn, "self", "signer has been collected");
            return S;
        }
    }
    type_error(L, fn, idx == 1 ? "self" : "signer", SIGNER_MT, idx);
    return NULL;
}

static int signer_gc(lua_State *L)
{
    signer *S = luaL_checkudata(L, 1, SIGNER_MT);
    int i;
    for (i = 0; i < KEY_CACHE_SIZE; i++)
        dyn_hmac_free(&S->cache[i].hmac);
    OPENSSL_cleanse(S->cache, sizeof S->cache);
    dyn_hmac_free(&S->kdf);
    dyn_sha256_free(&S->md);
    S->ready = 0;
    S->last = NULL;
    for (i = 0; i < B_COUNT; i++)
        dyn_buf_free(&S->buf[i]);
    return 0;
}

static int signer_tostring(lua_State *L)
{
    lua_pushfstring(L, SIGNER_MT ": %p", lua_touserdata(L, 1));
    return 1;
}

/* core.signer() */
static int signer_new(lua_State *L)
{
    signer *S = lua_newuserdata(L, sizeof *S);
    int i, ok;
    memset(S, 0, sizeof *S);
    /* metatable first: __gc frees whatever the rest manages to set up */
    luaL_getmetatable(L, SIGNER_MT);
    lua_setmetatable(L, -2);
    lua_createtable(L, 3, 0); /* the strings of the last key (S->last_*) */
    dyn_setuservalue(L, -2);

    ok = dyn_sha256_new(&S->md) && dyn_hmac_new(&S->kdf);
    for (i = 0; i < KEY_CACHE_SIZE; i++)
        ok = dyn_hmac_new(&S->cache[i].hmac) && ok;
    if (!ok)
        return luaL_error(L, "cannot set up SHA-256 (OpenSSL)");
    S->ready = 1;
    return 1;
}

/* ---- crypto ---------------------------------------------------------- */

static void digest(lua_State *L, signer *S, const void *p, size_t n, unsigned char out[32])
{
    if (!dyn_sha256_init(&S->md) || !dyn_sha256_update(&S->md, p, n)
        || !dyn_sha256_final(&S->md, out))
        luaL_error(L, "SHA-256 failed (OpenSSL)");
}

static void digest_hex(lua_State *L, signer *S, const void *p, size_t n, char out[64])
{
    unsigned char h[32];
    digest(L, S, p, n, h);
    sigv4_hex(out, h, 32);
}

/* HMAC-SHA256 for deriving keys. Returns 0 on failure; the caller raises
 * after wiping key material. */
static int hmac(signer *S, const void *key, size_t klen, const void *msg, size_t n,
                unsigned char out[32])
{
    return dyn_hmac_key(&S->kdf, key, klen) && dyn_hmac_sign(&S->kdf, &S->md, msg, n, out);
}

static int digest_part(signer *S, const char *p, size_t n, int with_length)
{
    unsigned char len[8];
    int i;
    if (with_length) {
        /* lengths keep ("ab","c") and ("a","bc") apart */
        for (i = 0; i < 8; i++)
            len[i] = (unsigned char)((unsigned long long)n >> (56 - 8 * i));
        if (!dyn_sha256_update(&S->md, len, 8))
            return 0;
    }
    return dyn_sha256_update(&S->md, p, n);
}

/* The cache identifies a key by a hash, so the secret itself is not kept. */
static void key_id(lua_State *L, signer *S, const credentials *c, unsigned char id[32])
{
    if (!dyn_sha256_init(&S->md)
        || !digest_part(S, c->secret_key, c->secret_key_len, 1)
        || !digest_part(S, c->amz_date, 8, 0)
        || !digest_part(S, c->region, c->region_len, 1)
        || !digest_part(S, c->service, c->service_len, 1)
        || !dyn_sha256_final(&S->md, id))
        luaL_error(L, "SHA-256 failed (OpenSSL)");
}

/* Makes e the last key, from c's strings (on the stack at c->slots:
 * secret, region, service), which the user value keeps alive. */
static const key_entry *remember(lua_State *L, signer *S, const credentials *c,
                                 const key_entry *e)
{
    int i;
    dyn_getuservalue(L, c->self);
    for (i = 0; i < 3; i++) {
        lua_pushvalue(L, c->slots[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pop(L, 1);
    S->last_secret = c->secret_key;
    S->last_region = c->region;
    S->last_service = c->service;
    memcpy(S->last_date, c->amz_date, 8);
    S->last = e;
    return e;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"), from the cache when possible. */
static const key_entry *signing_key(lua_State *L, signer *S, const credentials *c)
{
    unsigned char id[32], a[32], b[32];
    dyn_buf *k = &S->buf[B_KEY];
    key_entry *e;
    int i, ok;

    if (S->last && c->secret_key == S->last_secret && c->region == S->last_region
        && c->service == S->last_service && memcmp(c->amz_date, S->last_date, 8) == 0)
        return S->last;
    S->last = NULL; /* until remember(): a raise below leaves no stale last key */
    key_id(L, S, c, id);
    for (i = 0; i < KEY_CACHE_SIZE; i++)
        if (S->cache[i].used && CRYPTO_memcmp(S->cache[i].id, id, 32) == 0)
            return remember(L, S, c, &S->cache[i]);

    dyn_buf_reset(k);
    dyn_buf_reserve(L, k, 4 + c->secret_key_len);
    dyn_buf_add(L, k, "AWS4", 4);
    dyn_buf_add(L, k, c->secret_key, c->secret_key_len);
    ok = hmac(S, k->data, k->len, c->amz_date, 8, a)
        && hmac(S, a, 32, c->region, c->region_len, b)
        && hmac(S, b, 32, c->service, c->service_len, a);
    e = &S->cache[S->next];
    e->used = 0;
    ok = ok && hmac(S, a, 32, "aws4_request", 12, e->key) && dyn_hmac_key(&e->hmac, e->key, 32);
    OPENSSL_cleanse(k->data, k->len);
    dyn_buf_reset(k);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    if (!ok) {
        OPENSSL_cleanse(e->key, sizeof e->key);
        luaL_error(L, "HMAC-SHA256 failed (OpenSSL)");
    }
    memcpy(e->id, id, 32);
    e->used = 1;
    S->next = (S->next + 1) % KEY_CACHE_SIZE;
    return remember(L, S, c, e);
}

/* ---- shared signing steps ------------------------------------------ */

/* date/region/service/aws4_request */
static void add_scope(lua_State *L, dyn_buf *b, const credentials *c)
{
    dyn_buf_add(L, b, c->amz_date, 8);
    dyn_buf_addc(L, b, '/');
    dyn_buf_add(L, b, c->region, c->region_len);
    dyn_buf_addc(L, b, '/');
    dyn_buf_add(L, b, c->service, c->service_len);
    dyn_buf_adds(L, b, "/aws4_request");
}

/* String to sign (into B_STS) and hex signature from the canonical request
 * in B_CREQ. */
static void sign_canonical(lua_State *L, signer *S, const credentials *c, char sig[65])
{
    dyn_buf *creq = &S->buf[B_CREQ], *sts = &S->buf[B_STS];
    const key_entry *key;
    unsigned char mac[32];
    char *p;

    dyn_buf_reset(sts);
    dyn_buf_adds(L, sts, ALGORITHM "\n");
    dyn_buf_add(L, sts, c->amz_date, 16);
    dyn_buf_addc(L, sts, '\n');
    add_scope(L, sts, c);
    dyn_buf_addc(L, sts, '\n');
    p = dyn_buf_reserve(L, sts, 64);
    digest_hex(L, S, creq->data, creq->len, p);
    sts->len += 64;

    key = signing_key(L, S, c);
    if (!dyn_hmac_sign(&key->hmac, &S->md, sts->data, sts->len, mac))
        luaL_error(L, "HMAC-SHA256 failed (OpenSSL)");
    sigv4_hex(sig, mac, 32);
    sig[64] = '\0';
}

/* The Authorization header value, after prefix, into B_OUT. */
static void build_authorization(lua_State *L, signer *S, const credentials *c, const char *prefix,
                                const char *signed_headers, size_t sh_len, const char *sig)
{
    dyn_buf *out = &S->buf[B_OUT];
    dyn_buf_reset(out);
    dyn_buf_adds(L, out, prefix);
    dyn_buf_adds(L, out, ALGORITHM " Credential=");
    dyn_buf_add(L, out, c->access_key, c->access_key_len);
    dyn_buf_addc(L, out, '/');
    add_scope(L, out, c);
    dyn_buf_adds(L, out, ", SignedHeaders=");
    dyn_buf_add(L, out, signed_headers, sh_len);
    dyn_buf_adds(L, out, ", Signature=");
    dyn_buf_add(L, out, sig, 64);
}

/* ---- signer:sign_post ----------------------------------------------- */

/* Makes b's text a C string too (libcurl takes header lines as such). */
static void terminate(lua_State *L, dyn_buf *b)
{
    dyn_buf_reserve(L, b, 1)[0] = '\0';
}

/* The DynamoDB JSON request, POST / with no query: its canonical form is
 * fixed apart from four values, so it is written directly instead of being
 * sorted. The spec checks it against signer:sign. */
void dyn_sigv4_sign_post(lua_State *L, int self, int at, int time_at, const char *fn,
                         dyn_sigv4_lines *out)
{
    signer *S = check_signer(L, self, fn);
    dyn_buf *creq = &S->buf[B_CREQ], *auth = &S->buf[B_OUT], *token = &S->buf[B_STS];
    credentials c;
    size_t host_len, target_len, body_len, sh_len;
    const char *host = get_string(L, at, fn, "host", &host_len, 1);
    const char *target = get_string(L, at + 1, fn, "target", &target_len, 1);
    const char *body = get_string(L, at + 2, fn, "body", &body_len, 1);
    const char *signed_headers;
    char *p, sig[65];

    c.access_key = get_string(L, at + 3, fn, "access_key", &c.access_key_len, 1);
    c.secret_key = get_string(L, at + 4, fn, "secret_key", &c.secret_key_len, 1);
    get_token(L, at + 5, fn, &c);
    c.region = get_string(L, at + 6, fn, "region", &c.region_len, 1);
    c.service = get_string(L, at + 7, fn, "service", &c.service_len, 1);
    c.self = self;
    c.slots[0] = at + 4;
    c.slots[1] = at + 6;
    c.slots[2] = at + 7;
    if (!time_at || lua_isnoneornil(L, time_at)) { /* now: formatted once a second */
        time_t now = time(NULL);
        if (now != S->now || !S->now_stamp[0]) {
            if (!sigv4_format_time((lua_Integer)now, S->now_stamp))
                luaL_error(L, "the system clock is outside the years 0-9999");
            S->now = now;
        }
        memcpy(c.amz_date, S->now_stamp, sizeof c.amz_date);
    } else {
        get_time(L, time_at, fn, 0, c.amz_date);
    }

    signed_headers = c.token
        ? "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        : "content-type;host;x-amz-date;x-amz-target";
    sh_len = strlen(signed_headers);

    dyn_buf_reset(creq);
    dyn_buf_adds(L, creq, "POST\n/\n\ncontent-type:" JSON_CONTENT_TYPE "\nhost:");
    sigv4_header_value(L, creq, host, host_len);
    dyn_buf_adds(L, creq, "\nx-amz-date:");
    dyn_buf_add(L, creq, c.amz_date, 16);
    if (c.token) {
        dyn_buf_adds(L, creq, "\nx-amz-security-token:");
        sigv4_header_value(L, creq, c.token, c.token_len);
    }
    dyn_buf_adds(L, creq, "\nx-amz-target:");
    sigv4_header_value(L, creq, target, target_len);
    dyn_buf_adds(L, creq, "\n\n");
    dyn_buf_add(L, creq, signed_headers, sh_len);
    dyn_buf_addc(L, creq, '\n');
    p = dyn_buf_reserve(L, creq, 64);
    digest_hex(L, S, body, body_len, p);
    creq->len += 64;
    sign_canonical(L, S, &c, sig);

    /* Whole header lines: the client sends them as they are. The canonical
     * request and the string to sign are done with, so their buffers take
     * the date and token lines. */
    build_authorization(L, S, &c, "Authorization: ", signed_headers, sh_len, sig);
    dyn_buf_reset(creq);
    dyn_buf_adds(L, creq, "X-Amz-Date: ");
    dyn_buf_add(L, creq, c.amz_date, 16);
    dyn_buf_reset(token);
    if (c.token) {
        dyn_buf_adds(L, token, "X-Amz-Security-Token: ");
        dyn_buf_add(L, token, c.token, c.token_len);
    }
    terminate(L, auth);
    terminate(L, creq);
    terminate(L, token);
    out->authorization = auth->data;
    out->authorization_len = auth->len;
    out->date = creq->data;
    out->date_len = creq->len;
    out->token = c.token ? token->data : NULL;
    out->token_len = token->len;
}

static int signer_sign_post(lua_State *L)
{
    dyn_sigv4_lines lines;
    dyn_sigv4_sign_post(L, 1, 2, 10, "sign_post", &lines);
    lua_pushlstring(L, lines.authorization, lines.authorization_len);
    lua_pushlstring(L, lines.date, lines.date_len);
    return 2;
}

/* ---- signer:sign ---------------------------------------------------- */

/* Fields of the request table, pushed at fixed stack slots from F_FIRST. */
enum {
    F_METHOD, F_PATH, F_QUERY, F_HEADERS, F_BODY, F_PAYLOAD_HASH,
    F_ACCESS_KEY, F_SECRET_KEY, F_SESSION_TOKEN, F_REGION, F_SERVICE, F_TIME,
    F_NORMALIZE, F_SIGN_BODY, F_PRESIGN, F_EXPIRES, F_OMIT_TOKEN, F_N
};
static const char *const FIELDS[F_N] = {
    "method", "path", "query", "headers", "body", "payload_hash",
    "access_key", "secret_key", "session_token", "region", "service", "time",
    "normalize", "sign_body", "presign", "expires", "omit_session_token"
};
#define F_FIRST 3
#define SLOT(f) (F_FIRST + (f))

/* Index of the first header called name (lower case), or -1. */
static long find_header(signer *S, const char *name)
{
    const char *text = S->buf[B_HTEXT].data ? S->buf[B_HTEXT].data : "";
    const sigv4_pair *p = (const sigv4_pair *)S->buf[B_HPAIRS].data;
    size_t n = S->buf[B_HPAIRS].len / sizeof(sigv4_pair), len = strlen(name), i;
    for (i = 0; i < n; i++)
        if (p[i].name_len == len && memcmp(text + p[i].name_off, name, len) == 0)
            return (long)i;
    return -1;
}

/* ASCII case-insensitive, whatever the locale. */
static int is_authorization(const char *name, size_t n)
{
    static const char want[] = "authorization";
    size_t i;
    if (n != sizeof want - 1)
        return 0;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != want[i])
            return 0;
    }
    return 1;
}

/* Copies req.headers into B_HTEXT/B_HPAIRS; returns how many. */
static size_t collect_headers(lua_State *L, signer *S, const char *fn)
{
    int idx = SLOT(F_HEADERS);
    size_t n, i;
    if (!lua_istable(L, idx))
        type_error(L, fn, "headers", "table", idx);
    n = (size_t)dyn_rawlen(L, idx);
    for (i = 1; i <= n; i++) {
        size_t nlen, vlen;
        const char *name, *value;
        lua_rawgeti(L, idx, (int)i);
        if (!lua_istable(L, -1)) {
            lua_pushfstring(L, "headers[%d]", (int)i);
            type_error(L, fn, lua_tostring(L, -1), "table", -2);
        }
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pushfstring(L, "headers[%d][1]", (int)i);
            type_error(L, fn, lua_tostring(L, -1), "string", -3);
        }
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
            lua_pushfstring(L, "headers[%d][2]", (int)i);
            type_error(L, fn, lua_tostring(L, -1), "string", -2);
        }
        name = lua_tolstring(L, -2, &nlen);
        value = lua_tolstring(L, -1, &vlen);
        /* it cannot sign itself (a retried request may still carry one) */
        if (!is_authorization(name, nlen))
            sigv4_add_header(L, &S->buf[B_HTEXT], &S->buf[B_HPAIRS], name, nlen, value, vlen,
                             i - 1);
        lua_pop(L, 3);
    }
    return n;
}

/* Pushes {name, value} as element i of the table on top. */
static void push_pair(lua_State *L, int i, const char *name, const char *value, size_t vlen)
{
    lua_createtable(L, 2, 0);
    lua_pushstring(L, name);
    lua_rawseti(L, -2, 1);
    lua_pushlstring(L, value, vlen);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i);
}

/* The request time: an x-amz-date header already in the request is used as
 * given, and time must then agree with it or be left out. Returns the
 * header's index, or -1. */
static long resolve_date(lua_State *L, signer *S, const char *fn, credentials *c)
{
    const char *text = S->buf[B_HTEXT].data;
    long date_header = find_header(S, "x-amz-date");
    const sigv4_pair *p = NULL;
    if (date_header >= 0)
        p = (const sigv4_pair *)S->buf[B_HPAIRS].data + date_header;
    if (p && lua_isnil(L, SLOT(F_TIME))) {
        if (!sigv4_check_time(text + p->value_off, p->value_len))
            arg_error(L, fn, "headers", "x-amz-date must be YYYYMMDDTHHMMSSZ");
        memcpy(c->amz_date, text + p->value_off, 16);
        c->amz_date[16] = '\0';
    } else {
        get_time(L, SLOT(F_TIME), fn, 1, c->amz_date);
        if (p && (p->value_len != 16 || memcmp(text + p->value_off, c->amz_date, 16) != 0))
            arg_error(L, fn, "time", "differs from the x-amz-date header");
    }
    return date_header;
}

/* The X-Amz-* parameters of a presigned URL, into the query pairs. Needs
 * the signed header names in B_SIGNED. */
static void add_presign_params(lua_State *L, signer *S, const credentials *c,
                               lua_Integer expires, int omit_token)
{
    dyn_buf *qtext = &S->buf[B_QTEXT], *qpairs = &S->buf[B_QPAIRS];
    dyn_buf *credential = &S->buf[B_OUT], *signed_h = &S->buf[B_SIGNED];
    char num[24];
    size_t len = 0;

    dyn_buf_reset(credential);
    dyn_buf_add(L, credential, c->access_key, c->access_key_len);
    dyn_buf_addc(L, credential, '/');
    add_scope(L, credential, c);
    do { /* expires was checked to be 1..604800 */
        num[sizeof num - 1 - len++] = (char)('0' + expires % 10);
        expires /= 10;
    } while (expires > 0);

    sigv4_add_param(L, qtext, qpairs, "X-Amz-Algorithm", 15, ALGORITHM, 16, 0);
    sigv4_add_param(L, qtext, qpairs, "X-Amz-Credential", 16, credential->data,
                    credential->len, 0);
    sigv4_add_param(L, qtext, qpairs, "X-Amz-Date", 10, c->amz_date, 16, 0);
    sigv4_add_param(L, qtext, qpairs, "X-Amz-Expires", 13, num + sizeof num - len, len, 0);
    if (c->token && !omit_token)
        sigv4_add_param(L, qtext, qpairs, "X-Amz-Security-Token", 20, c->token,
                        c->token_len, 0);
    sigv4_add_param(L, qtext, qpairs, "X-Amz-SignedHeaders", 19, signed_h->data,
                    signed_h->len, 0);
}

static int signer_sign(lua_State *L)
{
    static const char fn[] = "sign";
    signer *S = check_signer(L, 1, fn);
    dyn_buf *htext = &S->buf[B_HTEXT], *hpairs = &S->buf[B_HPAIRS];
    dyn_buf *qtext = &S->buf[B_QTEXT], *qpairs = &S->buf[B_QPAIRS];
    dyn_buf *headers = &S->buf[B_HEADERS], *signed_h = &S->buf[B_SIGNED];
    dyn_buf *query = &S->buf[B_QUERY], *creq = &S->buf[B_CREQ], *out = &S->buf[B_OUT];
    credentials c;
    const char *method, *path, *raw_query, *body, *payload_hash;
    size_t method_len, path_len, query_len, body_len, hash_len, count, i;
    int normalize, sign_body, presign, omit_token, add_date, add_token, add_sha;
    lua_Integer expires = 3600;
    long date_header;
    char body_hash[64], sig[65];
    sigv4_pair *sorted;

    if (!lua_istable(L, 2))
        type_error(L, fn, "req", "table", 2);
    lua_settop(L, 2);
    luaL_checkstack(L, F_N + 8, "too many fields");
    for (i = 0; i < F_N; i++)
        lua_getfield(L, 2, FIELDS[i]);

    method = get_string(L, SLOT(F_METHOD), fn, "method", &method_len, 1);
    path = get_string(L, SLOT(F_PATH), fn, "path", &path_len, 0);
    raw_query = get_string(L, SLOT(F_QUERY), fn, "query", &query_len, 0);
    body = get_string(L, SLOT(F_BODY), fn, "body", &body_len, 0);
    payload_hash = get_string(L, SLOT(F_PAYLOAD_HASH), fn, "payload_hash", &hash_len, 0);
    c.access_key = get_string(L, SLOT(F_ACCESS_KEY), fn, "access_key", &c.access_key_len, 1);
    c.secret_key = get_string(L, SLOT(F_SECRET_KEY), fn, "secret_key", &c.secret_key_len, 1);
    get_token(L, SLOT(F_SESSION_TOKEN), fn, &c);
    c.region = get_string(L, SLOT(F_REGION), fn, "region", &c.region_len, 1);
    c.service = get_string(L, SLOT(F_SERVICE), fn, "service", &c.service_len, 1);
    normalize = get_boolean(L, SLOT(F_NORMALIZE), fn, "normalize", 1);
    sign_body = get_boolean(L, SLOT(F_SIGN_BODY), fn, "sign_body", 0);
    presign = get_boolean(L, SLOT(F_PRESIGN), fn, "presign", 0);
    omit_token = get_boolean(L, SLOT(F_OMIT_TOKEN), fn, "omit_session_token", 0);
    if (!lua_isnil(L, SLOT(F_EXPIRES))) {
        expires = get_integer(L, SLOT(F_EXPIRES), fn, "expires");
        if (expires < 1 || expires > MAX_EXPIRES)
            arg_error(L, fn, "expires", "must be between 1 and 604800");
    }
    if (!path) {
        path = "/";
        path_len = 1;
    }

    dyn_buf_reset(htext);
    dyn_buf_reset(hpairs);
    count = collect_headers(L, S, fn);
    if (find_header(S, "host") < 0)
        arg_error(L, fn, "headers", "no host header");

    date_header = resolve_date(L, S, fn, &c);

    if (!payload_hash) {
        digest_hex(L, S, body ? body : "", body_len, body_hash);
        payload_hash = body_hash;
        hash_len = 64;
    }

    /* Headers the signer adds (header mode only: presigning puts them in
     * the query). A header the request already has is used as given. */
    add_date = !presign && date_header < 0;
    add_token = !presign && c.token && find_header(S, "x-amz-security-token") < 0;
    add_sha = !presign && sign_body && find_header(S, "x-amz-content-sha256") < 0;
    if (add_date)
        sigv4_add_header(L, htext, hpairs, "x-amz-date", 10, c.amz_date, 16, count++);
    if (add_token && !omit_token)
        sigv4_add_header(L, htext, hpairs, "x-amz-security-token", 20, c.token, c.token_len,
                         count++);
    if (add_sha)
        sigv4_add_header(L, htext, hpairs, "x-amz-content-sha256", 20, payload_hash, hash_len,
                         count++);

    dyn_buf_reset(headers);
    dyn_buf_reset(signed_h);
    sorted = sigv4_sort(htext, hpairs, 1, &count);
    sigv4_write_headers(L, headers, signed_h, sorted, count);

    dyn_buf_reset(qtext);
    dyn_buf_reset(qpairs);
    if (raw_query)
        sigv4_parse_query(L, qtext, qpairs, raw_query, query_len);
    if (presign)
        add_presign_params(L, S, &c, expires, omit_token);
    dyn_buf_reset(query);
    sorted = sigv4_sort(qtext, qpairs, 0, &count);
    sigv4_write_params(L, query, sorted, count);

    dyn_buf_reset(creq);
    dyn_buf_add(L, creq, method, method_len);
    dyn_buf_addc(L, creq, '\n');
    sigv4_path(L, creq, &S->buf[B_SEGS], path, path_len, normalize);
    dyn_buf_addc(L, creq, '\n');
    dyn_buf_add(L, creq, query->data, query->len);
    dyn_buf_addc(L, creq, '\n');
    dyn_buf_add(L, creq, headers->data, headers->len);
    dyn_buf_addc(L, creq, '\n');
    dyn_buf_add(L, creq, signed_h->data, signed_h->len);
    dyn_buf_addc(L, creq, '\n');
    dyn_buf_add(L, creq, payload_hash, hash_len);

    c.self = 1;
    c.slots[0] = SLOT(F_SECRET_KEY);
    c.slots[1] = SLOT(F_REGION);
    c.slots[2] = SLOT(F_SERVICE);
    sign_canonical(L, S, &c, sig);

    lua_createtable(L, 0, 6);
    lua_pushlstring(L, creq->data, creq->len);
    lua_setfield(L, -2, "canonical_request");
    lua_pushlstring(L, S->buf[B_STS].data, S->buf[B_STS].len);
    lua_setfield(L, -2, "string_to_sign");
    lua_pushlstring(L, sig, 64);
    lua_setfield(L, -2, "signature");
    lua_newtable(L);
    if (presign) {
        dyn_buf_reset(out);
        dyn_buf_add(L, out, query->data, query->len);
        if (query->len)
            dyn_buf_addc(L, out, '&');
        dyn_buf_adds(L, out, "X-Amz-Signature=");
        dyn_buf_add(L, out, sig, 64);
        if (c.token && omit_token) {
            /* added after signing, so not covered by it */
            dyn_buf_adds(L, out, "&X-Amz-Security-Token=");
            sigv4_encode(L, out, c.token, c.token_len);
        }
        lua_pushlstring(L, out->data, out->len);
        lua_setfield(L, -3, "query");
    } else {
        int n = 0;
        if (add_date)
            push_pair(L, ++n, "X-Amz-Date", c.amz_date, 16);
        if (add_token)
            push_pair(L, ++n, "X-Amz-Security-Token", c.token, c.token_len);
        if (add_sha)
            push_pair(L, ++n, "X-Amz-Content-Sha256", payload_hash, hash_len);
        build_authorization(L, S, &c, "", signed_h->data, signed_h->len, sig);
        lua_pushlstring(L, out->data, out->len);
        lua_setfield(L, -3, "authorization");
    }
    lua_setfield(L, -2, "headers");
    return 1;
}

/* ---- small helpers for tests ---------------------------------------- */

/* core.sha256_hex(s) */
static int l_sha256_hex(lua_State *L)
{
    size_t n;
    const char *s = get_string(L, 1, "sha256_hex", "s", &n, 1);
    unsigned char h[32];
    char hex[64];
    if (!EVP_Digest(s, n, h, NULL, EVP_sha256(), NULL))
        return luaL_error(L, "SHA-256 failed (OpenSSL)");
    sigv4_hex(hex, h, 32);
    lua_pushlstring(L, hex, 64);
    return 1;
}

/* core.hmac_sha256(key, msg) -> 32 raw bytes */
static int l_hmac_sha256(lua_State *L)
{
    size_t kn, mn;
    const char *key = get_string(L, 1, "hmac_sha256", "key", &kn, 1);
    const char *msg = get_string(L, 2, "hmac_sha256", "msg", &mn, 1);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int outl = 0;
    if (kn > INT_MAX)
        return arg_error(L, "hmac_sha256", "key", "too long");
    if (!HMAC(EVP_sha256(), key, (int)kn, (const unsigned char *)msg, mn, out, &outl))
        return luaL_error(L, "HMAC-SHA256 failed (OpenSSL)");
    lua_pushlstring(L, (const char *)out, outl);
    return 1;
}

void dyn_open_sigv4(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__gc", signer_gc},
        {"__tostring", signer_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"sign", signer_sign},
        {"sign_post", signer_sign_post},
        {NULL, NULL}
    };
    static const luaL_Reg funcs[] = {
        {"signer", signer_new},
        {"sha256_hex", l_sha256_hex},
        {"hmac_sha256", l_hmac_sha256},
        {NULL, NULL}
    };
    if (dyn_newmetatable(L, SIGNER_MT)) {
        dyn_setfuncs(L, meta, 0);
        lua_newtable(L);
        dyn_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    dyn_setfuncs(L, funcs, 0);
}
