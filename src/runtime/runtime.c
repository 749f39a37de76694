/* The runtime: open, close, settings, the log sink, and the error and
 * result state the API functions read back. Every Lua call that can raise
 * runs in protected mode (dyn_protect), so nothing jumps out into the host
 * and a failure leaves the stack as it was. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "runtime.h"
#include "preload.h"
#include "codec.h"

/* ---- error state -------------------------------------------------------- */

static char *copy(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void clear_error(dynamo_runtime *rt)
{
    free(rt->err_code_buf);
    free(rt->err_msg_buf);
    rt->err_code_buf = rt->err_msg_buf = NULL;
    rt->err_code = rt->err_msg = NULL;
}

int dyn_ok(dynamo_runtime *rt)
{
    clear_error(rt);
    return DYNAMO_OK;
}

int dyn_fail(dynamo_runtime *rt, int status, const char *code, const char *msg)
{
    clear_error(rt);
    rt->err_code_buf = copy(code ? code : "Error");
    rt->err_msg_buf = copy(msg ? msg : "");
    if (!rt->err_code_buf || !rt->err_msg_buf) {
        clear_error(rt);
        rt->err_code = "OutOfMemory";
        rt->err_msg = "out of memory";
        return status;
    }
    rt->err_code = rt->err_code_buf;
    rt->err_msg = rt->err_msg_buf;
    return status;
}

int dyn_failf(dynamo_runtime *rt, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *msg;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(msg = malloc((size_t)n + 1)))
        return dyn_fail(rt, status, code, "out of memory");
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    status = dyn_fail(rt, status, code, msg);
    free(msg);
    return status;
}

int dyn_protect(dynamo_runtime *rt, lua_CFunction fn, void *ud, int nret)
{
    lua_State *L = rt->L;
    int top = lua_gettop(L), status;
    if (!lua_checkstack(L, nret + 2))
        return dyn_fail(rt, DYNAMO_ERR_MEMORY, "OutOfMemory", "out of memory");
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, ud);
    status = lua_pcall(L, 1, nret, 0);
    if (status == LUA_OK)
        return DYNAMO_OK;
    if (status == LUA_ERRMEM)
        dyn_fail(rt, DYNAMO_ERR_MEMORY, "OutOfMemory", "out of memory");
    else
        dyn_fail(rt, DYNAMO_ERR_STATE, "InternalError",
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error object is not a string");
    lua_settop(L, top);
    return status == LUA_ERRMEM ? DYNAMO_ERR_MEMORY : DYNAMO_ERR_STATE;
}

/* ---- Lua helpers -------------------------------------------------------- */

void dyn_prelude(lua_State *L, const char *name)
{
    lua_getfield(L, LUA_REGISTRYINDEX, DYN_RT_PRELUDE);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

const char *dyn_totext(lua_State *L, int idx, size_t *len)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNONE:
    case LUA_TNIL:
        lua_pushnil(L);
        *len = 0;
        return NULL;
    case LUA_TBOOLEAN:
        lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
        break;
    case LUA_TNUMBER:
        if (!lua_isinteger(L, idx) && isfinite(lua_tonumber(L, idx))) {
            /* The shortest text that reads back as the same float (as the
             * codec writes JSON), not Lua's lossy "%.14g". */
            char buf[DYN_NUMBER_BUFSIZE];
            lua_pushlstring(L, buf, dyn_number_format_double(buf, (double)lua_tonumber(L, idx)));
        } else {
            lua_pushvalue(L, idx);   /* integers, NaN and infinities as Lua writes them */
        }
        break;
    case LUA_TSTRING:
        lua_pushvalue(L, idx);   /* lua_tolstring converts the copy, not the value */
        break;
    default:
        dyn_prelude(L, "text");
        lua_pushvalue(L, idx);
        lua_call(L, 1, 1);
        break;
    }
    return lua_tolstring(L, -1, len);
}

/* ---- open and close ----------------------------------------------------- */

static int open_state(lua_State *L)
{
    luaL_openlibs(L);
    dyn_preload(L);

    if (dyn_load_builtin(L, &dyn_lua_prelude) != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, DYN_RT_PRELUDE);

    /* state = { config = {} }; host = { config = state.config } */
    lua_createtable(L, 0, 3);
    lua_newtable(L);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "config");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, DYN_RT_HOST);
    lua_setglobal(L, "host");
    lua_setfield(L, -2, "config");

    /* state.reset = prelude.install(_G, state) */
    dyn_prelude(L, "install");
    lua_pushglobaltable(L);
    lua_pushvalue(L, -3);
    lua_call(L, 2, 1);
    lua_setfield(L, -2, "reset");
    lua_setfield(L, LUA_REGISTRYINDEX, DYN_RT_STATE);
    return 0;
}

const char *dynamo_version(void)
{
    return DYNAMO_VERSION;
}

dynamo_runtime *dynamo_open(void)
{
    dynamo_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->L = luaL_newstate();
    if (!rt->L) {
        free(rt);
        return NULL;
    }
    if (dyn_protect(rt, open_state, rt, 0) != DYNAMO_OK) {
        lua_close(rt->L);
        clear_error(rt);
        free(rt);
        return NULL;
    }
    return rt;
}

void dynamo_close(dynamo_runtime *rt)
{
    if (!rt)
        return;
    lua_close(rt->L);
    clear_error(rt);
    free(rt->result);
    free(rt);
}

/* ---- settings ----------------------------------------------------------- */

typedef struct {
    dynamo_runtime *rt;
    const char *key, *value;
    int status;
} setting;

static void push_state(lua_State *L, const char *field)
{
    lua_getfield(L, LUA_REGISTRYINDEX, DYN_RT_STATE);
    lua_getfield(L, -1, field);
    lua_remove(L, -2);
}

/* The settings changed: the next use of `db` makes a new client. */
static void reset_client(lua_State *L)
{
    push_state(L, "reset");
    lua_call(L, 0, 0);
}

static int set_setting(lua_State *L)
{
    setting *s = lua_touserdata(L, 1);
    dyn_prelude(L, "check");
    lua_pushstring(L, s->key);
    lua_pushstring(L, s->value);   /* NULL pushes nil */
    lua_call(L, 2, 1);
    if (!lua_isnil(L, -1)) {
        s->status = dyn_failf(s->rt, DYNAMO_ERR_ARG, "InvalidArgument", "dynamo_set: %s", lua_tostring(L, -1));
        return 0;
    }
    push_state(L, "config");
    lua_pushstring(L, s->value);
    lua_setfield(L, -2, s->key);
    reset_client(L);
    return 0;
}

/* A NULL runtime cannot hold a message: the error functions report it. */
#define CHECK_RT(rt, fn)                                                         \
    do {                                                                         \
        if (!(rt))                                                               \
            return DYNAMO_ERR_ARG;                                               \
        if ((rt)->running)                                                       \
            return dyn_fail((rt), DYNAMO_ERR_STATE, "InvalidState",              \
                            fn ": called from inside a run of the same runtime"); \
    } while (0)

int dynamo_set(dynamo_runtime *rt, const char *key, const char *value)
{
    setting s;
    int status;
    CHECK_RT(rt, "dynamo_set");
    if (!key)
        return dyn_fail(rt, DYNAMO_ERR_ARG, "InvalidArgument", "dynamo_set: key is NULL");
    s.rt = rt;
    s.key = key;
    s.value = value && *value ? value : NULL;
    s.status = DYNAMO_OK;
    status = dyn_protect(rt, set_setting, &s, 0);
    if (status != DYNAMO_OK)
        return status;
    return s.status == DYNAMO_OK ? dyn_ok(rt) : s.status;
}

/* ---- the log sink ------------------------------------------------------- */

/* The logger's sink(level, message, fields): hands the line to the host. */
static int log_sink(lua_State *L)
{
    dynamo_runtime *rt = lua_touserdata(L, lua_upvalueindex(1));
    const char *level = luaL_tolstring(L, 1, NULL);
    const char *message = luaL_tolstring(L, 2, NULL);
    if (rt->log_fn)
        rt->log_fn(rt->log_ud, level, message);
    return 0;
}

static int set_sink(lua_State *L)
{
    dynamo_runtime *rt = lua_touserdata(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, DYN_RT_STATE);
    if (rt->log_fn) {
        lua_pushlightuserdata(L, rt);
        lua_pushcclosure(L, log_sink, 1);
    } else {
        lua_pushnil(L);
    }
    lua_setfield(L, -2, "sink");
    reset_client(L);
    return 0;
}

int dynamo_set_log(dynamo_runtime *rt, dynamo_log_fn fn, void *ud)
{
    int status;
    CHECK_RT(rt, "dynamo_set_log");
    rt->log_fn = fn;
    rt->log_ud = ud;
    status = dyn_protect(rt, set_sink, rt, 0);
    return status == DYNAMO_OK ? dyn_ok(rt) : status;
}

int dynamo_register(dynamo_runtime *rt, const char *name, dynamo_host_fn fn, void *ud)
{
    CHECK_RT(rt, "dynamo_register");
    return dyn_register(rt, name, fn, ud);
}

/* ---- reading back -------------------------------------------------------- */

const char *dynamo_result(dynamo_runtime *rt, size_t *len)
{
    if (len)
        *len = rt && rt->result ? rt->result_len : 0;
    return rt ? rt->result : NULL;
}

const char *dynamo_error_code(dynamo_runtime *rt)
{
    return rt ? rt->err_code : "InvalidArgument";
}

const char *dynamo_error_message(dynamo_runtime *rt)
{
    return rt ? rt->err_msg : "runtime is NULL";
}

struct lua_State *dynamo_lua(dynamo_runtime *rt)
{
    return rt ? rt->L : NULL;
}
