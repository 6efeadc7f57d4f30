/* The main job as a regression test: ResNet-20 calibrated and optimised on the
 * shared training images, then the plan evaluated on the 1,017 shared test
 * images, twice: with the default settings (`polyact optimize`: one polynomial
 * per layer) and with per-channel polynomials and error-aware refit (as
 * tools/demo.sh runs it: --per-channel --refit). Each plan's test accuracy and
 * speed-up over the uniform alpha=13 composite under the default cost profile
 * must stay at or above the thresholds recorded in
 * tests/accuracy/thresholds.json ("optimize"). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static double number(const cJSON *root, const char *key, int *n)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "optimize"), key);
    CHECK(cJSON_IsNumber(x), "thresholds.json: optimize.%s missing", key);
    (*n)++;
    return cJSON_IsNumber(x) ? x->valuedouble : 0.0;
}

/* Optimises with `oo` (NULL: defaults), evaluates the plan on the test images
 * and checks it against the thresholds; returns the checks made. */
static int run(const char *what, const pact_model *m, const pact_dataset *tr,
               const pact_dataset *te, const pact_calib *cal, const pact_cost_layout *lay,
               const pact_cost_profile *prof, const pact_net *net,
               const pact_optimize_opts *oo, double min_correct, double min_speedup)
{
    int n = 0;
    pact_error err;
    pact_plan *plan = NULL;
    pact_status st = pact_optimize(m, tr, cal, lay, prof, oo, pact_net_name(net),
                                   pact_net_sha256(net), &plan, &err);
    CHECK(st == PACT_OK && plan, "%s optimize: %s %s", what, pact_status_str(st), err.message);
    n++;
    if (plan) {
        double speedup = 0.0, boots = 0.0;
        pact_plan_get_summary(plan, "speedup", &speedup, &err);
        pact_plan_get_summary(plan, "bootstraps", &boots, &err);
        pact_pann_report r;
        pact_pann_eval_opts eo;
        pact_pann_eval_opts_default(&eo);
        CHECK_OK(pact_pann_evaluate(m, te, plan, &eo, &r, &err), &err);
        n++;
        printf("resnet20 %s plan: speed-up %.3fx over uniform alpha=13 (profile %s, %.0f "
               "bootstrappings); test %zu/%zu correct (backbone %zu), agreement %zu/%zu\n",
               what, speedup, pact_cost_profile_name(prof), boots, r.correct, r.images,
               r.backbone_correct, r.agree, r.images);
        CHECK((double)r.correct >= min_correct, "%s: test correct %zu, recorded minimum %.0f",
              what, r.correct, min_correct);
        CHECK(speedup >= min_speedup, "%s: speed-up %.3f, recorded minimum %.3f", what, speedup,
              min_speedup);
        n += 2;
        pact_pann_report_free(&r);
    }
    pact_plan_free(plan);
    return n;
}

int main(void)
{
    int n = 0;
    char path[4096], text[8192] = "";
    snprintf(path, sizeof path, "%s/tests/accuracy/thresholds.json",
             getenv("POLYACT_SOURCE") ? getenv("POLYACT_SOURCE") : ".");
    FILE *tf = fopen(path, "rb");
    if (tf) {
        text[fread(text, 1, sizeof text - 1, tf)] = '\0';
        fclose(tf);
    }
    cJSON *th = cJSON_Parse(text);
    CHECK(th != NULL, "cannot read %s", path);
    double min_correct = number(th, "resnet20_min_test_correct", &n);
    double min_speedup = number(th, "resnet20_min_speedup", &n);
    double ch_min_correct = number(th, "resnet20_channels_min_test_correct", &n);
    double ch_min_speedup = number(th, "resnet20_channels_min_speedup", &n);
    const char *s;
    char model[4096] = "", train[4096] = "", test[4096] = "";
    if ((s = pact_test_data("models/resnet20.safetensors")))
        snprintf(model, sizeof model, "%s", s);
    if ((s = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin")))
        snprintf(train, sizeof train, "%s", s);
    if ((s = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin")))
        snprintf(test, sizeof test, "%s", s);
    CHECK(model[0] && train[0] && test[0] && th, "model, images or thresholds missing");
    if (!model[0] || !train[0] || !test[0] || !th)
        return pact_test_done("test_optimize_resnet", 0);

    pact_error err;
    pact_net *net = NULL;
    pact_dataset *tr = NULL, *te = NULL;
    pact_calib *cal = NULL;
    pact_cost_profile *prof = NULL;
    pact_cost_layout *lay = NULL;
    pact_net_opts no = {.threads = 2};
    CHECK_OK(pact_net_load(model, &no, &net, &err), &err);
    CHECK_OK(pact_cifar_load(train, PACT_SPLIT_TRAIN, 0, &tr, &err), &err);
    CHECK_OK(pact_cifar_load(test, PACT_SPLIT_TEST, 0, &te, &err), &err);
    CHECK_OK(pact_cost_profile_default(&prof, &err), &err);
    n += 4;
    if (!net || !tr || !te || !prof)
        return pact_test_done("test_optimize_resnet", n);
    pact_model m;
    pact_net_model(net, &m);
    CHECK_OK(pact_cost_layout_resnet(prof, 20, &lay, &err), &err);
    pact_calib_opts co = {0};
    CHECK_OK(pact_calibrate(&m, tr, &co, &cal, &err), &err);
    n += 2;
    if (lay && cal) {
        n += run("per-layer", &m, tr, te, cal, lay, prof, net, NULL, min_correct, min_speedup);
        pact_optimize_opts oo;
        pact_optimize_opts_default(&oo);
        oo.per_channel = 1;
        oo.refit = 1;
        n += run("per-channel refit", &m, tr, te, cal, lay, prof, net, &oo, ch_min_correct,
                 ch_min_speedup);
    }
    pact_calib_free(cal);
    pact_cost_layout_free(lay);
    pact_cost_profile_free(prof);
    pact_dataset_free(tr);
    pact_dataset_free(te);
    pact_net_free(net);
    cJSON_Delete(th);
    return pact_test_done("test_optimize_resnet", n);
}
