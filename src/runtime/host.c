/* Host functions: host.<name>(...) calls a C function of the host with its
 * arguments as text; the host answers with dynamo_reply_* (values, or an
 * error that the script's call returns as nil, err). The reply functions
 * push in protected mode, so an out-of-memory error never jumps over the
 * host's own C frames. */
#include <string.h>
#include "runtime.h"

typedef struct {
    dynamo_host_fn fn;
    void *ud;
} host_entry;

struct dynamo_reply {
    lua_State *L;       /* the thread calling (a coroutine, maybe) */
    int base;           /* the stack top before any reply */
    int count;          /* values replied */
    int error;          /* an error (code, message) is above base */
};

/* ---- the call ------------------------------------------------------------ */

/* nil, prelude.host_error(name, code, message) */
static int fail(lua_State *L, const char *name, int code_idx, int msg_idx)
{
    dyn_prelude(L, "host_error");
    lua_pushstring(L, name);
    lua_pushvalue(L, code_idx);
    lua_pushvalue(L, msg_idx);
    lua_call(L, 3, 1);
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int host_call(lua_State *L)
{
    const host_entry *e = lua_touserdata(L, lua_upvalueindex(1));
    const char *name = lua_tostring(L, lua_upvalueindex(2));
    int n = lua_gettop(L), i, rc;
    const char **argv;
    size_t *lens;
    dynamo_reply r;

    luaL_checkstack(L, n + 10, "too many arguments to a host function");
    argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
    lens = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *lens, 0);
    for (i = 0; i < n; i++)
        argv[i] = dyn_totext(L, i + 1, &lens[i]);   /* the texts stay on the stack */
    argv[n] = NULL;
    lens[n] = 0;

    r.L = L;
    r.base = lua_gettop(L);
    r.count = 0;
    r.error = 0;
    rc = e->fn(e->ud, n, argv, lens, &r);
    if (r.error)
        return fail(L, name, r.base + 1, r.base + 2);
    if (rc != 0) {
        lua_settop(L, r.base);
        lua_pushliteral(L, "HostError");
        lua_pushfstring(L, "host function '%s' failed (it returned %d)", name, rc);
        return fail(L, name, r.base + 1, r.base + 2);
    }
    return r.count;
}

typedef struct {
    const char *name;
    dynamo_host_fn fn;
    void *ud;
} registration;

static int add(lua_State *L)
{
    const registration *g = lua_touserdata(L, 1);
    host_entry *e;
    lua_getfield(L, LUA_REGISTRYINDEX, DYN_RT_HOST);
    e = lua_newuserdatauv(L, sizeof *e, 0);
    e->fn = g->fn;
    e->ud = g->ud;
    lua_pushstring(L, g->name);
    lua_pushcclosure(L, host_call, 2);
    lua_setfield(L, -2, g->name);
    return 0;
}

static int is_identifier(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int dyn_register(dynamo_runtime *rt, const char *name, dynamo_host_fn fn, void *ud)
{
    registration g;
    int status;
    if (!name)
        return dyn_fail(rt, DYNAMO_ERR_ARG, "InvalidArgument", "dynamo_register: name is NULL");
    if (!is_identifier(name))
        return dyn_failf(rt, DYNAMO_ERR_ARG, "InvalidArgument",
                         "dynamo_register: name '%s' is not an identifier (letters, digits, _)", name);
    if (strcmp(name, "config") == 0)
        return dyn_fail(rt, DYNAMO_ERR_ARG, "InvalidArgument", "dynamo_register: host.config holds the settings");
    if (!fn)
        return dyn_failf(rt, DYNAMO_ERR_ARG, "InvalidArgument", "dynamo_register: the function for '%s' is NULL", name);
    g.name = name;
    g.fn = fn;
    g.ud = ud;
    status = dyn_protect(rt, add, &g, 0);
    return status == DYNAMO_OK ? dyn_ok(rt) : status;
}

/* ---- replies -------------------------------------------------------------- */

enum { V_STRING, V_INTEGER, V_NUMBER, V_BOOLEAN, V_JSON };

typedef struct {
    int kind;
    const char *s;
    size_t len;
    long long i;
    double x;
    int bad_json;
} value;

static int push_value(lua_State *L)
{
    value *v = lua_touserdata(L, 1);
    switch (v->kind) {
    case V_STRING:
        lua_pushlstring(L, v->s, v->len);
        break;
    case V_INTEGER:
        lua_pushinteger(L, (lua_Integer)v->i);
        break;
    case V_NUMBER:
        lua_pushnumber(L, (lua_Number)v->x);
        break;
    case V_BOOLEAN:
        lua_pushboolean(L, (int)v->i);
        break;
    default:
        dyn_prelude(L, "decode");
        lua_pushlstring(L, v->s, v->len);
        lua_call(L, 1, 2);
        v->bad_json = !lua_toboolean(L, -2);
        break;
    }
    return 1;
}

/* Pushes one value above the replies so far, in protected mode. */
static int reply(dynamo_reply *r, value *v)
{
    lua_State *L;
    int status;
    if (!r)
        return DYNAMO_ERR_ARG;
    if (r->error)
        return DYNAMO_ERR_STATE;
    L = r->L;
    v->bad_json = 0;
    if (!lua_checkstack(L, 4))
        return DYNAMO_ERR_MEMORY;
    lua_pushcfunction(L, push_value);
    lua_pushlightuserdata(L, v);
    status = lua_pcall(L, 1, 1, 0);
    if (status != LUA_OK || v->bad_json) {
        lua_pop(L, 1);
        return status == LUA_ERRMEM ? DYNAMO_ERR_MEMORY : DYNAMO_ERR_ARG;
    }
    r->count++;
    return DYNAMO_OK;
}

int dynamo_reply_string(dynamo_reply *r, const char *s, size_t len)
{
    value v = {V_STRING, s, len, 0, 0, 0};
    return s ? reply(r, &v) : DYNAMO_ERR_ARG;
}

int dynamo_reply_integer(dynamo_reply *r, long long i)
{
    value v = {V_INTEGER, NULL, 0, i, 0, 0};
    return reply(r, &v);
}

int dynamo_reply_number(dynamo_reply *r, double x)
{
    value v = {V_NUMBER, NULL, 0, 0, x, 0};
    return reply(r, &v);
}

int dynamo_reply_boolean(dynamo_reply *r, int b)
{
    value v = {V_BOOLEAN, NULL, 0, b != 0, 0, 0};
    return reply(r, &v);
}

int dynamo_reply_json(dynamo_reply *r, const char *json, size_t len)
{
    value v = {V_JSON, json, len, 0, 0, 0};
    return json ? reply(r, &v) : DYNAMO_ERR_ARG;
}

int dynamo_reply_error(dynamo_reply *r, const char *code, const char *message)
{
    value c = {V_STRING, NULL, 0, 0, 0, 0}, m = c;
    int status;
    if (!r)
        return DYNAMO_ERR_ARG;
    c.s = code ? code : "HostError";
    c.len = strlen(c.s);
    m.s = message ? message : c.s;
    m.len = strlen(m.s);
    lua_settop(r->L, r->base);   /* drops the values replied before, or an earlier error */
    r->count = 0;
    r->error = 0;
    if ((status = reply(r, &c)) != DYNAMO_OK)
        return status;
    if ((status = reply(r, &m)) != DYNAMO_OK) {
        lua_settop(r->L, r->base);
        r->count = 0;
        return status;
    }
    r->count = 0;
    r->error = 1;
    return DYNAMO_OK;
}
