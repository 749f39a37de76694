/* A tiny TAP harness for the C tests: TEST(name) { ... CHECK(cond); ... }
 * and tap_run(tests). Each test prints "ok N - name" or "not ok N - name"
 * with "# " lines saying which checks failed; the program exits 1 when
 * any test failed. .ci/embed renumbers the lines of every program. */
#ifndef DYNAMO_TESTS_TAP_H
#define DYNAMO_TESTS_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynamo.h"

static int tap_failures;   /* failed checks in the current test */

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            tap_failures++;                                                    \
        }                                                                      \
    } while (0)

/* Two strings are equal (either may be NULL). */
#define CHECK_STR(got, want)                                                              \
    do {                                                                                  \
        const char *g_ = (got), *w_ = (want);                                             \
        if (!(g_ == w_ || (g_ && w_ && strcmp(g_, w_) == 0))) {                           \
            printf("# %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #got,  \
                   g_ ? g_ : "(null)", w_ ? w_ : "(null)");                               \
            tap_failures++;                                                               \
        }                                                                                 \
    } while (0)

/* A string contains another. */
#define CHECK_HAS(got, part)                                                                  \
    do {                                                                                      \
        const char *g_ = (got), *p_ = (part);                                                 \
        if (!g_ || !strstr(g_, p_)) {                                                         \
            printf("# %s:%d: %s is \"%s\", which does not contain \"%s\"\n", __FILE__, __LINE__, \
                   #got, g_ ? g_ : "(null)", p_);                                             \
            tap_failures++;                                                                   \
        }                                                                                     \
    } while (0)

/* A run succeeded; prints the error when not. */
#define CHECK_RUN(rt, call)                                                                \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != DYNAMO_OK) {                                                            \
            printf("# %s:%d: %s returned %d: %s: %s\n", __FILE__, __LINE__, #call, rc_,    \
                   dynamo_error_code(rt), dynamo_error_message(rt));                       \
            tap_failures++;                                                                \
        }                                                                                  \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} tap_test;

/* Runs the tests (the array ends with {0}); returns the exit status. */
static int tap_run(const tap_test *tests)
{
    int n = 0, failed = 0;
    for (; tests->name; tests++) {
        tap_failures = 0;
        tests->fn();
        printf("%s %d - %s\n", tap_failures ? "not ok" : "ok", ++n, tests->name);
        fflush(stdout);
        failed += tap_failures != 0;
    }
    printf("1..%d\n", n);
    return failed ? 1 : 0;
}

#endif
