/* Placeholder while this part is being written. */
#include "core.h"

void dyn_open_sigv4(lua_State *L)
{
    (void)L;
}
