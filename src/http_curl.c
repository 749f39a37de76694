/* core.http: the libcurl transport.
 *
 * A client owns one CURL easy handle for its whole life, so libcurl keeps
 * the connection alive between requests, and owns its request header list
 * and response buffers, so a request after the first allocates nothing of
 * its own beyond the Lua values it returns. Programmer mistakes (bad argument types)
 * raise; everything that can fail at run time comes back as nil, kind,
 * message. */
#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "buf.h"
#include "crc32.h"

#define HTTP_MT "dynamo.http"
#define GLOBAL_MT "dynamo.curl_global"

/* Response bodies larger than this are not kept for reuse. */
#define BODY_KEEP ((size_t)8 << 20)

typedef struct {
    CURL *curl;                 /* NULL once closed */
    dyn_buf body;               /* response body, reused */
    dyn_buf head;               /* raw header lines of the last response, reused */
    struct curl_slist *nodes;   /* request header list, reused; data points at Lua strings */
    size_t nnodes;
    lua_Integer requests;       /* transfers attempted */
    lua_Integer connects;       /* new connections opened (sum of CURLINFO_NUM_CONNECTS) */
    int oom;                    /* a callback ran out of memory */
    unsigned gen;               /* bumped by every transfer and by close */
    char errbuf[CURL_ERROR_SIZE];
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

static http_client *check_client(lua_State *L, const char *fn)
{
    http_client *c = lua_touserdata(L, 1);
    int ok = 0;
    if (c && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, HTTP_MT);
        ok = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (!ok)
        type_error(L, "self", fn, HTTP_MT, 1);
    return c;
}

/* ---- libcurl callbacks: they must not raise, so they grow buffers with
 * plain realloc and report failure to libcurl, which aborts the transfer. */

static int append(dyn_buf *b, const char *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 1024;
        char *q;
        if (n > ((size_t)-1) / 2 - b->len)
            return 0;
        while (cap - b->len < n)
            cap *= 2;
        q = realloc(b->data, cap);
        if (!q)
            return 0;
        b->data = q;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 1;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    http_client *c = ud;
    n *= size;
    if (!append(&c->body, p, n)) {
        c->oom = 1;
        return 0;
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    http_client *c = ud;
    n *= size;
    /* A status line opens a new header block (100 Continue, proxy CONNECT):
     * only the final response's headers are returned. */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        c->head.len = 0;
        return n;
    }
    if (!append(&c->head, p, n)) {
        c->oom = 1;
        return 0;
    }
    return n;
}

/* ---- errors ------------------------------------------------------------- */

static const char *error_kind(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        return "connect";
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
#if LIBCURL_VERSION_NUM >= 0x074d00
    case CURLE_SSL_CLIENTCERT:
#endif
        return "tls";
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "url";
    default:
        return "io";
    }
}

static int has_prefix_ci(const char *s, size_t n, const char *prefix)
{
    size_t i;
    for (i = 0; prefix[i]; i++) {
        char ch = i < n ? s[i] : 0;
        if (ch >= 'A' && ch <= 'Z')
            ch += 'a' - 'A';
        if (ch != prefix[i])
            return 0;
    }
    return 1;
}

/* The "://" after the scheme, or NULL when the URL has none (libcurl then
 * assumes http). */
static const char *scheme_end(const char *url)
{
    const char *sep = strstr(url, "://");
    return sep && (size_t)(sep - url) <= strcspn(url, "/?#") ? sep : NULL;
}

/* Adds "host:port" from url. The URL is parsed by hand so the error path
 * allocates nothing that a raise could leak; userinfo is dropped because
 * it may hold a password. */
static void add_hostport(luaL_Buffer *b, const char *url)
{
    const char *sep = scheme_end(url);
    const char *a = sep ? sep + 3 : url;
    const char *e = a + strcspn(a, "/?#");
    const char *p, *colon = NULL;
    for (p = e; p > a; p--)
        if (p[-1] == '@') {
            a = p;
            break;
        }
    for (p = a; p < e; p++) {
        if (*p == ':')
            colon = p;
        else if (*p == ']')
            colon = NULL; /* the colons so far were inside an IPv6 literal */
    }
    luaL_addlstring(b, a, (size_t)(e - a));
    if (!colon)
        luaL_addstring(b, sep && has_prefix_ci(url, (size_t)(sep - url), "https") ? ":443" : ":80");
}

/* Adds url without userinfo, query or fragment: they may hold secrets. */
static void add_public_url(luaL_Buffer *b, const char *url)
{
    size_t end = strcspn(url, "?#");
    const char *sep = scheme_end(url);
    const char *auth = sep ? sep + 3 : url;
    const char *host = auth, *p;
    for (p = auth + strcspn(auth, "/?#"); p > auth; p--)
        if (p[-1] == '@') {
            host = p;
            break;
        }
    luaL_addlstring(b, url, (size_t)(auth - url));
    luaL_addlstring(b, host, (size_t)(url + end - host));
}

/* Pushes nil, kind, message. The message names host:port (or the URL
 * without its query, for URL errors) and libcurl's detail, never headers. */
static int push_failure(lua_State *L, http_client *c, CURLcode rc, const char *url)
{
    const char *kind = error_kind(rc), *detail;
    luaL_Buffer b;
    /* Copied first, in one call: a finalizer run by a later allocation
     * could reuse this client and overwrite errbuf. */
    lua_pushstring(L, c->oom ? "out of memory storing the response"
                             : c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    detail = lua_tostring(L, -1);
    lua_pushnil(L);
    lua_pushstring(L, kind);
    luaL_buffinit(L, &b);
    if (strcmp(kind, "url") == 0) {
        luaL_addstring(&b, "bad URL '");
        add_public_url(&b, url);
        luaL_addstring(&b, "': ");
    } else {
        luaL_addstring(&b, "request to ");
        add_hostport(&b, url);
        luaL_addstring(&b, " failed: ");
    }
    luaL_addstring(&b, detail);
    luaL_pushresult(&b);
    lua_remove(L, -4);
    return 3;
}

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

/* ---- responses ---------------------------------------------------------- */

/* Lower-cases the header names in the raw block, in place: the buffer is
 * ours, and the names then go to Lua in one copy. */
static void lower_names(dyn_buf *b)
{
    char *p = b->data, *end = p + b->len;
    int in_name = 1;
    for (; p < end; p++) {
        if (*p == '\n')
            in_name = 1;
        else if (*p == ':')
            in_name = 0;
        else if (in_name && *p >= 'A' && *p <= 'Z')
            *p += 'a' - 'A';
    }
}

/* Pushes the header table from the raw block (a Lua string, so it stays
 * valid whatever a finalizer does meanwhile): values trimmed, repeats
 * joined with ", ". Lines that are blank, folded or lack a colon are
 * skipped. */
static void push_headers(lua_State *L, const char *p, size_t len)
{
    const char *end = p + len;
    lua_createtable(L, 0, 8);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end, *next = eol ? eol + 1 : end;
        const char *colon, *v;
        if (le > p && le[-1] == '\r')
            le--;
        colon = memchr(p, ':', (size_t)(le - p));
        if (colon && colon > p && *p != ' ' && *p != '\t') {
            for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++)
                ;
            while (le > v && (le[-1] == ' ' || le[-1] == '\t'))
                le--;
            lua_pushlstring(L, p, (size_t)(colon - p));
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(le - v));
            } else {
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(le - v));
                lua_concat(L, 3);
            }
            lua_rawset(L, -3);
        }
        p = next;
    }
}

/* Decimal uint32, nothing else. */
static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > 0xffffffffu)
            return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

/* With the header table on top: 1 if there is no x-amz-crc32 or it matches
 * the body, else pushes nil, "crc32", message and returns 0. */
static int check_crc32(lua_State *L, const char *body, size_t len)
{
    const char *want;
    uint32_t expected, got;
    char gotbuf[16];
    lua_getfield(L, -1, "x-amz-crc32");
    want = lua_tostring(L, -1);
    if (!want) {
        lua_pop(L, 1);
        return 1;
    }
    got = dyn_crc32(0, body, len);
    if (parse_u32(want, &expected) && expected == got) {
        lua_pop(L, 1);
        return 1;
    }
    snprintf(gotbuf, sizeof gotbuf, "%lu", (unsigned long)got);
    lua_pushnil(L);
    lua_pushliteral(L, "crc32");
    lua_pushfstring(L, "response CRC32 mismatch: header says %s, body has %s", want, gotbuf);
    return 0;
}

/* ---- client:request ----------------------------------------------------- */

/* RFC 9110 token characters: a method is sent verbatim, so nothing else
 * (spaces, CR, LF) may reach the request line. */
static int is_token(const char *s, size_t n)
{
    size_t i;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
              || strchr("!#$%&'*+-.^_`|~", ch)) || ch == 0)
            return 0;
    }
    return 1;
}

/* Checks the headers array and builds the reused slist from it. The
 * strings stay on the Lua stack, which keeps the node pointers valid
 * until the transfer is done. */
static void build_headers(lua_State *L, http_client *c, int idx)
{
    size_t n = lua_isnoneornil(L, idx) ? 0 : (size_t)dyn_rawlen(L, idx), i;
    if (n > 10000)
        luaL_error(L, "bad argument 'headers' to 'request' (more than 10000 headers)");
    luaL_checkstack(L, (int)n, "too many headers");
    if (n + 1 > c->nnodes) {
        struct curl_slist *nodes = realloc(c->nodes, (n + 1) * sizeof *nodes);
        if (!nodes)
            luaL_error(L, "out of memory");
        c->nodes = nodes;
        c->nnodes = n + 1;
    }
    for (i = 0; i < n; i++) {
        size_t len, j;
        const char *s;
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "bad argument 'headers[%d]' to 'request' (string expected, got %s)",
                       (int)i + 1, luaL_typename(L, -1));
        s = lua_tolstring(L, -1, &len);
        for (j = 0; j < len; j++)
            if (s[j] == '\r' || s[j] == '\n' || s[j] == 0)
                luaL_error(L, "bad argument 'headers[%d]' to 'request' (header contains CR, LF or a zero byte)",
                           (int)i + 1);
        c->nodes[i].data = (char *)s;
        c->nodes[i].next = &c->nodes[i + 1];
    }
    /* libcurl adds "Expect: 100-continue" to bodies over 1 MiB and then
     * waits up to a second for an answer; an empty Expect turns that off. */
    c->nodes[n].data = (char *)"Expect:";
    c->nodes[n].next = NULL;
}

static int http_request(lua_State *L)
{
    http_client *c = check_client(L, "request");
    size_t mlen, blen = 0;
    const char *method, *url, *body = NULL;
    CURL *h;
    CURLcode rc;
    long status = 0, nconn = 0;
    int is_head = 0;
    unsigned gen;
    const char *rhead, *rbody;
    size_t rhlen, rblen;

    if (lua_type(L, 2) != LUA_TSTRING)
        type_error(L, "method", "request", "string", 2);
    method = lua_tolstring(L, 2, &mlen);
    if (!is_token(method, mlen))
        luaL_error(L, "bad argument 'method' to 'request' (HTTP method token expected)");
    url = check_cstring(L, 3, "url", "request");
    if (!lua_isnoneornil(L, 4) && !lua_istable(L, 4))
        type_error(L, "headers", "request", "table", 4);
    if (!lua_isnoneornil(L, 5)) {
        if (lua_type(L, 5) != LUA_TSTRING)
            type_error(L, "body", "request", "string", 5);
        body = lua_tolstring(L, 5, &blen);
    }
    lua_settop(L, 5);
    if (!c->curl) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        lua_pushliteral(L, "the HTTP client is closed");
        return 3;
    }
    build_headers(L, c, 4);

    h = c->curl;
    if (!body && mlen == 4 && memcmp(method, "HEAD", 4) == 0) {
        is_head = 1;
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else if (body || (mlen == 4 && memcmp(method, "POST", 4) == 0)) {
        int post = mlen == 4 && memcmp(method, "POST", 4) == 0;
        curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
        /* The body stays on the Lua stack: libcurl reads it in place. */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, post ? NULL : method);
    } else {
        int get = mlen == 3 && memcmp(method, "GET", 3) == 0;
        curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, get ? NULL : method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->nodes);
    if ((rc = curl_easy_setopt(h, CURLOPT_URL, url)) != CURLE_OK) {
        c->errbuf[0] = 0;
        c->oom = 0;
        return push_failure(L, c, rc, url);
    }

    dyn_buf_reset(&c->body);
    dyn_buf_reset(&c->head);
    c->errbuf[0] = 0;
    c->oom = 0;
    gen = ++c->gen;
    rc = curl_easy_perform(h);
    c->requests++;
    if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK)
        c->connects += nconn;
    if (rc != CURLE_OK)
        return push_failure(L, c, rc, url);

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    lua_pushinteger(L, (lua_Integer)status);
    /* From here on Lua allocates, so a finalizer may run and use or close
     * this client: copy each buffer in one call and check it was not
     * touched in between. */
    lower_names(&c->head);
    lua_pushlstring(L, c->head.data ? c->head.data : "", c->head.len);
    if (c->gen != gen)
        return push_reentered(L, c);
    lua_pushlstring(L, c->body.data ? c->body.data : "", c->body.len);
    if (c->body.cap > BODY_KEEP)
        dyn_buf_free(&c->body);

    rhead = lua_tolstring(L, -2, &rhlen);
    rbody = lua_tolstring(L, -1, &rblen);
    push_headers(L, rhead, rhlen);
    /* A HEAD response's x-amz-crc32 describes a body that was not sent. */
    if (!is_head && !check_crc32(L, rbody, rblen))
        return 3;
    lua_replace(L, -3); /* status, headers, body */
    return 3;
}

/* ---- client:stats, close, gc, tostring ---------------------------------- */

static int http_stats(lua_State *L)
{
    http_client *c = check_client(L, "stats");
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
    dyn_buf_free(&c->body);
    dyn_buf_free(&c->head);
    free(c->nodes);
    c->nodes = NULL;
    c->nnodes = 0;
}

static int http_close(lua_State *L)
{
    client_free(check_client(L, "close"));
    return 0;
}

static int http_gc(lua_State *L)
{
    client_free(lua_touserdata(L, 1));
    return 0;
}

static int http_tostring(lua_State *L)
{
    http_client *c = check_client(L, "tostring");
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

static CURLcode ensure_global(lua_State *L)
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
    if (luaL_newmetatable(L, GLOBAL_MT)) {
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

    if ((rc = ensure_global(L)) != CURLE_OK) {
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
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, c);
    SET(CURLOPT_CONNECTTIMEOUT_MS, seconds_option(L, "connect_timeout", 1));
    SET(CURLOPT_TIMEOUT_MS, seconds_option(L, "timeout", 10));
    verify = boolean_option(L, "verify", 1);
    SET(CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    SETS(CURLOPT_CAINFO, "cafile");
    SETS(CURLOPT_CAPATH, "capath");
    /* Without a proxy option libcurl honours http_proxy/https_proxy/no_proxy;
     * proxy = "" turns that off. */
    SETS(CURLOPT_PROXY, "proxy");
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
        {"stats", http_stats},
        {"close", http_close},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, HTTP_MT)) {
        lua_newtable(L);
        dyn_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, http_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, http_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, http_new);
    lua_setfield(L, -2, "http");
    lua_pushcfunction(L, dyn_crc32_lua);
    lua_setfield(L, -2, "crc32");
}
