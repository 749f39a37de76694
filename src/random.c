/* core.random_bytes(n): bytes from OpenSSL's CSPRNG, for tokens that must
 * not repeat across processes (ClientRequestToken, retry jitter seeds). */
#include <openssl/rand.h>
#include "core.h"

static int random_bytes(lua_State *L)
{
    unsigned char buf[4096]; /* n is checked against its size first */
    lua_Integer n;
    if (!lua_isnumber(L, 1) || (n = lua_tointeger(L, 1)) < 0 || n > (lua_Integer)sizeof buf
        || (lua_Number)n != lua_tonumber(L, 1))
        return luaL_error(L, "bad argument 'n' to 'random_bytes' (integer from 0 to %d expected)",
                          (int)sizeof buf);
    if (n > 0 && RAND_bytes(buf, (int)n) != 1)
        return luaL_error(L, "random_bytes: OpenSSL's generator failed");
    lua_pushlstring(L, (const char *)buf, (size_t)n);
    return 1;
}

void dyn_open_random(lua_State *L)
{
    lua_pushcfunction(L, random_bytes);
    lua_setfield(L, -2, "random_bytes");
}
