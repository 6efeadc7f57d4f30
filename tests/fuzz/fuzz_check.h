/* Invariants every fuzz target asserts on each input, beyond "no crash, no
 * leak, no undefined behaviour" (which the sanitizers check): a refusal has a
 * documented status and one line of message naming the input; an accepted
 * input gives an object whose accessors hold up. A violation aborts, so
 * libFuzzer keeps the input as a crash, and the regression replay
 * (tests/fuzz/replay.c) fails on it. */
#ifndef PACT_FUZZ_CHECK_H
#define PACT_FUZZ_CHECK_H

#include "polyact.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond, ...)                                                   \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s: ", __FILE__,      \
                    __LINE__, #cond);                                            \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* A refusal: status one of `allowed` (terminated by PACT_OK), err filled with
 * that status and one non-empty line that names `name`. */
static inline void fuzz_check_refusal(pact_status st, const pact_error *err, const char *name,
                                      const pact_status *allowed)
{
    int known = 0;
    for (const pact_status *a = allowed; *a != PACT_OK; a++)
        known |= *a == st;
    FUZZ_ASSERT(known, "status %s is not documented here (message '%s')",
                pact_status_str(st), err->message);
    FUZZ_ASSERT(err->status == st, "err->status %s, returned %s", pact_status_str(err->status),
                pact_status_str(st));
    FUZZ_ASSERT(err->message[0] && !strchr(err->message, '\n'),
                "message must be one non-empty line: '%s'", err->message);
    /* the message shows a name with control characters as '?', and a long
     * one may be cut at the message's end: look for its start, so shown */
    char shown[33];
    size_t k = 0;
    for (; name[k] && k < sizeof shown - 1; k++)
        shown[k] = (unsigned char)name[k] < 0x20 || name[k] == 0x7f ? '?' : name[k];
    shown[k] = '\0';
    FUZZ_ASSERT(st == PACT_ENOMEM || strstr(err->message, shown) != NULL,
                "message '%s' does not name '%s'", err->message, shown);
}

/* 1 for about one input in `every`, always the same for the same bytes (FNV-1a):
 * the costly stages after a parse (fits, cost walks, forward passes) run on a
 * sample of the inputs, so that each target keeps a high execution rate, and
 * a crash there still reproduces from its input alone. */
static inline int fuzz_sampled(const unsigned char *data, size_t size, unsigned every)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    return h % every == 0;
}

#endif
