/* Per-channel plan layers: storage and views, closed-form evaluation per
 * channel, plan.json version 2 round trip (version 1 kept for plans without
 * them), rejection of malformed channel fields, PANN evaluation through the
 * hook and pact_pann_apply against the closed form (fp64 and fixed point), and
 * exports carrying them (their numbers are checked in test_export). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n;

enum { C = 3, D = 2 };
static const double CA[C] = {-1.0, 0.0, -4.0}, CB[C] = {1.0, 2.0, 4.0};
static const double CC[C][D + 1] = {{0.5, 1.0, 0.25}, {-1.0, 0.5, 2.0}, {0.0, 3.0, -0.5}};

/* c0 + c1 y + c2 (2 y^2 - 1), y the map of [a, b] to [-1, 1]: the closed form */
static double closed(int c, double x)
{
    double y = (2.0 * x - CA[c] - CB[c]) / (CB[c] - CA[c]);
    return CC[c][0] + CC[c][1] * y + CC[c][2] * (2.0 * y * y - 1.0);
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

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

/* Replaces the first `from` in s by `to` (s has room). */
static void replace(char *s, const char *from, const char *to)
{
    char *p = strstr(s, from);
    if (!p)
        return;
    size_t lf = strlen(from), lt = strlen(to);
    memmove(p + lt, p + lf, strlen(p + lf) + 1);
    memcpy(p, to, lt);
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
    CHECK(strstr(err.message, needle) != NULL, "%s: message '%s' should name '%s'", name,
          err.message, needle);
    pact_plan_free(p);
    n += 2;
}

static pact_plan *make_plan(pact_error *err)
{
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_create("tiny", "", 2, &plan, err), err);
    int d = D;
    const double *rows[C] = {CC[0], CC[1], CC[2]};
    pact_plan_layer l0 = {.name = "act0", .func = PACT_RELU, .form = PACT_FORM_POLY, .a = 99,
                          .b = 100, .n_parts = 1, .degrees = &d, .max_error = 0.5,
                          .impact = NAN, .n_channels = C, .channel_a = CA, .channel_b = CB,
                          .channel_cheb = rows};
    CHECK_OK(pact_plan_set_layer(plan, 0, &l0, err), err);
    const double s[3] = {1.0, 0.5, 0.0};
    const double *sp = s;
    pact_plan_layer l1 = {.name = "act1", .func = PACT_RELU, .form = PACT_FORM_POLY, .a = -2,
                          .b = 2, .n_parts = 1, .degrees = &d, .cheb = &sp,
                          .max_error = NAN, .impact = NAN};
    CHECK_OK(pact_plan_set_layer(plan, 1, &l1, err), err);
    n += 3;
    return plan;
}

static void check_views(const pact_plan *plan, const char *what)
{
    pact_plan_layer g;
    pact_error err;
    CHECK_OK(pact_plan_layer_get(plan, 0, &g, &err), &err);
    CHECK(g.n_channels == C && g.degrees[0] == D && g.depth == 2 && g.cheb == NULL,
          "%s: %d channels (want %d), degree %d, depth %d (want 2), cheb %p (want NULL)", what,
          g.n_channels, C, g.degrees[0], g.depth, (const void *)g.cheb);
    CHECK(g.a == -4.0 && g.b == 4.0, "%s: layer interval [%g, %g], hull of the channels [-4, 4]",
          what, g.a, g.b);
    for (int c = 0; g.n_channels == C && c < C; c++)
        CHECK(g.channel_a[c] == CA[c] && g.channel_b[c] == CB[c] &&
              memcmp(g.channel_cheb[c], CC[c], sizeof CC[c]) == 0,
              "%s: channel %d stored [%g, %g]", what, c, g.channel_a[c], g.channel_b[c]);
    double worst = 0.0;
    for (int c = 0; c < C; c++)
        for (double x = -5.0; x <= 5.0; x += 0.37)
            worst = fmax(worst, fabs(pact_plan_layer_eval_channel(plan, 0, c, x) - closed(c, x)));
    CHECK(worst < 1e-12, "%s: per-channel evaluation differs from the closed form by %g", what,
          worst);
    CHECK(isnan(pact_plan_layer_eval(plan, 0, 0.5)), "%s: per-channel layer has no one value",
          what);
    CHECK(isnan(pact_plan_layer_eval_channel(plan, 0, C, 0.5)), "%s: channel %d out of range", what,
          C);
    /* a plain layer: every channel alike */
    double x = 0.7, want = 1.0 + 0.5 * (2.0 * x) / 4.0;
    CHECK(fabs(pact_plan_layer_eval_channel(plan, 1, 5, x) - want) < 1e-15,
          "%s: plain layer, any channel: %g, closed form %g", what,
          pact_plan_layer_eval_channel(plan, 1, 5, x), want);
    n += 7;
}

static void check_pann(const pact_plan *plan, int frac_bits, double tol)
{
    pact_error err;
    pact_pann *pann = NULL;
    pact_arith ar = {.frac_bits = frac_bits};
    CHECK_OK(pact_pann_create(plan, &ar, &pann, &err), &err);
    n++;
    if (!pann)
        return;
    enum { B = 2, S = 4 };
    float x[B * C * S], orig[B * C * S];
    for (int i = 0; i < B * C * S; i++)
        orig[i] = x[i] = (float)(-4.5 + 0.41 * i); /* some outside their channel's interval */
    CHECK_OK(pact_pann_hook(pann, 0, x, B, C, S, &err), &err);
    double worst = 0.0;
    uint64_t outside = 0;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int s = 0; s < S; s++) {
                int i = (b * C + c) * S + s;
                worst = fmax(worst, fabs(x[i] - closed(c, orig[i])) / fmax(1.0, fabs(closed(c, orig[i]))));
                outside += orig[i] < CA[c] || orig[i] > CB[c];
            }
    CHECK(worst < tol, "pann (frac bits %d): relative difference from the closed form %g", frac_bits,
          worst);
    const pact_layer_stats *st = pact_pann_layer_stats(pann, 0);
    CHECK(st->inputs == B * C * S && st->out_of_range == outside,
          "pann stats: %llu inputs (want %d), %llu outside their channel's interval (want %llu)",
          (unsigned long long)st->inputs, B * C * S, (unsigned long long)st->out_of_range,
          (unsigned long long)outside);
    /* pact_pann_apply: one image, channel after channel */
    float y[C * 2];
    for (int i = 0; i < C * 2; i++)
        y[i] = (float)(0.3 * i - 0.8);
    CHECK_OK(pact_pann_apply(pann, 0, y, C * 2, &err), &err);
    double w2 = 0.0;
    for (int i = 0; i < C * 2; i++)
        w2 = fmax(w2, fabs(y[i] - closed(i / 2, 0.3 * i - 0.8)));
    CHECK(w2 < tol * 10, "pact_pann_apply: difference %g", w2);
    CHECK(pact_pann_apply(pann, 0, y, 5, &err) == PACT_EMISMATCH,
          "5 values are not one image of %d channels", C);
    CHECK(pact_pann_hook(pann, 0, x, B, C + 1, 3, &err) == PACT_EMISMATCH,
          "hook with %d channels for a %d-channel layer", C + 1, C);
    n += 6;
    pact_pann_free(pann);
}

int main(void)
{
    char dir[] = "/tmp/pact_test_plan_ch_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    pact_error err;
    pact_plan *plan = make_plan(&err);
    if (!plan)
        return pact_test_done("test_plan_channels", n);
    check_views(plan, "built");

    /* file: version 2, exact round trip, byte-identical re-save */
    char p1[600], p2[600], p3[600];
    snprintf(p1, sizeof p1, "%s/a.json", dir);
    snprintf(p2, sizeof p2, "%s/b.json", dir);
    snprintf(p3, sizeof p3, "%s/c.json", dir);
    CHECK_OK(pact_plan_save(plan, p1, &err), &err);
    pact_plan *back = NULL;
    CHECK_OK(pact_plan_load(p1, &back, &err), &err);
    n += 2;
    if (back) {
        check_views(back, "loaded");
        CHECK_OK(pact_plan_save(back, p2, &err), &err);
        n++;
    }
    char *t1 = slurp(p1), *t2 = slurp(p2);
    CHECK(t1 && t2 && strcmp(t1, t2) == 0, "re-saved per-channel plan differs");
    CHECK(t1 && strstr(t1, "\"version\":\t2") && strstr(t1, "\"channels\""),
          "a plan with per-channel layers is version 2 with 'channels'");
    n += 2;

    /* a plan without them stays version 1 */
    pact_plan *plain = NULL;
    CHECK_OK(pact_plan_create("tiny", "", 1, &plain, &err), &err);
    const double s[2] = {0.0, 1.0};
    const double *sp = s;
    int d1 = 1;
    pact_plan_layer l = {.name = "act0", .func = PACT_RELU, .form = PACT_FORM_POLY, .a = -1,
                         .b = 1, .n_parts = 1, .degrees = &d1, .cheb = &sp, .max_error = NAN,
                         .impact = NAN};
    CHECK_OK(pact_plan_set_layer(plain, 0, &l, &err), &err);
    CHECK_OK(pact_plan_save(plain, p3, &err), &err);
    char *t3 = slurp(p3);
    CHECK(t3 && strstr(t3, "\"version\":\t1") && !strstr(t3, "channels"),
          "a plan without per-channel layers stays version 1");
    n += 4;
    pact_plan_free(plain);

    /* malformed channel fields */
    if (t1) {
        size_t len = strlen(t1) + 256;
        char *m = malloc(len);
        strcpy(m, t1);
        replace(m, "\"version\":\t2", "\"version\":\t1");
        expect_reject(dir, "v1", m, "needs plan version 2");
        strcpy(m, t1);
        replace(m, "[-4, 4]", "[-4, 5]");
        expect_reject(dir, "hull", m, "is not the hull of its channels");
        strcpy(m, t1);
        replace(m, "\"channels\":", "\"cheb\": [1, 2, 3], \"channels\":");
        expect_reject(dir, "both", m, "give 'cheb' or 'channels', not both");
        strcpy(m, t1);
        replace(m, "\"interval\":\t[0, 2]", "\"interval\":\t[2, 0]");
        expect_reject(dir, "order", m, "channel 1 interval");
        strcpy(m, t1);
        replace(m, "\"interval\":\t[-1, 1],\n\t\t\t\t\t\"cheb\":\t[0.5, 1, 0.25]",
                "\"interval\":\t[-1, 1],\n\t\t\t\t\t\"cheb\":\t[0.5, 1]");
        expect_reject(dir, "short", m, "channel 0 needs");
        strcpy(m, t1);
        replace(m, "\"form\":\t\"poly\"", "\"form\":\t\"composite\"");
        expect_reject(dir, "composite", m, "'channels' is for the poly form");
        free(m);
    }

    /* set_layer validation */
    int d = D;
    const double *rows[C] = {CC[0], CC[1], CC[2]};
    double bad_a[C] = {-1.0, 3.0, -4.0};
    pact_plan_layer lc = {.name = "act0", .func = PACT_RELU, .form = PACT_FORM_COMPOSITE,
                          .bound = 1.0, .n_parts = 1, .degrees = &d, .n_channels = C,
                          .channel_a = CA, .channel_b = CB, .channel_cheb = rows};
    CHECK(pact_plan_set_layer(plan, 0, &lc, &err) == PACT_EINVAL && strstr(err.message, "poly form"),
          "composite with channels: %s", err.message);
    lc.form = PACT_FORM_POLY;
    lc.channel_a = bad_a;
    CHECK(pact_plan_set_layer(plan, 0, &lc, &err) == PACT_EINVAL && strstr(err.message, "channel 1"),
          "channel 1 interval [3, 2]: %s", err.message);
    n += 2;

    check_pann(plan, 0, 1e-6);  /* float outputs */
    check_pann(plan, 30, 1e-5); /* 2^-30 grid */

    for (int f = 0; f < 3; f++) {
        char *text = NULL;
        /* exported (the exported numbers are checked in test_export) */
        pact_status st = pact_export(plan, (pact_export_format)f, NULL, &text, &err);
        CHECK(st == PACT_OK && text && strstr(text, f == 2 ? "PACT_C_POLY_CHANNELS" : "\"channels\""),
              "export %s of a per-channel plan: %s (%s)", pact_export_format_name((pact_export_format)f),
              pact_status_str(st), st == PACT_OK ? "" : err.message);
        free(text);
        n++;
    }

    free(t1);
    free(t2);
    free(t3);
    pact_plan_free(back);
    pact_plan_free(plan);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    const char *names[] = {"v1", "hull", "both", "order", "short", "composite"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s.json", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return pact_test_done("test_plan_channels", n);
}
