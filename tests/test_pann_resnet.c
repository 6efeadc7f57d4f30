/* PANN accuracy regression on ResNet-20 and the 1,017 shared test images, with
 * the thresholds of tests/accuracy/thresholds.json (one reviewed file; a
 * failure prints the recorded and the new numbers):
 *  - uniform composite alpha=13, B=40 (Lee et al.'s uniform baseline), fp64:
 *    within 1 image of the backbone's 932;
 *  - the same plan saved and loaded again evaluates identically;
 *  - the same in fixed point at the recorded grid 2^-F: within 1 image
 *    (0.1 point) of fp64;
 *  - polyact's per-layer fits at the alpha=9 depth budget (degree 255 on each
 *    layer's calibrated range, calibrated on training images): within 1 point
 *    of the backbone. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n;

static const cJSON *threshold(const cJSON *root, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, a), b);
    CHECK(cJSON_IsNumber(x), "thresholds.json: %s.%s missing", a, b);
    n++;
    return x;
}

static int eval(const pact_model *m, const pact_dataset *ds, const pact_plan *plan, int frac_bits,
                pact_pann_report *r)
{
    pact_pann_eval_opts eo;
    pact_pann_eval_opts_default(&eo);
    eo.arith.frac_bits = frac_bits;
    pact_error err;
    pact_status st = pact_pann_evaluate(m, ds, plan, &eo, r, &err);
    CHECK_OK(st, &err);
    n++;
    return st == PACT_OK;
}

int main(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/accuracy/thresholds.json",
             getenv("POLYACT_SOURCE") ? getenv("POLYACT_SOURCE") : ".");
    FILE *tf = fopen(path, "rb");
    char text[8192] = "";
    if (tf) {
        size_t got = fread(text, 1, sizeof text - 1, tf);
        text[got] = '\0';
        fclose(tf);
    }
    cJSON *th = cJSON_Parse(text);
    CHECK(th != NULL, "cannot read %s", path);
    const char *mp = pact_test_data("models/resnet20.safetensors");
    char *model = mp ? strdup(mp) : NULL;
    const char *dp = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    char *test = dp ? strdup(dp) : NULL;
    const char *cp = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    char *train = cp ? strdup(cp) : NULL;
    CHECK(th && model && test && train, "thresholds, model or images missing");
    if (!th || !model || !test || !train)
        return pact_test_done("test_pann_resnet", 0);

    int backbone = threshold(th, "resnet20", "backbone_correct")->valueint;
    int fixed_bits = threshold(th, "resnet20", "alpha13_fixed_frac_bits")->valueint;
    int lsq_min = threshold(th, "resnet20", "lsq255_min_correct")->valueint;

    pact_error err;
    pact_net *net = NULL;
    pact_dataset *ds = NULL, *tr = NULL;
    pact_plan *plan = NULL, *back = NULL, *fits = NULL;
    pact_calib *cal = NULL;
    CHECK_OK(pact_net_load(model, NULL, &net, &err), &err);
    CHECK_OK(pact_cifar_load(test, PACT_SPLIT_TEST, 0, &ds, &err), &err);
    CHECK_OK(pact_cifar_load(train, PACT_SPLIT_TRAIN, 0, &tr, &err), &err);
    n += 3;
    if (!net || !ds || !tr)
        return pact_test_done("test_pann_resnet", n);
    pact_model m;
    pact_net_model(net, &m);

    CHECK_OK(pact_plan_uniform("composite:alpha=13,B=40", &m, NULL, pact_net_name(net),
                               pact_net_sha256(net), &plan, &err), &err);
    n++;
    pact_pann_report r64, rback, rfix, rfit;
    if (plan && eval(&m, ds, plan, 0, &r64)) {
        printf("alpha=13 B=40 fp64: %zu/%zu correct, backbone %zu, agreement %zu\n", r64.correct,
               r64.images, r64.backbone_correct, r64.agree);
        CHECK((int)r64.backbone_correct == backbone, "backbone %zu correct, recorded %d",
              r64.backbone_correct, backbone);
        CHECK(abs((int)r64.correct - backbone) <= 1, "alpha=13: %zu correct, backbone %d (at most 1 apart)",
              r64.correct, backbone);
        n += 2;
        char tmp[] = "/tmp/pact_pann_plan_XXXXXX";
        int fd = mkstemp(tmp);
        if (fd >= 0)
            close(fd);
        CHECK_OK(pact_plan_save(plan, tmp, &err), &err);
        CHECK_OK(pact_plan_load(tmp, &back, &err), &err);
        unlink(tmp);
        n += 2;
        if (back && eval(&m, ds, back, 0, &rback)) {
            CHECK(rback.correct == r64.correct && rback.agree == r64.agree &&
                      rback.max_logit_diff == r64.max_logit_diff &&
                      rback.mean_logit_diff == r64.mean_logit_diff,
                  "round trip: %zu/%zu correct/agree, max diff %.17g; before %zu/%zu %.17g",
                  rback.correct, rback.agree, rback.max_logit_diff, r64.correct, r64.agree,
                  r64.max_logit_diff);
            n++;
            pact_pann_report_free(&rback);
        }
        if (eval(&m, ds, plan, fixed_bits, &rfix)) {
            printf("alpha=13 B=40 fixed point 2^-%d: %zu correct (fp64 %zu)\n", fixed_bits,
                   rfix.correct, r64.correct);
            CHECK(abs((int)rfix.correct - (int)r64.correct) <= 1,
                  "fixed point 2^-%d: %zu correct, fp64 %zu (recorded: within 1 image)", fixed_bits,
                  rfix.correct, r64.correct);
            n++;
            pact_pann_report_free(&rfix);
        }
        pact_pann_report_free(&r64);
    }

    pact_calib_opts co = {0};
    CHECK_OK(pact_calibrate(&m, tr, &co, &cal, &err), &err);
    n++;
    if (cal)
        CHECK_OK(pact_plan_uniform("lsq:degree=255", &m, cal, pact_net_name(net), pact_net_sha256(net),
                                   &fits, &err), &err);
    n++;
    if (fits && eval(&m, ds, fits, 0, &rfit)) {
        printf("per-layer lsq degree 255 (alpha=9 depth budget): %zu correct, agreement %zu, "
               "non-finite %zu\n", rfit.correct, rfit.agree, rfit.nonfinite_images);
        CHECK((int)rfit.correct >= lsq_min, "per-layer fits: %zu correct, recorded minimum %d",
              rfit.correct, lsq_min);
        CHECK((double)backbone - (double)rfit.correct <= 0.01 * 1017,
              "per-layer fits lose %d images, more than 1 point", backbone - (int)rfit.correct);
        n += 2;
        pact_pann_report_free(&rfit);
    }
    pact_plan_free(plan);
    pact_plan_free(back);
    pact_plan_free(fits);
    pact_calib_free(cal);
    pact_dataset_free(ds);
    pact_dataset_free(tr);
    pact_net_free(net);
    cJSON_Delete(th);
    free(model);
    free(test);
    free(train);
    return pact_test_done("test_pann_resnet", n);
}
