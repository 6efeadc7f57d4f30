/* The cost layout derived from the engine's graph (pact_net_cost_layout) is
 * exactly the hand-written CIFAR ResNet layout (pact_cost_layout_resnet) for
 * ResNet-20/32/44/56 under both shipped profiles; and the optimizer runs end
 * to end on ResNet-20 with GELU through it: the plan keeps GELU in every
 * layer, is measured against uniform degree-63 polynomials (its summary's
 * baseline is pact_cost_uniform("degree:63") under the same profile), and
 * honours --min-agreement on the calibration images. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int same_layout(const char *what, const pact_cost_layout *a, const pact_cost_layout *b)
{
    int n = pact_cost_layout_n_ops(a), bad = n != pact_cost_layout_n_ops(b) ? 0 : -1;
    for (int i = 0; bad < 0 && i < n; i++) {
        const pact_cost_op *x = pact_cost_layout_op(a, i), *y = pact_cost_layout_op(b, i);
        if (x->kind != y->kind || x->levels != y->levels || x->ms != y->ms ||
            x->stage != y->stage || x->bootstrap_before != y->bootstrap_before ||
            (x->kind == PACT_COST_ACT && strcmp(x->name, y->name) != 0))
            bad = i;
    }
    CHECK(bad < 0, "%s: layouts differ at op %d (%d ops vs %d)", what, bad, n,
          pact_cost_layout_n_ops(b));
    return 1;
}

int main(void)
{
    int n = 0;
    pact_error err;
    const char *src = getenv("POLYACT_SOURCE");
    pact_cost_profile *profs[2] = {NULL, NULL};
    CHECK_OK(pact_cost_profile_default(&profs[0], &err), &err);
    char path[4096];
    snprintf(path, sizeof path, "%s/data/profiles/openfhe-n16-2core.json", src ? src : ".");
    CHECK_OK(pact_cost_profile_load(path, &profs[1], &err), &err);
    for (int depth = 20; depth <= 56; depth += 12) {
        char rel[64];
        snprintf(rel, sizeof rel, "models/resnet%d.safetensors", depth);
        const char *p = pact_test_data(rel);
        CHECK(p, "missing %s", rel);
        pact_net *net = NULL;
        if (p)
            CHECK_OK(pact_net_load(p, NULL, &net, &err), &err);
        for (int k = 0; net && k < 2 && profs[k]; k++) {
            pact_cost_layout *a = NULL, *b = NULL;
            CHECK_OK(pact_net_cost_layout(net, profs[k], &a, &err), &err);
            CHECK_OK(pact_cost_layout_resnet(profs[k], depth, &b, &err), &err);
            char what[96];
            snprintf(what, sizeof what, "resnet%d under %s", depth, pact_cost_profile_name(profs[k]));
            if (a && b)
                n += same_layout(what, a, b);
            pact_cost_layout_free(a);
            pact_cost_layout_free(b);
        }
        pact_net_free(net);
    }

    /* GELU ResNet-20 end to end, on few images with few candidates */
    const char *p = pact_test_data("models/resnet20.safetensors");
    static char model[4096];
    snprintf(model, sizeof model, "%s", p ? p : "");
    const char *d = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    pact_net *net = NULL;
    pact_dataset *ds = NULL;
    pact_net_opts no = {0};
    no.act = PACT_GELU;
    no.threads = 2;
    if (p && d) {
        CHECK_OK(pact_net_load(model, &no, &net, &err), &err);
        CHECK_OK(pact_cifar_load(d, PACT_SPLIT_TRAIN, 48, &ds, &err), &err);
    }
    CHECK(net && ds && profs[0], "GELU network or data not loaded");
    if (net && ds && profs[0]) {
        pact_model m;
        pact_net_model(net, &m);
        pact_calib *cal = NULL;
        pact_cost_layout *lay = NULL;
        pact_plan *plan = NULL;
        CHECK_OK(pact_calibrate(&m, ds, NULL, &cal, &err), &err);
        CHECK_OK(pact_net_cost_layout(net, profs[0], &lay, &err), &err);
        pact_optimize_opts o;
        pact_optimize_opts_default(&o);
        o.impact_images = 8;
        o.n_degrees = 2;
        o.degrees[0] = 15;
        o.degrees[1] = 31;
        o.n_floors = 1;
        o.floors[0] = 0.2;
        o.max_drop = 100.0;
        o.min_agreement = 95.0;
        pact_status st = cal && lay ? pact_optimize(&m, ds, cal, lay, profs[0], &o, "resnet20",
                                                    pact_net_sha256(net), &plan, &err)
                                    : PACT_EINVAL;
        CHECK((st == PACT_OK || st == PACT_ETOL) && plan, "optimize: %s %s", pact_status_str(st),
              err.message);
        n++;
        if (plan) {
            const char *base = pact_plan_get_note(plan, "baseline");
            double lat = 0, base_lat = 0, speedup = 0, agree = -1;
            pact_plan_get_summary(plan, "latency_s", &lat, NULL);
            pact_plan_get_summary(plan, "baseline_latency_s", &base_lat, NULL);
            pact_plan_get_summary(plan, "speedup", &speedup, NULL);
            pact_plan_get_summary(plan, "calib_agreement", &agree, NULL);
            pact_cost_walk *w = NULL;
            CHECK_OK(pact_cost_uniform(lay, profs[0], "degree:63", &w, &err), &err);
            CHECK(base && strcmp(base, "degree:63") == 0 && w &&
                      fabs(base_lat - w->total_ms / 1000.0) < 1e-9 &&
                      fabs(speedup - base_lat / lat) < 1e-9,
                  "GELU baseline '%s' %.3f s (degree:63 walk %.3f s), speed-up %.4f = %.3f / %.3f",
                  base ? base : "(none)", base_lat, w ? w->total_ms / 1000.0 : -1, speedup,
                  base_lat, lat);
            CHECK(st == PACT_ETOL || agree >= 95.0, "calib_agreement %.2f < --min-agreement 95",
                  agree);
            for (int l = 0; l < pact_plan_layer_count(plan); l++) {
                pact_plan_layer pl;
                CHECK_OK(pact_plan_layer_get(plan, l, &pl, &err), &err);
                CHECK(pl.func == PACT_GELU && pl.form == PACT_FORM_POLY,
                      "layer %d: %s %d (expected a GELU polynomial)", l, pact_func_name(pl.func),
                      (int)pl.form);
            }
            printf("GELU ResNet-20 (48 images, degrees 15/31): %.1f s vs uniform degree-63 %.1f s "
                   "(%.2fx), calibration agreement %.1f%%\n", lat, base_lat, speedup, agree);
            pact_cost_walk_free(w);
            n += 3;
        }
        pact_plan_free(plan);
        pact_cost_layout_free(lay);
        pact_calib_free(cal);
    }
    pact_dataset_free(ds);
    pact_net_free(net);
    pact_cost_profile_free(profs[0]);
    pact_cost_profile_free(profs[1]);
    return pact_test_done("test_net_cost", n);
}
