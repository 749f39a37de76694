/* The runtime API without a server: running strings and files, results as
 * text, arguments, errors of every kind (and the runtime usable after
 * each), bad arguments, settings, the lazy globals, the built-in modules. */
#include <lua.h>
#include "tap.h"

#define SCRIPT(name) TESTS_DIR "/scripts/" name

/* Runs code and checks the result text (NULL: nil or nothing). */
static void expect(dynamo_runtime *rt, const char *code, const char *want)
{
    size_t len;
    const char *got;
    CHECK_RUN(rt, dynamo_run_string(rt, code, "test", 0, NULL));
    got = dynamo_result(rt, &len);
    CHECK_STR(got, want);
    CHECK(got ? len == strlen(got) : len == 0);
}

/* Every failure path leaves the Lua stack as it was. */
static void check_stack(dynamo_runtime *rt)
{
    CHECK(lua_gettop(dynamo_lua(rt)) == 0);
}

static void open_run_close(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK(rt != NULL);
    expect(rt, "return 1 + 2", "3");
    CHECK(dynamo_error_code(rt) == NULL && dynamo_error_message(rt) == NULL);
    CHECK_STR(dynamo_version(), DYNAMO_VERSION);
    check_stack(rt);
    dynamo_close(rt);
}

static void results_as_text(void)
{
    dynamo_runtime *rt = dynamo_open();
    size_t len;
    const char *s;
    expect(rt, "return 'plain'", "plain");
    expect(rt, "return 1.5", "1.5");
    expect(rt, "return 2^53", "9007199254740992");             /* floats: shortest round-trip text */
    expect(rt, "return 0.1 + 0.2", "0.30000000000000004");
    expect(rt, "return 1e300", "1e+300");
    expect(rt, "return -0.0", "-0");
    expect(rt, "return 1/0", "inf");
    expect(rt, "return -1/0", "-inf");
    expect(rt, "return math.maxinteger", "9223372036854775807");
    expect(rt, "return true", "true");
    expect(rt, "return false", "false");
    expect(rt, "return nil", NULL);
    expect(rt, "local x = 1", NULL);
    expect(rt, "return { list = { 1, 2.5, 'three', true } }", "{\"list\":[1,2.5,\"three\",true]}");
    expect(rt, "return {}", "{}");
    expect(rt, "return dynamo.list {}", "[]");
    expect(rt, "return dynamo.null", "null");
    expect(rt, "return dynamo.decimal('12345678901234567890.123')", "12345678901234567890.123");
    expect(rt, "return { n = dynamo.decimal('1E+100') }", "{\"n\":1E+100}");
    expect(rt, "return 'first', 'second'", "first");
    /* A table that is not JSON falls back to tostring. */
    CHECK_RUN(rt, dynamo_run_string(rt, "return { f = print }", NULL, 0, NULL));
    CHECK_HAS(dynamo_result(rt, NULL), "table: ");
    CHECK_RUN(rt, dynamo_run_string(rt, "return print", NULL, 0, NULL));
    CHECK_HAS(dynamo_result(rt, NULL), "function: ");
    /* Bytes, NULs included. */
    CHECK_RUN(rt, dynamo_run_string(rt, "return 'a\\0b'", NULL, 0, NULL));
    s = dynamo_result(rt, &len);
    CHECK(s && len == 3 && memcmp(s, "a\0b", 4) == 0);
    dynamo_result(rt, NULL);   /* len may be NULL */
    check_stack(rt);
    dynamo_close(rt);
}

static void arguments(void)
{
    dynamo_runtime *rt = dynamo_open();
    const char *argv[] = {"a", "b c", ""};
    CHECK_RUN(rt, dynamo_run_string(rt,
        "return select('#', ...) .. ':' .. table.concat({...}, ',') .. ':' .. arg[0] .. ':' .. #arg",
        "args", 3, argv));
    CHECK_STR(dynamo_result(rt, NULL), "3:a,b c,:args:3");
    /* A chunk name with Lua's own prefix is taken as it is. */
    CHECK_RUN(rt, dynamo_run_string(rt, "return arg[0] .. #arg", "=named", 0, NULL));
    CHECK_STR(dynamo_result(rt, NULL), "named0");
    CHECK_RUN(rt, dynamo_run_string(rt, "return arg[0]", NULL, 0, NULL));
    CHECK_STR(dynamo_result(rt, NULL), "(string)");
    dynamo_close(rt);
}

static void script_file(void)
{
    dynamo_runtime *rt = dynamo_open();
    const char *argv[] = {"x", "y"};
    CHECK_RUN(rt, dynamo_run_file(rt, SCRIPT("args.lua"), 2, argv));
    CHECK_STR(dynamo_result(rt, NULL), SCRIPT("args.lua") "|x,y");
    check_stack(rt);
    dynamo_close(rt);
}

static void script_error(void)
{
    dynamo_runtime *rt = dynamo_open();
    const char *argv[] = {"1", "2", "3"};
    CHECK_RUN(rt, dynamo_run_file(rt, SCRIPT("fail.lua"), 2, argv));
    CHECK_STR(dynamo_result(rt, NULL), "2");
    CHECK(dynamo_run_file(rt, SCRIPT("fail.lua"), 3, argv) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "ScriptError");
    CHECK_HAS(dynamo_error_message(rt), "fail.lua:4: too many arguments: 3");
    CHECK_HAS(dynamo_error_message(rt), "stack traceback:");
    CHECK_HAS(dynamo_error_message(rt), "fail.lua:4: in function");
    CHECK(dynamo_result(rt, NULL) == NULL);
    check_stack(rt);
    /* Usable again, and the error is gone. */
    expect(rt, "return 'again'", "again");
    CHECK(dynamo_error_code(rt) == NULL);
    /* Errors that are not strings. */
    CHECK(dynamo_run_string(rt, "error(setmetatable({}, { __tostring = function() return 'custom' end }))",
                            "obj", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "ScriptError");
    CHECK_HAS(dynamo_error_message(rt), "custom");
    CHECK(dynamo_run_string(rt, "error()", "nil", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_HAS(dynamo_error_message(rt), "(error object is a nil value)");
    CHECK(dynamo_run_string(rt, "error({ 1, 2 })", "tbl", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_HAS(dynamo_error_message(rt), "(error object is a table value)");
    check_stack(rt);
    dynamo_close(rt);
}

static void dynamo_errors(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK(dynamo_run_string(rt,
        "error(require('dynamo.errors').new { code = 'ConditionalCheckFailedException',\n"
        "  message = 'The conditional request failed', operation = 'PutItem', status = 400 })",
        "cond", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "ConditionalCheckFailedException");
    CHECK_STR(dynamo_error_message(rt), "ConditionalCheckFailedException: The conditional request failed (PutItem, HTTP 400)");
    /* The usual way: a call's nil, err through assert. */
    CHECK(dynamo_run_string(rt,
        "local function put() return nil, require('dynamo.errors').new { code = 'ValidationException', message = 'bad' } end\n"
        "assert(put())", "assert", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "ValidationException");
    CHECK_STR(dynamo_error_message(rt), "ValidationException: bad");
    /* Any table with a string code. */
    CHECK(dynamo_run_string(rt, "error({ code = 'Mine', message = 'my message' })", NULL, 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "Mine");
    CHECK_STR(dynamo_error_message(rt), "my message");
    CHECK(dynamo_run_string(rt, "error({ code = 'Bare' })", NULL, 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "Bare");
    CHECK_STR(dynamo_error_message(rt), "Bare");
    check_stack(rt);
    expect(rt, "return 'fine'", "fine");
    dynamo_close(rt);
}

static void syntax_error(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK(dynamo_run_file(rt, SCRIPT("syntax.lua"), 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "SyntaxError");
    CHECK_HAS(dynamo_error_message(rt), "syntax.lua:2: unexpected symbol near '='");
    CHECK(dynamo_run_string(rt, "return )", "snippet", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "SyntaxError");
    CHECK_STR(dynamo_error_message(rt), "snippet:1: unexpected symbol near ')'");
    /* Precompiled chunks are refused. */
    CHECK(dynamo_run_string(rt, "\x1bLua", "binary", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_HAS(dynamo_error_message(rt), "attempt to load a binary chunk");
    check_stack(rt);
    expect(rt, "return 'fine'", "fine");
    dynamo_close(rt);
}

static void missing_file(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK(dynamo_run_file(rt, SCRIPT("no-such-script.lua"), 0, NULL) == DYNAMO_ERR_IO);
    CHECK_STR(dynamo_error_code(rt), "FileNotFound");
    CHECK_STR(dynamo_error_message(rt), "cannot open " SCRIPT("no-such-script.lua") ": No such file or directory");
    CHECK(dynamo_result(rt, NULL) == NULL);
    /* A directory opens but does not read. */
    CHECK(dynamo_run_file(rt, TESTS_DIR "/scripts", 0, NULL) == DYNAMO_ERR_IO);
    CHECK_STR(dynamo_error_code(rt), "FileError");
    CHECK_HAS(dynamo_error_message(rt), "cannot read");
    check_stack(rt);
    expect(rt, "return 'fine'", "fine");
    dynamo_close(rt);
}

static int noop(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud, (void)argc, (void)argv, (void)lens, (void)r;
    return 0;
}

static void noop_log(void *ud, const char *level, const char *message)
{
    (void)ud, (void)level, (void)message;
}

static void bad_arguments(void)
{
    dynamo_runtime *rt = dynamo_open();
    const char *args[] = {"a", NULL};
    size_t len = 99;

    /* A NULL runtime: an error code, and the error functions say why. */
    CHECK(dynamo_run_string(NULL, "return 1", NULL, 0, NULL) == DYNAMO_ERR_ARG);
    CHECK(dynamo_run_file(NULL, SCRIPT("args.lua"), 0, NULL) == DYNAMO_ERR_ARG);
    CHECK(dynamo_set(NULL, "region", "x") == DYNAMO_ERR_ARG);
    CHECK(dynamo_set_log(NULL, noop_log, NULL) == DYNAMO_ERR_ARG);
    CHECK(dynamo_register(NULL, "f", noop, NULL) == DYNAMO_ERR_ARG);
    CHECK(dynamo_result(NULL, &len) == NULL && len == 0);
    CHECK(dynamo_lua(NULL) == NULL);
    CHECK_STR(dynamo_error_code(NULL), "InvalidArgument");
    CHECK_STR(dynamo_error_message(NULL), "runtime is NULL");
    dynamo_close(NULL);
    CHECK(dynamo_reply_string(NULL, "x", 1) == DYNAMO_ERR_ARG);
    CHECK(dynamo_reply_integer(NULL, 1) == DYNAMO_ERR_ARG);
    CHECK(dynamo_reply_number(NULL, 1) == DYNAMO_ERR_ARG);
    CHECK(dynamo_reply_boolean(NULL, 1) == DYNAMO_ERR_ARG);
    CHECK(dynamo_reply_json(NULL, "1", 1) == DYNAMO_ERR_ARG);
    CHECK(dynamo_reply_error(NULL, "X", "y") == DYNAMO_ERR_ARG);

    /* Bad arguments on a good runtime: a code and a message. */
    CHECK(dynamo_run_string(rt, NULL, NULL, 0, NULL) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_code(rt), "InvalidArgument");
    CHECK_STR(dynamo_error_message(rt), "dynamo_run_string: code is NULL");
    CHECK(dynamo_run_file(rt, NULL, 0, NULL) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_run_file: path is NULL");
    CHECK(dynamo_run_string(rt, "return 1", NULL, -1, NULL) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_run_string: argc is negative (-1)");
    CHECK(dynamo_run_string(rt, "return 1", NULL, 2, NULL) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_run_string: argv is NULL but argc is 2");
    CHECK(dynamo_run_string(rt, "return 1", NULL, 2, args) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_run_string: argv[1] is NULL");
    CHECK(dynamo_set(rt, NULL, "x") == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_set: key is NULL");
    CHECK(dynamo_register(rt, NULL, noop, NULL) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_register: name is NULL");
    CHECK(dynamo_register(rt, "f", NULL, NULL) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_register: the function for 'f' is NULL");
    check_stack(rt);
    expect(rt, "return 'fine'", "fine");
    dynamo_close(rt);
}

static void settings(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK(dynamo_set(rt, "colour", "blue") == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_code(rt), "InvalidArgument");
    CHECK_STR(dynamo_error_message(rt), "dynamo_set: unknown setting 'colour' (endpoint, region, profile or log_level)");
    CHECK(dynamo_set(rt, "endpoint", "ftp://example.com") == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_set: endpoint 'ftp://example.com' must use http or https");
    CHECK(dynamo_set(rt, "log_level", "loud") == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt),
              "dynamo_set: log_level must be \"off\", \"error\", \"warn\", \"info\" or \"debug\", not \"loud\"");
    CHECK_RUN(rt, dynamo_set(rt, "endpoint", "http://127.0.0.1:1"));
    CHECK(dynamo_error_code(rt) == NULL);
    CHECK_RUN(rt, dynamo_set(rt, "region", "eu-west-1"));
    CHECK_RUN(rt, dynamo_set(rt, "profile", "p1"));
    CHECK_RUN(rt, dynamo_set(rt, "log_level", "debug"));
    expect(rt, "local c = host.config return c.endpoint .. ' ' .. c.region .. ' ' .. c.profile .. ' ' .. c.log_level",
           "http://127.0.0.1:1 eu-west-1 p1 debug");
    CHECK_RUN(rt, dynamo_set(rt, "profile", NULL));
    CHECK_RUN(rt, dynamo_set(rt, "log_level", ""));
    expect(rt, "return tostring(host.config.profile) .. tostring(host.config.log_level)", "nilnil");
    check_stack(rt);
    dynamo_close(rt);
}

static void lazy_client(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_set(rt, "endpoint", "http://127.0.0.1:1"));
    CHECK_RUN(rt, dynamo_set(rt, "region", "eu-west-1"));
    expect(rt, "return rawget(_G, 'db') == nil", "true");   /* nothing made yet */
    expect(rt, "kept = db return tostring(db)", "dynamo.client(eu-west-1, http://127.0.0.1:1/)");
    expect(rt, "return rawequal(kept, db)", "true");        /* the same client next run */
    CHECK_RUN(rt, dynamo_set(rt, "region", "us-west-2"));   /* a new one after a change */
    expect(rt, "return tostring(db) .. ' ' .. tostring(rawequal(kept, db))",
           "dynamo.client(us-west-2, http://127.0.0.1:1/) false");
    dynamo_close(rt);

    /* A client that cannot be made: the error points at the script's line. */
    rt = dynamo_open();
    CHECK(dynamo_run_string(rt, "host.config.endpoint = 'nowhere'\nreturn db", "cfg", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "ScriptError");
    CHECK_HAS(dynamo_error_message(rt), "cfg:2: db: bad argument 'endpoint' to 'dynamo.new' (endpoint 'nowhere' is not a URL");
    check_stack(rt);
    dynamo_close(rt);
}

/* Writes text to a new temporary file; returns its malloc'd path. */
static char *temp_file(const char *text)
{
    char *path = malloc(32);
    int fd;
    FILE *f;
    strcpy(path, "/tmp/dynamo-test-XXXXXX");
    fd = mkstemp(path);
    CHECK(fd >= 0);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void profile(void)
{
    char *cred = temp_file("[p1]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = secret\n");
    char *conf = temp_file("[profile p1]\nregion = ap-south-1\n[default]\nregion = eu-north-1\n");
    char *region = getenv("AWS_REGION") ? strdup(getenv("AWS_REGION")) : NULL;
    dynamo_runtime *rt;
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    setenv("AWS_CONFIG_FILE", conf, 1);
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_PROFILE");
    rt = dynamo_open();
    CHECK_RUN(rt, dynamo_set(rt, "endpoint", "http://127.0.0.1:1"));
    CHECK_RUN(rt, dynamo_set(rt, "profile", "p1"));
    /* The profile's credentials and region. */
    expect(rt, "return db.region .. ' ' .. assert(db.credentials:get()).access_key_id", "ap-south-1 AKIDPROFILE");
    /* A region set wins over the profile's. */
    CHECK_RUN(rt, dynamo_set(rt, "region", "us-west-1"));
    expect(rt, "return db.region", "us-west-1");
    /* A profile that does not exist: the client's error, when it is used. */
    CHECK_RUN(rt, dynamo_set(rt, "profile", "nobody"));
    expect(rt, "local _, err = db.credentials:get() return err.code", "CredentialsError");
    dynamo_close(rt);
    remove(cred);
    remove(conf);
    free(cred);
    free(conf);
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_CONFIG_FILE");
    if (region)
        setenv("AWS_REGION", region, 1);
    free(region);
}

static void globals(void)
{
    dynamo_runtime *rt = dynamo_open();
    expect(rt, "counter = (counter or 0) + 1 return counter", "1");
    expect(rt, "counter = (counter or 0) + 1 return counter", "2");
    expect(rt, "return dynamo == require('dynamo') and dynamo._VERSION", "0.1.0");
    expect(rt, "return type(host) .. ' ' .. type(host.config)", "table table");
    expect(rt, "return undefined_global", NULL);
    dynamo_close(rt);
}

static void builtin_modules(void)
{
    dynamo_runtime *rt;
    setenv("LUA_PATH", "/nonexistent/?.lua", 1);   /* nothing comes from the file system */
    rt = dynamo_open();
    expect(rt, "return debug.getinfo(require('dynamo.errors').new, 'S').source", "@dynamo/errors.lua");
    expect(rt, "return package.loaded['dynamo.core'] == nil and require('dynamo.core').version", "0.1.0");
    /* Every module under lua/ loads. */
    CHECK_RUN(rt, dynamo_run_string(rt,
        "local names, bad = {}, {}\n"
        "for name in pairs(package.preload) do names[#names + 1] = name end\n"
        "table.sort(names)\n"
        "for _, name in ipairs(names) do\n"
        "  local ok, err = pcall(require, name)\n"
        "  if not ok then bad[#bad + 1] = name .. ': ' .. tostring(err) end\n"
        "end\n"
        "assert(#bad == 0, table.concat(bad, '\\n'))\n"
        "return #names", "modules", 0, NULL));
    CHECK(dynamo_result(rt, NULL) && atoi(dynamo_result(rt, NULL)) > 60);
    printf("# %s modules built in\n", dynamo_result(rt, NULL) ? dynamo_result(rt, NULL) : "no");
    /* lua-cjson still comes through package.cpath. */
    expect(rt, "return require('cjson').encode({ 1, 2 })", "[1,2]");
    dynamo_close(rt);
    unsetenv("LUA_PATH");
}

static void escape_hatch(void)
{
    dynamo_runtime *rt = dynamo_open();
    lua_State *L = dynamo_lua(rt);
    CHECK(L != NULL);
    lua_pushinteger(L, 41);
    lua_setglobal(L, "from_c");
    expect(rt, "return from_c + 1", "42");
    check_stack(rt);
    dynamo_close(rt);
}

/* An allocator that fails every growth once its budget is spent (shrinks
 * and frees always succeed, as Lua requires). */
typedef struct {
    lua_Alloc real;
    void *real_ud;
    long budget;   /* growths left; < 0: no limit */
    long grows;    /* growths seen */
} limiter;

static void *limited(void *ud, void *ptr, size_t osize, size_t nsize)
{
    limiter *l = ud;
    if (nsize > 0 && (!ptr || nsize > osize)) {
        l->grows++;
        if (l->budget == 0)
            return NULL;
        if (l->budget > 0)
            l->budget--;
    }
    return l->real(l->real_ud, ptr, osize, nsize);
}

static int echo(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud;
    if (argc < 1 || !argv[0])
        return dynamo_reply_error(r, "BadCall", "echo wants text");
    if (dynamo_reply_string(r, argv[0], lens[0]) != DYNAMO_OK)
        return 1;
    return dynamo_reply_json(r, "{\"a\":[1,2,3]}", 13);
}

static const char OOM_SCRIPT[] =
    "local parts = {}\n"
    "for i = 1, 20 do parts[i] = host.echo(('x'):rep(i)) end\n"
    "local _, t = host.echo('y')\n"
    "local ok, err = pcall(error, { code = 'Inner' })\n"
    "return { n = #table.concat(parts), a = t.a, code = err.code, e = dynamo.list {} }";

/* Runs OOM_SCRIPT on rt with the limiter at `budget`; checks the outcome
 * (the full result, or an error code and message) and that the runtime
 * works right after. Returns 1 when the run failed. */
static int run_limited(dynamo_runtime *rt, limiter *l, long budget, const char *want)
{
    int rc;
    l->budget = budget;
    rc = dynamo_run_string(rt, OOM_SCRIPT, "oom", 0, NULL);
    l->budget = -1;
    if (rc == DYNAMO_OK) {
        CHECK_STR(dynamo_result(rt, NULL), want);
    } else {
        if (rc != DYNAMO_ERR_MEMORY && rc != DYNAMO_ERR_SCRIPT) {
            printf("# budget %ld: %d %s: %s\n", budget, rc, dynamo_error_code(rt), dynamo_error_message(rt));
            CHECK(0);
        }
        CHECK(dynamo_error_code(rt) != NULL && dynamo_error_message(rt) != NULL);
    }
    CHECK(lua_gettop(dynamo_lua(rt)) == 0);
    CHECK_RUN(rt, dynamo_run_string(rt, "return 'ok'", "after", 0, NULL));
    CHECK_STR(dynamo_result(rt, NULL), "ok");
    return rc != DYNAMO_OK;
}

static dynamo_runtime *open_limited(limiter *l)
{
    dynamo_runtime *rt = dynamo_open();
    lua_State *L = dynamo_lua(rt);
    l->real = lua_getallocf(L, &l->real_ud);
    l->budget = -1;
    CHECK_RUN(rt, dynamo_register(rt, "echo", echo, NULL));
    lua_setallocf(L, limited, l);
    l->grows = 0;
    return rt;
}

static void out_of_memory(void)
{
    limiter l;
    dynamo_runtime *rt = open_limited(&l);
    long budget, cold, warm, failures = 0, runs = 0;
    char want[64] = "";
    /* A first run loads dynamo's modules (cold), a second does not (warm):
     * count the growths of each. */
    CHECK_RUN(rt, dynamo_run_string(rt, OOM_SCRIPT, "oom", 0, NULL));
    cold = l.grows;
    if (dynamo_result(rt, NULL))
        snprintf(want, sizeof want, "%s", dynamo_result(rt, NULL));
    CHECK(strstr(want, "\"n\":210") != NULL);
    l.grows = 0;
    CHECK_RUN(rt, dynamo_run_string(rt, OOM_SCRIPT, "oom", 0, NULL));
    warm = l.grows;
    /* Warm: fail at each growth in turn. */
    for (budget = 0; budget <= warm + 5; budget++, runs++)
        failures += run_limited(rt, &l, budget, want);
    /* The other calls that allocate. */
    for (budget = 0; budget < 20; budget++) {
        int rc;
        l.budget = budget;
        rc = dynamo_set(rt, "region", "eu-west-1");
        CHECK(rc == DYNAMO_OK || rc == DYNAMO_ERR_MEMORY);
        rc = dynamo_register(rt, "echo2", echo, NULL);
        CHECK(rc == DYNAMO_OK || rc == DYNAMO_ERR_MEMORY);
        l.budget = -1;
    }
    lua_setallocf(dynamo_lua(rt), l.real, l.real_ud);
    dynamo_close(rt);
    /* Cold: 50 fresh runtimes failing at points spread over the loading. */
    for (budget = 0; budget < cold; budget += cold / 50 + 1, runs++) {
        rt = open_limited(&l);
        failures += run_limited(rt, &l, budget, want);
        lua_setallocf(dynamo_lua(rt), l.real, l.real_ud);
        dynamo_close(rt);
    }
    printf("# %ld allocations in a cold run, %ld in a warm one; %ld runs, %ld failed cleanly\n",
           cold, warm, runs, failures);
    CHECK(failures > 50);
}

int main(void)
{
    static const tap_test tests[] = {
        {"open, run a string, close", open_run_close},
        {"results come back as text (tables as JSON)", results_as_text},
        {"arguments arrive as ... and arg", arguments},
        {"a script file with arguments and a #! line", script_file},
        {"a failing script: ScriptError, message and traceback; the runtime stays usable", script_error},
        {"a dynamo error value gives its code and message", dynamo_errors},
        {"a syntax error: SyntaxError and the position", syntax_error},
        {"a missing file: FileNotFound; unreadable: FileError", missing_file},
        {"NULL runtime and bad arguments: DYNAMO_ERR_ARG with a message", bad_arguments},
        {"settings are checked and visible as host.config", settings},
        {"db is made on first use from the settings, again after a change", lazy_client},
        {"the profile setting selects the profile's credentials and region", profile},
        {"globals persist between runs; dynamo is require 'dynamo'", globals},
        {"every module comes from the library, cjson from package.cpath", builtin_modules},
        {"dynamo_lua gives the Lua state", escape_hatch},
        {"out of memory at each allocation of a run: an error code, never a crash; usable after", out_of_memory},
        {0, 0},
    };
    return tap_run(tests);
}
