/* libFuzzer target: plan.json parsing must never crash, hang or leak. */
#include "pann/plan_internal.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pact_plan *plan = NULL;
    pact_error err;
    if (pact_plan_parse((const char *)data, size, "fuzz.json", &plan, &err) == PACT_OK) {
        /* exercise what a loaded plan is used for */
        for (int i = 0; i < pact_plan_layer_count(plan); i++)
            (void)pact_plan_layer_eval(plan, i, 0.5);
        pact_pann *pann = NULL;
        if (pact_pann_create(plan, NULL, &pann, &err) == PACT_OK) {
            float x[4] = {-1.0f, 0.0f, 0.25f, 3.0f};
            for (int i = 0; i < pact_plan_layer_count(plan); i++)
                pact_pann_apply(pann, i, x, 4, &err);
        }
        pact_pann_free(pann);
    }
    pact_plan_free(plan);
    return 0;
}
