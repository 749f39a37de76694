/* What both fuzzers share: one real Lua 5.4 state per process with
 * dynamo.core opened from the sources linked into the fuzzer, a setup chunk
 * written in Lua, and a way to fail loudly. */
#ifndef DYNAMO_FUZZ_HARNESS_H
#define DYNAMO_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>

/* Makes the state: standard libraries, dynamo.core in package.loaded. Then
 * runs chunk (Lua source) with the module as its argument and leaves its
 * nres results on the stack at 1..nres. */
lua_State *fuzz_setup(const char *chunk, int nres);

/* Calls the function at the top - nargs - 1 with nargs arguments in
 * protected mode; on an error prints what and the error, and aborts (so
 * libFuzzer records the input). Leaves nres results (LUA_MULTRET: all). */
void fuzz_call(lua_State *L, int nargs, int nres, const char *what);

/* Prints a message and aborts: libFuzzer saves the input as a crash. */
void fuzz_fail(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* Called at the end of every input: a full collection, so finalizers run
 * and each input frees what it allocated. libFuzzer looks for leaks (runs
 * LeakSanitizer) after any input whose mallocs and frees differ in number;
 * garbage left for later would make that every input, and slow. */
void fuzz_tick(lua_State *L);

/* Checks the message (the string at idx) of a failed decode of a len-byte
 * input: "invalid JSON at byte <n>: <what>" or "[<path>: ]<what> at byte
 * <n>", 1 <= n <= len+1. */
void fuzz_check_decode_error(lua_State *L, int idx, size_t len);

#endif
