/* libFuzzer target: calib.json text (pact_calib_parse, what pact_calib_load
 * runs on a file's bytes), then what an accepted calibration feeds: its
 * accessors, and the uniform plans fitted on its layers' intervals and
 * histograms (pact_plan_uniform, as `polyact eval --calib C --uniform S`). */
#include "fuzz_check.h"
#include "pann/calib_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

static const pact_status refusals[] = {PACT_EFORMAT, PACT_EUNSUPPORTED, PACT_ENOMEM, PACT_OK};
static const pact_status plan_refusals[] = {PACT_EINVAL, PACT_ENUMERIC, PACT_EMAXITER,
                                            PACT_ETOL, PACT_ENOMEM, PACT_OK};

static pact_status no_forward(void *ctx, const float *input, int batch, pact_act_hook hook,
                              void *hook_ctx, float *logits, pact_error *err)
{
    (void)ctx, (void)input, (void)batch, (void)hook, (void)hook_ctx, (void)logits;
    if (err)
        err->status = PACT_ECALLBACK;
    return PACT_ECALLBACK; /* never called: plans need no forward pass */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pact_calib *c = NULL;
    pact_error err = {0};
    pact_status st = pact_calib_parse((const char *)data, size, "fuzz.json", &c, &err);
    if (st != PACT_OK) {
        FUZZ_ASSERT(c == NULL, "a calibration came back with %s", pact_status_str(st));
        fuzz_check_refusal(st, &err, "fuzz.json", refusals);
        return 0;
    }
    int n = pact_calib_layer_count(c), bins = pact_calib_bins(c);
    FUZZ_ASSERT(n >= 1 && bins >= 1, "%d layers, %d bins", n, bins);
    for (int i = 0; i < n; i++) {
        const pact_calib_layer *l = pact_calib_layer_at(c, i);
        FUZZ_ASSERT(l && l->name && l->name[0] && l->bins == bins, "layer %d", i);
        FUZZ_ASSERT(pact_calib_find(c, l->name) == i, "layer %d found at %d", i,
                    pact_calib_find(c, l->name));
        uint64_t sum = 0;
        for (int k = 0; k < bins; k++)
            sum += l->histogram[k];
        FUZZ_ASSERT(sum == l->count, "layer %d: histogram sums to %llu, count %llu", i,
                    (unsigned long long)sum, (unsigned long long)l->count);
        FUZZ_ASSERT(l->min <= l->max && l->std >= 0.0, "layer %d statistics", i);
        for (double q = 0.0; q <= 1.0; q += 0.125) {
            double v = pact_calib_quantile(c, i, q);
            FUZZ_ASSERT(v >= l->min && v <= l->max, "layer %d: quantile %g = %g outside [%g, %g]",
                        i, q, v, l->min, l->max);
        }
    }
    FUZZ_ASSERT(pact_calib_layer_at(c, n) == NULL && isnan(pact_calib_quantile(c, 0, 2.0)),
                "out-of-range accessors");

    /* uniform plans on the calibrated intervals: a sample of the small
     * calibrations, to keep executions fast */
    if (n <= 3 && bins <= 256 && fuzz_sampled(data, size, 8)) {
        const char *names[3];
        pact_func funcs[3];
        for (int i = 0; i < n; i++) {
            names[i] = pact_calib_layer_at(c, i)->name;
            funcs[i] = pact_calib_layer_at(c, i)->func;
        }
        pact_model m = {.n_act = n, .act_names = names, .act_funcs = funcs,
                        .input_size = 3072, .n_classes = 10, .forward = no_forward};
        static const char *const specs[] = {"aespa", "autorep", "lsq:degree=3",
                                            "lsq:degree=2,floor=0", "cheb:degree=3",
                                            "minimax:degree=2,B=layer,margin=0"};
        for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
            pact_plan *p = NULL;
            st = pact_plan_uniform(specs[s], &m, c, "fuzz", "", &p, &err);
            if (st == PACT_OK) {
                FUZZ_ASSERT(p && pact_plan_layer_count(p) == n, "%s: plan", specs[s]);
                for (int i = 0; i < n; i++)
                    (void)pact_plan_layer_eval(p, i, pact_calib_layer_at(c, i)->mean);
            } else {
                FUZZ_ASSERT(!p, "%s: a plan came back with %s", specs[s], pact_status_str(st));
                fuzz_check_refusal(st, &err, "", plan_refusals);
            }
            pact_plan_free(p);
        }
    }
    pact_calib_free(c);
    return 0;
}
