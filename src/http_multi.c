/* core.multi: concurrent transfers over libcurl's multi interface.
 *
 *   local m = core.multi()
 *   local t = http:start(m, "POST", url, headers, body)   -- copies the client's settings
 *   local ids = m:wait(0.5)        -- ids of finished transfers (maybe none)
 *   local status, head, body = t:result()   -- or nil, kind, message; head: the raw header block
 *
 * The multi handle keeps the connection cache, so transfers through one
 * multi reuse connections. Nothing here calls Lua: a scheduler in Lua
 * (dynamo.async) waits, then resumes whoever waits for each id. Either
 * object may be collected first: a transfer detaches itself from its
 * multi, and a closing multi detaches (and fails) its transfers. */
#include <curl/curl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http.h"

#define MULTI_MT "dynamo.multi"
#define XFER_MT "dynamo.transfer"

typedef struct xfer xfer;

typedef struct {
    CURLM *handle;              /* NULL once closed */
    xfer *active;               /* transfers in flight, doubly linked */
    lua_Integer next_id;
    lua_Integer requests, connects;
} multi;

struct xfer {
    CURL *curl;                 /* NULL once the result was taken or on failure */
    struct curl_slist *headers;
    char *url;                  /* for error messages */
    http_sink sink;
    multi *owner;               /* set while in flight */
    xfer *prev, *next;
    lua_Integer id;
    CURLcode rc;
    int done, taken, is_head;
    int closed;                 /* failed because its multi was closed */
};

static multi *check_multi(lua_State *L, int idx, const char *fn)
{
    multi *m = luaL_testudata(L, idx, MULTI_MT);
    if (!m)
        luaL_error(L, "bad argument '%s' to '%s' (%s expected, got %s)",
                   idx == 1 ? "self" : "multi", fn, MULTI_MT, luaL_typename(L, idx));
    return m;
}

static xfer *check_xfer(lua_State *L, const char *fn)
{
    xfer *x = luaL_testudata(L, 1, XFER_MT);
    if (!x)
        luaL_error(L, "bad argument 'self' to '%s' (%s expected, got %s)", fn, XFER_MT,
                   luaL_typename(L, 1));
    return x;
}

/* Takes x off its multi's list and out of the multi handle. */
static void detach(xfer *x)
{
    multi *m = x->owner;
    if (!m)
        return;
    if (m->handle && x->curl)
        curl_multi_remove_handle(m->handle, x->curl);
    if (x->prev)
        x->prev->next = x->next;
    else
        m->active = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
    x->owner = NULL;
}

static void xfer_release(xfer *x)
{
    detach(x);
    if (x->curl) {
        curl_easy_cleanup(x->curl);
        x->curl = NULL;
    }
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    free(x->url);
    x->url = NULL;
    dyn_buf_free(&x->sink.body);
    dyn_buf_free(&x->sink.head);
}

/* ---- client:start(multi, method, url, headers, body) --------------------- */

/* Pushes nil, kind, message for a transfer that could not start. */
static int start_failed(lua_State *L, const char *kind, const char *msg)
{
    lua_pushnil(L);
    lua_pushstring(L, kind);
    lua_pushstring(L, msg);
    return 3;
}

static int http_start(lua_State *L)
{
    CURL *tmpl = dyn_http_template(L, 1, "start");
    multi *m = check_multi(L, 2, "start");
    http_args a;
    xfer *x;
    size_t n, i;
    CURLcode rc;
    CURLMcode mrc;

    dyn_http_check_args(L, 3, "start", &a);
    lua_settop(L, 7);
    n = lua_isnil(L, 5) ? 0 : (size_t)dyn_rawlen(L, 5);
    if (n > 10000)
        luaL_error(L, "bad argument 'headers' to 'start' (more than 10000 headers)");
    if (!tmpl)
        return start_failed(L, "closed", "the HTTP client is closed");
    if (!m->handle)
        return start_failed(L, "closed", "the multi handle is closed");

    x = lua_newuserdata(L, sizeof *x);
    memset(x, 0, sizeof *x);
    luaL_getmetatable(L, XFER_MT);
    lua_setmetatable(L, -2);
    x->is_head = a.is_head;
    /* From here a raise leaves x to its __gc, which frees what is set. */
    for (i = 0; i < n; i++) {
        struct curl_slist *l = curl_slist_append(x->headers, dyn_http_header(L, 5, i, "start"));
        lua_pop(L, 1);
        if (!l)
            return luaL_error(L, "out of memory");
        x->headers = l;
    }
    {
        struct curl_slist *l = curl_slist_append(x->headers, "Expect:");
        if (!l || !(x->url = strdup(a.url)))
            return luaL_error(L, "out of memory");
        x->headers = l;
    }
    if (!(x->curl = curl_easy_duphandle(tmpl)))
        return start_failed(L, "init", "curl_easy_duphandle failed");
    if ((rc = dyn_http_set_sink(x->curl, &x->sink)) != CURLE_OK
        || (rc = dyn_http_set_method(x->curl, &a, 1)) != CURLE_OK
        || (rc = curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->headers)) != CURLE_OK
        || (rc = curl_easy_setopt(x->curl, CURLOPT_PRIVATE, x)) != CURLE_OK
        || (a.timeout_ms && (rc = curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, a.timeout_ms)) != CURLE_OK)
        || (rc = curl_easy_setopt(x->curl, CURLOPT_URL, a.url)) != CURLE_OK)
        return dyn_http_push_failure(L, &x->sink, rc, a.url);
    if ((mrc = curl_multi_add_handle(m->handle, x->curl)) != CURLM_OK)
        return start_failed(L, "init", curl_multi_strerror(mrc));
    x->owner = m;
    x->next = m->active;
    if (m->active)
        m->active->prev = x;
    m->active = x;
    x->id = ++m->next_id;
    m->requests++;
    return 1;
}

/* ---- multi:wait(timeout) -------------------------------------------------- */

/* Marks finished transfers done and adds their ids to the table on top. */
static int collect(lua_State *L, multi *m)
{
    CURLMsg *msg;
    int left, count = 0;
    while ((msg = curl_multi_info_read(m->handle, &left))) {
        xfer *x = NULL;
        long nconn = 0;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (!x)
            continue;
        x->rc = msg->data.result;
        x->done = 1;
        if (curl_easy_getinfo(x->curl, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK)
            m->connects += nconn;
        detach(x); /* msg is invalid from here */
        lua_pushinteger(L, x->id);
        lua_rawseti(L, -2, (lua_Integer)++count);
    }
    return count;
}

/* Drives every transfer until at least one finishes or `timeout` seconds
 * pass (default: until one finishes). Returns the finished ids. */
static int multi_wait(lua_State *L)
{
    multi *m = check_multi(L, 1, "wait");
    double timeout = -1;
    int running = 0;
    if (!lua_isnoneornil(L, 2)) {
        if (lua_type(L, 2) != LUA_TNUMBER || !(lua_tonumber(L, 2) >= 0))
            return luaL_error(L, "bad argument 'timeout' to 'wait' (non-negative number expected, got %s)",
                              lua_type(L, 2) == LUA_TNUMBER ? lua_tostring(L, 2) : luaL_typename(L, 2));
        timeout = (double)lua_tonumber(L, 2);
    }
    lua_settop(L, 1);
    lua_newtable(L);
    if (!m->handle)
        return 1;
    {
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            CURLMcode mrc = curl_multi_perform(m->handle, &running);
            double spent;
            int ms;
            if (mrc != CURLM_OK)
                return luaL_error(L, "curl_multi_perform failed: %s", curl_multi_strerror(mrc));
            if (collect(L, m) > 0 || running == 0)
                return 1;
            clock_gettime(CLOCK_MONOTONIC, &now);
            spent = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
            if (timeout >= 0 && spent >= timeout)
                return 1;
            ms = timeout < 0 ? 1000 : (int)((timeout - spent) * 1000.0) + 1;
            if (ms > 1000)
                ms = 1000;
            curl_multi_poll(m->handle, NULL, 0, ms, NULL);
        }
    }
}

static int multi_stats(lua_State *L)
{
    multi *m = check_multi(L, 1, "stats");
    int n = 0;
    xfer *x;
    for (x = m->active; x; x = x->next)
        n++;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "active");
    lua_pushinteger(L, m->requests);
    lua_setfield(L, -2, "requests");
    lua_pushinteger(L, m->connects);
    lua_setfield(L, -2, "connects");
    return 1;
}

/* Fails every transfer in flight and frees the handle. */
static void multi_free(multi *m)
{
    while (m->active) {
        xfer *x = m->active;
        detach(x);
        x->done = 1;
        x->closed = 1;
    }
    if (m->handle) {
        curl_multi_cleanup(m->handle);
        m->handle = NULL;
    }
}

static int multi_close(lua_State *L)
{
    multi_free(check_multi(L, 1, "close"));
    return 0;
}

static int multi_gc(lua_State *L)
{
    multi_free(lua_touserdata(L, 1));
    return 0;
}

static int multi_new(lua_State *L)
{
    multi *m;
    CURLcode rc = dyn_http_global(L);
    if (rc != CURLE_OK)
        return start_failed(L, "init", curl_easy_strerror(rc));
    m = lua_newuserdata(L, sizeof *m);
    memset(m, 0, sizeof *m);
    luaL_getmetatable(L, MULTI_MT);
    lua_setmetatable(L, -2);
    if (!(m->handle = curl_multi_init()))
        return start_failed(L, "init", "curl_multi_init failed");
    return 1;
}

/* ---- transfer:result(), id(), done() -------------------------------------- */

static int xfer_result(lua_State *L)
{
    xfer *x = check_xfer(L, "result");
    long status = 0;
    const char *rhead, *rbody;
    size_t rhlen, rblen;
    if (!x->done)
        return luaL_error(L, "transfer %d has not finished (wait for its id first)", (int)x->id);
    if (x->taken)
        return luaL_error(L, "transfer %d: result already taken", (int)x->id);
    x->taken = 1;
    lua_settop(L, 1);
    if (x->closed) {
        xfer_release(x);
        return start_failed(L, "closed", "the multi handle was closed during the transfer");
    }
    if (x->rc != CURLE_OK) {
        dyn_http_push_failure(L, &x->sink, x->rc, x->url ? x->url : "");
        xfer_release(x);
        return 3;
    }
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    if (!dyn_http_collect_head(x->curl, status, &x->sink)) {
        x->sink.oom = 1;
        dyn_http_push_failure(L, &x->sink, CURLE_OUT_OF_MEMORY, x->url ? x->url : "");
        xfer_release(x);
        return 3;
    }
    lua_pushinteger(L, (lua_Integer)status);
    lua_pushlstring(L, x->sink.head.data ? x->sink.head.data : "", x->sink.head.len);
    lua_pushlstring(L, x->sink.body.data ? x->sink.body.data : "", x->sink.body.len);
    xfer_release(x);
    rhead = lua_tolstring(L, -2, &rhlen);
    rbody = lua_tolstring(L, -1, &rblen);
    if (!x->is_head && !dyn_http_check_crc32(L, rhead, rhlen, rbody, rblen))
        return 3;
    return 3; /* status, raw header block, body */
}

static int xfer_id(lua_State *L)
{
    lua_pushinteger(L, check_xfer(L, "id")->id);
    return 1;
}

static int xfer_done(lua_State *L)
{
    lua_pushboolean(L, check_xfer(L, "done")->done);
    return 1;
}

static int xfer_gc(lua_State *L)
{
    xfer_release(lua_touserdata(L, 1));
    return 0;
}

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc)
{
    if (dyn_newmetatable(L, name)) {
        lua_newtable(L);
        dyn_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}

void dyn_open_multi(lua_State *L)
{
    static const luaL_Reg multi_methods[] = {
        {"wait", multi_wait}, {"stats", multi_stats}, {"close", multi_close}, {NULL, NULL},
    };
    static const luaL_Reg xfer_methods[] = {
        {"result", xfer_result}, {"id", xfer_id}, {"done", xfer_done}, {NULL, NULL},
    };
    new_class(L, MULTI_MT, multi_methods, multi_gc);
    new_class(L, XFER_MT, xfer_methods, xfer_gc);
    /* client:start lives with the transfers it makes. */
    luaL_getmetatable(L, HTTP_MT);
    lua_getfield(L, -1, "__index");
    lua_pushcfunction(L, http_start);
    lua_setfield(L, -2, "start");
    lua_pop(L, 2);
    lua_pushcfunction(L, multi_new);
    lua_setfield(L, -2, "multi");
}
