/* The Lua sources built into libdynamo: every module under lua/ (the array
 * ends with a zeroed entry) and the runtime's prelude. The arrays are
 * generated at build time by cmake/embed_lua.cmake. */
#ifndef DYNAMO_PRELOAD_H
#define DYNAMO_PRELOAD_H

#include <stddef.h>
#include "../compat.h"

typedef struct {
    const char *name;           /* "dynamo.client" */
    const char *chunkname;      /* "@dynamo/client.lua" */
    const unsigned char *code;  /* Lua source text */
    size_t len;
} dyn_lua_module;

DYN_HIDDEN extern const dyn_lua_module dyn_lua_modules[];
DYN_HIDDEN extern const dyn_lua_module dyn_lua_prelude;

/* Loads a built-in chunk (text only) and leaves the function on the stack,
 * or returns the status of luaL_loadbufferx with its message on the stack. */
DYN_HIDDEN int dyn_load_builtin(lua_State *L, const dyn_lua_module *m);

/* Fills package.preload with every built-in module and dynamo.core. Raises
 * (call it in protected mode). */
DYN_HIDDEN void dyn_preload(lua_State *L);

#endif
