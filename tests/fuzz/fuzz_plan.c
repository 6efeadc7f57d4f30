/* libFuzzer target: plan.json text (pact_plan_parse, what pact_plan_load runs
 * on a file's bytes), then what a loaded plan is used for: layer evaluation,
 * a PANN in fp64 and, for a sample of the plans, in fixed point with noise,
 * and the three exports. */
#include "fuzz_check.h"
#include "pann/plan_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static const pact_status refusals[] = {PACT_EFORMAT, PACT_ENOMEM, PACT_OK};
static const pact_status export_refusals[] = {PACT_ENUMERIC, PACT_ENOMEM, PACT_OK};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pact_plan *plan = NULL;
    pact_error err = {0};
    pact_status st = pact_plan_parse((const char *)data, size, "fuzz.json", &plan, &err);
    if (st != PACT_OK) {
        FUZZ_ASSERT(plan == NULL, "a plan came back with %s", pact_status_str(st));
        fuzz_check_refusal(st, &err, "fuzz.json", refusals);
        return 0;
    }
    int n = pact_plan_layer_count(plan);
    FUZZ_ASSERT(n >= 1, "accepted plan with %d layers", n);
    for (int i = 0; i < n; i++) {
        pact_plan_layer l;
        FUZZ_ASSERT(pact_plan_layer_get(plan, i, &l, &err) == PACT_OK, "layer %d unset", i);
        FUZZ_ASSERT(l.a < l.b && isfinite(l.a) && isfinite(l.b), "layer %d interval", i);
        FUZZ_ASSERT(l.n_parts >= 1 && l.n_parts <= PACT_PLAN_MAX_PARTS && l.depth >= 1,
                    "layer %d: %d parts, depth %d", i, l.n_parts, l.depth);
        (void)pact_plan_layer_eval(plan, i, 0.5 * (l.a + l.b));
        (void)pact_plan_layer_eval(plan, i, l.b + 1e300);
    }
    int sampled = fuzz_sampled(data, size, 8);
    for (int frac = 0; frac <= (sampled ? 30 : 0); frac += 30) {
        pact_arith arith = {.frac_bits = frac, .noise_sigma = frac ? 1e-6 : 0.0, .seed = 7};
        pact_pann *pann = NULL;
        st = pact_pann_create(plan, &arith, &pann, &err);
        FUZZ_ASSERT(st == PACT_OK, "PANN of an accepted plan: %s %s", pact_status_str(st),
                    err.message);
        for (int i = 0; i < n; i++) {
            /* six values per channel of a per-channel layer (its input is one
             * image's channels, one after the other), six in all otherwise */
            static const float v[6] = {-1.0f, 0.0f, 0.25f, 3.0f, 1e30f, -INFINITY};
            pact_plan_layer l;
            FUZZ_ASSERT(pact_plan_layer_get(plan, i, &l, &err) == PACT_OK, "layer %d unset", i);
            size_t m = 6 * (size_t)(l.n_channels > 0 ? l.n_channels : 1);
            float *x = malloc(m * sizeof *x);
            if (!x)
                break;
            for (size_t j = 0; j < m; j++)
                x[j] = v[j % 6];
            FUZZ_ASSERT(pact_pann_apply(pann, i, x, m, &err) == PACT_OK, "apply layer %d: %s", i,
                        err.message);
            free(x);
            const pact_layer_stats *s = pact_pann_layer_stats(pann, i);
            FUZZ_ASSERT(s && s->inputs == m, "layer %d counted %llu inputs of %zu", i,
                        s ? (unsigned long long)s->inputs : 0ull, m);
        }
        pact_pann_free(pann);
    }
    for (int format = 0; sampled && format < 3; format++)
        for (int folded = 0; folded <= (format < 2); folded++) {
            pact_export_opts eo;
            pact_export_opts_default(&eo);
            eo.folded = folded;
            char *text = NULL;
            st = pact_export(plan, (pact_export_format)format, &eo, &text, &err);
            if (st == PACT_OK)
                FUZZ_ASSERT(text && text[0], "export %d gave no text", format);
            else
                fuzz_check_refusal(st, &err, "", export_refusals);
            free(text);
        }
    pact_plan_free(plan);
    return 0;
}
