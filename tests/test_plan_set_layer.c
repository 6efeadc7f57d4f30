/* pact_plan_set_layer "validates every field" (polyact.h): a view whose
 * degrees, coefficient arrays or composite part intervals are NULL must be
 * refused with PACT_EINVAL naming the field (it used to be dereferenced), and
 * the plan left as it was; a valid view still sets the layer, and the layer
 * evaluates to the closed form of its Chebyshev series (T_0 + 2 T_1 + 3 T_2
 * on [-1, 1] is 1 + 2x + 3(2x^2 - 1)). */
#include "testutil.h"

#include <math.h>
#include <string.h>

int main(void)
{
    int n = 0;
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_create("m", "", 1, &plan, &err), &err);
    n++;
    if (!plan)
        return pact_test_done("test_plan_set_layer", n);
    int d = 2;
    const double c[3] = {1.0, 2.0, 3.0};
    const double *cheb = c, *no_cheb = NULL;
    double pb = 1.0;
    pact_plan_layer poly = {.name = "act", .func = PACT_RELU, .form = PACT_FORM_POLY, .a = -1.0,
                            .b = 1.0, .n_parts = 1, .degrees = &d, .cheb = &cheb};
    struct {
        const char *what, *field;
        pact_plan_layer l;
    } bad[4] = {{"poly, degrees NULL", "degrees", poly},
                {"poly, cheb NULL", "cheb", poly},
                {"poly, cheb[0] NULL", "coefficients", poly},
                {"composite, part_a NULL", "part_a", poly}};
    bad[0].l.degrees = NULL;
    bad[1].l.cheb = NULL;
    bad[2].l.cheb = &no_cheb;
    bad[3].l.form = PACT_FORM_COMPOSITE;
    bad[3].l.bound = 1.0;
    bad[3].l.part_b = &pb;
    for (int k = 0; k < 4; k++) {
        memset(&err, 0, sizeof err);
        pact_status st = pact_plan_set_layer(plan, 0, &bad[k].l, &err);
        CHECK(st == PACT_EINVAL && strstr(err.message, bad[k].field),
              "%s: %s '%s' (want EINVAL naming %s)", bad[k].what, pact_status_str(st), err.message,
              bad[k].field);
        pact_plan_layer got;
        CHECK(pact_plan_layer_get(plan, 0, &got, NULL) == PACT_EINVAL,
              "%s: the refused layer was set", bad[k].what);
        n += 2;
    }
    CHECK_OK(pact_plan_set_layer(plan, 0, &poly, &err), &err);
    for (double x = -1.0; x <= 1.0; x += 0.25) {
        double want = 1.0 + 2.0 * x + 3.0 * (2.0 * x * x - 1.0), y = pact_plan_layer_eval(plan, 0, x);
        CHECK(fabs(y - want) <= 1e-12, "p(%g) = %.17g, closed form %.17g", x, y, want);
        n++;
    }
    pact_plan_free(plan);
    return pact_test_done("test_plan_set_layer", n + 1);
}
