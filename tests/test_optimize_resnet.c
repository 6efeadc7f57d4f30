/* The main job as a regression test: ResNet-20 calibrated and optimised on the
 * shared training images with the default settings (as tools/demo.sh and
 * `polyact optimize` run it), then the plan evaluated on the 1,017 shared test
 * images. Its test accuracy and its speed-up over the uniform alpha=13
 * composite under the default cost profile must stay at or above the
 * thresholds recorded in tests/accuracy/thresholds.json ("optimize"). */
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
    pact_plan *plan = NULL;
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
    pact_status st = PACT_EINVAL;
    if (lay && cal)
        st = pact_optimize(&m, tr, cal, lay, prof, NULL, pact_net_name(net), pact_net_sha256(net),
                           &plan, &err);
    CHECK(st == PACT_OK && plan, "optimize: %s %s", pact_status_str(st), err.message);
    n++;
    if (plan) {
        double speedup = 0.0, boots = 0.0;
        pact_plan_get_summary(plan, "speedup", &speedup, &err);
        pact_plan_get_summary(plan, "bootstraps", &boots, &err);
        pact_pann_report r;
        pact_pann_eval_opts eo;
        pact_pann_eval_opts_default(&eo);
        CHECK_OK(pact_pann_evaluate(&m, te, plan, &eo, &r, &err), &err);
        n++;
        printf("resnet20 optimised plan: speed-up %.3fx over uniform alpha=13 (profile %s, %.0f "
               "bootstrappings); test %zu/%zu correct (backbone %zu), agreement %zu/%zu\n",
               speedup, pact_cost_profile_name(prof), boots, r.correct, r.images,
               r.backbone_correct, r.agree, r.images);
        CHECK((double)r.correct >= min_correct, "test correct %zu, recorded minimum %.0f", r.correct,
              min_correct);
        CHECK(speedup >= min_speedup, "speed-up %.3f, recorded minimum %.3f", speedup, min_speedup);
        n += 2;
        pact_pann_report_free(&r);
    }
    pact_plan_free(plan);
    pact_calib_free(cal);
    pact_cost_layout_free(lay);
    pact_cost_profile_free(prof);
    pact_dataset_free(tr);
    pact_dataset_free(te);
    pact_net_free(net);
    cJSON_Delete(th);
    return pact_test_done("test_optimize_resnet", n);
}
