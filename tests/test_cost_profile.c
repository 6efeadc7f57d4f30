/* Cost profiles: the compiled-in default is the committed file; both shipped
 * profiles derive reproducibly from ../shared/he (tools/make-profiles.py
 * --check); the OpenFHE profile's numbers are the measurement's (read here
 * from the measurement file itself); hostile JSON fails cleanly. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "pann/cost_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static void test_default_is_committed_file(const char *src)
{
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/data/profiles/mpcnn-log.json", src);
    char *text = slurp(path, &len);
    CHECK(text != NULL, "cannot read %s", path);
    CHECK(text && strcmp(text, pact_cost_default_profile_text) == 0,
          "%s differs from the built-in default (%zu vs %zu bytes): run tools/make-profiles.py",
          path, len, strlen(pact_cost_default_profile_text));
    pact_cost_profile *a = NULL, *b = NULL;
    pact_error err;
    CHECK_OK(pact_cost_profile_load(path, &a, &err), &err);
    CHECK_OK(pact_cost_profile_default(&b, &err), &err);
    CHECK(a && b && strcmp(pact_cost_profile_name(a), "mpcnn-log") == 0 &&
              pact_cost_profile_max_level(b) == 16 && pact_cost_profile_fresh_level(b) == 19,
          "default profile: name %s, L %d, fresh %d", b ? pact_cost_profile_name(b) : "?",
          pact_cost_profile_max_level(b), pact_cost_profile_fresh_level(b));
    checks += 5;
    pact_cost_profile_free(a);
    pact_cost_profile_free(b);
    free(text);
}

static void test_derivation_reproducible(const char *src, const char *data)
{
    char cmd[8192], out[4096];
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/make-profiles.py' --he '%s/he' --check 2>&1",
             src, data);
    int rc = pact_test_run(cmd, out, sizeof out);
    CHECK(rc == 0, "make-profiles.py --check: exit %d: %s", rc, out);
    checks++;
}

/* The OpenFHE profile against openfhe-n16-2core.json, read independently. */
static void test_openfhe_numbers(const char *src, const char *measurement)
{
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/data/profiles/openfhe-n16-2core.json", src);
    pact_cost_profile *p = NULL;
    pact_error err;
    CHECK_OK(pact_cost_profile_load(path, &p, &err), &err);
    char *text = slurp(measurement, &len);
    cJSON *m = text ? cJSON_Parse(text) : NULL;
    CHECK(m != NULL, "cannot parse %s", measurement);
    checks += 2;
    if (!p || !m)
        goto done;
    double boot_s = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "bootstrap_s"), "threads_2")->valuedouble;
    for (int s = 1; s <= 3; s++) {
        double ms;
        CHECK_OK(pact_cost_bootstrap_ms(p, s, &ms, &err), &err);
        CHECK(fabs(ms - 1000 * boot_s) < 1e-6, "stage %d bootstrap %g ms, OpenFHE %g s", s, ms,
              boot_s);
        checks += 2;
    }
    const cJSON *series = cJSON_GetObjectItem(m, "chebyshev_series");
    const cJSON *rows = cJSON_GetObjectItem(series, "rows"), *row;
    int n = 0;
    cJSON_ArrayForEach(row, rows)
    {
        int degree = cJSON_GetArrayItem(row, 0)->valueint;
        int levels = cJSON_GetArrayItem(row, 2)->valueint;
        double sec2 = cJSON_GetArrayItem(row, 4)->valuedouble;
        int depth = 0;
        double ms = 0;
        CHECK_OK(pact_cost_poly_depth(p, degree, &depth, &err), &err);
        CHECK(depth == levels, "degree %d: depth %d, OpenFHE measured %d levels", degree, depth,
              levels);
        CHECK_OK(pact_cost_poly_ms(p, degree, 16, &ms, &err), &err);
        CHECK(fabs(ms - 1000 * sec2) < 0.05 + 1e-9 * ms, "degree %d: %g ms, OpenFHE %g s",
              degree, ms, sec2);
        checks += 4;
        n++;
    }
    CHECK(n == 18, "%d series rows", n);
    /* Every degree of each "lo-hi" range of levels_consumed_by_degree. */
    const cJSON *ranges = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "levels_consumed_by_degree"),
                                              "unit_interval");
    const cJSON *r;
    cJSON_ArrayForEach(r, ranges)
    {
        int lo = 0, hi = 0;
        if (sscanf(r->string, "%d-%d", &lo, &hi) != 2)
            hi = lo;
        for (int d = lo; d <= hi; d++) {
            int depth = 0;
            pact_cost_poly_depth(p, d, &depth, &err);
            CHECK(depth == r->valueint, "degree %d: depth %d, OpenFHE range %s: %d", d, depth,
                  r->string, r->valueint);
            checks++;
        }
    }
    /* The ReLU product: ct x ct multiplication (2 threads) at its level. */
    const cJSON *ops = cJSON_GetObjectItem(m, "ops_ms");
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(ops, "rows"))
    {
        int level = cJSON_GetArrayItem(row, 0)->valueint;
        double mult = cJSON_GetArrayItem(row, 2)->valuedouble, ms = 0;
        CHECK_OK(pact_cost_product_ms(p, level, &ms, &err), &err);
        CHECK(fabs(ms - mult) < 1e-9, "product at level %d: %g ms, OpenFHE %g", level, ms, mult);
        checks += 2;
    }
    int depth = 0;
    CHECK(pact_cost_poly_depth(p, 600, &depth, &err) == PACT_EUNSUPPORTED,
          "degree 600 beyond the OpenFHE table must be unsupported");
    checks++;
done:
    cJSON_Delete(m);
    free(text);
    pact_cost_profile_free(p);
}

/* --- hostile input ---------------------------------------------------------- */

static pact_status parse(const char *text, size_t len, pact_error *err)
{
    pact_cost_profile *p = NULL;
    pact_status st = pact_cost_profile_parse(text, len, "t.json", &p, err);
    if (st == PACT_OK) {
        int L = pact_cost_profile_max_level(p);
        CHECK(p && L >= 1 && L <= 60, "accepted profile with L %d", L);
    } else {
        CHECK(p == NULL, "failed parse left a profile");
        CHECK(err->message[0] != '\0', "status %s without a message", pact_status_str(st));
    }
    pact_cost_profile_free(p);
    return st;
}

/* Replaces the first `from` in the default text by `to`, parses it, expects
 * EFORMAT with `field` in the message. */
static void expect_bad(const char *from, const char *to, const char *field)
{
    const char *base = pact_cost_default_profile_text;
    const char *at = strstr(base, from);
    CHECK(at != NULL, "mutation source '%s' not in the default text", from);
    checks++;
    if (!at)
        return;
    size_t n = strlen(base) + strlen(to) + 1;
    char *t = malloc(n);
    size_t pre = (size_t)(at - base);
    memcpy(t, base, pre);
    strcpy(t + pre, to);
    strcat(t, at + strlen(from));
    pact_error err = {PACT_OK, ""};
    pact_status st = parse(t, strlen(t), &err);
    CHECK(st == PACT_EFORMAT && strstr(err.message, field) && strstr(err.message, "t.json"),
          "'%s' -> '%s': %s '%s', expected EFORMAT naming %s", from, to, pact_status_str(st),
          err.message, field);
    checks++;
    free(t);
}

static void test_hostile(void)
{
    expect_bad("\"polyact-cost\"", "\"polyact-plan\"", "format");
    expect_bad("\"version\": 1", "\"version\": 2", "version");
    expect_bad("\"version\": 1", "\"version\": \"1\"", "version");
    expect_bad("\"name\": \"mpcnn-log\"", "\"name\": \"a b\"", "name");
    expect_bad("\"name\": \"mpcnn-log\"", "\"name\": \"\"", "name");
    expect_bad("\"max\": 16", "\"max\": 0", "levels.max");
    expect_bad("\"max\": 16", "\"max\": 61", "levels.max");
    expect_bad("\"max\": 16", "\"max\": 16.5", "levels.max");
    expect_bad("\"fresh\": 19", "\"fresh\": -1", "levels.fresh");
    expect_bad("102369.0", "-1", "bootstrap.ms_by_stage[0]");
    expect_bad("102369.0", "1e400", "bootstrap.ms_by_stage[0]");
    expect_bad("\"ms_by_stage\": [", "\"ms_by_stage\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,",
               "bootstrap.ms_by_stage");
    expect_bad("\"between_components\": false", "\"between_components\": 0",
               "bootstrap.between_components");
    expect_bad("\"bsgs\"", "\"magic\"", "activation.model");
    expect_bad("    4,\n    8,", "    8,\n    4,", "activation.mult_ms_by_level.level");
    expect_bad("    68,\n", "", "activation.mult_ms_by_level.ct_ct");
    expect_bad("    68,\n", "    0,\n", "activation.mult_ms_by_level.ct_ct[0]");
    expect_bad("    15,\n    15,\n    27", "    2000", "activation.calibrate.degrees[0]");
    expect_bad("\"level\": 16", "\"level\": 10", "activation.calibrate");
    expect_bad("\"ms\": 11366.6", "\"ms\": 0", "activation.calibrate.ms");
    expect_bad("\"calibrate\"", "\"calibrated\"", "activation.calibrate");
    expect_bad("\"stages\": [", "\"stages\": [{},", "cifar_resnet.stages");
    expect_bad("\"conv_downsample\"", "\"conv_down\"", "cifar_resnet.stages[1].conv_downsample");
    expect_bad("\"levels\": 2,\n    \"ms\": 16638.0", "\"levels\": 99,\n    \"ms\": 16638.0",
               "cifar_resnet.stem.conv.levels");
    expect_bad("\"ms\": 10130.0", "\"ms\": null", "cifar_resnet.fc.ms");

    /* Not objects, not JSON, truncated at every length. */
    static const char *junk[] = {"", "[]", "3", "null", "{", "{\"format\":", "\"polyact-cost\"",
                                 "{} {}"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        pact_error err;
        CHECK(parse(junk[i], strlen(junk[i]), &err) == PACT_EFORMAT, "'%s' accepted", junk[i]);
        checks++;
    }
    const char *base = pact_cost_default_profile_text;
    size_t len = strlen(base);
    for (size_t cut = 0; cut + 1 < len; cut += 7) { /* len - 1: only the newline gone */
        pact_error err;
        CHECK(parse(base, cut, &err) == PACT_EFORMAT, "truncated at %zu accepted", cut);
        checks++;
    }
    /* Trailing data after a valid profile; a NUL byte inside. */
    size_t blen = strlen(pact_cost_default_profile_text);
    char *tail = malloc(blen + 8);
    memcpy(tail, pact_cost_default_profile_text, blen);
    memcpy(tail + blen, " \n\t x", 5);
    pact_error terr;
    CHECK(parse(tail, blen + 5, &terr) == PACT_EFORMAT && strstr(terr.message, "after"),
          "trailing data: %s", terr.message);
    memcpy(tail + blen, " \n\t  ", 5);
    CHECK(parse(tail, blen + 5, &terr) == PACT_OK, "trailing whitespace: %s", terr.message);
    tail[10] = '\0';
    CHECK(parse(tail, blen, &terr) == PACT_EFORMAT, "NUL inside accepted");
    free(tail);
    checks += 3;
    /* Deep nesting stops at cJSON's limit, not at the stack's. */
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    pact_error err;
    CHECK(parse(deep, 2 * depth, &err) == PACT_EFORMAT, "deep nesting accepted");
    free(deep);
    /* Byte flips: any status, never a crash (ASan watches), never garbage. */
    char *t = malloc(len + 1);
    unsigned seed = 12345;
    for (int i = 0; i < 3000; i++) {
        memcpy(t, base, len + 1);
        for (int f = 0; f < 1 + i % 4; f++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            t[at] = (char)(seed >> 16);
        }
        parse(t, len, &err);
    }
    free(t);
    checks += 2;

    /* Files: missing, a directory, too large. */
    pact_cost_profile *p = NULL;
    CHECK(pact_cost_profile_load("/nonexistent/p.json", &p, &err) == PACT_EIO && !p,
          "missing file: %s", err.message);
    CHECK(pact_cost_profile_load("/", &p, &err) != PACT_OK && !p, "a directory accepted");
    char big[] = "/tmp/polyact-big-profile-XXXXXX";
    int fd = mkstemp(big);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (f) {
        fputc('{', f);
        for (int i = 0; i < (1 << 20); i++)
            fputc(' ', f);
        fputc('}', f);
        fclose(f);
        CHECK(pact_cost_profile_load(big, &p, &err) == PACT_EFORMAT && !p, "1 MiB file: %s",
              err.message);
        remove(big);
    }
    checks += 3;
}

/* A profile without cifar_resnet is valid for hand-built layouts only. */
static void test_generic_profile(void)
{
    static const char text[] =
        "{\"format\":\"polyact-cost\",\"version\":1,\"name\":\"tiny\","
        "\"levels\":{\"max\":5,\"fresh\":5},\"bootstrap\":{\"ms_by_stage\":[100]},"
        "\"activation\":{\"model\":\"series\","
        "\"series_ms_by_degree\":{\"degree\":[2,4],\"ms\":[10,30]},"
        "\"levels_by_degree\":{\"max_degree\":[1,3,7],\"levels\":[1,2,3]},"
        "\"mult_ms_by_level\":{\"level\":[1,5],\"ct_ct\":[1,5],\"scalar\":[0,0]}}}";
    pact_error err;
    pact_cost_profile *p = NULL;
    pact_cost_layout *l = NULL;
    CHECK_OK(pact_cost_profile_parse(text, sizeof text - 1, "tiny", &p, &err), &err);
    CHECK(pact_cost_layout_resnet(p, 20, &l, &err) == PACT_EFORMAT && !l,
          "resnet from a profile without cifar_resnet: %s", err.message);
    /* Series interpolation: proportional below 2, linear inside, last slope above. */
    double ms = 0;
    pact_cost_poly_ms(p, 1, 5, &ms, &err);
    CHECK(fabs(ms - 5) < 1e-12, "degree 1: %g ms, expected 10 * 1/2", ms);
    pact_cost_poly_ms(p, 3, 5, &ms, &err);
    CHECK(fabs(ms - 20) < 1e-12, "degree 3: %g ms, expected 20", ms);
    pact_cost_poly_ms(p, 6, 5, &ms, &err);
    CHECK(fabs(ms - 50) < 1e-12, "degree 6: %g ms, expected 30 + 2 * 10", ms);
    int depth = 0;
    CHECK(pact_cost_poly_depth(p, 8, &depth, &err) == PACT_EUNSUPPORTED, "degree 8 depth");
    double b = 0;
    CHECK(pact_cost_bootstrap_ms(p, 2, &b, &err) == PACT_EINVAL, "stage 2 of 1");
    checks += 7;
    pact_cost_profile_free(p);
}

int main(void)
{
    const char *src = getenv("POLYACT_SOURCE");
    const char *data = getenv("POLYACT_DATA");
    char m[4096] = "";
    const char *measurement = pact_test_data("he/openfhe-n16-2core.json");
    if (measurement) /* pact_test_data's buffer is reused by the next call */
        snprintf(m, sizeof m, "%s", measurement);
    const char *log = pact_test_data("he/mpcnn-resnet20-log.json");
    CHECK(src && data && m[0] && log, "POLYACT_SOURCE, POLYACT_DATA and ../shared/he "
                                      "measurements are required");
    checks++;
    if (src && data && m[0] && log) {
        test_default_is_committed_file(src);
        test_derivation_reproducible(src, data);
        test_openfhe_numbers(src, m);
    }
    test_hostile();
    test_generic_profile();
    return pact_test_done("test_cost_profile", checks);
}
