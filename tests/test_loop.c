/* Opens, uses and closes 200 runtimes, one after the other: each is
 * configured, gets a host function and a log sink, runs a script that
 * loads dynamo, makes its client and calls the host, then a failing
 * script, a syntax error, a missing file and a host error, and is closed.
 * .ci/embed runs it under valgrind (no definitely or indirectly lost
 * block, no memcheck error) and in the ASan+UBSan build (LeakSanitizer). */
#include "tap.h"

#define RUNTIMES 200

static int greet(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud;
    if (argc != 1 || !argv[0])
        return dynamo_reply_error(r, "BadCall", "greet wants one name");
    CHECK(dynamo_reply_string(r, "hello ", 6) == DYNAMO_OK);
    return dynamo_reply_string(r, argv[0], lens[0]);
}

static void sink(void *ud, const char *level, const char *message)
{
    (void)ud, (void)level, (void)message;
}

static const char WORK[] =
    "local greeting, name = host.greet(...)\n"
    "local client = db                          -- made now: codec, signer, curl handle\n"
    "local built = dynamo.update():set('n', dynamo.attr('n') + 1)\n"
    "local item = { id = name, list = dynamo.list { 1, 2.5 }, d = dynamo.decimal('1.25') }\n"
    "return { greeting = greeting .. name, size = dynamo.item_size(item), client = tostring(client) ~= nil }";

static void many_runtimes(void)
{
    int i, failures = 0;
    for (i = 0; i < RUNTIMES; i++) {
        char name[32];
        const char *argv[1];
        dynamo_runtime *rt = dynamo_open();
        int before = tap_failures;
        CHECK(rt != NULL);
        if (!rt)
            return;
        snprintf(name, sizeof name, "u%d", i);
        argv[0] = name;
        CHECK_RUN(rt, dynamo_set(rt, "endpoint", "http://127.0.0.1:1"));
        CHECK_RUN(rt, dynamo_set(rt, "region", "eu-west-1"));
        CHECK_RUN(rt, dynamo_set(rt, "log_level", "debug"));
        CHECK_RUN(rt, dynamo_set_log(rt, sink, NULL));
        CHECK_RUN(rt, dynamo_register(rt, "greet", greet, NULL));
        CHECK_RUN(rt, dynamo_run_string(rt, WORK, "work", 1, argv));
        /* Key order in JSON follows the table: check the parts. */
        CHECK(dynamo_result(rt, NULL) && strstr(dynamo_result(rt, NULL), "\"client\":true"));
        CHECK(dynamo_result(rt, NULL) && strstr(dynamo_result(rt, NULL), name));
        CHECK(dynamo_run_string(rt, "local t = nil; return t.x", "fail", 0, NULL) == DYNAMO_ERR_SCRIPT);
        CHECK(dynamo_run_string(rt, "return (", "syntax", 0, NULL) == DYNAMO_ERR_SCRIPT);
        CHECK(dynamo_run_file(rt, TESTS_DIR "/scripts/no-such-script.lua", 0, NULL) == DYNAMO_ERR_IO);
        CHECK(dynamo_run_string(rt, "assert(host.greet())", "host", 0, NULL) == DYNAMO_ERR_SCRIPT);
        CHECK_STR(dynamo_error_code(rt), "BadCall");
        CHECK(dynamo_run_string(rt, "error(require('dynamo.errors').new { code = 'X', message = 'y' })",
                                "derr", 0, NULL) == DYNAMO_ERR_SCRIPT);
        CHECK_RUN(rt, dynamo_run_string(rt, "return collectgarbage('count') > 0", "gc", 0, NULL));
        dynamo_close(rt);
        if (tap_failures != before && ++failures > 3)
            break;   /* enough output */
    }
    printf("# %d runtimes opened, used and closed\n", i);
}

int main(void)
{
    static const tap_test tests[] = {
        {"200 runtimes opened, used (runs, failures, host calls, a client) and closed", many_runtimes},
        {0, 0},
    };
    return tap_run(tests);
}
