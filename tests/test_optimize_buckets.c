/* The optimizer's impact_buckets option on a tiny two-layer network: a bucket
 * count too small to hold the least-impact plan (at most 2 x layers, the room
 * loop_start reserves) is refused at creation naming the value, instead of
 * turning the first budget into +inf (no budget: the fastest plan, whatever
 * its impact) or a negative number; just above it, the first plan proposed
 * is the least-impact choice of every layer (computed here from the impacts
 * given, every other candidate being far over the budget). A count of
 * degrees out of range is refused naming it. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PIX = 3072, H = 8, IMAGES = 32 };

static const char *const names[2] = {"act0", "act1"};
static const pact_func funcs[2] = {PACT_RELU, PACT_RELU};

static pact_status forward(void *ctx, const float *in, int batch, pact_act_hook hook,
                           void *hook_ctx, float *logits, pact_error *err)
{
    (void)ctx;
    float h[H];
    for (int b = 0; b < batch; b++) {
        for (int o = 0; o < H; o++)
            h[o] = 4.0f * (in[(size_t)b * PIX + (size_t)o * 7] - 0.5f) + 0.1f * (float)o;
        for (int l = 0; l < 2; l++) {
            pact_status st = hook ? hook(hook_ctx, l, h, 1, H, 1, err) : PACT_OK;
            if (st != PACT_OK)
                return st;
            if (!hook)
                for (int o = 0; o < H; o++)
                    h[o] = h[o] > 0.0f ? h[o] : 0.0f;
        }
        for (int k = 0; k < 10; k++)
            logits[b * 10 + k] = h[k % H] - 0.3f * h[(k + 3) % H];
    }
    return PACT_OK;
}

int main(void)
{
    int n = 0;
    char dir[] = "/tmp/pact_test_buckets_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[600];
    snprintf(path, sizeof path, "%s/d.bin", dir);
    pact_test_write_cifar(path, IMAGES, 0, 0, 11);

    pact_error err;
    pact_dataset *ds = NULL;
    pact_calib *cal = NULL;
    pact_cost_profile *prof = NULL;
    pact_cost_layout *lay = NULL;
    CHECK_OK(pact_cifar_load(path, PACT_SPLIT_TRAIN, 0, &ds, &err), &err);
    pact_model m = {.n_act = 2, .act_names = names, .act_funcs = funcs, .input_size = PIX,
                    .n_classes = 10, .forward = forward};
    pact_calib_opts co = {0};
    if (ds)
        CHECK_OK(pact_calibrate(&m, ds, &co, &cal, &err), &err);
    CHECK_OK(pact_cost_profile_default(&prof, &err), &err);
    CHECK_OK(pact_cost_layout_create(&lay, &err), &err);
    pact_cost_op ops[] = {
        {PACT_COST_LINEAR, "dense1", 2, 1000.0, 1, 1}, {PACT_COST_ACT, "act0", 0, 0, 1, 0},
        {PACT_COST_LINEAR, "dense2", 2, 1000.0, 1, 1}, {PACT_COST_ACT, "act1", 0, 0, 1, 0},
        {PACT_COST_LINEAR, "dense3", 1, 100.0, 1, 1},
    };
    for (size_t i = 0; lay && i < sizeof ops / sizeof ops[0]; i++)
        CHECK_OK(pact_cost_layout_add(lay, &ops[i], &err), &err);
    n += 5;
    if (!ds || !cal || !prof || !lay)
        return pact_test_done("test_optimize_buckets", n);

    pact_optimize_opts o;
    pact_optimize_opts_default(&o);
    o.n_degrees = 3;
    o.degrees[0] = 3;
    o.degrees[1] = 7;
    o.degrees[2] = 15;
    o.n_floors = 1;
    o.floors[0] = 0.1;

    /* 2 layers: 4 buckets leave no room for the least-impact plan */
    for (int buckets = 1; buckets <= 4; buckets += 3) {
        pact_optimizer *op = NULL;
        o.impact_buckets = buckets;
        memset(&err, 0, sizeof err);
        pact_status st = pact_optimizer_create(&m, ds, cal, lay, prof, &o, "t", "", &op, &err);
        char want[32];
        snprintf(want, sizeof want, "%d", buckets);
        CHECK(st == PACT_EINVAL && !op && strstr(err.message, "impact_buckets") &&
                  strstr(err.message, want),
              "impact_buckets %d: %s '%s' (want EINVAL naming impact_buckets %d)", buckets,
              pact_status_str(st), err.message, buckets);
        pact_optimizer_free(op);
        n++;
    }

    /* a count of degrees out of range is named (the message used not to) */
    {
        pact_optimize_opts ob = o;
        ob.n_degrees = 33;
        pact_optimizer *op = NULL;
        memset(&err, 0, sizeof err);
        pact_status st = pact_optimizer_create(&m, ds, cal, lay, prof, &ob, "t", "", &op, &err);
        CHECK(st == PACT_EINVAL && !op && strstr(err.message, "33"),
              "33 degrees: %s '%s' (want EINVAL naming 33)", pact_status_str(st), err.message);
        pact_optimizer_free(op);
        n++;
    }

    /* 5 buckets: the least-impact candidates (degree 15 here, the slowest)
     * must be the first plan; every other one is far over any budget */
    o.impact_buckets = 5;
    pact_optimizer *op = NULL;
    CHECK_OK(pact_optimizer_create(&m, ds, cal, lay, prof, &o, "t", "", &op, &err), &err);
    n++;
    if (op) {
        size_t items = pact_optimizer_item_count(op);
        double impacts[6];
        int least[2] = {-1, -1};
        CHECK(items == 6, "%zu items, want 2 layers x 3 degrees", items);
        for (size_t i = 0; items == 6 && i < items; i++) {
            int layer = -1, degree = 0;
            CHECK_OK(pact_optimizer_item(op, i, &layer, &degree, NULL, &err), &err);
            impacts[i] = degree == 15 ? 0.01 * (layer + 1) : 1e6;
            if (degree == 15)
                least[layer] = (int)(i % 3);
        }
        CHECK_OK(pact_optimizer_set_impacts(op, impacts, items, &err), &err);
        int choices[2] = {-1, -1}, done = 1;
        CHECK_OK(pact_optimizer_next(op, choices, &done, &err), &err);
        CHECK(!done && choices[0] == least[0] && choices[1] == least[1],
              "first plan: done %d, choices %d %d; least impact %d %d", done, choices[0],
              choices[1], least[0], least[1]);
        n += 4;
    }
    pact_optimizer_free(op);
    pact_cost_layout_free(lay);
    pact_cost_profile_free(prof);
    pact_calib_free(cal);
    pact_dataset_free(ds);
    unlink(path);
    rmdir(dir);
    return pact_test_done("test_optimize_buckets", n);
}
