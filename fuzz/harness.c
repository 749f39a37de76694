#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "harness.h"

/* The module's only export; its sources are linked in. */
int luaopen_dynamo_core(lua_State *L);

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("\n*** dynamo fuzz check failed: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    abort();
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : luaL_typename(L, 1), 1);
    return 1;
}

void fuzz_call(lua_State *L, int nargs, int nres, const char *what)
{
    int fn = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, fn);
    if (lua_pcall(L, nargs, nres, fn) != LUA_OK)
        fuzz_fail("%s: %s", what, lua_tostring(L, -1));
    lua_remove(L, fn);
}

lua_State *fuzz_setup(const char *chunk, int nres)
{
    lua_State *L = luaL_newstate();
    if (!L)
        fuzz_fail("cannot create a Lua state");
    luaL_openlibs(L);
    luaL_requiref(L, "dynamo.core", luaopen_dynamo_core, 0);
    if (luaL_loadbuffer(L, chunk, strlen(chunk), "=setup") != LUA_OK)
        fuzz_fail("setup chunk: %s", lua_tostring(L, -1));
    lua_insert(L, -2);      /* chunk, module */
    fuzz_call(L, 1, nres, "setup chunk");
    if (lua_gettop(L) != nres)
        fuzz_fail("setup left %d values, expected %d", lua_gettop(L), nres);
    return L;
}

void fuzz_tick(lua_State *L)
{
    lua_gc(L, LUA_GCCOLLECT, 0);
}

void fuzz_check_decode_error(lua_State *L, int idx, size_t len)
{
    static const char json[] = "invalid JSON at byte ", at[] = " at byte ";
    size_t mlen;
    /* keys in the path are raw input: the message may hold a NUL */
    const char *msg = lua_tolstring(L, idx, &mlen), *digits, *end = msg + mlen;
    unsigned long long pos = 0;
    /* "[<path>: ]<what> at byte <n>": the number ends the message. Tried
     * first: a path is input and may itself read "invalid JSON at byte",
     * while the <what> of a syntax error is fixed text that never ends so. */
    digits = end;
    while (digits > msg && digits[-1] >= '0' && digits[-1] <= '9')
        digits--;
    if (digits == end || (size_t)(digits - msg) < sizeof at - 1 ||
        memcmp(digits - (sizeof at - 1), at, sizeof at - 1) != 0) {
        /* "invalid JSON at byte <n>: <what>" */
        if (mlen < sizeof json - 1 || memcmp(msg, json, sizeof json - 1) != 0)
            fuzz_fail("decode error without a position: \"%s\"", msg);
        digits = msg + sizeof json - 1;
    }
    if (*digits < '1' || *digits > '9')
        fuzz_fail("decode error with a bad position: \"%s\"", msg);
    for (; *digits >= '0' && *digits <= '9'; digits++)
        pos = pos * 10 + (unsigned)(*digits - '0');
    if (pos < 1 || pos > (unsigned long long)len + 1)
        fuzz_fail("decode error position %llu outside 1..%zu: \"%s\"", pos,
                  len + 1, msg);
}
