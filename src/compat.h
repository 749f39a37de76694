/* Lua version shims. Every name is prefixed with dyn_ so nothing collides
 * with what LuaJIT or lua-compat declare under the standard names.
 *
 * Two ABIs are built from these sources: Lua 5.4 and LuaJIT 2.1 (which says
 * LUA_VERSION_NUM 501 and declares some 5.2 functions, luaL_setfuncs and
 * luaL_testudata among them, but not lua_rawlen or lua_isinteger). In
 * 5.1/LuaJIT, lua_getfield, lua_rawget and lua_rawgeti return nothing:
 * test the pushed value's type instead of their result. */
#ifndef DYNAMO_COMPAT_H
#define DYNAMO_COMPAT_H

#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 502
#define dyn_rawlen(L, i)        lua_rawlen((L), (i))
#define dyn_setfuncs(L, l, nup) luaL_setfuncs((L), (l), (nup))
#else
#define dyn_rawlen(L, i)        lua_objlen((L), (i))
#endif

/* A userdata's own table (its user value; its environment in 5.1). */
#if LUA_VERSION_NUM >= 502
#define dyn_getuservalue(L, i)  lua_getuservalue((L), (i))
#define dyn_setuservalue(L, i)  lua_setuservalue((L), (i))
#else
#define dyn_getuservalue(L, i)  lua_getfenv((L), (i))
#define dyn_setuservalue(L, i)  lua_setfenv((L), (i))
#endif

/* Integers: Lua 5.3+ has an integer subtype (int64). LuaJIT and 5.1 have
 * only doubles, which hold every integer up to 2^53 exactly; a decoded N
 * is a Lua number only within that range (beyond it in exact mode, a
 * dynamo.decimal). DYN_INT_MAX and DYN_INT_NEG_MAX are the largest
 * magnitudes of positive and negative integers that are Lua numbers. */
#if LUA_VERSION_NUM >= 503
#define DYN_HAS_INTEGER 1
#define DYN_INT_MAX     ((uint64_t)LUA_MAXINTEGER)
#define DYN_INT_NEG_MAX ((uint64_t)LUA_MAXINTEGER + 1)
#else
#define DYN_HAS_INTEGER 0
#define DYN_INT_MAX     ((uint64_t)1 << 53)
#define DYN_INT_NEG_MAX ((uint64_t)1 << 53)
#endif

/* LuaJIT's type number for FFI cdata (its lua.h has no name for it);
 * Lua 5.4 has no cdata. */
#if LUA_VERSION_NUM == 501
#define DYN_TCDATA 10
#endif

/* Hide everything but luaopen_* from the shared object. */
#if defined(__GNUC__)
#define DYN_HIDDEN __attribute__((visibility("hidden")))
#else
#define DYN_HIDDEN
#endif

#if LUA_VERSION_NUM < 502
/* luaL_setfuncs for 5.1 (core.c); LuaJIT declares its own under that name. */
DYN_HIDDEN void dyn_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
#endif

/* luaL_newmetatable that also sets __name, as 5.3+ does (core.c). */
#if LUA_VERSION_NUM >= 503
#define dyn_newmetatable(L, name) luaL_newmetatable((L), (name))
#else
DYN_HIDDEN int dyn_newmetatable(lua_State *L, const char *name);
#endif

#endif
