/* The optimizer through the model interface on a small hand-written GELU
 * network (no split forward): the plan keeps the layers' functions, its
 * recorded calibration accuracy is what an independent evaluation of the plan
 * measures, it respects --max-drop, its cost is what the cost model says, and
 * a looser budget is never slower; the same with per-channel candidates and
 * the refit (and the same inputs give the same file). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PIX = 3072, H = 64, IMAGES = 256 };

static const char *const names[2] = {"mlp.gelu1", "mlp.gelu2"};
static const pact_func funcs[2] = {PACT_GELU, PACT_GELU};
static float W1[H * 32], W2[H * H], W3[10 * H];

static pact_status mlp_forward(void *ctx, const float *in, int batch, pact_act_hook hook,
                               void *hook_ctx, float *logits, pact_error *err)
{
    (void)ctx;
    float *h1 = malloc(sizeof(float) * (size_t)batch * H), *h2 = malloc(sizeof(float) * (size_t)batch * H);
    pact_status st = PACT_OK;
    for (int b = 0; b < batch; b++)
        for (int o = 0; o < H; o++) {
            float s = 0.0f;
            for (int i = 0; i < 32; i++)
                s += W1[o * 32 + i] * (in[(size_t)b * PIX + (size_t)i * 96] - 0.5f);
            h1[b * H + o] = s;
        }
    if (hook)
        st = hook(hook_ctx, 0, h1, batch, H, 1, err);
    else
        for (int i = 0; i < batch * H; i++)
            h1[i] = (float)pact_func_eval(PACT_GELU, h1[i]);
    for (int b = 0; st == PACT_OK && b < batch; b++)
        for (int o = 0; o < H; o++) {
            float s = 0.0f;
            for (int i = 0; i < H; i++)
                s += W2[o * H + i] * h1[b * H + i];
            h2[b * H + o] = s;
        }
    if (st == PACT_OK && hook)
        st = hook(hook_ctx, 1, h2, batch, H, 1, err);
    else if (st == PACT_OK)
        for (int i = 0; i < batch * H; i++)
            h2[i] = (float)pact_func_eval(PACT_GELU, h2[i]);
    for (int b = 0; st == PACT_OK && b < batch; b++)
        for (int k = 0; k < 10; k++) {
            float s = 0.0f;
            for (int i = 0; i < H; i++)
                s += W3[k * H + i] * h2[b * H + i];
            logits[b * 10 + k] = s;
        }
    free(h1);
    free(h2);
    return st;
}

int main(void)
{
    int n = 0;
    unsigned s = 7;
#define RND() ((s = s * 1103515245u + 12345u), ((float)((s >> 8) & 0xffff) / 65536.0f - 0.5f))
    for (int i = 0; i < H * 32; i++) W1[i] = 1.2f * RND();
    for (int i = 0; i < H * H; i++) W2[i] = 0.6f * RND();
    for (int i = 0; i < 10 * H; i++) W3[i] = RND();
    char dir[] = "/tmp/pact_test_opt_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[600];
    snprintf(path, sizeof path, "%s/d.bin", dir);
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < IMAGES; i++) {
        /* labels: the exact network's own prediction is not known here; any
         * label works, accuracy drop is measured against the backbone */
        fputc(i % 10, f);
        for (int p = 0; p < PIX; p++)
            fputc((int)((RND() + 0.5f) * 255.0f), f);
    }
    fclose(f);

    pact_error err;
    pact_dataset *ds = NULL;
    CHECK_OK(pact_cifar_load(path, PACT_SPLIT_TRAIN, 0, &ds, &err), &err);
    pact_model m = {.n_act = 2, .act_names = names, .act_funcs = funcs, .input_size = PIX,
                    .n_classes = 10, .forward = mlp_forward};
    pact_calib *cal = NULL;
    pact_calib_opts co = {0};
    CHECK_OK(pact_calibrate(&m, ds, &co, &cal, &err), &err);
    pact_cost_profile *prof = NULL;
    pact_cost_layout *lay = NULL;
    CHECK_OK(pact_cost_profile_default(&prof, &err), &err);
    CHECK_OK(pact_cost_layout_create(&lay, &err), &err);
    n += 4;
    pact_cost_op ops[] = {
        {PACT_COST_LINEAR, "dense1", 2, 10000.0, 1, 0}, {PACT_COST_ACT, "mlp.gelu1", 0, 0, 1, 0},
        {PACT_COST_LINEAR, "dense2", 2, 10000.0, 1, 0}, {PACT_COST_ACT, "mlp.gelu2", 0, 0, 1, 0},
        {PACT_COST_LINEAR, "dense3", 1, 1000.0, 1, 1},
    };
    for (size_t i = 0; lay && i < sizeof ops / sizeof ops[0]; i++)
        CHECK_OK(pact_cost_layout_add(lay, &ops[i], &err), &err);
    if (!ds || !cal || !prof || !lay)
        return pact_test_done("test_optimize", 0);

    pact_optimize_opts o;
    pact_optimize_opts_default(&o);
    o.impact_images = 128;
    o.max_drop = 2.0;
    o.n_degrees = 4;
    int degs[4] = {2, 3, 7, 15};
    memcpy(o.degrees, degs, sizeof degs);
    pact_plan *plan = NULL;
    pact_status st = pact_optimize(&m, ds, cal, lay, prof, &o, "mlp", "", &plan, &err);
    CHECK(st == PACT_OK && plan, "optimize: %s %s", pact_status_str(st), err.message);
    n++;
    double lat = 0, acc = 0, bb = 0, speed = 0;
    if (plan) {
        for (int i = 0; i < 2; i++) {
            pact_plan_layer l;
            CHECK_OK(pact_plan_layer_get(plan, i, &l, &err), &err);
            CHECK(l.func == PACT_GELU && l.form == PACT_FORM_POLY && !strcmp(l.name, names[i]),
                  "layer %d: %s %s", i, l.name, pact_func_name(l.func));
            CHECK(isfinite(l.impact) && l.impact >= 0, "layer %d impact %g", i, l.impact);
            n += 3;
        }
        pact_plan_get_summary(plan, "latency_s", &lat, &err);
        pact_plan_get_summary(plan, "calib_accuracy", &acc, &err);
        pact_plan_get_summary(plan, "calib_backbone_accuracy", &bb, &err);
        pact_plan_get_summary(plan, "speedup", &speed, &err);
        CHECK(bb - acc <= o.max_drop + 1e-9, "calibration drop %.3f > max %.3f", bb - acc, o.max_drop);
        /* independent re-evaluation of the written plan */
        pact_pann_report r;
        pact_pann_eval_opts eo;
        pact_pann_eval_opts_default(&eo);
        CHECK_OK(pact_pann_evaluate(&m, ds, plan, &eo, &r, &err), &err);
        CHECK(fabs(100.0 * (double)r.correct / (double)r.images - acc) < 1e-9,
              "recorded calibration accuracy %.4f, re-evaluated %.4f", acc,
              100.0 * (double)r.correct / (double)r.images);
        pact_pann_report_free(&r);
        pact_cost_walk *w = NULL;
        CHECK_OK(pact_plan_cost(plan, lay, prof, &w, &err), &err);
        CHECK(w && fabs(w->total_ms / 1000.0 - lat) < 1e-9, "recorded latency %.6f, cost model %.6f",
              lat, w ? w->total_ms / 1000.0 : -1.0);
        CHECK(speed >= 1.0, "speed-up over alpha=13 %.3f", speed);
        pact_cost_walk_free(w);
        n += 6;
    }
    /* a looser budget is never slower */
    pact_optimize_opts o2 = o;
    o2.max_drop = 50.0;
    pact_plan *loose = NULL;
    CHECK_OK(pact_optimize(&m, ds, cal, lay, prof, &o2, "mlp", "", &loose, &err), &err);
    double lat2 = 0;
    if (loose)
        pact_plan_get_summary(loose, "latency_s", &lat2, &err);
    CHECK(loose && lat2 <= lat + 1e-9, "max-drop 50: %.3f s, max-drop 2: %.3f s", lat2, lat);
    n += 2;
    /* per-channel candidates, the closed loop verifying refitted plans: one
     * polynomial per channel in every layer, the recorded accuracy is what an
     * independent evaluation measures, and the same inputs give the same file */
    pact_optimize_opts oc = o;
    oc.per_channel = 1;
    oc.refit = 1;
    oc.refit_images = 128;
    oc.n_degrees = 2;
    oc.degrees[0] = 3;
    oc.degrees[1] = 7;
    oc.n_floors = 1;
    oc.floors[0] = 0.03;
    oc.max_drop = 5.0;
    pact_plan *pc[2] = {NULL, NULL};
    char pc_path[2][640];
    for (int k = 0; k < 2; k++) {
        st = pact_optimize(&m, ds, cal, lay, prof, &oc, "mlp", "", &pc[k], &err);
        CHECK(st == PACT_OK && pc[k], "per-channel optimize: %s %s", pact_status_str(st), err.message);
        snprintf(pc_path[k], sizeof pc_path[k], "%s/pc%d.json", dir, k);
        if (pc[k])
            CHECK_OK(pact_plan_save(pc[k], pc_path[k], &err), &err);
        n += 2;
    }
    if (pc[0] && pc[1]) {
        FILE *f0 = fopen(pc_path[0], "rb"), *f1 = fopen(pc_path[1], "rb");
        int same = f0 && f1;
        for (int c0 = 0, c1 = 0; same && (c0 != EOF || c1 != EOF);) {
            c0 = fgetc(f0);
            c1 = fgetc(f1);
            same = c0 == c1;
        }
        if (f0)
            fclose(f0);
        if (f1)
            fclose(f1);
        CHECK(same, "two per-channel runs wrote different plans");
        for (int i = 0; i < 2; i++) {
            pact_plan_layer l;
            CHECK_OK(pact_plan_layer_get(pc[0], i, &l, &err), &err);
            CHECK(l.n_channels == H && l.func == PACT_GELU && (l.degrees[0] == 3 || l.degrees[0] == 7),
                  "per-channel layer %d: %d channels (want %d), %s, degree %d", i, l.n_channels, H,
                  pact_func_name(l.func), l.degrees[0]);
            n += 2;
        }
        double pacc = 0, plat = 0;
        pact_plan_get_summary(pc[0], "calib_accuracy", &pacc, &err);
        pact_plan_get_summary(pc[0], "latency_s", &plat, &err);
        pact_pann_report r;
        pact_pann_eval_opts eo;
        pact_pann_eval_opts_default(&eo);
        CHECK_OK(pact_pann_evaluate(&m, ds, pc[0], &eo, &r, &err), &err);
        CHECK(fabs(100.0 * (double)r.correct / (double)r.images - pacc) < 1e-9,
              "per-channel: recorded calibration accuracy %.4f, re-evaluated %.4f", pacc,
              100.0 * (double)r.correct / (double)r.images);
        pact_pann_report_free(&r);
        pact_cost_walk *w = NULL;
        CHECK_OK(pact_plan_cost(pc[0], lay, prof, &w, &err), &err);
        CHECK(w && fabs(w->total_ms / 1000.0 - plat) < 1e-9, "per-channel: latency %.6f, cost model %.6f",
              plat, w ? w->total_ms / 1000.0 : -1.0);
        pact_cost_walk_free(w);
        n += 5;
        unlink(pc_path[0]);
        unlink(pc_path[1]);
    }
    pact_plan_free(pc[0]);
    pact_plan_free(pc[1]);

    pact_optimize_opts bad = o;
    bad.max_drop = -1;
    pact_plan *none = NULL;
    CHECK(pact_optimize(&m, ds, cal, lay, prof, &bad, "mlp", "", &none, &err) == PACT_EINVAL && !none,
          "negative max drop refused");
    n++;
    pact_plan_free(plan);
    pact_plan_free(loose);
    pact_cost_layout_free(lay);
    pact_cost_profile_free(prof);
    pact_calib_free(cal);
    pact_dataset_free(ds);
    unlink(path);
    rmdir(dir);
    return pact_test_done("test_optimize", n);
}
