/* Helpers for tests that compare the network engine with the PyTorch reference
 * script tests/reference/resnet_ref.py. Header-only (static functions). */
#ifndef PACT_NN_REF_H
#define PACT_NN_REF_H

#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A Python interpreter that can import torch: $POLYACT_PYTHON, python3 or
 * /usr/bin/python3 (Debian's python3-torch), first that works; NULL (and a
 * message) when none does: the test must then fail. */
static const char *nn_ref_python(void)
{
    static char found[1024];
    const char *env = getenv("POLYACT_PYTHON");
    const char *cands[] = {env, "python3", "/usr/bin/python3"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        if (!cands[i] || !*cands[i])
            continue;
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "%s -c 'import torch, numpy' >/dev/null 2>&1", cands[i]);
        if (pact_test_run(cmd, NULL, 0) == 0) {
            snprintf(found, sizeof found, "%s", cands[i]);
            return found;
        }
    }
    fprintf(stderr, "no python3 with torch and numpy (set POLYACT_PYTHON; tools/deps.sh "
                    "installs python3-torch)\n");
    return NULL;
}

/* Path of the reference script (under $POLYACT_SOURCE). */
static const char *nn_ref_script(void)
{
    static char path[4096];
    const char *src = getenv("POLYACT_SOURCE");
    snprintf(path, sizeof path, "%s/tests/reference/resnet_ref.py", src && *src ? src : ".");
    return path;
}

/* Runs the reference with `args`; stdout (JSON) into a new malloc'd string, or
 * NULL on failure. */
static char *nn_ref_run(const char *args)
{
    const char *py = nn_ref_python();
    if (!py)
        return NULL;
    size_t cap = 64u << 20;
    size_t len = strlen(py) + strlen(nn_ref_script()) + strlen(args) + 3;
    char *out = malloc(cap), *cmd = malloc(len);
    if (cmd)
        snprintf(cmd, len, "%s %s %s", py, nn_ref_script(), args);
    if (!out || !cmd || pact_test_run(cmd, out, cap) != 0) {
        fprintf(stderr, "reference failed: %s\n", cmd ? cmd : args);
        free(out);
        out = NULL;
    }
    free(cmd);
    return out;
}

#endif
