/* The interval a layer's polynomial is fitted on when its calibrated inputs
 * are one point (a constant layer): with margin 0 it used to be the point
 * itself (a = b), so that "lsq:degree=3,margin=0" failed. It must be a real
 * interval holding the point, with any margin, and the fit on it right:
 * the layer's inputs are 2, the interval then lies in [0, inf) where relu is
 * the identity, which a degree-3 least squares reproduces exactly. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PIX = 3072, H = 4, IMAGES = 8 };

static const char *const names[1] = {"const.relu"};
static const pact_func funcs[1] = {PACT_RELU};

static pact_status forward(void *ctx, const float *in, int batch, pact_act_hook hook,
                           void *hook_ctx, float *logits, pact_error *err)
{
    (void)ctx;
    (void)in;
    for (int b = 0; b < batch; b++) {
        float h[H];
        for (int o = 0; o < H; o++)
            h[o] = 2.0f;
        pact_status st = hook ? hook(hook_ctx, 0, h, 1, H, 1, err) : PACT_OK;
        if (st != PACT_OK)
            return st;
        for (int k = 0; k < 10; k++)
            logits[b * 10 + k] = h[k % H] * (float)k;
    }
    return PACT_OK;
}

int main(void)
{
    int n = 0;
    char dir[] = "/tmp/pact_test_interval_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[600];
    snprintf(path, sizeof path, "%s/d.bin", dir);
    pact_test_write_cifar(path, IMAGES, 1, 0, 0);
    pact_error err;
    pact_dataset *ds = NULL;
    pact_calib *cal = NULL;
    CHECK_OK(pact_cifar_load(path, PACT_SPLIT_TRAIN, 0, &ds, &err), &err);
    pact_model m = {.n_act = 1, .act_names = names, .act_funcs = funcs, .input_size = PIX,
                    .n_classes = 10, .forward = forward};
    pact_calib_opts co = {0};
    if (ds)
        CHECK_OK(pact_calibrate(&m, ds, &co, &cal, &err), &err);
    n += 2;
    const char *specs[] = {"lsq:degree=3,margin=0", "lsq:degree=3,margin=0.05",
                           "lsq:degree=3,margin=2"};
    for (size_t k = 0; cal && k < sizeof specs / sizeof *specs; k++) {
        pact_plan *plan = NULL;
        pact_status st = pact_plan_uniform(specs[k], &m, cal, "t", "", &plan, &err);
        CHECK(st == PACT_OK && plan, "%s: %s %s", specs[k], pact_status_str(st),
              st == PACT_OK ? "" : err.message);
        n++;
        pact_plan_layer l;
        if (!plan || pact_plan_layer_get(plan, 0, &l, &err) != PACT_OK) {
            pact_plan_free(plan);
            continue;
        }
        CHECK(l.a < 2.0 && 2.0 < l.b && l.a >= -1e-9, "%s: interval [%g, %g] must hold 2 inside [0, inf)",
              specs[k], l.a, l.b);
        for (int j = 0; j <= 8; j++) {
            double x = l.a + (l.b - l.a) * j / 8.0, y = pact_plan_layer_eval(plan, 0, x);
            CHECK(fabs(y - x) <= 1e-9 * fmax(1.0, fabs(x)), "%s: p(%g) = %.17g, relu = %g",
                  specs[k], x, y, x);
        }
        n += 10;
        pact_plan_free(plan);
    }
    pact_calib_free(cal);
    pact_dataset_free(ds);
    unlink(path);
    rmdir(dir);
    return pact_test_done("test_layer_interval", n);
}
