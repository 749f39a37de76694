/* Lua version shims. Every name is prefixed with dyn_ so nothing collides
 * with what LuaJIT or lua-compat declare under the standard names. */
#ifndef DYNAMO_COMPAT_H
#define DYNAMO_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 502
#define dyn_rawlen(L, i)        lua_rawlen((L), (i))
#define dyn_setfuncs(L, l, nup) luaL_setfuncs((L), (l), (nup))
#else
#define dyn_rawlen(L, i)        lua_objlen((L), (i))
void dyn_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
#endif

#if LUA_VERSION_NUM >= 503
#define DYN_HAS_INTEGER 1
#else
#define DYN_HAS_INTEGER 0
#endif

/* Hide everything but luaopen_* from the shared object. */
#if defined(__GNUC__)
#define DYN_HIDDEN __attribute__((visibility("hidden")))
#else
#define DYN_HIDDEN
#endif

#endif
