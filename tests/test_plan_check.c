/* pact_plan_check_model: a plan fits a model only with the same layer count,
 * names and activation function per layer. A relu plan used to be accepted
 * for the same weights run with --act gelu (it evaluated relu polynomials in
 * a gelu network and reported the result as that network's PANN). */
#include "testutil.h"

#include <string.h>

static int expect(const pact_plan *plan, const pact_model *m, pact_status want, const char *a,
                  const char *b, const char *what)
{
    pact_error err;
    memset(&err, 0, sizeof err);
    pact_status st = pact_plan_check_model(plan, m, NULL, &err);
    CHECK(st == want && (!a || strstr(err.message, a)) && (!b || strstr(err.message, b)),
          "%s: %s '%s' (want %s naming '%s' and '%s')", what, pact_status_str(st), err.message,
          pact_status_str(want), a ? a : "", b ? b : "");
    return 1;
}

int main(void)
{
    int n = 0;
    const char *names[2] = {"stem", "block.relu"};
    const pact_func relu[2] = {PACT_RELU, PACT_RELU};
    pact_model m = {.n_act = 2, .act_names = names, .act_funcs = relu, .input_size = 3072,
                    .n_classes = 10};
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_uniform("minimax:degree=7,B=4", &m, NULL, "t", "", &plan, &err), &err);
    n++;
    if (plan) {
        n += expect(plan, &m, PACT_OK, NULL, NULL, "the model it was made for");
        const pact_func gelu[2] = {PACT_RELU, PACT_GELU};
        pact_model g = m;
        g.act_funcs = gelu;
        n += expect(plan, &g, PACT_EMISMATCH, "block.relu", "gelu", "layer 1 run as gelu");
        const char *other[2] = {"stem", "block.act"};
        pact_model o = m;
        o.act_names = other;
        n += expect(plan, &o, PACT_EMISMATCH, "block.act", "block.relu", "renamed layer");
        pact_model one = m;
        one.n_act = 1;
        n += expect(plan, &one, PACT_EMISMATCH, "2", "1", "fewer layers");
    }
    pact_plan_free(plan);
    return pact_test_done("test_plan_check", n);
}
