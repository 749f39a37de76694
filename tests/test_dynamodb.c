/* The runtime against DynamoDB Local (endpoint in DYNAMO_TEST_LOCAL, which
 * `.ci/servers start` writes to .cache/servers.env): a script writes and
 * reads an item in the table the host names, a failed conditional write
 * brings its code back, the log sink gets the client's lines, and a
 * closed port gives ConnectionError. Without DYNAMO_TEST_LOCAL every test
 * is skipped ("ok N - name # SKIP"). */
#include <unistd.h>
#include "tap.h"

static const char *endpoint;
static char table[64];

/* host.table_name(): the table this test run uses. */
static int table_name(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    (void)ud, (void)argc, (void)argv, (void)lens;
    return dynamo_reply_string(r, table, strlen(table));
}

static dynamo_runtime *open_local(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK(rt != NULL);
    CHECK_RUN(rt, dynamo_set(rt, "endpoint", endpoint));
    CHECK_RUN(rt, dynamo_set(rt, "region", "us-east-1"));
    CHECK_RUN(rt, dynamo_register(rt, "table_name", table_name, NULL));
    return rt;
}

static void write_and_read(void)
{
    dynamo_runtime *rt = open_local();
    const char *first[] = {"k1", "42"}, *second[] = {"k2", "7"};
    CHECK_RUN(rt, dynamo_run_file(rt, TESTS_DIR "/scripts/items.lua", 2, first));
    CHECK_STR(dynamo_result(rt, NULL), "k1,42,from C");
    /* The table exists now; the same runtime (and client) goes on. */
    CHECK_RUN(rt, dynamo_run_file(rt, TESTS_DIR "/scripts/items.lua", 2, second));
    CHECK_STR(dynamo_result(rt, NULL), "k2,7,from C");
    CHECK_RUN(rt, dynamo_run_string(rt, "return db:scan { table = host.table_name(), select = 'COUNT' }.Count", "count", 0, NULL));
    CHECK_STR(dynamo_result(rt, NULL), "2");
    dynamo_close(rt);
}

static void conditional_failure(void)
{
    dynamo_runtime *rt = open_local();
    const char *argv[] = {"k3", "1"};
    CHECK(dynamo_run_string(rt,
        "assert(db:put_item { table = host.table_name(), item = { id = 'k1' },\n"
        "  ConditionExpression = 'attribute_not_exists(id)' })", "cond", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "ConditionalCheckFailedException");
    CHECK_HAS(dynamo_error_message(rt), "ConditionalCheckFailedException: ");
    CHECK_HAS(dynamo_error_message(rt), "(PutItem, HTTP 400, request id ");
    /* The runtime and its client go on. */
    CHECK_RUN(rt, dynamo_run_file(rt, TESTS_DIR "/scripts/items.lua", 2, argv));
    CHECK_STR(dynamo_result(rt, NULL), "k3,1,from C");
    /* A script may handle the error itself. */
    CHECK_RUN(rt, dynamo_run_string(rt,
        "local ok, err = db:put_item { table = host.table_name(), item = { id = 'k1' },\n"
        "  ConditionExpression = 'attribute_not_exists(id)' }\n"
        "return err.code", "handled", 0, NULL));
    CHECK_STR(dynamo_result(rt, NULL), "ConditionalCheckFailedException");
    dynamo_close(rt);
}

typedef struct {
    int lines, puts;
    char level[16];
} log_seen;

static void sink(void *ud, const char *level, const char *message)
{
    log_seen *s = ud;
    s->lines++;
    if (strstr(message, "PutItem"))
        s->puts++;
    snprintf(s->level, sizeof s->level, "%s", level);
}

static void log_sink(void)
{
    dynamo_runtime *rt = open_local();
    log_seen s = {0, 0, ""};
    CHECK_RUN(rt, dynamo_set_log(rt, sink, &s));
    CHECK_RUN(rt, dynamo_set(rt, "log_level", "debug"));
    CHECK_RUN(rt, dynamo_run_string(rt,
        "assert(db:put_item { table = host.table_name(), item = { id = 'logged' } })", "log", 0, NULL));
    CHECK(s.puts == 1);
    CHECK_STR(s.level, "debug");
    /* Back to the default sink (stderr) at level off: nothing more here. */
    CHECK_RUN(rt, dynamo_set_log(rt, NULL, NULL));
    CHECK_RUN(rt, dynamo_set(rt, "log_level", "off"));
    CHECK_RUN(rt, dynamo_run_string(rt,
        "assert(db:put_item { table = host.table_name(), item = { id = 'logged' } })", "log", 0, NULL));
    CHECK(s.puts == 1);
    dynamo_close(rt);
}

static void closed_port(void)
{
    dynamo_runtime *rt = dynamo_open();
    CHECK_RUN(rt, dynamo_set(rt, "endpoint", "http://127.0.0.1:1"));
    CHECK_RUN(rt, dynamo_set(rt, "region", "us-east-1"));
    CHECK(dynamo_run_string(rt, "assert(db:list_tables {})", "closed", 0, NULL) == DYNAMO_ERR_SCRIPT);
    CHECK_STR(dynamo_error_code(rt), "ConnectionError");
    CHECK_HAS(dynamo_error_message(rt), "(ListTables)");
    dynamo_close(rt);
}

static void delete_table(void)
{
    dynamo_runtime *rt = open_local();
    CHECK_RUN(rt, dynamo_run_string(rt,
        "assert(db:delete_table { table = host.table_name() }) return 'gone'", "cleanup", 0, NULL));
    CHECK_STR(dynamo_result(rt, NULL), "gone");
    dynamo_close(rt);
}

int main(void)
{
    static const tap_test tests[] = {
        {"a script writes and reads an item on DynamoDB Local in the table the host names", write_and_read},
        {"a failed conditional write: ConditionalCheckFailedException comes back, the runtime goes on", conditional_failure},
        {"the host's log sink receives the client's lines", log_sink},
        {"a closed port: ConnectionError", closed_port},
        {"the script deletes the table", delete_table},
        {0, 0},
    };
    const tap_test *t;
    int n = 0;
    endpoint = getenv("DYNAMO_TEST_LOCAL");
    if (!endpoint || !*endpoint) {
        for (t = tests; t->name; t++)
            printf("ok %d - %s # SKIP DYNAMO_TEST_LOCAL is not set\n", ++n, t->name);
        printf("1..%d\n", n);
        return 0;
    }
    /* DynamoDB Local takes any credentials, but wants some. */
    setenv("AWS_ACCESS_KEY_ID", "embed", 0);
    setenv("AWS_SECRET_ACCESS_KEY", "embed", 0);
    snprintf(table, sizeof table, "embed_test_%ld", (long)getpid());
    return tap_run(tests);
}
