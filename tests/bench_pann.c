/* Benchmark: cost of the HE-precision simulation. Runs ResNet-20's PANN
 * forward pass (every activation replaced, network included) on 256 test
 * images in fp64 and in fixed point 2^-24 (CPU seconds, one thread), for the uniform alpha=13
 * composite and for per-layer degree-15 fits, and prints the time ratio
 * fixed / fp64 (issue target: at most 1.5). Best of 3 runs each. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { IMAGES = 256 };

/* CPU time of the process (the engine single-threaded): steadier than
 * wall time on a machine shared with other jobs. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double run(const pact_model *m, const pact_plan *plan, int frac_bits, const float *x,
                  float *logits)
{
    double best = 1e30;
    pact_error err;
    for (int rep = 0; rep < 3; rep++) {
        pact_arith ar = {.frac_bits = frac_bits};
        pact_pann *pann = NULL;
        if (pact_pann_create(plan, &ar, &pann, &err) != PACT_OK)
            return -1.0;
        double t0 = now();
        for (int b = 0; b < IMAGES; b += 64)
            m->forward(m->ctx, x + (size_t)b * 3072, 64, pact_pann_hook, pann, logits, &err);
        double t = now() - t0;
        if (t < best)
            best = t;
        pact_pann_free(pann);
    }
    return best;
}

int main(void)
{
    int n = 0;
    const char *s;
    char model[4096] = "", test[4096] = "";
    if ((s = pact_test_data("models/resnet20.safetensors")))
        snprintf(model, sizeof model, "%s", s);
    if ((s = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin")))
        snprintf(test, sizeof test, "%s", s);
    CHECK(model[0] && test[0], "model or images missing");
    pact_error err;
    pact_net *net = NULL;
    pact_dataset *ds = NULL;
    CHECK_OK(pact_net_load(model, NULL, &net, &err), &err);
    CHECK_OK(pact_cifar_load(test, PACT_SPLIT_TEST, IMAGES, &ds, &err), &err);
    n += 3;
    if (!net || !ds)
        return pact_test_done("bench_pann", n);
    pact_model m;
    pact_net_model(net, &m);
    float *x = malloc(sizeof(float) * IMAGES * 3072), *logits = malloc(sizeof(float) * 64 * 10);
    pact_dataset_images_f32(ds, 0, IMAGES, x, &err);
    pact_calib *cal = NULL;
    pact_calib_opts co = {0};
    CHECK_OK(pact_calibrate(&m, ds, &co, &cal, &err), &err);
    n++;
    const char *specs[2] = {"composite:alpha=13,B=40", "lsq:degree=15"};
    for (int k = 0; k < 2 && cal; k++) {
        pact_plan *plan = NULL;
        CHECK_OK(pact_plan_uniform(specs[k], &m, cal, "resnet20", "", &plan, &err), &err);
        if (!plan)
            continue;
        double t64 = run(&m, plan, 0, x, logits), tfx = run(&m, plan, 24, x, logits);
        printf("%-26s %d images: fp64 %.3f s, fixed point 2^-24 %.3f s, ratio %.2f (target <= 1.5)\n",
               specs[k], IMAGES, t64, tfx, tfx / t64);
        CHECK(t64 > 0 && tfx > 0, "timings");
        n++;
        pact_plan_free(plan);
    }
    pact_calib_free(cal);
    free(x);
    free(logits);
    pact_dataset_free(ds);
    pact_net_free(net);
    return pact_test_done("bench_pann", n);
}
