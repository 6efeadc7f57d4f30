/* PANN layers: BSGS evaluation of plan layers against closed forms, input
 * statistics, fixed-point error, reproducible noise streams. */
#include "testutil.h"

#include <math.h>
#include <string.h>

int main(void)
{
    int n = 0;
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_create("t", "", 2, &plan, &err), &err);
    if (!plan)
        return 1;
    /* layer 0: x^2 on [-2, 2] = 2 + 2 T_2(x / 2) */
    double c0[3] = {2.0, 0.0, 2.0};
    const double *c0p[1] = {c0};
    int d0[1] = {2};
    pact_plan_layer l0 = {.name = "a", .func = PACT_RELU, .form = PACT_FORM_POLY, .a = -2.0,
                          .b = 2.0, .n_parts = 1, .degrees = d0, .cheb = c0p,
                          .max_error = NAN, .impact = NAN};
    CHECK_OK(pact_plan_set_layer(plan, 0, &l0, &err), &err);
    /* layer 1: composite relu, B = 8, two parts f(t) = (3t - t^3) / 2
     * = 9/8 T_1 - 1/8 T_3, the first on [-1, 1], the second on [-1.25, 1.25] */
    double f1[4] = {0.0, 9.0 / 8.0, 0.0, -1.0 / 8.0};
    double f2[4] = {0.0, 1.25 * 1.25 * 1.25 / 8.0 * 9.0 / 1.25 / 1.25, 0.0, 0.0};
    /* f on [-1.25, 1.25] in the Chebyshev basis of that interval: t = 1.25 y,
     * f = (3.75 y - 1.953125 y^3) / 2 = c1 T_1 + c3 T_3 with y^3 = (3T_1 + T_3)/4 */
    f2[1] = 3.75 / 2.0 - 1.953125 / 2.0 * 0.75;
    f2[3] = -1.953125 / 2.0 * 0.25;
    const double *cp[2] = {f1, f2};
    int dd[2] = {3, 3};
    double pa[2] = {-1.0, -1.25}, pb[2] = {1.0, 1.25};
    pact_plan_layer l1 = {.name = "b", .func = PACT_RELU, .form = PACT_FORM_COMPOSITE, .a = -8.0,
                          .b = 8.0, .bound = 8.0, .n_parts = 2, .degrees = dd, .part_a = pa,
                          .part_b = pb, .cheb = cp, .max_error = NAN, .impact = NAN};
    CHECK_OK(pact_plan_set_layer(plan, 1, &l1, &err), &err);
    n += 3;

    pact_pann *pann = NULL;
    CHECK_OK(pact_pann_create(plan, NULL, &pann, &err), &err);
    n++;
    if (!pann)
        return pact_test_done("test_pann", n);
    enum { N = 101 };
    float x[N], x1[N];
    for (int i = 0; i < N; i++)
        x[i] = x1[i] = (float)(-3.0 + 6.0 * i / (N - 1)); /* includes |x| > 2 */
    CHECK_OK(pact_pann_apply(pann, 0, x, N, &err), &err);
    CHECK_OK(pact_pann_apply(pann, 1, x1, N, &err), &err);
    n += 2;
    for (int i = 0; i < N; i++) {
        double v = -3.0 + 6.0 * i / (N - 1);
        v = (float)v;
        CHECK(fabs(x[i] - v * v) <= 1e-6 * (1 + v * v), "x^2 at %g: %.9g", v, x[i]);
        double u = v / 8.0, t = (3 * u - u * u * u) / 2, s = (3 * t - t * t * t) / 2;
        double want = 8.0 * u * (1.0 + s) / 2.0;
        CHECK(fabs(x1[i] - want) <= 1e-6, "composite at %g: %.9g, closed form %.9g", v, x1[i], want);
        n += 2;
    }
    const pact_layer_stats *st = pact_pann_layer_stats(pann, 0);
    /* inputs -3 + 0.06 i: below -2 for i = 0..16, above 2 for i = 84..100 */
    CHECK(st->inputs == N && st->out_of_range == 34, "inputs %llu out of range %llu (34)",
          (unsigned long long)st->inputs, (unsigned long long)st->out_of_range);
    CHECK(fabs(st->worst_excursion - 1.0) < 1e-6 && st->min_input == -3.0f && st->max_input == 3.0f,
          "worst excursion %g (1), range [%g, %g]", st->worst_excursion, st->min_input, st->max_input);
    CHECK(pact_pann_layer_stats(pann, 1)->out_of_range == 0, "composite layer: all inside [-8, 8]");
    pact_pann_reset_stats(pann);
    CHECK(pact_pann_layer_stats(pann, 0)->inputs == 0, "reset");
    CHECK(pact_pann_apply(pann, 2, x, 1, &err) == PACT_EINVAL, "layer index checked");
    n += 5;
    pact_pann_free(pann);

    /* fixed point F = 16: error of a degree-2 evaluation stays within a few
     * grid steps of 2^-16 times the coefficient magnitudes */
    pact_arith ar = {.frac_bits = 16};
    CHECK_OK(pact_pann_create(plan, &ar, &pann, &err), &err);
    float xf[N];
    double worst = 0.0;
    for (int i = 0; i < N; i++)
        xf[i] = (float)(-2.0 + 4.0 * i / (N - 1));
    pact_pann_apply(pann, 0, xf, N, &err);
    for (int i = 0; i < N; i++) {
        double v = (float)(-2.0 + 4.0 * i / (N - 1));
        worst = fmax(worst, fabs(xf[i] - v * v));
    }
    CHECK(worst > 0.0 && worst <= 16.0 * ldexp(1.0, -16), "F=16 error %.3e (bound %.3e)", worst,
          16.0 * ldexp(1.0, -16));
    n++;
    pact_pann_free(pann);

    /* noise: same seed and stream -> same output; another stream -> different */
    pact_arith an = {.frac_bits = 20, .noise_sigma = 1e-3, .seed = 9};
    float ya[N], yb[N], yc[N];
    pact_pann *p1 = NULL, *p2 = NULL;
    CHECK_OK(pact_pann_create(plan, &an, &p1, &err), &err);
    CHECK_OK(pact_pann_create(plan, &an, &p2, &err), &err);
    for (int i = 0; i < N; i++)
        ya[i] = yb[i] = yc[i] = (float)(i * 0.01);
    pact_pann_set_stream(p1, 5);
    pact_pann_set_stream(p2, 5);
    pact_pann_apply(p1, 1, ya, N, &err);
    pact_pann_apply(p2, 1, yb, N, &err);
    pact_pann_set_stream(p2, 6);
    pact_pann_apply(p2, 1, yc, N, &err);
    CHECK(memcmp(ya, yb, sizeof ya) == 0, "same stream, same noise");
    CHECK(memcmp(ya, yc, sizeof ya) != 0, "another stream, other noise");
    n += 2;
    pact_pann_free(p1);
    pact_pann_free(p2);

    pact_arith badf = {.frac_bits = 3};
    CHECK(pact_pann_create(plan, &badf, &pann, &err) == PACT_EINVAL, "F=3 refused");
    n++;
    pact_pann_free(NULL);
    pact_plan_free(plan);
    return pact_test_done("test_pann", n);
}
