/* The `dynamo` program: the first host of the runtime API (include/dynamo.h)
 * and nothing more. It runs require("dynamo.cli").main(args) with its
 * arguments (args = { argv[1], ..., argv[argc-1] }) and exits with the
 * status that returns: an integer from 0 to 255, true or nothing (0), or
 * false (1). When the run itself fails (the command line module raised,
 * or memory ran out) it prints the error to stderr and exits with 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynamo.h"

static const char MAIN[] = "return require(\"dynamo.cli\").main({ ... })";

/* The exit status for the text of what main returned. */
static int exit_status(const char *result)
{
    char *end;
    long n;
    if (!result || strcmp(result, "true") == 0)
        return 0;
    if (strcmp(result, "false") == 0)
        return 1;
    n = strtol(result, &end, 10);
    if (*result && !*end && n >= 0 && n <= 255)
        return (int)n;
    fprintf(stderr, "dynamo: the command line returned '%s', not an exit status\n", result);
    return 1;
}

int main(int argc, char **argv)
{
    dynamo_runtime *rt = dynamo_open();
    int status;
    if (!rt) {
        fputs("dynamo: out of memory\n", stderr);
        return 1;
    }
    if (dynamo_run_string(rt, MAIN, "dynamo", argc - 1, (const char *const *)argv + 1) != DYNAMO_OK) {
        fprintf(stderr, "dynamo: %s\n", dynamo_error_message(rt));
        status = 1;
    } else {
        status = exit_status(dynamo_result(rt, NULL));
    }
    dynamo_close(rt);
    fflush(stdout);
    return status;
}
