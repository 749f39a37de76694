/* Host functions: arguments as text, every kind of reply, errors as dynamo
 * error values (and raised through assert), non-zero returns, bad names,
 * calls from coroutines, and API calls from inside a run. */
#include "tap.h"

/* What the last call of `record` received. */
typedef struct {
    int argc;
    char *argv[8];
    size_t lens[8];
    int nulls;
} seen;

static void forget(seen *s)
{
    int i;
    for (i = 0; i < 8; i++) {
        free(s->argv[i]);
        s->argv[i] = NULL;
    }
    s->argc = s->nulls = 0;
}

/* host.record(...): keeps its arguments, replies how many there were. */
static int record(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    seen *s = ud;
    int i;
    forget(s);
    s->argc = argc;
    for (i = 0; i < argc && i < 8; i++) {
        s->lens[i] = lens[i];
        if (!argv[i]) {
            s->nulls++;
            continue;
        }
        s->argv[i] = malloc(lens[i] + 1);
        memcpy(s->argv[i], argv[i], lens[i] + 1);
    }
    CHECK(argv[argc] == NULL);
    return dynamo_reply_integer(r, argc);
}

#define JSON "{\"name\":\"Ada\",\"tags\":[\"x\",\"y\"],\"none\":null}"

/* host.values(): one value of each kind. */
static int values(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud, (void)argc, (void)argv, (void)lens;
    CHECK(dynamo_reply_string(r, "a\0b", 3) == DYNAMO_OK);
    CHECK(dynamo_reply_integer(r, -9007199254740993LL) == DYNAMO_OK);
    CHECK(dynamo_reply_number(r, 0.25) == DYNAMO_OK);
    CHECK(dynamo_reply_boolean(r, 7) == DYNAMO_OK);
    CHECK(dynamo_reply_json(r, JSON, strlen(JSON)) == DYNAMO_OK);
    /* Bad JSON and NULL strings add nothing. */
    CHECK(dynamo_reply_json(r, "{oops", 5) == DYNAMO_ERR_ARG);
    CHECK(dynamo_reply_json(r, NULL, 0) == DYNAMO_ERR_ARG);
    CHECK(dynamo_reply_string(r, NULL, 0) == DYNAMO_ERR_ARG);
    return 0;
}

/* host.lookup(id): "Ada" for "u1", else a NotFound error. */
static int lookup(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud, (void)lens;
    if (argc == 1 && argv[0] && strcmp(argv[0], "u1") == 0)
        return dynamo_reply_string(r, "Ada", 3);
    dynamo_reply_string(r, "dropped", 7);   /* an error drops earlier values */
    CHECK(dynamo_reply_error(r, "NotFound", "no such user") == DYNAMO_OK);
    CHECK(dynamo_reply_string(r, "late", 4) == DYNAMO_ERR_STATE);
    return 0;
}

/* host.broken(): fails without saying why. */
static int broken(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud, (void)argc, (void)argv, (void)lens, (void)r;
    return 3;
}

/* host.nocode(): an error with neither code nor message. */
static int nocode(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud, (void)argc, (void)argv, (void)lens;
    return dynamo_reply_error(r, NULL, NULL);
}

static int one(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud, (void)argc, (void)argv, (void)lens;
    return dynamo_reply_integer(r, 1);
}

static int two(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud, (void)argc, (void)argv, (void)lens;
    return dynamo_reply_integer(r, 2);
}

/* host.reenter(): calls the API on its own runtime, which must refuse. */
static int reenter(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    dynamo_runtime *rt = ud;
    (void)argc, (void)argv, (void)lens;
    CHECK(dynamo_run_string(rt, "return 1", NULL, 0, NULL) == DYNAMO_ERR_STATE);
    CHECK_STR(dynamo_error_code(rt), "InvalidState");
    CHECK_STR(dynamo_error_message(rt), "dynamo_run_string: called from inside a run of the same runtime");
    CHECK(dynamo_run_file(rt, "x.lua", 0, NULL) == DYNAMO_ERR_STATE);
    CHECK(dynamo_set(rt, "region", "x") == DYNAMO_ERR_STATE);
    CHECK(dynamo_set_log(rt, NULL, NULL) == DYNAMO_ERR_STATE);
    CHECK(dynamo_register(rt, "other", one, NULL) == DYNAMO_ERR_STATE);
    return dynamo_reply_string(r, "refused", 7);
}

static void expect(dynamo_runtime *rt, const char *code, const char *want)
{
    CHECK_RUN(rt, dynamo_run_string(rt, code, "test", 0, NULL));
    CHECK_STR(dynamo_result(rt, NULL), want);
}

static void arguments_as_text(void)
{
    dynamo_runtime *rt = dynamo_open();
    seen s = {0};
    CHECK_RUN(rt, dynamo_register(rt, "record", record, &s));
    expect(rt, "return host.record('s', 42, 1.5, true, nil, { 1, 2 }, dynamo.null, 'a\\0b')", "8");
    CHECK(s.argc == 8 && s.nulls == 1);
    CHECK_STR(s.argv[0], "s");
    CHECK_STR(s.argv[1], "42");
    CHECK_STR(s.argv[2], "1.5");
    CHECK_STR(s.argv[3], "true");
    CHECK(s.argv[4] == NULL && s.lens[4] == 0);
    CHECK_STR(s.argv[5], "[1,2]");
    CHECK_STR(s.argv[6], "null");
    CHECK(s.lens[7] == 3 && memcmp(s.argv[7], "a\0b", 4) == 0);
    expect(rt, "return host.record()", "0");
    CHECK(s.argc == 0);
    /* Numbers are converted as copies: the script's values stay numbers. */
    expect(rt, "local n = 5 host.record(n) return math.type(n)", "integer");
    forget(&s);
    dynamo_close(rt);
}

static void replies(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_register(rt, "values", values, NULL));
    expect(rt,
        "local s, i, x, b, t, extra = host.values()\n"
        "return table.concat({ #s, math.type(i), tostring(i), tostring(x), tostring(b), t.name, t.tags[2],\n"
        "  tostring(t.none == dynamo.null), tostring(extra) }, ' ')",
        "3 integer -9007199254740993 0.25 true Ada y true nil");
    dynamo_close(rt);
}

static void errors_as_values(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_register(rt, "lookup", lookup, NULL));
    CHECK_RUN(rt, dynamo_register(rt, "nocode", nocode, NULL));
    expect(rt, "return host.lookup('u1')", "Ada");
    expect(rt,
        "local v, err = host.lookup('u2')\n"
        "return table.concat({ tostring(v), err.code, err.message, err.operation, tostring(err),\n"
        "  tostring(dynamo.is_error(err)), tostring(err.retryable) }, '|')",
        "nil|NotFound|no such user|host.lookup|NotFound: no such user (host.lookup)|true|false");
    expect(rt, "local _, err = host.nocode() return tostring(err)", "HostError: HostError (host.nocode)");
    dynamo_close(rt);
}

static void errors_raised(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_register(rt, "lookup", lookup, NULL));
    CHECK(dynamo_run_string(rt, "local name = assert(host.lookup('u2'))", "find", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "NotFound");
    CHECK_STR(dynamo_error_message(rt), "NotFound: no such user (host.lookup)");
    CHECK(dynamo_run_string(rt, "error((select(2, host.lookup('u3'))))", NULL, 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "NotFound");
    expect(rt, "return host.lookup('u1')", "Ada");
    dynamo_close(rt);
}

static void nonzero_return(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_register(rt, "broken", broken, NULL));
    expect(rt, "local v, err = host.broken() return tostring(v) .. ' ' .. tostring(err)",
           "nil HostError: host function 'broken' failed (it returned 3) (host.broken)");
    dynamo_close(rt);
}

static void registration(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_register(rt, "f", one, NULL));
    expect(rt, "return host.f()", "1");
    CHECK_RUN(rt, dynamo_register(rt, "f", two, NULL));
    expect(rt, "return host.f()", "2");
    CHECK_RUN(rt, dynamo_register(rt, "_under_score9", one, NULL));
    CHECK(dynamo_register(rt, "config", one, NULL) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_register: host.config holds the settings");
    CHECK(dynamo_register(rt, "9lives", one, NULL) == DYNAMO_ERR_ARG);
    CHECK_STR(dynamo_error_message(rt), "dynamo_register: name '9lives' is not an identifier (letters, digits, _)");
    CHECK(dynamo_register(rt, "a-b", one, NULL) == DYNAMO_ERR_ARG);
    CHECK(dynamo_register(rt, "", one, NULL) == DYNAMO_ERR_ARG);
    expect(rt, "return type(host.config) .. ' ' .. tostring(rawget(host, 'a-b'))", "table nil");
    dynamo_close(rt);
}

static void coroutines(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_register(rt, "lookup", lookup, NULL));
    expect(rt,
        "local co = coroutine.wrap(function(id) local v = host.lookup(id) coroutine.yield(v) return 'end' end)\n"
        "local a = co('u1') local b = co() return a .. ' ' .. b",
        "Ada end");
    /* Inside dynamo.gather's tasks too. */
    expect(rt,
        "local a, b = dynamo.gather(function() return host.lookup('u1') end,\n"
        "  function() local _, err = host.lookup('u2') return err.code end)\n"
        "return a .. ' ' .. b",
        "Ada NotFound");
    dynamo_close(rt);
}

static void reentrancy(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_register(rt, "reenter", reenter, rt));
    expect(rt, "return host.reenter()", "refused");
    CHECK(dynamo_error_code(rt) == NULL);
    expect(rt, "return 'after'", "after");
    dynamo_close(rt);
}

int main(void)
{
    static const tap_test tests[] = {
        {"host function arguments arrive as text (tables as JSON, nil as NULL)", arguments_as_text},
        {"replies: string with a NUL, integer, number, boolean, JSON", replies},
        {"a host error reaches the script as nil, err (a dynamo error value)", errors_as_values},
        {"a host error the script raises ends the run with its code", errors_raised},
        {"a non-zero return without a reply error is a HostError", nonzero_return},
        {"registering again replaces; bad names are refused", registration},
        {"host functions called from coroutines and gather tasks", coroutines},
        {"API calls from inside a run are refused with InvalidState", reentrancy},
        {0, 0},
    };
    return tap_run(tests);
}
