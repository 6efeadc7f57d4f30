/* Helpers of the scale-out tests (shards, merge, mpirun): running the CLI with
 * its stderr captured, comparing files byte for byte and evaluation reports
 * field by field. Header-only: each test program includes it once. */
#ifndef PACT_SCALEOUT_CLI_H
#define PACT_SCALEOUT_CLI_H

#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char so_dir[64];          /* the test's temporary folder */
static char so_err[8192];        /* stderr of the last command */
static char so_out[1 << 16];     /* stdout of the last command */
static char so_model[4096], so_train[4096], so_test[4096];

/* Finds the shared data and makes the temporary folder; 0 when data is missing. */
static inline int so_setup(const char *name)
{
    const char *p = pact_test_data("models/resnet20.safetensors");
    if (p)
        snprintf(so_model, sizeof so_model, "%s", p);
    const char *tr = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    if (tr)
        snprintf(so_train, sizeof so_train, "%s", tr);
    const char *te = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    if (te)
        snprintf(so_test, sizeof so_test, "%s", te);
    CHECK(p && tr && te, "%s: shared model or images missing", name);
    snprintf(so_dir, sizeof so_dir, "/tmp/pact_%s_XXXXXX", name);
    CHECK(mkdtemp(so_dir) != NULL, "mkdtemp %s", so_dir);
    return p && tr && te;
}

/* Runs `fmt` (printf-style, a shell command line) in the temporary folder;
 * stdout to so_out, stderr to so_err. Returns the exit code. */
static inline int so_run(const char *fmt, ...)
{
    char cmd[32768], line[30000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s 2>'%s/stderr.txt'", so_dir, line, so_dir);
    int rc = pact_test_run(cmd, so_out, sizeof so_out);
    char path[256];
    snprintf(path, sizeof path, "%s/stderr.txt", so_dir);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(so_err, 1, sizeof so_err - 1, f) : 0;
    so_err[n] = '\0';
    if (f)
        fclose(f);
    return rc;
}

/* Lines of so_err. */
static inline int so_err_lines(void)
{
    int n = 0;
    for (const char *c = so_err; *c; c++)
        n += *c == '\n';
    return n;
}

/* Path of `name` in the temporary folder (one static buffer per call site
 * would be nicer; callers copy when they need two). */
static inline const char *so_path(const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", so_dir, name);
    return path[k];
}

static inline int so_exists(const char *name)
{
    struct stat sb;
    return stat(so_path(name), &sb) == 0;
}

/* 1 when the two files in the temporary folder have the same bytes. */
static inline int so_same_file(const char *a, const char *b)
{
    FILE *fa = fopen(so_path(a), "rb"), *fb = fopen(so_path(b), "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Compares two `eval --json` objects as polyact printed them: every field
 * but the timing ones (seconds, images_per_second) must print identically.
 * Returns the first differing field's name, or NULL. */
static inline const char *so_eval_diff(const char *json_a, const char *json_b)
{
    static char field[64];
    cJSON *a = cJSON_Parse(json_a), *b = cJSON_Parse(json_b);
    const char *bad = NULL;
    if (!a || !b)
        bad = "(not JSON)";
    static const char *const timing[] = {"seconds", "images_per_second"};
    for (int i = 0; !bad && i < 2; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(a, timing[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(b, timing[i]);
    }
    if (!bad && cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        bad = "(number of fields)";
    for (cJSON *x = a ? a->child : NULL; !bad && x; x = x->next) {
        cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        char *tx = cJSON_PrintUnformatted(x), *ty = y ? cJSON_PrintUnformatted(y) : NULL;
        if (!tx || !ty || strcmp(tx, ty) != 0) {
            snprintf(field, sizeof field, "%s", x->string);
            bad = field;
        }
        free(tx);
        free(ty);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    return bad;
}

/* A number field of a JSON object text, NaN when absent. */
static inline double so_json_number(const char *json, const char *key)
{
    cJSON *o = cJSON_Parse(json);
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0.0 / 0.0;
    cJSON_Delete(o);
    return d;
}

/* Removes the temporary folder. */
static inline void so_cleanup(void)
{
    if (so_dir[0] && !getenv("POLYACT_KEEP_TMP")) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", so_dir);
        pact_test_run(cmd, NULL, 0);
    }
}

#endif
