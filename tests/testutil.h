/* Tiny test helpers: a failure counter, checks that print both numbers, and the
 * locations of the shared data and of the CLI (set by ctest's environment). */
#ifndef PACT_TESTUTIL_H
#define PACT_TESTUTIL_H

#include "polyact.h"

#include <stdio.h>

extern int pact_test_failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            pact_test_failures++;                                               \
        }                                                                       \
    } while (0)

/* Checks that a call returned PACT_OK; prints the error message otherwise. */
#define CHECK_OK(call, errp)                                                    \
    do {                                                                        \
        pact_status st_ = (call);                                               \
        CHECK(st_ == PACT_OK, "%s: %s", pact_status_str(st_), (errp)->message); \
    } while (0)

/* Ends main: prints "N passed, N failed"-style summary, returns the exit code. */
int pact_test_done(const char *name, int checks_run);

/* $POLYACT_DATA/<rel>, or NULL (and a message) when POLYACT_DATA is unset or the
 * file is missing: tests that need data must then FAIL, not skip. */
const char *pact_test_data(const char *rel);

/* Path of the polyact CLI ($POLYACT_CLI). */
const char *pact_test_cli(void);

/* Runs `cmd` through the shell, stdout to out (may be NULL), returns exit code. */
int pact_test_run(const char *cmd, char *out, size_t out_size);

/* Writes `images` synthetic CIFAR-10 records to `path` (label i % 10): pixel k
 * of image i is (k * a + i * b) mod 256, or, when seed != 0, bytes of the LCG
 * s = s * 1103515245 + 12345 started at seed (bits 16..23). 1 on success. */
int pact_test_write_cifar(const char *path, int images, unsigned a, unsigned b, unsigned seed);

#endif
