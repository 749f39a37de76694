/* core.now and core.sleep: a monotonic clock for deadlines and backoff,
 * and a blocking sleep for code that runs outside any scheduler. */
#include <errno.h>
#include <time.h>
#include "core.h"

/* Seconds on the monotonic clock: never jumps with the wall clock. */
static int clock_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* Sleeps `seconds` (a non-negative number), resuming after signals. */
static int clock_sleep(lua_State *L)
{
    struct timespec ts;
    double s;
    if (lua_type(L, 1) != LUA_TNUMBER || !((s = (double)lua_tonumber(L, 1)) >= 0))
        return luaL_error(L, "bad argument 'seconds' to 'sleep' (non-negative number expected, got %s)",
                          lua_type(L, 1) == LUA_TNUMBER ? lua_tostring(L, 1) : luaL_typename(L, 1));
    if (s > 1e9)
        s = 1e9;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

void dyn_open_clock(lua_State *L)
{
    lua_pushcfunction(L, clock_now);
    lua_setfield(L, -2, "now");
    lua_pushcfunction(L, clock_sleep);
    lua_setfield(L, -2, "sleep");
}
