/* The runtime's internals, shared by runtime.c (open, close, settings,
 * errors), run.c (running scripts) and host.c (host functions). */
#ifndef DYNAMO_RUNTIME_H
#define DYNAMO_RUNTIME_H

#define DYNAMO_BUILDING 1
#include "dynamo.h"
#include "../compat.h"

/* Registry keys of the runtime's Lua values. */
#define DYN_RT_PRELUDE "dynamo.runtime.prelude" /* the table prelude.lua returns */
#define DYN_RT_STATE "dynamo.runtime.state"     /* { config =, sink =, reset = } */
#define DYN_RT_HOST "dynamo.runtime.host"       /* the `host` table */

struct dynamo_runtime {
    lua_State *L;
    int running;             /* a run is under way (host functions, log sink) */
    dynamo_log_fn log_fn;    /* NULL: dynamo's default sink */
    void *log_ud;
    char *result;            /* the last run's result (malloc), or NULL */
    size_t result_len;
    const char *err_code;    /* NULL, a literal, or err_code_buf */
    const char *err_msg;     /* NULL, a literal, or err_msg_buf */
    char *err_code_buf;      /* malloc */
    char *err_msg_buf;       /* malloc */
};

/* Error state. dyn_fail copies code and message (a literal if out of
 * memory) and returns status; dyn_ok clears the error and returns
 * DYNAMO_OK. */
DYN_HIDDEN int dyn_fail(dynamo_runtime *rt, int status, const char *code, const char *msg);
DYN_HIDDEN int dyn_failf(dynamo_runtime *rt, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
DYN_HIDDEN int dyn_ok(dynamo_runtime *rt);

/* Calls fn(L) with ud as its only argument in protected mode with nret
 * results; on failure records the error (out of memory, or code
 * "InternalError" with the message) and restores the stack. */
DYN_HIDDEN int dyn_protect(dynamo_runtime *rt, lua_CFunction fn, void *ud, int nret);

/* Pushes prelude.<name> (a function). */
DYN_HIDDEN void dyn_prelude(lua_State *L, const char *name);

/* Pushes the text form of the value at idx (strings and numbers as their
 * text, booleans "true"/"false", tables as JSON, nil as nil) and returns
 * it, or NULL for nil. Raises (call in protected mode). */
DYN_HIDDEN const char *dyn_totext(lua_State *L, int idx, size_t *len);

/* The `host` table's C side. */
DYN_HIDDEN int dyn_register(dynamo_runtime *rt, const char *name, dynamo_host_fn fn, void *ud);

#endif
