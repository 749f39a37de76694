/* An example host: a C program that embeds the dynamo runtime and lets a
 * Lua script do its DynamoDB work. The host decides which table the script
 * uses (host.table_name()) and hears what it does (host.notify(text)).
 *
 *   embed_host [SCRIPT [ARGS...]]     (SCRIPT: script.lua next to this file)
 *   DYNAMO_ENDPOINT   the DynamoDB endpoint, e.g. http://127.0.0.1:8000 for
 *                     DynamoDB Local (default: AWS's, from AWS_REGION)
 *   EXAMPLE_TABLE     the table (default "embed_example")
 * Credentials come from the usual AWS chain (AWS_ACCESS_KEY_ID ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynamo.h"

#ifndef EXAMPLE_SCRIPT
#define EXAMPLE_SCRIPT "script.lua"
#endif

typedef struct {
    const char *table;
    int notes;
} app;

/* host.table_name() -> the table to use */
static int table_name(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    const app *a = ud;
    (void)argc, (void)argv, (void)lens;
    return dynamo_reply_string(r, a->table, strlen(a->table));
}

/* host.notify(text): prints the text; an error value for no text. */
static int notify(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    app *a = ud;
    (void)lens;
    if (argc < 1 || !argv[0])
        return dynamo_reply_error(r, "BadCall", "notify needs a message");
    printf("[host] %s\n", argv[0]);
    a->notes++;
    return dynamo_reply_boolean(r, 1);
}

int main(int argc, char **argv)
{
    app a = {getenv("EXAMPLE_TABLE") ? getenv("EXAMPLE_TABLE") : "embed_example", 0};
    const char *script = argc > 1 ? argv[1] : EXAMPLE_SCRIPT;
    const char *endpoint = getenv("DYNAMO_ENDPOINT");
    int status = 0;
    dynamo_runtime *rt = dynamo_open();
    if (!rt) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    if ((endpoint && dynamo_set(rt, "endpoint", endpoint) != DYNAMO_OK) ||
        dynamo_register(rt, "table_name", table_name, &a) != DYNAMO_OK ||
        dynamo_register(rt, "notify", notify, &a) != DYNAMO_OK) {
        fprintf(stderr, "set-up failed: %s\n", dynamo_error_message(rt));
        dynamo_close(rt);
        return 1;
    }
    printf("[host] running %s against %s, table %s\n", script, endpoint ? endpoint : "AWS", a.table);
    if (dynamo_run_file(rt, script, argc > 2 ? argc - 2 : 0, (const char *const *)argv + 2) != DYNAMO_OK) {
        fprintf(stderr, "[host] the script failed: %s: %s\n", dynamo_error_code(rt), dynamo_error_message(rt));
        status = 1;
    } else {
        const char *result = dynamo_result(rt, NULL);
        printf("[host] the script returned %s after %d notes\n", result ? result : "nothing", a.notes);
    }
    dynamo_close(rt);
    return status;
}
