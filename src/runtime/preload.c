/* package.preload entries for the modules built into libdynamo, so that
 * `require "dynamo"` needs no LUA_PATH: dynamo.core is the C core compiled
 * into the library, every Lua module is compiled from the library's copy
 * of its source on first require. Other modules (cjson, say) are still
 * found on package.path and package.cpath. */
#include "preload.h"

int luaopen_dynamo_core(lua_State *L);

int dyn_load_builtin(lua_State *L, const dyn_lua_module *m)
{
    return luaL_loadbufferx(L, (const char *)m->code, m->len, m->chunkname, "t");
}

/* package.preload[name](name, extra): runs the chunk as the file searcher
 * would, with the module name and the chunk's file name as its `...`. */
static int load_module(lua_State *L)
{
    const dyn_lua_module *m = lua_touserdata(L, lua_upvalueindex(1));
    if (dyn_load_builtin(L, m) != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, m->name);
    lua_pushstring(L, m->chunkname + 1);
    lua_call(L, 2, 1);
    return 1;
}

void dyn_preload(lua_State *L)
{
    const dyn_lua_module *m;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_dynamo_core);
    lua_setfield(L, -2, "dynamo.core");
    for (m = dyn_lua_modules; m->name; m++) {
        lua_pushlightuserdata(L, (void *)m);
        lua_pushcclosure(L, load_module, 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 1);
}
