/* Running scripts: load (a file or a string), set `arg` and `...`, call
 * with a message handler that adds a traceback, then keep the first
 * result as text or the error as a code and a message. The stack is back
 * where it was whatever happens. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime.h"

typedef struct {
    dynamo_runtime *rt;
    const char *src;        /* a path, or the code */
    const char *chunkname;  /* for code: "=name" or "@name" as given, or NULL */
    int is_file;
    int argc;
    const char *const *argv;
    int load_status;
    int oom;
} run_args;

/* Loads the chunk, sets the global `arg` and returns the chunk and its
 * arguments; when the chunk does not load, sets load_status and returns
 * the message. */
static int prepare(lua_State *L)
{
    run_args *a = lua_touserdata(L, 1);
    const char *name;
    int i, status;
    if (a->is_file) {
        name = a->src;
        status = luaL_loadfilex(L, a->src, "t");
    } else {
        const char *given = a->chunkname ? a->chunkname : "(string)";
        const char *chunkname = given;
        if (*given != '=' && *given != '@')
            chunkname = lua_pushfstring(L, "=%s", given);
        name = chunkname + 1;
        status = luaL_loadbufferx(L, a->src, strlen(a->src), chunkname, "t");
    }
    if (status != LUA_OK) {
        a->load_status = status;
        return 1;
    }
    lua_createtable(L, a->argc, 1);
    lua_pushstring(L, name);
    lua_rawseti(L, -2, 0);
    for (i = 0; i < a->argc; i++) {
        lua_pushstring(L, a->argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");
    luaL_checkstack(L, a->argc + 1, "too many arguments to the script");
    lua_pushvalue(L, -1);    /* the chunk, above the chunk name */
    for (i = 0; i < a->argc; i++)
        lua_pushstring(L, a->argv[i]);
    return a->argc + 1;
}

/* The message handler: a table with a string `code` (a dynamo error, say)
 * stays as it is; anything else becomes a message with a traceback. */
static int msgh(lua_State *L)
{
    const char *msg;
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_pushliteral(L, "code");
        if (lua_rawget(L, 1) == LUA_TSTRING) {
            lua_settop(L, 1);
            return 1;
        }
        lua_pop(L, 1);
    }
    msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Keeps the text of the value at 2 as the run's result. */
static int keep_result(lua_State *L)
{
    run_args *a = lua_touserdata(L, 1);
    dynamo_runtime *rt = a->rt;
    size_t len;
    const char *text = dyn_totext(L, 2, &len);
    if (!text)
        return 0;
    rt->result = malloc(len + 1);
    if (!rt->result) {
        a->oom = 1;
        return 0;
    }
    memcpy(rt->result, text, len);
    rt->result[len] = '\0';
    rt->result_len = len;
    return 0;
}

/* Keeps the code and message of the error value at 2. */
static int keep_error(lua_State *L)
{
    run_args *a = lua_touserdata(L, 1);
    dyn_prelude(L, "describe");
    lua_pushvalue(L, 2);
    lua_call(L, 1, 2);
    dyn_fail(a->rt, DYNAMO_ERR_SCRIPT, lua_tostring(L, -2), lua_tostring(L, -1));
    return 0;
}

/* Calls fn(ud, value at the top), which must not raise, in protected mode;
 * pops the value. */
static int protect_value(lua_State *L, lua_CFunction fn, run_args *a)
{
    int status;
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, a);
    lua_rotate(L, -3, 2);
    status = lua_pcall(L, 2, 0, 0);
    if (status != LUA_OK)
        lua_pop(L, 1);
    return status;
}

static int run(dynamo_runtime *rt, run_args *a)
{
    lua_State *L = rt->L;
    int top = lua_gettop(L), status;

    free(rt->result);
    rt->result = NULL;
    rt->result_len = 0;
    dyn_ok(rt);
    a->rt = rt;
    a->load_status = LUA_OK;
    a->oom = 0;

    if (!lua_checkstack(L, 8))
        return dyn_fail(rt, DYNAMO_ERR_MEMORY, "OutOfMemory", "out of memory");
    lua_pushcfunction(L, msgh);
    lua_pushcfunction(L, prepare);
    lua_pushlightuserdata(L, a);
    status = lua_pcall(L, 1, LUA_MULTRET, 0);
    if (status != LUA_OK || a->load_status != LUA_OK) {
        if (status == LUA_OK)
            status = a->load_status;
        if (status == LUA_ERRMEM)
            dyn_fail(rt, DYNAMO_ERR_MEMORY, "OutOfMemory", "out of memory");
        else if (status == LUA_ERRSYNTAX)
            dyn_fail(rt, DYNAMO_ERR_SCRIPT, "SyntaxError", lua_tostring(L, -1));
        else if (status == LUA_ERRFILE)
            dyn_fail(rt, DYNAMO_ERR_IO, "FileError", lua_tostring(L, -1));
        else
            dyn_fail(rt, DYNAMO_ERR_SCRIPT, "ScriptError",
                     lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "cannot start the script");
        lua_settop(L, top);
        return status == LUA_ERRMEM ? DYNAMO_ERR_MEMORY
             : status == LUA_ERRFILE ? DYNAMO_ERR_IO : DYNAMO_ERR_SCRIPT;
    }

    /* msgh, chunk, args... */
    rt->running = 1;
    status = lua_pcall(L, a->argc, 1, top + 1);
    rt->running = 0;
    if (status == LUA_OK) {
        if (!lua_checkstack(L, 4)) {
            lua_settop(L, top);
            return dyn_fail(rt, DYNAMO_ERR_MEMORY, "OutOfMemory", "out of memory (keeping the result)");
        }
        status = protect_value(L, keep_result, a);
        lua_settop(L, top);
        if (status == LUA_ERRMEM || a->oom)
            return dyn_fail(rt, DYNAMO_ERR_MEMORY, "OutOfMemory", "out of memory (keeping the result)");
        if (status != LUA_OK)
            return dyn_fail(rt, DYNAMO_ERR_SCRIPT, "ResultError", "cannot convert the result to text");
        return dyn_ok(rt);   /* a refused call inside the run may have left an error */
    }
    if (status == LUA_ERRMEM) {
        lua_settop(L, top);
        return dyn_fail(rt, DYNAMO_ERR_MEMORY, "OutOfMemory", "out of memory");
    }
    status = LUA_ERRMEM;
    if (lua_checkstack(L, 4)) {
        lua_pushvalue(L, -1);   /* keep_error takes the copy; the original stays for the fallback */
        status = protect_value(L, keep_error, a);
    }
    if (status != LUA_OK)
        dyn_fail(rt, DYNAMO_ERR_SCRIPT, "ScriptError",
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(error object cannot be converted)");
    lua_settop(L, top);
    return DYNAMO_ERR_SCRIPT;
}

/* The checks both entry points share. */
static int check_args(dynamo_runtime *rt, const char *fn, const char *what, const char *src,
                      int argc, const char *const *argv)
{
    int i;
    if (rt->running)
        return dyn_failf(rt, DYNAMO_ERR_STATE, "InvalidState", "%s: called from inside a run of the same runtime", fn);
    if (!src)
        return dyn_failf(rt, DYNAMO_ERR_ARG, "InvalidArgument", "%s: %s is NULL", fn, what);
    if (argc < 0)
        return dyn_failf(rt, DYNAMO_ERR_ARG, "InvalidArgument", "%s: argc is negative (%d)", fn, argc);
    if (argc > 0 && !argv)
        return dyn_failf(rt, DYNAMO_ERR_ARG, "InvalidArgument", "%s: argv is NULL but argc is %d", fn, argc);
    for (i = 0; i < argc; i++)
        if (!argv[i])
            return dyn_failf(rt, DYNAMO_ERR_ARG, "InvalidArgument", "%s: argv[%d] is NULL", fn, i);
    return DYNAMO_OK;
}

int dynamo_run_file(dynamo_runtime *rt, const char *path, int argc, const char *const *argv)
{
    run_args a;
    FILE *f;
    int status;
    if (!rt)
        return DYNAMO_ERR_ARG;
    if ((status = check_args(rt, "dynamo_run_file", "path", path, argc, argv)) != DYNAMO_OK)
        return status;
    /* Tell a missing file from an unreadable one (luaL_loadfilex does not). */
    f = fopen(path, "r");
    if (!f) {
        int e = errno;
        free(rt->result);
        rt->result = NULL;
        return dyn_failf(rt, DYNAMO_ERR_IO, e == ENOENT ? "FileNotFound" : "FileError",
                         "cannot open %s: %s", path, strerror(e));
    }
    fclose(f);
    memset(&a, 0, sizeof a);
    a.src = path;
    a.is_file = 1;
    a.argc = argc;
    a.argv = argv;
    return run(rt, &a);
}

int dynamo_run_string(dynamo_runtime *rt, const char *code, const char *chunkname,
                      int argc, const char *const *argv)
{
    run_args a;
    int status;
    if (!rt)
        return DYNAMO_ERR_ARG;
    if ((status = check_args(rt, "dynamo_run_string", "code", code, argc, argv)) != DYNAMO_OK)
        return status;
    memset(&a, 0, sizeof a);
    a.src = code;
    a.chunkname = chunkname;
    a.argc = argc;
    a.argv = argv;
    return run(rt, &a);
}
