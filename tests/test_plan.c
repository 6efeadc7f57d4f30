/* plan.json: round trip (exact coefficients, byte-identical re-save), closed-form
 * evaluation of both forms, and rejection of malformed files with a message
 * naming the file and the field. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n;

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    size_t got = fread(s, 1, (size_t)len, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static void expect_reject(const char *dir, const char *name, const char *text, const char *needle)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    write_text(path, text);
    pact_plan *p = NULL;
    pact_error err = {0};
    pact_status st = pact_plan_load(path, &p, &err);
    CHECK(st == PACT_EFORMAT && p == NULL, "%s: status %s", name, pact_status_str(st));
    CHECK(strstr(err.message, path) != NULL && strstr(err.message, needle) != NULL,
          "%s: message '%s' should name the file and '%s'", name, err.message, needle);
    pact_plan_free(p);
    n += 2;
}

int main(void)
{
    char dir[] = "/tmp/pact_test_plan_XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_create("tiny", "abc123", 2, &plan, &err), &err);
    if (!plan)
        return 1;

    /* layer 0: x^2 on [-2, 2] = 2 + 2 T_2(x/2) (Chebyshev identity) */
    double c0[3] = {2.0, 0.0, 2.0};
    const double *c0p[1] = {c0};
    int d0[1] = {2};
    pact_plan_layer l0 = {.name = "act0", .func = PACT_RELU, .form = PACT_FORM_POLY, .a = -2.0,
                          .b = 2.0, .n_parts = 1, .degrees = d0, .cheb = c0p,
                          .max_error = 0.1 + 1.0 / 3.0, .impact = NAN};
    CHECK_OK(pact_plan_set_layer(plan, 0, &l0, &err), &err);
    /* layer 1: composite relu, bound 4, one part s(u) = u on [-1, 1]:
     * output 4 u (1 + u) / 2 with u = x / 4 */
    double c1[2] = {0.0, 1.0};
    const double *c1p[1] = {c1};
    int d1[1] = {1};
    double pa[1] = {-1.0}, pb[1] = {1.0};
    pact_plan_layer l1 = {.name = "act1", .func = PACT_RELU, .form = PACT_FORM_COMPOSITE,
                          .a = -4.0, .b = 4.0, .bound = 4.0, .n_parts = 1, .degrees = d1,
                          .part_a = pa, .part_b = pb, .cheb = c1p, .max_error = NAN,
                          .impact = 0.25};
    CHECK_OK(pact_plan_set_layer(plan, 1, &l1, &err), &err);
    CHECK_OK(pact_plan_set_summary(plan, "latency_s", 123.456789, &err), &err);
    CHECK_OK(pact_plan_set_note(plan, "cost_profile", "mpcnn-log", &err), &err);
    n += 4;

    for (double x = -2.0; x <= 2.0; x += 0.125) {
        double v = pact_plan_layer_eval(plan, 0, x);
        CHECK(fabs(v - x * x) < 1e-14, "poly x^2 at %g: %.17g", x, v);
        double u = x / 4.0, w = pact_plan_layer_eval(plan, 1, x);
        CHECK(fabs(w - 4.0 * u * (1.0 + u) / 2.0) < 1e-14, "composite at %g: %.17g", x, w);
        n += 2;
    }
    pact_plan_layer got;
    CHECK_OK(pact_plan_layer_get(plan, 1, &got, &err), &err);
    CHECK(got.depth == 2, "composite depth %d, expected 1 (degree 1) + 1 (product)", got.depth);
    n += 2;

    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/plan.json", dir);
    snprintf(path2, sizeof path2, "%s/plan2.json", dir);
    CHECK_OK(pact_plan_save(plan, path, &err), &err);
    pact_plan *back = NULL;
    CHECK_OK(pact_plan_load(path, &back, &err), &err);
    n += 2;
    if (back) {
        CHECK(pact_plan_layer_count(back) == 2 && strcmp(pact_plan_model_sha256(back), "abc123") == 0,
              "model identity survives");
        for (double x = -3.0; x <= 3.0; x += 0.0625) {
            CHECK(pact_plan_layer_eval(back, 0, x) == pact_plan_layer_eval(plan, 0, x) &&
                      pact_plan_layer_eval(back, 1, x) == pact_plan_layer_eval(plan, 1, x),
                  "round trip evaluates identically at %g", x);
            n++;
        }
        double lat = 0.0;
        CHECK_OK(pact_plan_get_summary(back, "latency_s", &lat, &err), &err);
        CHECK(lat == 123.456789, "summary value %.17g", lat);
        const char *note = pact_plan_get_note(back, "cost_profile");
        CHECK(note && strcmp(note, "mpcnn-log") == 0, "note survives");
        pact_plan_layer g0;
        CHECK_OK(pact_plan_layer_get(back, 0, &g0, &err), &err);
        CHECK(g0.max_error == l0.max_error && isnan(g0.impact), "max_error exact, impact null");
        CHECK_OK(pact_plan_save(back, path2, &err), &err);
        char *a = slurp(path), *b = slurp(path2);
        CHECK(a && b && strcmp(a, b) == 0, "re-saved plan is byte-identical");
        free(a);
        free(b);
        n += 7;
    }
    pact_plan_free(back);

    /* coefficients survive a save/load bit for bit (cJSON's own printer would
     * drop the last bit of some: 15 digits when they read back within 1 ulp) */
    {
        enum { D = 200 };
        double rc[D + 1];
        unsigned long long state = 12345;
        for (int j = 0; j <= D; j++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            rc[j] = ((double)(state >> 11) * 0x1p-53 - 0.5) * pow(10.0, (double)(j % 7) - 3);
        }
        const double *rcp[1] = {rc};
        int dr[1] = {D};
        pact_plan *rp = NULL, *rb = NULL;
        pact_plan_layer lr = {.name = "r", .func = PACT_GELU, .form = PACT_FORM_POLY, .a = -0.1,
                              .b = 0.7, .n_parts = 1, .degrees = dr, .cheb = rcp,
                              .max_error = 1.0 / 3.0, .impact = 2.0 / 3.0};
        char rpath[600];
        snprintf(rpath, sizeof rpath, "%s/random.json", dir);
        CHECK_OK(pact_plan_create("r", "", 1, &rp, &err), &err);
        CHECK_OK(pact_plan_set_layer(rp, 0, &lr, &err), &err);
        CHECK_OK(pact_plan_save(rp, rpath, &err), &err);
        CHECK_OK(pact_plan_load(rpath, &rb, &err), &err);
        pact_plan_layer g;
        int exact = rb && pact_plan_layer_get(rb, 0, &g, &err) == PACT_OK;
        for (int j = 0; exact && j <= D; j++)
            exact = g.cheb[0][j] == rc[j];
        CHECK(exact && g.a == -0.1 && g.b == 0.7 && g.max_error == 1.0 / 3.0,
              "201 random coefficients, interval and error read back bit for bit");
        n += 5;
        pact_plan_free(rp);
        pact_plan_free(rb);
    }

    /* invalid layers are refused by set_layer */
    double bad_c[3] = {0.0, NAN, 1.0};
    const double *bad_cp[1] = {bad_c};
    pact_plan_layer lb = l0;
    lb.cheb = bad_cp;
    CHECK(pact_plan_set_layer(plan, 0, &lb, &err) == PACT_EINVAL && strstr(err.message, "act0"),
          "NaN coefficient refused: %s", err.message);
    lb = l0;
    lb.a = 2.0;
    CHECK(pact_plan_set_layer(plan, 0, &lb, &err) == PACT_EINVAL, "a >= b refused");
    lb = l1;
    lb.func = PACT_GELU;
    CHECK(pact_plan_set_layer(plan, 1, &lb, &err) == PACT_EINVAL, "composite gelu refused");
    n += 3;

    /* hostile files */
    const char *head = "{\"format\":\"polyact-plan\",\"version\":1,\"model\":{\"name\":\"m\",\"sha256\":\"\"},";
    char buf[2048];
    expect_reject(dir, "notjson", "{\"format\": ", "not valid JSON");
    expect_reject(dir, "format", "{\"format\":\"other\"}", "format");
    expect_reject(dir, "version", "{\"format\":\"polyact-plan\",\"version\":7}", "version 7");
    snprintf(buf, sizeof buf, "%s\"layers\":[]}", head);
    expect_reject(dir, "nolayers", buf, "layers");
    snprintf(buf, sizeof buf, "%s\"layers\":[{\"index\":0,\"name\":\"r\",\"func\":\"relu\",\"form\":\"poly\","
             "\"interval\":[1,1],\"degree\":1,\"cheb\":[0,1]}]}", head);
    expect_reject(dir, "interval", buf, "interval");
    snprintf(buf, sizeof buf, "%s\"layers\":[{\"index\":0,\"name\":\"r\",\"func\":\"relu\",\"form\":\"poly\","
             "\"interval\":[-1,1],\"degree\":2,\"cheb\":[0,1]}]}", head);
    expect_reject(dir, "ncoef", buf, "cheb");
    snprintf(buf, sizeof buf, "%s\"layers\":[{\"index\":0,\"name\":\"r\",\"func\":\"relu\",\"form\":\"poly\","
             "\"interval\":[-1,1],\"degree\":1,\"cheb\":[0,1e999]}]}", head);
    expect_reject(dir, "inf", buf, "cheb");
    snprintf(buf, sizeof buf, "%s\"layers\":[{\"index\":0,\"name\":\"r\",\"func\":\"relu\",\"form\":\"poly\","
             "\"interval\":[-1,1],\"degree\":4000,\"cheb\":[0,1]}]}", head);
    expect_reject(dir, "degree", buf, "degree");
    snprintf(buf, sizeof buf, "%s\"layers\":[{\"index\":0,\"name\":\"r\",\"func\":\"softplus\",\"form\":\"poly\","
             "\"interval\":[-1,1],\"degree\":1,\"cheb\":[0,1]}]}", head);
    expect_reject(dir, "func", buf, "softplus");
    snprintf(buf, sizeof buf, "%s\"layers\":[{\"index\":0,\"name\":\"r\",\"func\":\"relu\",\"form\":\"poly\","
             "\"interval\":[-1,1],\"degree\":1,\"depth\":5,\"cheb\":[0,1]}]}", head);
    expect_reject(dir, "depth", buf, "depth");
    snprintf(buf, sizeof buf, "%s\"layers\":[{\"index\":0,\"name\":\"r\",\"func\":\"relu\",\"form\":\"composite\","
             "\"interval\":[-1,1],\"bound\":-3,\"components\":[]}]}", head);
    expect_reject(dir, "composite", buf, "composite");
    /* truncated copy of a valid file */
    char *good = slurp(path);
    if (good) {
        good[strlen(good) / 2] = '\0';
        expect_reject(dir, "truncated", good, "not valid JSON (near byte");
        free(good);
    }
    pact_plan *none = NULL;
    char missing[600];
    snprintf(missing, sizeof missing, "%s/missing.json", dir);
    CHECK(pact_plan_load(missing, &none, &err) == PACT_EIO && strstr(err.message, "missing.json"),
          "missing file: %s", err.message);
    n++;

    pact_plan_free(plan);
    pact_plan_free(NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return pact_test_done("test_plan", n);
}
