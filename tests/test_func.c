/* Activation functions and status names against closed forms. */
#include "testutil.h"

#include <math.h>
#include <string.h>

int main(void)
{
    int n = 0;
    pact_error err;

    CHECK(pact_func_eval(PACT_RELU, -2.0) == 0.0 && pact_func_eval(PACT_RELU, 3.5) == 3.5,
          "relu"); n++;
    /* GELU(1) = Phi(1) = 0.8413447460685429 (standard normal cdf at 1) */
    double g = pact_func_eval(PACT_GELU, 1.0);
    CHECK(fabs(g - 0.8413447460685429) < 1e-15, "gelu(1) = %.17g", g); n++;
    /* far left tail: x Phi(x) for x=-10 is -10 * 7.619853024160527e-24 */
    g = pact_func_eval(PACT_GELU, -10.0);
    CHECK(fabs(g / -7.619853024160527e-23 - 1.0) < 1e-12, "gelu(-10) = %.17g", g); n++;
    double s = pact_func_eval(PACT_SIGMOID, -800.0);
    CHECK(s >= 0.0 && s < 1e-300, "sigmoid(-800) = %g", s); n++;
    CHECK(pact_func_eval(PACT_SILU, 2.0) == 2.0 / (1.0 + exp(-2.0)), "silu(2)"); n++;
    CHECK(pact_func_eval(PACT_SIGN, 0.0) == 0.0 && pact_func_eval(PACT_SIGN, -1e-300) == -1.0,
          "sign"); n++;
    CHECK(isnan(pact_func_eval(PACT_FUNC_COUNT, 0.0)), "unknown function -> NaN"); n++;

    for (int f = 0; f < PACT_FUNC_COUNT; f++) {
        pact_func back;
        CHECK_OK(pact_func_from_name(pact_func_name((pact_func)f), &back, &err), &err);
        CHECK(back == (pact_func)f, "name round trip %d", f);
        n++;
    }
    CHECK(pact_func_from_name("softplus", &(pact_func){0}, &err) == PACT_EINVAL &&
              strstr(err.message, "softplus") != NULL,
          "unknown name is named in the message: '%s'", err.message); n++;
    CHECK(strcmp(pact_status_str(PACT_EMAXITER), "PACT_EMAXITER") == 0, "status name"); n++;
    return pact_test_done("test_func", n);
}
