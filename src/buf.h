/* A growable byte buffer. Buffers used while Lua may raise an error live
 * inside a userdata (dyn_buf_push), so the garbage collector frees them
 * even when lua_error jumps past the code that made them. */
#ifndef DYNAMO_BUF_H
#define DYNAMO_BUF_H

#include <stddef.h>
#include "compat.h"

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} dyn_buf;

/* Pushes a new empty buffer owned by a userdata with __gc; returns it. */
DYN_HIDDEN dyn_buf *dyn_buf_push(lua_State *L);
/* Makes room for n more bytes; raises "out of memory" on failure. */
DYN_HIDDEN char *dyn_buf_reserve(lua_State *L, dyn_buf *b, size_t n);
DYN_HIDDEN void dyn_buf_add(lua_State *L, dyn_buf *b, const void *p, size_t n);
DYN_HIDDEN void dyn_buf_addc(lua_State *L, dyn_buf *b, char c);
DYN_HIDDEN void dyn_buf_adds(lua_State *L, dyn_buf *b, const char *s);
/* Empties the buffer but keeps its memory for reuse. */
DYN_HIDDEN void dyn_buf_reset(dyn_buf *b);
/* Frees the memory (safe to call twice). */
DYN_HIDDEN void dyn_buf_free(dyn_buf *b);
/* Registers the buffer userdata's metatable. */
DYN_HIDDEN void dyn_buf_open(lua_State *L);

#endif
