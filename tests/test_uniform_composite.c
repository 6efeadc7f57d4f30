/* pact_plan_uniform "composite:alpha=A,B=X" on relu, abs and sign layers (the
 * header used to say relu only; the code takes all three) against closed
 * forms. The composite sign s has relu error e(u) = B |u| |1 - s sign(u)| / 2
 * <= B 2^-A at u = x / B (pact_composite_sign), so: relu within B 2^-A of
 * max(x, 0); abs = B u s = 2 relu(x) - x within 2 B 2^-A of |x|; sign within
 * 2^-A x 2 / |u| of sign(x), i.e. 8 x 2^-A where |x| >= B / 4. A gelu layer
 * is refused naming the functions the composite is for. */
#include "testutil.h"

#include <math.h>
#include <string.h>

int main(void)
{
    int n = 0;
    const char *names[3] = {"r", "a", "s"};
    const pact_func funcs[3] = {PACT_RELU, PACT_ABS, PACT_SIGN};
    pact_model m = {.n_act = 3, .act_names = names, .act_funcs = funcs, .input_size = 3072,
                    .n_classes = 10};
    pact_error err;
    pact_plan *plan = NULL;
    const double B = 4.0, tol = ldexp(1.0, -8);
    pact_status st = pact_plan_uniform("composite:alpha=8,B=4", &m, NULL, "t", "", &plan, &err);
    CHECK(st == PACT_OK && plan, "composite on relu/abs/sign: %s %s", pact_status_str(st),
          st == PACT_OK ? "" : err.message);
    n++;
    double worst[3] = {0, 0, 0};
    for (int i = 0; plan && i <= 4000; i++) {
        double x = -B + 2.0 * B * i / 4000.0;
        double r = pact_plan_layer_eval(plan, 0, x), a = pact_plan_layer_eval(plan, 1, x);
        worst[0] = fmax(worst[0], fabs(r - fmax(x, 0.0)));
        worst[1] = fmax(worst[1], fabs(a - fabs(x)));
        /* relu error e at u = x/B: |1 - s sign(u)| = 2 e / (B |u|) */
        if (fabs(x) >= B / 4)
            worst[2] = fmax(worst[2], fabs(pact_plan_layer_eval(plan, 2, x) - (x > 0 ? 1.0 : -1.0)));
    }
    if (plan) {
        CHECK(worst[0] <= B * tol * (1 + 1e-9), "relu: max error %.3e > B 2^-8 = %.3e", worst[0], B * tol);
        CHECK(worst[1] <= 2 * B * tol * (1 + 1e-9), "abs: max error %.3e > 2 B 2^-8 = %.3e", worst[1],
              2 * B * tol);
        CHECK(worst[2] <= 8 * tol * (1 + 1e-9), "sign (|x| >= B/4): max error %.3e > 8 x 2^-8 = %.3e",
              worst[2], 8 * tol);
        n += 3;
    }
    pact_plan_free(plan);

    const pact_func gelu[3] = {PACT_RELU, PACT_GELU, PACT_RELU};
    m.act_funcs = gelu;
    plan = NULL;
    memset(&err, 0, sizeof err);
    st = pact_plan_uniform("composite:alpha=8,B=4", &m, NULL, "t", "", &plan, &err);
    CHECK(st == PACT_EINVAL && !plan && strstr(err.message, "abs") && strstr(err.message, "gelu"),
          "composite on a gelu layer: %s '%s' (want EINVAL naming gelu and relu, abs or sign)",
          pact_status_str(st), err.message);
    n++;
    pact_plan_free(plan);
    return pact_test_done("test_uniform_composite", n);
}
