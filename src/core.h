/* The parts of dynamo.core. Each open function adds its functions to the
 * module table on top of the stack. */
#ifndef DYNAMO_CORE_H
#define DYNAMO_CORE_H

#include "compat.h"

DYN_HIDDEN void dyn_open_codec(lua_State *L);   /* codec.c: core.codec, type markers */
DYN_HIDDEN void dyn_open_sigv4(lua_State *L);   /* sigv4.c: core.signer */
DYN_HIDDEN void dyn_open_http(lua_State *L);    /* http_curl.c: core.http, core.multi */
DYN_HIDDEN void dyn_open_clock(lua_State *L);   /* clock.c: core.now, core.sleep */
DYN_HIDDEN void dyn_open_random(lua_State *L);  /* random.c: core.random_bytes */

#endif
