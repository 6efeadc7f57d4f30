/* The sequential refit (src/pann/refit.c) names the layer at fault: a layer
 * whose PANN inputs are all NaN is PACT_ENUMERIC naming that layer (the
 * message used to say "a layer"), and a model that never calls the hook of a
 * layer is PACT_EMISMATCH naming it (it used to pass the capture with zero
 * values and fail as "not finite"). Nothing is left allocated (LSan). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "pann/refit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PIX = 3072, CH = 3, IMAGES = 6 };

static const char *const names[2] = {"a0", "a1"};
static const pact_func funcs[2] = {PACT_RELU, PACT_RELU};

typedef enum { LAYER1_NAN, LAYER1_NO_HOOK } mode;

static pact_status forward(void *ctx, const float *in, int batch, pact_act_hook hook,
                           void *hook_ctx, float *logits, pact_error *err)
{
    mode md = *(const mode *)ctx;
    for (int b = 0; b < batch; b++) {
        float h[CH];
        for (int c = 0; c < CH; c++)
            h[c] = 3.0f * (in[(size_t)b * PIX + (size_t)c * 11] - 0.5f);
        pact_status st = hook ? hook(hook_ctx, 0, h, 1, CH, 1, err) : PACT_OK;
        if (st != PACT_OK)
            return st;
        for (int c = 0; c < CH; c++)
            h[c] = md == LAYER1_NAN ? NAN : h[c] - 0.2f;
        if (hook && md != LAYER1_NO_HOOK)
            st = hook(hook_ctx, 1, h, 1, CH, 1, err);
        else
            for (int c = 0; c < CH; c++)
                h[c] = h[c] > 0.0f ? h[c] : 0.0f;
        if (st != PACT_OK)
            return st;
        for (int k = 0; k < 10; k++)
            logits[b * 10 + k] = h[k % CH];
    }
    return PACT_OK;
}

int main(void)
{
    int n = 0;
    char dir[] = "/tmp/pact_test_refit_err_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[600];
    snprintf(path, sizeof path, "%s/d.bin", dir);
    pact_test_write_cifar(path, IMAGES, 31, 57, 0);
    pact_error err;
    pact_dataset *ds = NULL;
    CHECK_OK(pact_cifar_load(path, PACT_SPLIT_TRAIN, 0, &ds, &err), &err);
    n++;
    const int degrees[2] = {3, 3};
    const double floors[2] = {0.1, 0.1};
    const struct {
        mode md;
        pact_status want;
        const char *what;
    } cases[2] = {{LAYER1_NAN, PACT_ENUMERIC, "layer 1 inputs NaN"},
                  {LAYER1_NO_HOOK, PACT_EMISMATCH, "layer 1 hook never called"}};
    for (int k = 0; ds && k < 2; k++) {
        mode md = cases[k].md;
        pact_model m = {.ctx = &md, .n_act = 2, .act_names = names, .act_funcs = funcs,
                        .input_size = PIX, .n_classes = 10, .forward = forward};
        pact_group_poly polys[2];
        memset(&err, 0, sizeof err);
        pact_status st = pact_refit(&m, ds, IMAGES, 4, degrees, floors, 0, 0.05, NULL, polys, &err);
        CHECK(st == cases[k].want && strstr(err.message, "layer 1"),
              "%s: %s '%s' (want %s naming layer 1)", cases[k].what, pact_status_str(st),
              err.message, pact_status_str(cases[k].want));
        CHECK(polys[0].cheb == NULL && polys[1].cheb == NULL, "%s: polynomials left after the error",
              cases[k].what);
        n += 2;
    }
    pact_dataset_free(ds);
    unlink(path);
    rmdir(dir);
    return pact_test_done("test_refit_errors", n);
}
