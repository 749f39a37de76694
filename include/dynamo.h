/* dynamo.h: embed the dynamo runtime in a C program.
 *
 * A runtime is a Lua 5.4 state with the standard libraries, dynamo's C core
 * and every dynamo Lua module built in (no LUA_PATH set-up). The host
 * configures it, registers functions its scripts may call, runs scripts
 * (files or strings, with arguments) and reads back a result or an error:
 *
 *     dynamo_runtime *rt = dynamo_open();
 *     dynamo_set(rt, "endpoint", "http://127.0.0.1:8000");
 *     dynamo_register(rt, "table_name", table_name, NULL);
 *     if (dynamo_run_file(rt, "fix.lua", argc, argv) != DYNAMO_OK)
 *         fprintf(stderr, "%s: %s\n", dynamo_error_code(rt), dynamo_error_message(rt));
 *     else
 *         printf("%s\n", dynamo_result(rt, NULL));
 *     dynamo_close(rt);
 *
 * Scripts see these globals besides Lua's own:
 *   dynamo   require "dynamo"
 *   db       a client made on first use from the runtime's settings
 *            (dynamo.new{ endpoint =, region =, credentials =, log = })
 *   host     the registered host functions, and host.config: the settings
 *   arg      arg[0] the script's name, arg[1..n] its arguments (also `...`)
 * Runs share one global environment: a value a script stores in a global is
 * there for the next run of the same runtime.
 *
 * Errors. Every function that returns int returns DYNAMO_OK (0) or one of
 * the DYNAMO_ERR_* codes, and then dynamo_error_code and
 * dynamo_error_message say what went wrong. Nothing aborts the host: a
 * failed run (a script error, a syntax error, a missing file, even out of
 * memory) leaves the runtime usable, with nothing leaked. A NULL runtime
 * or a bad argument is DYNAMO_ERR_ARG.
 *
 * Threads. A runtime belongs to one thread at a time: never call two
 * functions on the same runtime at once (hand one over between threads
 * with the host's own locking). Different runtimes are independent and
 * may be used by different threads at the same time; the library keeps no
 * global mutable state. Do not call dynamo_* functions on a runtime from
 * inside one of its own host functions or log sink (they return
 * DYNAMO_ERR_STATE; dynamo_close there is undefined), except the
 * dynamo_reply_* functions.
 *
 * Scripts are trusted code: they have all of Lua's standard libraries
 * (io, os.execute, os.exit ...). A host that runs untrusted scripts must
 * sandbox them itself through dynamo_lua.
 *
 * C99 or C++. Link with `pkg-config --cflags --libs dynamo` (shared library) or
 * `pkg-config --cflags --libs dynamo-static` (libdynamo.a). The full
 * guide is docs/embedding.md. */
#ifndef DYNAMO_H
#define DYNAMO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DYNAMO_BUILDING) && defined(__GNUC__)
#define DYNAMO_API __attribute__((visibility("default")))
#else
#define DYNAMO_API
#endif

#define DYNAMO_VERSION "0.1.0"

/* Return codes. */
enum {
    DYNAMO_OK = 0,
    DYNAMO_ERR_ARG = 1,     /* NULL runtime, NULL or bad argument, unknown setting */
    DYNAMO_ERR_MEMORY = 2,  /* out of memory */
    DYNAMO_ERR_IO = 3,      /* a script file cannot be opened or read */
    DYNAMO_ERR_SCRIPT = 4,  /* the script has a syntax error or raised an error */
    DYNAMO_ERR_STATE = 5    /* called from inside a run of the same runtime
                               ("InvalidState"), or the runtime is broken ("InternalError") */
};

typedef struct dynamo_runtime dynamo_runtime;
typedef struct dynamo_reply dynamo_reply;
struct lua_State;

/* The library's version, "0.1.0" (DYNAMO_VERSION of the library actually
 * linked, which may differ from the header's). */
DYNAMO_API const char *dynamo_version(void);

/* Opens a runtime: a new Lua 5.4 state with the standard libraries and
 * dynamo built in. Cheap: dynamo's modules load on first use. Returns NULL
 * only when out of memory. */
DYNAMO_API dynamo_runtime *dynamo_open(void);

/* Closes a runtime: runs every pending finalizer, closes connections and
 * frees everything, including the strings dynamo_result and the error
 * functions returned. NULL is ignored. */
DYNAMO_API void dynamo_close(dynamo_runtime *rt);

/* Stores a setting, used by the client `db` (the next use of `db` after a
 * change makes a new client) and visible to scripts as host.config[key].
 * Keys:
 *   "endpoint"   URL, e.g. "http://127.0.0.1:8000" (default: the AWS
 *                regional endpoint, or AWS_ENDPOINT_URL_DYNAMODB / _URL)
 *   "region"     e.g. "eu-west-1" (default: AWS_REGION, AWS_DEFAULT_REGION,
 *                the profile's region)
 *   "profile"    a profile of the shared AWS files; its credentials only
 *                (default: the credentials chain of the AWS SDKs)
 *   "log_level"  "off", "error", "warn", "info" or "debug" (default: the
 *                DYNAMO_LOG variable, else off; "info" with a log sink)
 * value NULL or "" removes the setting. DYNAMO_ERR_ARG for an unknown key
 * or a bad value (an endpoint that is not an http(s) URL, an unknown
 * level). */
DYNAMO_API int dynamo_set(dynamo_runtime *rt, const char *key, const char *value);

/* Where `db` sends its log lines: fn(ud, level, message), level being
 * "error", "warn", "info" or "debug". NULL fn restores the default
 * (stderr). Applies to clients made after the call. */
typedef void (*dynamo_log_fn)(void *ud, const char *level, const char *message);
DYNAMO_API int dynamo_set_log(dynamo_runtime *rt, dynamo_log_fn fn, void *ud);

/* A host function, called when a script calls host.<name>(...). Each
 * argument arrives as text: argv[i] (NUL-terminated, lens[i] bytes, valid
 * during the call) is the string itself; an integer's digits; a float's
 * shortest text that reads back as the same float ("1.5", "1e+300");
 * "true" or "false"; a table as JSON (dynamo.null as null); another value
 * as tostring; NULL for nil. The function
 * answers through `reply` (its values, in order, are what the script's
 * call returns; none means nil) and returns 0. A non-zero return without a
 * reply error makes the call return nil, err with err.code "HostError". */
typedef int (*dynamo_host_fn)(void *ud, int argc, const char *const *argv,
                              const size_t *lens, dynamo_reply *reply);

/* Makes fn callable as host.<name>(...) (ud is passed back to it and must
 * outlive the runtime). name: letters, digits and _, not starting with a
 * digit, and not "config"; registering a name again replaces the
 * function. */
DYNAMO_API int dynamo_register(dynamo_runtime *rt, const char *name, dynamo_host_fn fn, void *ud);

/* Replies of a host function: each adds one value to what the script's
 * call returns. They never jump out of the host function: on failure they
 * return DYNAMO_ERR_MEMORY (or DYNAMO_ERR_ARG) and add nothing. */
DYNAMO_API int dynamo_reply_string(dynamo_reply *r, const char *s, size_t len);
DYNAMO_API int dynamo_reply_integer(dynamo_reply *r, long long i);
DYNAMO_API int dynamo_reply_number(dynamo_reply *r, double x);
DYNAMO_API int dynamo_reply_boolean(dynamo_reply *r, int b);
/* A JSON text decoded to a Lua value (objects and arrays become tables,
 * null dynamo.null). DYNAMO_ERR_ARG when it is not valid JSON. */
DYNAMO_API int dynamo_reply_json(dynamo_reply *r, const char *json, size_t len);
/* The call fails: the script's call returns nil and a dynamo error value
 * (err.code = code, err.message = message, err.operation = "host.<name>",
 * tostring(err) = "<code>: <message> (host.<name>)"), dropping any values
 * replied before. A script that raises it, `assert(host.f())`, ends its
 * run with this code. code NULL means "HostError". */
DYNAMO_API int dynamo_reply_error(dynamo_reply *r, const char *code, const char *message);

/* Runs the Lua script in file `path` with argc arguments: the script sees
 * them as `...` and arg[1..argc], and arg[0] = path. Text chunks only (no
 * precompiled bytecode); a "#!" first line is skipped.
 * DYNAMO_ERR_IO (code "FileNotFound", or "FileError") when the file cannot
 * be read, DYNAMO_ERR_SCRIPT (code "SyntaxError") when it does not
 * compile, DYNAMO_ERR_SCRIPT when it raises an error: a dynamo error value
 * gives its err.code and tostring(err), a table with a string `code` field
 * that code and its `message`, anything else code "ScriptError" and the
 * message with a traceback. */
DYNAMO_API int dynamo_run_file(dynamo_runtime *rt, const char *path, int argc, const char *const *argv);

/* The same for a string of Lua code; chunkname names it in messages and
 * arg[0] (NULL: "(string)"). */
DYNAMO_API int dynamo_run_string(dynamo_runtime *rt, const char *code, const char *chunkname,
                                 int argc, const char *const *argv);

/* The last successful run's first return value as text (the same
 * conversion as host function arguments: strings as they are, numbers and
 * booleans as their text, tables as JSON when they can be, other values
 * as tostring), or
 * NULL when it returned nothing or nil, or failed. *len (when len is not
 * NULL) is its length; the text is NUL-terminated too. Valid until the
 * next run or dynamo_close. */
DYNAMO_API const char *dynamo_result(dynamo_runtime *rt, size_t *len);

/* What went wrong in the last call that returned an error: a short code
 * ("InvalidArgument", "OutOfMemory", "FileNotFound", "FileError",
 * "SyntaxError", "ScriptError", "ResultError", "InvalidState", or the code of a dynamo
 * error, e.g. "ConditionalCheckFailedException") and a message. NULL after
 * a call that succeeded. Valid until the next call on the runtime. For a
 * NULL runtime: "InvalidArgument" and "runtime is NULL". */
DYNAMO_API const char *dynamo_error_code(dynamo_runtime *rt);
DYNAMO_API const char *dynamo_error_message(dynamo_runtime *rt);

/* The runtime's Lua state, for hosts that need the Lua C API (link them
 * with lua5.4 too). Leave the stack as you found it; raise errors only
 * inside protected calls. NULL for a NULL runtime. */
DYNAMO_API struct lua_State *dynamo_lua(dynamo_runtime *rt);

#ifdef __cplusplus
}
#endif

#endif
