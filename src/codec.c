/* Placeholder while this part is being written. */
#include "core.h"

void dyn_open_codec(lua_State *L)
{
    (void)L;
}
