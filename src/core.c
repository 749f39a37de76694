/* dynamo.core: the C half of dynamo. It encodes, decodes, signs and moves
 * bytes; it never calls back into Lua for I/O and keeps no global state. */
#include "core.h"
#include "buf.h"

#if LUA_VERSION_NUM < 502
void dyn_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup, "too many upvalues");
    for (; l->name; l++) {
        int i;
        for (i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}
#endif

#if LUA_VERSION_NUM < 503
int dyn_newmetatable(lua_State *L, const char *name)
{
    if (!luaL_newmetatable(L, name))
        return 0;
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    return 1;
}
#endif

__attribute__((visibility("default"))) int luaopen_dynamo_core(lua_State *L)
{
    lua_newtable(L);
    dyn_buf_open(L);
    dyn_open_codec(L);
    dyn_open_sigv4(L);
    dyn_open_http(L);
    dyn_open_clock(L);
    dyn_open_random(L);
    lua_pushliteral(L, "0.1.0");
    lua_setfield(L, -2, "version");
    return 1;
}
