/* The model interface with a network polyact's engine never sees:
 * examples/resnet_by_hand.c is ResNet-20 written by hand in plain C (its own
 * weights reader and convolution loops). It calibrates, optimizes and
 * evaluates itself through pact_model; here the plan it wrote is evaluated
 * on polyact's engine with the same weights and the same test images, and
 * the two PANNs must have the same accuracy (and the backbones too), image
 * for image where the arithmetic allows: the example sums its convolutions in
 * another order than the engine's sgemm / Winograd, so a prediction could
 * only differ on a near-tie of two logits; the count of such images is
 * printed and must stay below 1%.
 * Arguments: calibration images, test images, impact images. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = 0;
    const char *calib_n = argc > 1 ? argv[1] : "128", *test_n = argc > 2 ? argv[2] : "256",
               *impact_n = argc > 3 ? argv[3] : "16";
    static char model[4096], train[4096], test[4096];
    const char *p = pact_test_data("models/resnet20.safetensors");
    snprintf(model, sizeof model, "%s", p ? p : "");
    const char *t = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    snprintf(train, sizeof train, "%s", t ? t : "");
    const char *e = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    snprintf(test, sizeof test, "%s", e ? e : "");
    const char *example = getenv("POLYACT_EXAMPLE");
    CHECK(p && t && e && example, "shared data or $POLYACT_EXAMPLE missing");
    if (!p || !t || !e || !example)
        return pact_test_done("test_user_model", 1);
    char dir[] = "/tmp/pact_user_model_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    static char cmd[20000], out[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' '%s' '%s' '%s' '%s/plan.json' --calib-images %s --test-images %s "
             "--impact-images %s --predictions '%s/pred.txt'",
             example, model, train, test, dir, calib_n, test_n, impact_n, dir);
    int rc = pact_test_run(cmd, out, sizeof out);
    size_t bb = 0, pann = 0, agree = 0, images = 0;
    double speedup = 0;
    int within = -1;
    const char *line = strstr(out, "backbone_correct=");
    CHECK(line && sscanf(line, "backbone_correct=%zu pann_correct=%zu agree=%zu "
                               "images=%zu speedup=%lf within_max_drop=%d",
                         &bb, &pann, &agree, &images, &speedup, &within) == 6,
          "example: exit %d, output '%s'", rc, out);
    /* exit 0 exactly when the plan kept the accuracy on the calibration images
     * (else 1, as polyact optimize; the plan is written and evaluated anyway) */
    CHECK((within == 1 && rc == 0) || (within == 0 && rc == 1),
          "example: exit %d with within_max_drop=%d", rc, within);
    n += 2;
    printf("hand-written ResNet-20: backbone %zu/%zu, PANN %zu/%zu, agreement %zu, speed-up %.2fx\n",
           bb, images, pann, images, agree, speedup);
    CHECK(images == (size_t)atol(test_n) && speedup > 1.0 && agree * 3 >= images * 2,
          "example: %zu images, speed-up %.2f, agreement %zu", images, speedup, agree);

    /* the same plan on polyact's engine, same weights, same images */
    pact_error err;
    pact_net *net = NULL;
    pact_dataset *ds = NULL;
    pact_plan *plan = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/plan.json", dir);
    CHECK_OK(pact_net_load(model, NULL, &net, &err), &err);
    CHECK_OK(pact_cifar_load(test, PACT_SPLIT_TEST, images, &ds, &err), &err);
    CHECK_OK(pact_plan_load(path, &plan, &err), &err);
    n += 3;
    if (net && ds && plan) {
        pact_model m;
        pact_net_model(net, &m);
        pact_pann_report rep = {0};
        CHECK_OK(pact_pann_evaluate(&m, ds, plan, NULL, &rep, &err), &err);
        CHECK(rep.correct == pann && rep.backbone_correct == bb && rep.agree == agree,
              "engine: PANN %zu, backbone %zu, agree %zu; hand-written network: %zu, %zu, %zu",
              rep.correct, rep.backbone_correct, rep.agree, pann, bb, agree);
        printf("engine, same plan and weights: backbone %zu/%zu, PANN %zu/%zu, agreement %zu\n",
               rep.backbone_correct, rep.images, rep.correct, rep.images, rep.agree);
        pact_pann_report_free(&rep);
        /* image by image */
        pact_pann *pann_h = NULL;
        int *pred = malloc(sizeof(int) * images);
        CHECK_OK(pact_pann_create(plan, NULL, &pann_h, &err), &err);
        pact_eval_opts eo = {.hook = pact_pann_hook, .hook_ctx = pann_h};
        pact_eval_result res;
        CHECK_OK(pact_model_evaluate(&m, ds, &eo, &res, pred, &err), &err);
        snprintf(path, sizeof path, "%s/pred.txt", dir);
        FILE *f = fopen(path, "r");
        size_t differ = 0, read = 0;
        int v;
        while (f && read < images && fscanf(f, "%d", &v) == 1)
            differ += v != pred[read++];
        if (f)
            fclose(f);
        CHECK(read == images && differ * 100 <= images,
              "%zu of %zu PANN predictions differ between the hand-written network and the "
              "engine (read %zu)", differ, images, read);
        printf("PANN predictions that differ between the two implementations: %zu of %zu\n",
               differ, images);
        free(pred);
        pact_pann_free(pann_h);
        n += 3;
    }
    pact_plan_free(plan);
    pact_dataset_free(ds);
    pact_net_free(net);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (pact_test_failures == 0)
        (void)pact_test_run(cmd, NULL, 0);
    return pact_test_done("test_user_model", n);
}
