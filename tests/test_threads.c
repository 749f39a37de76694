/* Runtimes used by several threads at once, each thread with its own: the
 * library keeps no global mutable state (libcurl's global init is
 * counted per runtime, and thread-safe in libcurl 7.84 and later). */
#include <pthread.h>
#include "tap.h"

#define THREADS 4
#define PER_THREAD 25

typedef struct {
    int id;
    int ok;       /* runtimes whose every check passed */
    char *error;  /* the first problem, or NULL */
} worker;

static int whoami(void *ud, int argc, const char *const *argv, const size_t *lens, dynamo_reply *r)
{
    const worker *w = ud;
    (void)argc, (void)argv, (void)lens;
    return dynamo_reply_integer(r, w->id);
}

static void note(worker *w, dynamo_runtime *rt, const char *what)
{
    const char *msg = dynamo_error_message(rt);
    size_t n;
    if (w->error)
        return;
    if (!msg)
        msg = dynamo_result(rt, NULL) ? dynamo_result(rt, NULL) : "(no result)";
    n = strlen(what) + strlen(msg) + 3;
    w->error = malloc(n);
    if (w->error)
        snprintf(w->error, n, "%s: %s", what, msg);
}

static void *work(void *arg)
{
    worker *w = arg;
    int i;
    for (i = 0; i < PER_THREAD; i++) {
        char num[16], want[80];
        const char *argv[1] = {num}, *res;
        dynamo_runtime *rt = dynamo_open();
        if (!rt)
            return NULL;   /* counted as missing in w->ok */
        snprintf(num, sizeof num, "%d", i);
        snprintf(want, sizeof want, "thread %d: dynamo.client(eu-west-1, http://127.0.0.1:1/) %d", w->id, i);
        if (dynamo_set(rt, "endpoint", "http://127.0.0.1:1") != DYNAMO_OK ||
            dynamo_set(rt, "region", "eu-west-1") != DYNAMO_OK ||
            dynamo_register(rt, "whoami", whoami, w) != DYNAMO_OK)
            note(w, rt, "set-up");
        else if (dynamo_run_string(rt, "return 'thread ' .. host.whoami() .. ': ' .. tostring(db) .. ' ' .. ...",
                                   "thread", 1, argv) != DYNAMO_OK)
            note(w, rt, "run");
        else if (!(res = dynamo_result(rt, NULL)) || strcmp(res, want) != 0)
            note(w, rt, "result");
        else if (dynamo_run_string(rt, "error('boom')", "fail", 0, NULL) != DYNAMO_ERR_SCRIPT)
            note(w, rt, "failing run");
        else
            w->ok++;
        dynamo_close(rt);
    }
    return NULL;
}

static void threads(void)
{
    pthread_t tids[THREADS];
    worker workers[THREADS];
    int i;
    for (i = 0; i < THREADS; i++) {
        workers[i].id = i;
        workers[i].ok = 0;
        workers[i].error = NULL;
        CHECK(pthread_create(&tids[i], NULL, work, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(tids[i], NULL) == 0);
        if (workers[i].error)
            printf("# thread %d: %s\n", i, workers[i].error);
        CHECK(workers[i].ok == PER_THREAD);
        free(workers[i].error);
    }
}

int main(void)
{
    static const tap_test tests[] = {
        {"4 threads open, use and close 25 runtimes each at the same time", threads},
        {0, 0},
    };
    return tap_run(tests);
}
