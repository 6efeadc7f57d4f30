/* Chebyshev interpolation at first-kind nodes: interpolation property at
 * nodes computed here, T_k reproduced, the aliasing identity
 * T_{2n-k} = -T_k on the n nodes, exp's coefficients 2 I_k(1) (Bessel series
 * summed here), and the near-best bound E* <= ||f - p|| <= (2 + 2/pi ln(n)) E*
 * (Lebesgue constant of these nodes) against the minimax fit. */
#include "testutil.h"

#include <math.h>

#define PI 3.14159265358979323846

static int g_k;
static double tk(void *ctx, double x)
{
    (void)ctx;
    return cos(g_k * acos(fmax(-1.0, fmin(1.0, x))));
}

static double expf_(void *ctx, double x)
{
    (void)ctx;
    return exp(x);
}

static double bessel_i(int k, double x) /* I_k(x) = sum (x/2)^(2m+k) / (m! (m+k)!) */
{
    double s = 0.0, term = pow(x / 2, k) / tgamma(k + 1.0);
    for (int m = 0; m < 60; m++) {
        s += term;
        term *= (x / 2) * (x / 2) / ((m + 1.0) * (m + 1.0 + k));
    }
    return s;
}

int main(void)
{
    int n = 0;
    pact_error err;
    pact_poly *p = NULL;
    double e;

    /* interpolation property on an asymmetric interval */
    const int d = 17;
    const double a = -2.5, b = 6.0;
    CHECK_OK(pact_fit_cheb(PACT_GELU, a, b, d, NULL, &p, &e, &err), &err);
    double worst = 0.0;
    for (int j = 0; j <= d; j++) {
        double x = (a + b) / 2 + (b - a) / 2 * cos(PI * (j + 0.5) / (d + 1));
        worst = fmax(worst, fabs(pact_poly_eval(p, x) - pact_func_eval(PACT_GELU, x)));
    }
    CHECK(worst < 1e-13, "gelu interpolant at its nodes: %.3g", worst); n++;
    pact_poly_free(p);

    /* T_k reproduced; T_{2n-k} aliases to -T_k */
    for (g_k = 0; g_k <= 2 * (d + 1) - 1; g_k++) {
        CHECK_OK(pact_fit_cheb_fn(tk, NULL, -1, 1, d, NULL, &p, &e, &err), &err);
        int alias = g_k <= d ? g_k : 2 * (d + 1) - g_k;
        double sign = g_k <= d ? 1.0 : -1.0;
        worst = 0.0;
        for (int k = 0; k <= d; k++) {
            double want = (k == alias && g_k != d + 1) ? sign : 0.0;
            worst = fmax(worst, fabs(pact_poly_cheb(p)[k] - want));
        }
        CHECK(worst < 1e-13, "T_%d interpolated at %d nodes: coefficient error %.3g", g_k, d + 1,
              worst); n++;
        pact_poly_free(p);
    }

    /* exp on [-1, 1]: c_0 = I_0(1), c_k = 2 I_k(1) */
    CHECK_OK(pact_fit_cheb_fn(expf_, NULL, -1, 1, 20, NULL, &p, &e, &err), &err);
    worst = 0.0;
    for (int k = 0; k <= 20; k++)
        worst = fmax(worst, fabs(pact_poly_cheb(p)[k] - (k ? 2.0 : 1.0) * bessel_i(k, 1.0)));
    CHECK(worst < 1e-14, "exp coefficients vs Bessel I_k(1): %.3g", worst); n++;
    pact_poly_free(p);

    /* near-best: E* <= cheb error <= (2 + 2/pi ln(d + 1)) E* */
    const pact_func fs[] = {PACT_RELU, PACT_GELU, PACT_SIGMOID, PACT_SILU};
    const int degs[] = {4, 15, 31, 63};
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            double ec, em;
            pact_poly *q = NULL;
            CHECK_OK(pact_fit_cheb(fs[i], -20, 20, degs[j], NULL, &p, &ec, &err), &err);
            CHECK_OK(pact_fit_minimax(fs[i], -20, 20, degs[j], NULL, &q, &em, &err), &err);
            double bound = 2.0 + 2.0 / PI * log(degs[j] + 1.0);
            CHECK(ec >= em * (1 - 1e-9) && ec <= bound * em * (1 + 1e-9),
                  "%s d%d: cheb %.6g, minimax %.6g, bound x%.3f", pact_func_name(fs[i]), degs[j],
                  ec, em, bound); n++;
            pact_poly_free(p), pact_poly_free(q);
        }
    }
    CHECK(pact_fit_cheb(PACT_RELU, 2, 1, 5, NULL, &p, &e, &err) == PACT_EINVAL && !p, "a > b"); n++;
    CHECK(pact_fit_cheb(PACT_RELU, -1, 1, 300, NULL, &p, &e, &err) == PACT_EINVAL, "degree 300"); n++;
    return pact_test_done("test_interp", n);
}
