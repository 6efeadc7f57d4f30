/* libFuzzer target: HE cost profile JSON (pact_cost_profile_parse, what
 * pact_cost_profile_load runs on a file's bytes), then what `polyact cost`
 * and the optimizer do with an accepted profile: a ResNet-20 layout, the
 * cost of a few activations at the levels they can start at, and (for a
 * sample of the profiles) walks through a small residual network. */
#include "fuzz_check.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

static const pact_status refusals[] = {PACT_EFORMAT, PACT_ENOMEM, PACT_OK};
static const pact_status use_refusals[] = {PACT_EINVAL, PACT_EUNSUPPORTED, PACT_EMISMATCH,
                                           PACT_EFORMAT, PACT_ENOMEM, PACT_OK};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pact_cost_profile *prof = NULL;
    pact_error err = {0};
    pact_status st = pact_cost_profile_parse((const char *)data, size, "fuzz.json", &prof, &err);
    if (st != PACT_OK) {
        FUZZ_ASSERT(prof == NULL, "a profile came back with %s", pact_status_str(st));
        fuzz_check_refusal(st, &err, "fuzz.json", refusals);
        return 0;
    }
    int L = pact_cost_profile_max_level(prof);
    FUZZ_ASSERT(L >= 1 && pact_cost_profile_fresh_level(prof) >= 0, "levels %d", L);
    /* a few degrees, at the lowest and the highest level they can start at */
    static const int degrees[] = {1, 3, 27, 1023};
    for (size_t i = 0; i < sizeof degrees / sizeof degrees[0]; i++) {
        int depth = 0;
        st = pact_cost_poly_depth(prof, degrees[i], &depth, &err);
        if (st != PACT_OK) {
            fuzz_check_refusal(st, &err, "", use_refusals);
            continue;
        }
        FUZZ_ASSERT(depth >= 1, "degree %d: depth %d", degrees[i], depth);
        for (int level = depth; level <= L; level += (L - depth > 0 ? L - depth : 1)) {
            double ms = -1.0;
            st = pact_cost_poly_ms(prof, degrees[i], level, &ms, &err);
            if (st == PACT_OK)
                FUZZ_ASSERT(isfinite(ms) && ms >= 0.0, "degree %d level %d: %g ms", degrees[i],
                            level, ms);
            else
                fuzz_check_refusal(st, &err, "", use_refusals);
        }
    }
    /* the ResNet layout reads the profile's cifar_resnet section */
    pact_cost_layout *layout = NULL;
    st = pact_cost_layout_resnet(prof, 20, &layout, &err);
    if (st != PACT_OK)
        fuzz_check_refusal(st, &err, "", use_refusals);
    pact_cost_layout_free(layout);
    layout = NULL;
    /* walks (the bootstrapping-placement program) on a small residual network
     * under this profile: the same rules as on a ResNet, far cheaper */
    if (fuzz_sampled(data, size, 4) && pact_cost_layout_create(&layout, &err) == PACT_OK) {
        const pact_cost_op ops[] = {
            {PACT_COST_LINEAR, "conv", 2, 10.0, 1, 0}, {PACT_COST_ACT, "relu", 0, 0, 1, 0},
            {PACT_COST_FORK, "fork", 0, 0, 1, 0},      {PACT_COST_LINEAR, "c1", 1, 5.0, 1, 0},
            {PACT_COST_ACT, "r1", 0, 0, 1, 0},         {PACT_COST_SHORTCUT, "sc", 1, 1.0, 1, 0},
            {PACT_COST_ADD, "add", 0, 0.5, 1, 0},      {PACT_COST_ACT, "r2", 0, 0, 1, 0},
            {PACT_COST_LINEAR, "fc", 1, 2.0, 1, 1},
        };
        int ok = 1;
        for (size_t k = 0; ok && k < sizeof ops / sizeof ops[0]; k++)
            ok = pact_cost_layout_add(layout, &ops[k], &err) == PACT_OK;
        FUZZ_ASSERT(ok, "the small layout: %s", err.message);
        static const char *const specs[] = {"composite:alpha=13", "degree:3"};
        for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
            pact_cost_walk *walk = NULL;
            st = pact_cost_uniform(layout, prof, specs[s], &walk, &err);
            if (st == PACT_OK)
                FUZZ_ASSERT(walk && isfinite(walk->total_ms) && walk->total_ms >= 0.0 &&
                                walk->n_bootstraps >= 0,
                            "%s: total %g ms", specs[s], walk ? walk->total_ms : NAN);
            else
                fuzz_check_refusal(st, &err, "", use_refusals);
            pact_cost_walk_free(walk);
        }
    }
    pact_cost_layout_free(layout);
    pact_cost_profile_free(prof);
    return 0;
}
