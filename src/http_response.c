/* What the two libcurl transports share: the response sink their
 * callbacks fill, the response's header lines, and turning a finished
 * transfer into Lua values (status, headers, body) or a failure (nil,
 * kind, message). */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"
#include "crc32.h"

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

size_t dyn_http_on_body(char *p, size_t size, size_t n, void *ud)
{
    http_sink *c = ud;
    n *= size;
    if (!append(&c->body, p, n)) {
        c->oom = 1;
        return 0;
    }
    return n;
}

#ifndef DYN_HTTP_HEADER_API
size_t dyn_http_on_header(char *p, size_t size, size_t n, void *ud)
{
    http_sink *c = ud;
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
#endif

/* ---- the header block --------------------------------------------------- */

#ifdef DYN_HTTP_HEADER_API
static int add_line(dyn_buf *b, const struct curl_header *h)
{
    return append(b, h->name, strlen(h->name)) && append(b, ": ", 2)
        && append(b, h->value, strlen(h->value)) && append(b, "\r\n", 2);
}

/* Every occurrence of the final response's header name. */
static int add_named(dyn_buf *b, CURL *h, const char *name)
{
    struct curl_header *hh;
    size_t i, n = 1;
    for (i = 0; i < n; i++) {
        if (curl_easy_header(h, name, i, CURLH_HEADER, -1, &hh) != CURLHE_OK)
            return 1;
        n = hh->amount;
        if (!add_line(b, hh))
            return 0;
    }
    return 1;
}
#endif

int dyn_http_collect_head(CURL *h, long status, http_sink *s)
{
#ifdef DYN_HTTP_HEADER_API
    struct curl_header *hh, *prev = NULL;
    s->head.len = 0;
    if (status >= 200 && status < 300)
        return add_named(&s->head, h, "x-amzn-requestid") && add_named(&s->head, h, "x-amz-crc32");
    while ((hh = curl_easy_nextheader(h, CURLH_HEADER, -1, prev)) != NULL) {
        if (!add_line(&s->head, hh))
            return 0;
        prev = hh;
    }
    return 1;
#else
    (void)h;
    (void)status;
    return !s->oom;
#endif
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
int dyn_http_push_failure(lua_State *L, const http_sink *c, CURLcode rc, const char *url)
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

/* ---- responses ---------------------------------------------------------- */

int dyn_http_next_header(const char **pos, const char *end, const char **name, size_t *nlen,
                         const char **value, size_t *vlen)
{
    const char *p = *pos;
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
            *name = p;
            *nlen = (size_t)(colon - p);
            *value = v;
            *vlen = (size_t)(le - v);
            *pos = next;
            return 1;
        }
        p = next;
    }
    *pos = p;
    return 0;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int dyn_http_name_is(const char *s, size_t n, const char *lname)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (lname[i] == '\0' || lower((unsigned char)s[i]) != lname[i])
            return 0;
    return lname[n] == '\0';
}

/* core.http_headers(head): the raw header block a transfer returned ->
 * a table of lower-case names to trimmed values, repeats joined with ", ".
 * Only errors need it, so requests return the block as it came. */
int dyn_http_headers_lua(lua_State *L)
{
    size_t len, nlen, vlen, i;
    const char *p, *end, *name, *value;
    luaL_Buffer b;
    if (lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "bad argument 'head' to 'http_headers' (string expected, got %s)",
                          luaL_typename(L, 1));
    p = lua_tolstring(L, 1, &len);
    end = p + len;
    lua_createtable(L, 0, 8);
    while (dyn_http_next_header(&p, end, &name, &nlen, &value, &vlen)) {
        luaL_buffinit(L, &b);
        for (i = 0; i < nlen; i++)
            luaL_addchar(&b, (char)lower((unsigned char)name[i]));
        luaL_pushresult(&b);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, value, vlen);
        } else {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, value, vlen);
            lua_concat(L, 3);
        }
        lua_rawset(L, -3);
    }
    return 1;
}

/* Decimal uint32, nothing else. */
static int parse_u32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > 0xffffffffu)
            return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

int dyn_http_check_crc32(lua_State *L, const char *head, size_t hlen, const char *body, size_t len)
{
    const char *p = head, *end = head + hlen, *name, *want = NULL, *value;
    size_t nlen, wlen = 0, vlen;
    uint32_t expected, got;
    char gotbuf[16];
    while (dyn_http_next_header(&p, end, &name, &nlen, &value, &vlen)) {
        if (!dyn_http_name_is(name, nlen, "x-amz-crc32"))
            continue;
        if (want) { /* repeated: no single value to check against */
            wlen = (size_t)(value + vlen - want);
            break;
        }
        want = value;
        wlen = vlen;
    }
    if (!want)
        return 1;
    got = dyn_crc32(0, body, len);
    if (parse_u32(want, wlen, &expected) && expected == got)
        return 1;
    snprintf(gotbuf, sizeof gotbuf, "%lu", (unsigned long)got);
    lua_pushnil(L);
    lua_pushliteral(L, "crc32");
    lua_pushliteral(L, "response CRC32 mismatch: header says ");
    lua_pushlstring(L, want, wlen);
    lua_pushfstring(L, ", body has %s", gotbuf);
    lua_concat(L, 3);
    return 0;
}


/* RFC 9110 token characters: a method is sent verbatim, so nothing else
 * (spaces, CR, LF) may reach the request line. */
int dyn_http_is_token(const char *s, size_t n)
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

