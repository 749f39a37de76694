/* core.http: the libcurl transport.
 *
 * A client owns one CURL easy handle for its whole life, so libcurl keeps
 * the connection alive between requests, and owns its request header list
 * and response buffers, so a request after the first allocates nothing of
 * its own beyond the Lua values it returns. The same handle is the
 * template that client:start copies for concurrent transfers (http_multi.c).
 * client:post_signed is the client's own blocking DynamoDB call: it signs
 * (sigv4.c) and sends in one call, the signed lines never becoming Lua
 * strings.
 * Programmer mistakes (bad argument types) raise; everything that can fail
 * at run time comes back as nil, kind, message. */
#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"
#include "crc32.h"
#include "sigv4.h"
#include "http_raw.h"

#define GLOBAL_MT "dynamo.curl_global"

/* Response bodies larger than this are not kept for reuse. */
#define BODY_KEEP ((size_t)8 << 20)

typedef struct {
    CURL *curl;                 /* NULL once closed */
    http_sink sink;             /* response buffers, reused */
    struct curl_slist *nodes;   /* request header list, reused; data points at Lua strings */
    size_t nnodes, used;        /* allocated, and in the list being built */
    lua_Integer requests;       /* transfers attempted */
    lua_Integer connects;       /* new connections opened (sum of CURLINFO_NUM_CONNECTS) */
    long timeout_ms;            /* the client's request timeout */
    unsigned gen;               /* bumped by every transfer and by close */
    /* post_signed's own HTTP/1.1 on a libcurl connection (http_raw.c),
     * when no proxy is in the way */
    int raw_ok;
    dyn_raw raw;
    dyn_buf raw_req;            /* the request being sent */
} http_client;

/* ---- argument checks ---------------------------------------------------- */

static int type_error(lua_State *L, const char *arg, const char *fn, const char *expected, int idx)
{
    return luaL_error(L, "bad argument '%s' to '%s' (%s expected, got %s)",
                      arg, fn, expected, luaL_typename(L, idx));
}

/* A string without zero bytes: libcurl takes C strings. */
static const char *check_cstring(lua_State *L, int idx, const char *arg, const char *fn)
{
    size_t len;
    const char *s;
    if (lua_type(L, idx) != LUA_TSTRING)
        type_error(L, arg, fn, "string", idx);
    s = lua_tolstring(L, idx, &len);
    if (strlen(s) != len)
        luaL_error(L, "bad argument '%s' to '%s' (string contains a zero byte)", arg, fn);
    return s;
}

static http_client *check_client(lua_State *L, int idx, const char *fn)
{
    http_client *c = lua_touserdata(L, idx);
    int ok = 0;
    if (c && lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, HTTP_MT);
        ok = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (!ok)
        type_error(L, "self", fn, HTTP_MT, idx);
    return c;
}

static long to_ms(double s);

CURL *dyn_http_template(lua_State *L, int idx, const char *fn)
{
    return check_client(L, idx, fn)->curl;
}

/* An optional timeout in seconds at idx, as milliseconds (0: none). */
static long check_timeout(lua_State *L, int idx, const char *fn)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    if (lua_type(L, idx) != LUA_TNUMBER || !(lua_tonumber(L, idx) > 0))
        luaL_error(L, "bad argument 'timeout' to '%s' (positive number expected, got %s)", fn,
                   lua_type(L, idx) == LUA_TNUMBER ? lua_tostring(L, idx) : luaL_typename(L, idx));
    return to_ms((double)lua_tonumber(L, idx));
}

void dyn_http_check_args(lua_State *L, int idx, const char *fn, http_args *a)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        type_error(L, "method", fn, "string", idx);
    a->method = lua_tolstring(L, idx, &a->mlen);
    if (!dyn_http_is_token(a->method, a->mlen))
        luaL_error(L, "bad argument 'method' to '%s' (HTTP method token expected)", fn);
    a->url = check_cstring(L, idx + 1, "url", fn);
    if (!lua_isnoneornil(L, idx + 2) && !lua_istable(L, idx + 2))
        type_error(L, "headers", fn, "table", idx + 2);
    a->body = NULL;
    a->blen = 0;
    if (!lua_isnoneornil(L, idx + 3)) {
        if (lua_type(L, idx + 3) != LUA_TSTRING)
            type_error(L, "body", fn, "string", idx + 3);
        a->body = lua_tolstring(L, idx + 3, &a->blen);
    }
    a->is_head = !a->body && a->mlen == 4 && memcmp(a->method, "HEAD", 4) == 0;
    a->timeout_ms = check_timeout(L, idx + 4, fn);
}

const char *dyn_http_header(lua_State *L, int idx, size_t i, const char *fn)
{
    size_t len;
    const char *s;
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "bad argument 'headers[%d]' to '%s' (string expected, got %s)",
                   (int)i + 1, fn, luaL_typename(L, -1));
    s = lua_tolstring(L, -1, &len);
    if (memchr(s, '\r', len) || memchr(s, '\n', len) || strlen(s) != len)
        luaL_error(L, "bad argument 'headers[%d]' to '%s' (header contains CR, LF or a zero byte)",
                       (int)i + 1, fn);
    return s;
}

CURLcode dyn_http_set_method(CURL *h, const http_args *a, int copy_body)
{
    CURLcode rc;
    if (a->is_head) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    }
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    if (a->body || (a->mlen == 4 && memcmp(a->method, "POST", 4) == 0)) {
        int post = a->mlen == 4 && memcmp(a->method, "POST", 4) == 0;
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->blen);
        /* Without a copy the body must outlive the transfer: the blocking
         * request keeps it on the Lua stack. */
        rc = curl_easy_setopt(h, copy_body ? CURLOPT_COPYPOSTFIELDS : CURLOPT_POSTFIELDS,
                              a->body ? a->body : "");
        if (rc != CURLE_OK)
            return rc;
        return curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, post ? NULL : a->method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    return curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
                            a->mlen == 3 && memcmp(a->method, "GET", 3) == 0 ? NULL : a->method);
}

CURLcode dyn_http_set_sink(CURL *h, http_sink *s)
{
    CURLcode rc;
    if ((rc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf)) != CURLE_OK
        || (rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, dyn_http_on_body)) != CURLE_OK)
        return rc;
#ifndef DYN_HTTP_HEADER_API
    if ((rc = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, dyn_http_on_header)) != CURLE_OK
        || (rc = curl_easy_setopt(h, CURLOPT_HEADERDATA, s)) != CURLE_OK)
        return rc;
#endif
    return curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
}

/* ---- client:request ----------------------------------------------------- */

/* A finalizer closed or reused the client while its response was being
 * handed to Lua: the buffers now hold something else. */
static int push_reentered(lua_State *L, http_client *c)
{
    lua_pushnil(L);
    if (!c->curl) {
        lua_pushliteral(L, "closed");
        lua_pushliteral(L, "the HTTP client was closed during the request");
    } else {
        lua_pushliteral(L, "io");
        lua_pushliteral(L, "the HTTP client was reused (by a finalizer) during the request");
    }
    return 3;
}

/* Checks the headers array and builds the reused slist from it, with room
 * for `extra` more lines before the closing "Expect:" (add_line). The
 * strings stay on the Lua stack, which keeps the node pointers valid until
 * the transfer is done. */
static void build_headers(lua_State *L, http_client *c, int idx, size_t extra, const char *fn)
{
    size_t n = lua_isnoneornil(L, idx) ? 0 : (size_t)dyn_rawlen(L, idx), i;
    if (n > 10000)
        luaL_error(L, "bad argument 'headers' to '%s' (more than 10000 headers)", fn);
    luaL_checkstack(L, (int)n, "too many headers");
    if (n + extra + 1 > c->nnodes) {
        struct curl_slist *nodes = realloc(c->nodes, (n + extra + 1) * sizeof *nodes);
        if (!nodes)
            luaL_error(L, "out of memory");
        c->nodes = nodes;
        c->nnodes = n + extra + 1;
    }
    c->used = 0;
    for (i = 0; i < n; i++)
        c->nodes[c->used++].data = (char *)dyn_http_header(L, idx, i, fn);
}

/* Appends a line to the slist being built (room made by build_headers). */
static void add_line(http_client *c, const char *line)
{
    c->nodes[c->used++].data = (char *)line;
}

/* Links the slist and closes it with "Expect:": libcurl adds "Expect:
 * 100-continue" to larger bodies (from 1 KiB or 1 MiB, by version) and then
 * waits a round trip, or up to a second, for the interim answer; an empty
 * Expect turns that off. */
static struct curl_slist *finish_headers(http_client *c)
{
    size_t i;
    add_line(c, "Expect:");
    for (i = 0; i + 1 < c->used; i++)
        c->nodes[i].next = &c->nodes[i + 1];
    c->nodes[c->used - 1].next = NULL;
    return c->nodes;
}

/* The transfer, and its results pushed: status, header block, body, or nil,
 * kind, message. */
static int transfer(lua_State *L, http_client *c, const http_args *a, struct curl_slist *headers)
{
    CURL *h = c->curl;
    CURLcode rc;
    long status = 0, nconn = 0;
    unsigned gen;
    const char *rhead, *rbody;
    size_t rhlen, rblen;
    http_sink *s = &c->sink;

    s->errbuf[0] = 0;
    s->oom = 0;
    dyn_http_set_method(h, a, 0);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if ((rc = curl_easy_setopt(h, CURLOPT_URL, a->url)) != CURLE_OK)
        return dyn_http_push_failure(L, s, rc, a->url);

    dyn_buf_reset(&s->body);
    dyn_buf_reset(&s->head);
    gen = ++c->gen;
    if (a->timeout_ms)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, a->timeout_ms);
    rc = curl_easy_perform(h);
    if (a->timeout_ms)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    c->requests++;
    if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK)
        c->connects += nconn;
    if (rc != CURLE_OK)
        return dyn_http_push_failure(L, s, rc, a->url);

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (!dyn_http_collect_head(h, status, s)) {
        s->oom = 1;
        return dyn_http_push_failure(L, s, CURLE_OUT_OF_MEMORY, a->url);
    }
    lua_pushinteger(L, (lua_Integer)status);
    /* From here on Lua allocates, so a finalizer may run and use or close
     * this client: copy each buffer in one call and check it was not
     * touched in between. The header block goes back as one string: only
     * errors read it, through core.http_headers. */
    lua_pushlstring(L, s->head.data ? s->head.data : "", s->head.len);
    if (c->gen != gen)
        return push_reentered(L, c);
    lua_pushlstring(L, s->body.data ? s->body.data : "", s->body.len);
    if (s->body.cap > BODY_KEEP)
        dyn_buf_free(&s->body);

    rhead = lua_tolstring(L, -2, &rhlen);
    rbody = lua_tolstring(L, -1, &rblen);
    /* A HEAD response's x-amz-crc32 describes a body that was not sent. On
     * a mismatch the check pushes nil, kind, message. */
    if (!a->is_head)
        dyn_http_check_crc32(L, rhead, rhlen, rbody, rblen);
    return 3;
}

/* The request line's target: the URL's path and query, or "/". */
static void add_target(lua_State *L, dyn_buf *b, const char *url)
{
    const char *sep = strstr(url, "://");
    const char *p = sep ? sep + 3 : url;
    size_t n;
    p += strcspn(p, "/?#");
    n = strcspn(p, "#");
    if (n == 0 || *p == '?')
        dyn_buf_addc(L, b, '/');
    dyn_buf_add(L, b, p, n);
}

/* transfer() on the client's own HTTP/1.1 connection (http_raw.c): the
 * request is the lines built so far (c->nodes[0..used)), a Content-Length
 * and the body, written in one piece. */
static int raw_transfer(lua_State *L, http_client *c, const http_args *a)
{
    dyn_buf *req = &c->raw_req;
    http_sink *s = &c->sink;
    char len[32];
    size_t i;
    long nconn = 0;
    unsigned gen;
    CURLcode rc;
    const char *rhead, *rbody;
    size_t rhlen, rblen;

    dyn_buf_reset(req);
    dyn_buf_adds(L, req, "POST ");
    add_target(L, req, a->url);
    dyn_buf_adds(L, req, " HTTP/1.1\r\n");
    for (i = 0; i < c->used; i++) {
        dyn_buf_adds(L, req, c->nodes[i].data);
        dyn_buf_add(L, req, "\r\n", 2);
    }
    snprintf(len, sizeof len, "Content-Length: %lu\r\n\r\n", (unsigned long)a->blen);
    dyn_buf_adds(L, req, len);
    dyn_buf_add(L, req, a->body, a->blen);

    s->errbuf[0] = 0;
    s->oom = 0;
    gen = ++c->gen;
    rc = dyn_raw_exchange(L, &c->raw, c->curl, a->url, req->data, req->len,
                          a->timeout_ms ? a->timeout_ms : c->timeout_ms, s->errbuf, &nconn);
    c->requests++;
    c->connects += nconn;
    if (rc != CURLE_OK)
        return dyn_http_push_failure(L, s, rc, a->url);

    dyn_buf_reset(&s->head);
    dyn_raw_head_lines(L, &c->raw, c->raw.head.status < 200 || c->raw.head.status >= 300, &s->head);
    lua_pushinteger(L, (lua_Integer)c->raw.head.status);
    /* As in transfer(): each buffer copied in one call, and checked
     * untouched by a finalizer in between. */
    lua_pushlstring(L, s->head.data ? s->head.data : "", s->head.len);
    if (c->gen != gen)
        return push_reentered(L, c);
    lua_pushlstring(L, c->raw.body_len ? c->raw.body : "", c->raw.body_len);
    if (c->raw.in.cap > BODY_KEEP)
        dyn_buf_free(&c->raw.in);
    rhead = lua_tolstring(L, -2, &rhlen);
    rbody = lua_tolstring(L, -1, &rblen);
    dyn_http_check_crc32(L, rhead, rhlen, rbody, rblen); /* on a mismatch: nil, kind, message */
    return 3;
}

static int push_closed(lua_State *L)
{
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    lua_pushliteral(L, "the HTTP client is closed");
    return 3;
}

static int http_request(lua_State *L)
{
    http_client *c = check_client(L, 1, "request");
    http_args a;
    dyn_http_check_args(L, 2, "request", &a);
    lua_settop(L, 6);
    if (!c->curl)
        return push_closed(L);
    build_headers(L, c, 4, 0, "request");
    return transfer(L, c, &a, finish_headers(c));
}

/* client:post_signed(signer, host, target, body, access_key, secret_key,
 *                    token, region, service, url, headers[, timeout])
 * signer:sign_post and client:request("POST", url, headers + the signed
 * lines, body, timeout) in one call: the signed lines go from the signer's
 * buffers to libcurl without becoming Lua strings. */
static int http_post_signed(lua_State *L)
{
    static const char fn[] = "post_signed";
    http_client *c = check_client(L, 1, fn);
    http_args a;
    dyn_sigv4_lines signed_lines;

    lua_settop(L, 13);
    a.method = "POST";
    a.mlen = 4;
    a.is_head = 0;
    a.url = check_cstring(L, 11, "url", fn);
    if (!lua_isnil(L, 12) && !lua_istable(L, 12))
        type_error(L, "headers", fn, "table", 12);
    a.timeout_ms = check_timeout(L, 13, fn);
    /* Signing may allocate, and so run a finalizer that uses this client:
     * it comes first. From the list's building to the transfer nothing
     * allocates, so the signed lines stay valid. */
    dyn_sigv4_sign_post(L, 2, 3, 0, fn, &signed_lines);
    a.body = lua_tolstring(L, 5, &a.blen);
    if (!c->curl)
        return push_closed(L);
    build_headers(L, c, 12, 3, fn);
    if (signed_lines.token)
        add_line(c, signed_lines.token);
    add_line(c, signed_lines.date);
    add_line(c, signed_lines.authorization);
    if (c->raw_ok)
        return raw_transfer(L, c, &a);
    return transfer(L, c, &a, finish_headers(c));
}

/* ---- client:stats, close, gc, tostring ---------------------------------- */

static int http_stats(lua_State *L)
{
    http_client *c = check_client(L, 1, "stats");
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, c->connects);
    lua_setfield(L, -2, "connects");
    lua_pushinteger(L, c->requests);
    lua_setfield(L, -2, "requests");
    return 1;
}

static void client_free(http_client *c)
{
    c->gen++;
    if (c->curl) {
        curl_easy_cleanup(c->curl);
        c->curl = NULL;
    }
    dyn_buf_free(&c->sink.body);
    dyn_buf_free(&c->sink.head);
    dyn_raw_free(&c->raw);
    dyn_buf_free(&c->raw_req);
    free(c->nodes);
    c->nodes = NULL;
    c->nnodes = 0;
}

static int http_close(lua_State *L)
{
    client_free(check_client(L, 1, "close"));
    return 0;
}

static int http_gc(lua_State *L)
{
    client_free(lua_touserdata(L, 1));
    return 0;
}

static int http_tostring(lua_State *L)
{
    http_client *c = check_client(L, 1, "tostring");
    lua_pushstring(L, c->curl ? HTTP_MT " (open)" : HTTP_MT " (closed)");
    return 1;
}

/* ---- core.http(opts) ---------------------------------------------------- */

/* curl_global_init is reference-counted: one per Lua state, made on the
 * first core.http() (no work at require time) and undone by this
 * sentinel's __gc. The sentinel lives in the registry and is created
 * before any client, so lua_close finalizes every client first. */
static int global_gc(lua_State *L)
{
    int *inited = lua_touserdata(L, 1);
    if (*inited) {
        *inited = 0;
        curl_global_cleanup();
    }
    return 0;
}

CURLcode dyn_http_global(lua_State *L)
{
    int *inited;
    CURLcode rc;
    lua_getfield(L, LUA_REGISTRYINDEX, GLOBAL_MT);
    inited = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (inited)
        return CURLE_OK;
    inited = lua_newuserdata(L, sizeof *inited);
    *inited = 0;
    if (dyn_newmetatable(L, GLOBAL_MT)) {
        lua_pushcfunction(L, global_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
        lua_pop(L, 1);
        return rc;
    }
    *inited = 1;
    lua_setfield(L, LUA_REGISTRYINDEX, GLOBAL_MT);
    return CURLE_OK;
}

enum { OPT_SECONDS, OPT_BOOLEAN, OPT_STRING };

static const struct {
    const char *name;
    int type;
} OPTIONS[] = {
    {"connect_timeout", OPT_SECONDS}, {"timeout", OPT_SECONDS},
    {"verify", OPT_BOOLEAN},          {"tcp_keepalive", OPT_BOOLEAN},
    {"cafile", OPT_STRING},           {"capath", OPT_STRING},
    {"proxy", OPT_STRING},            {"user_agent", OPT_STRING},
};

/* Checks every field of opts (at index 1) before anything is allocated:
 * unknown names are mistakes too (a typo would silently keep a default). */
static void check_options(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        const char *name;
        size_t i, n = sizeof OPTIONS / sizeof OPTIONS[0];
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "bad argument 'opts' to 'http' (option names must be strings, got %s)",
                       luaL_typename(L, -2));
        name = lua_tostring(L, -2);
        for (i = 0; i < n && strcmp(OPTIONS[i].name, name) != 0; i++)
            ;
        if (i == n)
            luaL_error(L, "bad argument 'opts' to 'http' (unknown option '%s')", name);
        switch (OPTIONS[i].type) {
        case OPT_SECONDS:
            if (lua_type(L, -1) != LUA_TNUMBER)
                type_error(L, name, "http", "positive number", -1);
            if (!(lua_tonumber(L, -1) > 0))
                luaL_error(L, "bad argument '%s' to 'http' (positive number expected, got %s)",
                           name, lua_tostring(L, -1));
            break;
        case OPT_BOOLEAN:
            if (lua_type(L, -1) != LUA_TBOOLEAN)
                type_error(L, name, "http", "boolean", -1);
            break;
        default:
            check_cstring(L, -1, name, "http");
        }
        lua_pop(L, 1);
    }
}

/* Seconds (already checked > 0) to milliseconds, rounded up so a tiny
 * timeout never becomes 0, which libcurl reads as "no timeout". */
static long to_ms(double s)
{
    double ms = s * 1000.0;
    long r;
    if (ms >= (double)LONG_MAX)
        return LONG_MAX;
    r = (long)ms;
    return r < ms ? r + 1 : (r > 0 ? r : 1);
}

/* Pushes opts[name] (raw: options are plain data). */
static int get_option(lua_State *L, const char *name)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    lua_pushstring(L, name);
    lua_rawget(L, 1);
    return lua_type(L, -1);
}

static long seconds_option(lua_State *L, const char *name, double dflt)
{
    double s = get_option(L, name) == LUA_TNUMBER ? (double)lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return to_ms(s);
}

static int boolean_option(lua_State *L, const char *name, int dflt)
{
    int b = get_option(L, name) == LUA_TBOOLEAN ? lua_toboolean(L, -1) : dflt;
    lua_pop(L, 1);
    return b;
}

/* Sets a string option if present; the value is copied by libcurl. */
static CURLcode string_option(lua_State *L, CURL *h, CURLoption opt, const char *name)
{
    CURLcode rc = CURLE_OK;
    if (get_option(L, name) == LUA_TSTRING)
        rc = curl_easy_setopt(h, opt, lua_tostring(L, -1));
    lua_pop(L, 1);
    return rc;
}

/* Whether the environment names a proxy for any URL this client can fetch,
 * as libcurl reads it (an empty value names none). */
static int env_names_proxy(void)
{
    static const char *const vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
                                       "all_proxy", "ALL_PROXY"};
    size_t i;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return 1;
    }
    return 0;
}

static int http_new(lua_State *L)
{
    http_client *c;
    CURL *h;
    CURLcode rc;
    const char *failed = NULL;
    int verify;

    if (!lua_isnoneornil(L, 1) && !lua_istable(L, 1))
        type_error(L, "opts", "http", "table", 1);
    lua_settop(L, 1);
    if (lua_istable(L, 1))
        check_options(L);

    if ((rc = dyn_http_global(L)) != CURLE_OK) {
        lua_pushnil(L);
        lua_pushliteral(L, "init");
        lua_pushfstring(L, "curl_global_init failed: %s", curl_easy_strerror(rc));
        return 3;
    }

    c = lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    luaL_getmetatable(L, HTTP_MT);
    lua_setmetatable(L, -2);
    if (!(c->curl = h = curl_easy_init())) {
        lua_pushnil(L);
        lua_pushliteral(L, "init");
        lua_pushliteral(L, "curl_easy_init failed");
        return 3;
    }

#define SET(opt, val) \
    if (!failed && (rc = curl_easy_setopt(h, opt, val)) != CURLE_OK) failed = #opt
#define SETS(opt, name) \
    if (!failed && (rc = string_option(L, h, opt, name)) != CURLE_OK) failed = name

    SET(CURLOPT_NOSIGNAL, 1L); /* signals belong to the host program */
    if (!failed && (rc = dyn_http_set_sink(h, &c->sink)) != CURLE_OK)
        failed = "the response callbacks";
    SET(CURLOPT_CONNECTTIMEOUT_MS, seconds_option(L, "connect_timeout", 1));
    c->timeout_ms = seconds_option(L, "timeout", 10);
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    verify = boolean_option(L, "verify", 1);
    SET(CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    SETS(CURLOPT_CAINFO, "cafile");
    SETS(CURLOPT_CAPATH, "capath");
    /* Without a proxy option libcurl honours http_proxy/https_proxy/no_proxy;
     * proxy = "" turns that off. libcurl reads those variables again at
     * every request (1,500 instructions): when none names a proxy as the
     * client is made, it is told there is none. */
    if (get_option(L, "proxy") == LUA_TSTRING) {
        SET(CURLOPT_PROXY, lua_tostring(L, -1));
        c->raw_ok = lua_tostring(L, -1)[0] == '\0';
    } else if (!env_names_proxy()) {
        SET(CURLOPT_PROXY, "");
        SET(CURLOPT_NOPROXY, "");
        c->raw_ok = 1;
    }
    lua_pop(L, 1);
    SETS(CURLOPT_USERAGENT, "user_agent");
    if (boolean_option(L, "tcp_keepalive", 1)) {
        /* Probe idle connections so a dead peer is noticed before reuse. */
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        SET(CURLOPT_TCP_KEEPIDLE, 30L);
        SET(CURLOPT_TCP_KEEPINTVL, 15L);
    }
    /* Only HTTP(S): a URL must not turn into file:// or anything else. */
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
#undef SET
#undef SETS

    if (failed) {
        client_free(c);
        lua_pushnil(L);
        lua_pushliteral(L, "init");
        lua_pushfstring(L, "libcurl rejected %s: %s", failed, curl_easy_strerror(rc));
        return 3;
    }
    return 1;
}

void dyn_open_http(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"request", http_request},
        {"post_signed", http_post_signed},
        {"stats", http_stats},
        {"close", http_close},
        {NULL, NULL},
    };
    if (dyn_newmetatable(L, HTTP_MT)) {
        lua_newtable(L);
        dyn_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, http_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, http_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    dyn_open_multi(L);
    lua_pushcfunction(L, http_new);
    lua_setfield(L, -2, "http");
    lua_pushcfunction(L, dyn_crc32_lua);
    lua_setfield(L, -2, "crc32");
    lua_pushcfunction(L, dyn_http_headers_lua);
    lua_setfield(L, -2, "http_headers");
}
