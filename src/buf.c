#include <stdlib.h>
#include <string.h>
#include "buf.h"

#define BUF_MT "dynamo.buf"

static int buf_gc(lua_State *L)
{
    dyn_buf_free(luaL_checkudata(L, 1, BUF_MT));
    return 0;
}

void dyn_buf_open(lua_State *L)
{
    if (dyn_newmetatable(L, BUF_MT)) {
        lua_pushcfunction(L, buf_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}

dyn_buf *dyn_buf_push(lua_State *L)
{
    dyn_buf *b = lua_newuserdata(L, sizeof *b);
    b->data = NULL;
    b->len = b->cap = 0;
    luaL_getmetatable(L, BUF_MT);
    lua_setmetatable(L, -2);
    return b;
}

char *dyn_buf_reserve(lua_State *L, dyn_buf *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        if (n > ((size_t)-1) / 2 - b->len)
            luaL_error(L, "buffer too large");
        while (cap - b->len < n)
            cap *= 2;
        p = realloc(b->data, cap);
        if (!p)
            luaL_error(L, "out of memory");
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

void dyn_buf_add(lua_State *L, dyn_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(dyn_buf_reserve(L, b, n), p, n);
    b->len += n;
}

void dyn_buf_addc(lua_State *L, dyn_buf *b, char c)
{
    if (b->len == b->cap)
        dyn_buf_reserve(L, b, 1);
    b->data[b->len++] = c;
}

void dyn_buf_adds(lua_State *L, dyn_buf *b, const char *s)
{
    dyn_buf_add(L, b, s, strlen(s));
}

void dyn_buf_reset(dyn_buf *b)
{
    b->len = 0;
}

void dyn_buf_free(dyn_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
