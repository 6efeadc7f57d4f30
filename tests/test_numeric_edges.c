/* Numeric edge cases through the public API: degree 0 and 1, tiny, huge and
 * overflowing intervals, Remez where it cannot converge (a clear status in
 * bounded time), weighted least squares with degenerate weights, polynomial
 * arithmetic that overflows, a PANN fed extreme inputs, and calibration of a
 * model whose activations are NaN or infinite. References are independent:
 * closed forms, scale invariance of relu, interpolation conditions, and a
 * Chebyshev series computed here by Gauss-Chebyshev quadrature. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PI 3.14159265358979323846

static int n;

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double rel(double x, double ref)
{
    return fabs(x - ref) / fmax(fabs(ref), DBL_MIN);
}

/* --- degree 0 and 1 ------------------------------------------------------ */

static double gelu_d(double x) /* derivative of x Phi(x) */
{
    return 0.5 * (1.0 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / sqrt(2.0 * PI);
}

static void degrees_0_and_1(void)
{
    pact_error err;
    pact_poly *p = NULL;
    double e = 0.0;
    /* degree 0 is not a fit (documented range 1..255), for every method */
    CHECK(pact_fit_minimax(PACT_GELU, -1, 1, 0, NULL, &p, &e, &err) == PACT_EINVAL && !p &&
              strstr(err.message, "degree 0"),
          "minimax degree 0: %s", err.message);
    CHECK(pact_fit_lsq(PACT_GELU, -1, 1, 0, NULL, NULL, 0, NULL, &p, &e, &err) == PACT_EINVAL &&
              !p && strstr(err.message, "degree 0"),
          "lsq degree 0: %s", err.message);
    CHECK(pact_fit_cheb(PACT_GELU, -1, 1, 0, NULL, &p, &e, &err) == PACT_EINVAL && !p &&
              strstr(err.message, "degree 0"),
          "cheb degree 0: %s", err.message);
    CHECK(pact_fit_minimax(PACT_GELU, -1, 1, PACT_FIT_MAX_DEGREE + 1, NULL, &p, &e, &err) ==
              PACT_EINVAL,
          "minimax degree 256: %s", err.message);
    pact_bsgs plan;
    CHECK(pact_bsgs_plan(0, &plan, &err) == PACT_EINVAL, "bsgs degree 0 accepted");
    /* but a constant polynomial is a polynomial */
    const double c0 = 2.5;
    CHECK_OK(pact_poly_create(-1, 1, 0, &c0, &p, &err), &err);
    if (p) {
        pact_poly *dp = NULL;
        CHECK(pact_poly_eval(p, 0.3) == 2.5 && pact_poly_eval(p, 7.0) == 2.5, "constant %g",
              pact_poly_eval(p, 0.3));
        CHECK_OK(pact_poly_derivative(p, &dp, &err), &err);
        CHECK(dp && pact_poly_degree(dp) == 0 && pact_poly_eval(dp, 0.1) == 0.0,
              "derivative of a constant");
        pact_poly_free(dp);
    }
    pact_poly_free(p);
    p = NULL;
    n += 8;

    /* degree 1, relu on [-1, 1]: relu = x/2 + |x|/2 and the best constant for
     * |x| is 1/2, so p = 1/4 + x/2 with error exactly 1/4 */
    CHECK_OK(pact_fit_minimax(PACT_RELU, -1, 1, 1, NULL, &p, &e, &err), &err);
    if (p)
        CHECK(fabs(pact_poly_cheb(p)[0] - 0.25) < 1e-14 &&
                  fabs(pact_poly_cheb(p)[1] - 0.5) < 1e-14 && fabs(e - 0.25) < 1e-12,
              "relu degree 1: c = %.17g %.17g, error %.17g (want 1/4, 1/2, 1/4)",
              pact_poly_cheb(p)[0], pact_poly_cheb(p)[1], e);
    pact_poly_free(p);
    p = NULL;
    /* degree 1, gelu on [-1, 1] (convex there: gelu'' = phi (2 - x^2) > 0):
     * the best line has the secant's slope m, and its error is half the gap
     * between the secant and the tangent of slope m at xi, gelu'(xi) = m */
    double a = -1.0, b = 1.0, fa = a * 0.5 * (1 + erf(a / sqrt(2))),
           fb = b * 0.5 * (1 + erf(b / sqrt(2))), m = (fb - fa) / (b - a);
    double lo = a, hi = b;
    for (int it = 0; it < 200; it++) { /* gelu' increases on [-1, 1] */
        double mid = 0.5 * (lo + hi);
        if (gelu_d(mid) < m)
            lo = mid;
        else
            hi = mid;
    }
    double xi = 0.5 * (lo + hi), fxi = xi * 0.5 * (1 + erf(xi / sqrt(2)));
    double best = 0.5 * fabs(fa + m * (xi - a) - fxi);
    CHECK_OK(pact_fit_minimax(PACT_GELU, a, b, 1, NULL, &p, &e, &err), &err);
    CHECK(p && rel(e, best) < 1e-9, "gelu degree 1 on [-1, 1]: error %.15g, closed form %.15g", e,
          best);
    if (p)
        CHECK(rel(pact_poly_cheb(p)[1], m * (b - a) / 2) < 1e-9,
              "gelu degree 1 slope (Chebyshev c1) %.15g, secant %.15g", pact_poly_cheb(p)[1],
              m * (b - a) / 2);
    pact_poly_free(p);
    n += 4;
}

/* --- tiny, huge and overflowing intervals -------------------------------- */

static void intervals(void)
{
    pact_error err;
    pact_poly *p = NULL;
    double e1 = 0.0, e = 0.0;
    /* relu(s x) = s relu(x): the minimax error scales exactly with the interval */
    CHECK_OK(pact_fit_minimax(PACT_RELU, -1, 1, 7, NULL, &p, &e1, &err), &err);
    pact_poly_free(p);
    p = NULL;
    const double scales[3] = {1e-12, 1e6, 1e300};
    for (int i = 0; i < 3; i++) {
        double s = scales[i];
        CHECK_OK(pact_fit_minimax(PACT_RELU, -s, s, 7, NULL, &p, &e, &err), &err);
        CHECK(p && rel(e, s * e1) < 1e-8, "relu degree 7 on [-%g, %g]: error %.15g, %g x %.15g",
              s, s, e, s, e1);
        pact_poly_free(p);
        p = NULL;
        CHECK_OK(pact_fit_lsq(PACT_RELU, -s, s, 7, NULL, NULL, 0, NULL, &p, &e, &err), &err);
        CHECK(p && isfinite(e) && e > s * e1 * 0.999, "lsq relu on [-%g, %g]: error %g", s, s, e);
        pact_poly_free(p);
        p = NULL;
        n += 4;
    }
    /* [1e-12, 2e-12]: relu is the identity there, so degree 3 is exact up to
     * rounding of numbers near 1e-12 */
    CHECK_OK(pact_fit_minimax(PACT_RELU, 1e-12, 2e-12, 3, NULL, &p, &e, &err), &err);
    CHECK(p && e < 1e-26 && fabs(pact_poly_eval(p, 1.5e-12) - 1.5e-12) < 1e-26,
          "relu on [1e-12, 2e-12]: error %g, p(1.5e-12) = %.17g", e,
          p ? pact_poly_eval(p, 1.5e-12) : NAN);
    pact_poly_free(p);
    p = NULL;
    /* sigmoid is 1/2 + x/4 - x^3/48 + ...: on [1e-12, 2e-12] degree 1 is
     * exact to rounding of 1/2 */
    CHECK_OK(pact_fit_cheb(PACT_SIGMOID, 1e-12, 2e-12, 1, NULL, &p, &e, &err), &err);
    CHECK(p && e <= 4.0 * DBL_EPSILON, "sigmoid on [1e-12, 2e-12]: error %g", e);
    pact_poly_free(p);
    p = NULL;
    /* the narrowest interval doubles allow */
    CHECK_OK(pact_fit_minimax(PACT_GELU, 0.0, 5e-324, 3, NULL, &p, &e, &err), &err);
    CHECK(p && e <= 5e-324, "gelu on [0, 5e-324]: error %g", e);
    pact_poly_free(p);
    p = NULL;
    n += 6;

    /* a finite interval whose width overflows: refused (it used to overflow a
     * buffer in the max-error measurement, found by the calib.json fuzzer) */
    const double wide[3][2] = {{-1e308, 1e308}, {-DBL_MAX, DBL_MAX}, {-INFINITY, 0.0}};
    for (int i = 0; i < 3; i++) {
        double a = wide[i][0], b = wide[i][1];
        CHECK(pact_fit_minimax(PACT_GELU, a, b, 5, NULL, &p, &e, &err) == PACT_EINVAL && !p,
              "minimax on [%g, %g]: %s", a, b, err.message);
        CHECK(pact_fit_cheb(PACT_TANH, a, b, 5, NULL, &p, &e, &err) == PACT_EINVAL && !p,
              "cheb on [%g, %g]: %s", a, b, err.message);
        CHECK(pact_fit_lsq(PACT_RELU, a, b, 5, NULL, NULL, 0, NULL, &p, &e, &err) ==
                      PACT_EINVAL &&
                  !p,
              "lsq on [%g, %g]: %s", a, b, err.message);
        const double c[2] = {0.0, 1.0};
        CHECK(pact_poly_create(a, b, 1, c, &p, &err) == PACT_EINVAL && !p &&
                  strstr(err.message, "b - a"),
              "poly on [%g, %g]: %s", a, b, err.message);
        n += 4;
    }
    /* interval at the top of the range: a clear numeric refusal (f overflows) */
    pact_status st = pact_fit_minimax(PACT_GELU, 1e308, DBL_MAX, 5, NULL, &p, &e, &err);
    CHECK(st == PACT_ENUMERIC && !p, "gelu on [1e308, DBL_MAX]: %s %s", pact_status_str(st),
          err.message);
    n++;
}

/* --- Remez that cannot converge ------------------------------------------ */

static double wild(void *ctx, double x) /* infinitely many oscillations at 0 */
{
    (void)ctx;
    return sin(1.0 / (x + 1e-9));
}

static double nan_above_half(void *ctx, double x)
{
    (void)ctx;
    return x > 0.5 ? NAN : x;
}

static void remez_limits(void)
{
    pact_error err;
    pact_poly *p = NULL;
    double e = NAN;
    pact_fit_opts o;
    pact_fit_opts_default(&o);
    /* default cap of 100 exchanges: EMAXITER, the best polynomial kept, in
     * bounded time */
    double t0 = seconds();
    pact_status st = pact_fit_minimax_fn(wild, NULL, 0.0, 1.0, 63, &o, &p, &e, &err);
    double t = seconds() - t0;
    CHECK(st == PACT_EMAXITER && p && isfinite(e) && e >= 1.0 && strstr(err.message, "levelled"),
          "sin(1/x) degree 63: %s, error %g, '%s'", pact_status_str(st), e, err.message);
    CHECK(t < 30.0, "sin(1/x) degree 63 took %.1f s", t);
    /* the error kept is the kept polynomial's */
    double e2 = NAN;
    if (p)
        CHECK_OK(pact_poly_max_error_fn(p, wild, NULL, &o, &e2, NULL, &err), &err);
    CHECK(p && fabs(e2 - e) <= 1e-12 * e, "kept error %.17g, measured again %.17g", e, e2);
    pact_poly_free(p);
    p = NULL;
    printf("sin(1/x) on [0, 1], degree 63: %s after 100 exchanges in %.2f s, error %.4g\n",
           pact_status_str(st), t, e);
    /* a tight cap stops a converging fit early: EMAXITER, still usable */
    o.max_iter = 1;
    st = pact_fit_minimax(PACT_GELU, -4, 4, 15, &o, &p, &e, &err);
    CHECK(st == PACT_EMAXITER && p && isfinite(e), "gelu with max_iter 1: %s",
          pact_status_str(st));
    pact_poly_free(p);
    p = NULL;
    /* options out of range */
    o.max_iter = 0;
    CHECK(pact_fit_minimax(PACT_GELU, -4, 4, 15, &o, &p, &e, &err) == PACT_EINVAL && !p,
          "max_iter 0: %s", err.message);
    pact_fit_opts_default(&o);
    o.tol = NAN;
    CHECK(pact_fit_minimax(PACT_GELU, -4, 4, 15, &o, &p, &e, &err) == PACT_EINVAL && !p,
          "tol NaN: %s", err.message);
    pact_fit_opts_default(&o);
    /* a target that is not finite: ENUMERIC naming where */
    st = pact_fit_minimax_fn(nan_above_half, NULL, 0.0, 1.0, 5, &o, &p, &e, &err);
    CHECK(st == PACT_ENUMERIC && !p && strstr(err.message, "nan"), "NaN target: %s %s",
          pact_status_str(st), err.message);
    /* a composite sign whose gap is too small for its degree: stage 1 cannot
     * get below error 1, a clear numeric refusal */
    pact_composite *comp = NULL;
    const int deg7[1] = {7};
    st = pact_composite_fit(deg7, 1, 1e-300, NULL, &comp, &err);
    CHECK(st == PACT_ENUMERIC && !comp && strstr(err.message, "eps"),
          "composite degree 7, eps 1e-300: %s %s", pact_status_str(st), err.message);
    pact_composite_free(comp);
    n++;
    /* sign across 0: its best uniform error is 1/2 whatever the degree */
    CHECK(pact_fit_minimax(PACT_SIGN, -1, 1, 7, NULL, &p, &e, &err) == PACT_EINVAL && !p &&
              strstr(err.message, "composite"),
          "sign on [-1, 1]: %s", err.message);
    n += 8;
}

/* --- least squares with degenerate weights ------------------------------- */

static void lsq_weights(void)
{
    pact_error err;
    pact_poly *p = NULL, *q = NULL;
    double e = 0.0;
    pact_fit_opts o;
    pact_fit_opts_default(&o);
    const double x[4] = {-0.5, 0.1, 0.4, 0.9};
    const double zero[4] = {0, 0, 0, 0};

    /* all weights zero, floor 0: nothing to fit */
    o.floor = 0.0;
    CHECK(pact_fit_lsq(PACT_GELU, -1, 1, 3, x, zero, 4, &o, &p, &e, &err) == PACT_EINVAL && !p &&
              strstr(err.message, "floor"),
          "zero weights, floor 0: %s", err.message);
    /* only samples outside [a, b]: the same */
    const double outside[2] = {5.0, 6.0}, one[2] = {1.0, 1.0};
    CHECK(pact_fit_lsq(PACT_GELU, -1, 1, 1, outside, one, 2, &o, &p, &e, &err) == PACT_EINVAL &&
              !p,
          "samples outside, floor 0: %s", err.message);
    /* one point cannot pin a line */
    CHECK(pact_fit_lsq(PACT_GELU, -1, 1, 1, x, one, 1, &o, &p, &e, &err) == PACT_EINVAL && !p &&
              strstr(err.message, "raise floor"),
          "single point, floor 0: %s", err.message);
    n += 3;

    /* degree + 1 distinct points, floor 0: the fit interpolates them */
    const double w4[4] = {1.0, 2.0, 0.5, 3.0};
    CHECK_OK(pact_fit_lsq(PACT_GELU, -1, 1, 3, x, w4, 4, &o, &p, &e, &err), &err);
    for (int i = 0; p && i < 4; i++) {
        double f = pact_func_eval(PACT_GELU, x[i]);
        CHECK(fabs(pact_poly_eval(p, x[i]) - f) < 1e-13, "interpolation at %g: %.17g vs %.17g",
              x[i], pact_poly_eval(p, x[i]), f);
        n++;
    }
    pact_poly_free(p);
    p = NULL;
    /* weights are normalised: subnormal weights give the same fit as unit ones */
    const double tiny[4] = {1e-320, 2e-320, 5e-321, 3e-320};
    const double x3[5] = {-0.9, -0.3, 0.2, 0.6, 0.95}, w5[5] = {1, 1, 1, 1, 1},
                 t5[5] = {1e-320, 1e-320, 1e-320, 1e-320, 1e-320};
    (void)tiny;
    CHECK_OK(pact_fit_lsq(PACT_SILU, -1, 1, 2, x3, w5, 5, &o, &p, &e, &err), &err);
    CHECK_OK(pact_fit_lsq(PACT_SILU, -1, 1, 2, x3, t5, 5, &o, &q, &e, &err), &err);
    for (int k = 0; p && q && k <= 2; k++)
        CHECK(fabs(pact_poly_cheb(p)[k] - pact_poly_cheb(q)[k]) < 1e-12,
              "subnormal weights: c%d %.17g vs %.17g", k, pact_poly_cheb(q)[k],
              pact_poly_cheb(p)[k]);
    pact_poly_free(p);
    pact_poly_free(q);
    p = q = NULL;
    n += 5;

    /* weights that are not finite or negative, or whose sum overflows */
    o.floor = 0.1;
    const double bad[4][2] = {{NAN, 1}, {INFINITY, 1}, {-1, 1}, {1e308, 1e308}};
    for (int i = 0; i < 4; i++) {
        CHECK(pact_fit_lsq(PACT_GELU, -1, 1, 1, x, bad[i], 2, &o, &p, &e, &err) == PACT_EINVAL &&
                  !p,
              "weights {%g, %g}: %s", bad[i][0], bad[i][1], err.message);
        n++;
    }
    const double xnan[2] = {0.1, NAN};
    CHECK(pact_fit_lsq(PACT_GELU, -1, 1, 1, xnan, one, 2, &o, &p, &e, &err) == PACT_EINVAL &&
              strstr(err.message, "sample 1"),
          "NaN sample: %s", err.message);
    n++;

    /* zero weights with a floor: only the Chebyshev measure is left, and the
     * minimiser of the Chebyshev-weighted L2 error is the truncated Chebyshev
     * series of f, computed here by Gauss-Chebyshev quadrature */
    enum { Q = 4096, D = 5 };
    CHECK_OK(pact_fit_lsq(PACT_GELU, -1, 1, D, x, zero, 4, &o, &p, &e, &err), &err);
    for (int k = 0; p && k <= D; k++) {
        double s = 0.0;
        for (int j = 0; j < Q; j++) {
            double th = PI * (j + 0.5) / Q;
            s += pact_func_eval(PACT_GELU, cos(th)) * cos(k * th);
        }
        double ck = (k == 0 ? 1.0 : 2.0) * s / Q;
        CHECK(fabs(pact_poly_cheb(p)[k] - ck) < 1e-12, "floor only: c%d %.17g, series %.17g", k,
              pact_poly_cheb(p)[k], ck);
        n++;
    }
    pact_poly_free(p);
    p = NULL;

    /* histograms: equal edges refused, all-zero counts give zero weights */
    const double edges[3] = {0, 1, 1}, counts[2] = {1, 1}, edges2[3] = {0, 1, 2},
                 zeros[2] = {0, 0};
    double hx[6], hw[6];
    size_t hn = 0;
    CHECK(pact_hist_samples(edges, counts, 2, hx, hw, &hn, &err) == PACT_EINVAL &&
              strstr(err.message, "bin 1"),
          "equal edges: %s", err.message);
    CHECK(pact_hist_samples(edges2, zeros, 0, hx, hw, &hn, &err) == PACT_EINVAL, "0 bins");
    CHECK_OK(pact_hist_samples(edges2, zeros, 2, hx, hw, &hn, &err), &err);
    o.floor = 0.0;
    CHECK(pact_fit_lsq(PACT_RELU, 0, 2, 3, hx, hw, hn, &o, &p, &e, &err) == PACT_EINVAL && !p,
          "empty histogram, floor 0: %s", err.message);
    n += 4;
}

/* --- polynomial arithmetic that overflows -------------------------------- */

static void poly_overflow(void)
{
    pact_error err;
    pact_poly *p = NULL, *r = NULL;
    const double big[2] = {1e300, 1e300};
    CHECK_OK(pact_poly_create(-1, 1, 1, big, &p, &err), &err);
    CHECK(pact_poly_mul(p, p, &r, &err) == PACT_ENUMERIC && !r, "(1e300 (1 + x))^2: %s",
          err.message);
    CHECK(pact_poly_compose(p, p, &r, &err) == PACT_ENUMERIC && !r, "p(p(x)): %s", err.message);
    pact_poly_free(p);
    p = NULL;
    const double line[2] = {0.0, 1.0};
    CHECK_OK(pact_poly_create(0.0, 5e-324, 1, line, &p, &err), &err);
    CHECK(pact_poly_derivative(p, &r, &err) == PACT_ENUMERIC && !r,
          "derivative on [0, 5e-324]: %s", err.message);
    pact_poly_free(p);
    const double mono[3] = {0.0, 0.0, 1e300};
    CHECK(pact_poly_from_monomial(-1e10, 1e10, 2, mono, &p, &err) == PACT_ENUMERIC && !p,
          "1e300 x^2 on [-1e10, 1e10]: %s", err.message);
    /* in range, the same operations are exact: (1 + x)^2 = 1.5 + 2 T1 + 0.5 T2 */
    const double c[2] = {1.0, 1.0};
    CHECK_OK(pact_poly_create(-1, 1, 1, c, &p, &err), &err);
    CHECK_OK(pact_poly_mul(p, p, &r, &err), &err);
    CHECK(r && pact_poly_cheb(r)[0] == 1.5 && pact_poly_cheb(r)[1] == 2.0 &&
              pact_poly_cheb(r)[2] == 0.5,
          "(1 + x)^2 in the Chebyshev basis");
    pact_poly_free(p);
    pact_poly_free(r);
    n += 7;
}

/* --- a PANN fed extreme inputs ------------------------------------------- */

static void pann_extremes(void)
{
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_create("m", "", 1, &plan, &err), &err);
    /* x^2 on [-2, 2] = 2 + 2 T2(x / 2) */
    const double c[3] = {2.0, 0.0, 2.0};
    const double *cp[1] = {c};
    const int d[1] = {2};
    pact_plan_layer l = {.name = "sq", .func = PACT_RELU, .form = PACT_FORM_POLY, .a = -2,
                         .b = 2, .n_parts = 1, .degrees = d, .cheb = cp, .max_error = NAN,
                         .impact = NAN};
    CHECK_OK(pact_plan_set_layer(plan, 0, &l, &err), &err);
    l.a = -1e308;
    l.b = 1e308;
    CHECK(pact_plan_set_layer(plan, 0, &l, &err) == PACT_EINVAL, "layer on [-1e308, 1e308]: %s",
          err.message);
    for (int frac = 0; frac <= 40; frac += 40) {
        pact_arith ar = {.frac_bits = frac, .noise_sigma = 0.0, .seed = 1};
        pact_pann *pann = NULL;
        CHECK_OK(pact_pann_create(plan, &ar, &pann, &err), &err);
        if (!pann)
            continue;
        float v[6] = {1.5f, -2.0f, 1e20f, -FLT_MAX, INFINITY, -INFINITY};
        CHECK_OK(pact_pann_apply(pann, 0, v, 6, &err), &err);
        /* in range: the polynomial; beyond: a square that overflows float */
        CHECK(fabsf(v[0] - 2.25f) < 1e-6f && fabsf(v[1] - 4.0f) < 1e-6f, "p(1.5) %g, p(-2) %g",
              (double)v[0], (double)v[1]);
        CHECK(isinf(v[2]) && v[2] > 0 && isinf(v[3]), "p(1e20) %g, p(-FLT_MAX) %g", (double)v[2],
              (double)v[3]);
        const pact_layer_stats *s = pact_pann_layer_stats(pann, 0);
        CHECK(s && s->inputs == 6 && s->out_of_range == 4 && isinf(s->worst_excursion),
              "frac %d: %llu inputs, %llu out of range, worst %g", frac,
              s ? (unsigned long long)s->inputs : 0ull,
              s ? (unsigned long long)s->out_of_range : 0ull, s ? s->worst_excursion : 0.0);
        CHECK(pact_pann_apply(pann, 1, v, 6, &err) == PACT_EINVAL, "layer 1 of 1");
        n += 5;
        pact_pann_free(pann);
    }
    pact_arith bad = {.frac_bits = 60};
    pact_pann *pann = NULL;
    CHECK(pact_pann_create(plan, &bad, &pann, &err) == PACT_EINVAL && !pann,
          "frac_bits 60: %s", err.message);
    bad = (pact_arith){.frac_bits = 30, .noise_sigma = NAN};
    CHECK(pact_pann_create(plan, &bad, &pann, &err) == PACT_EINVAL && !pann,
          "noise NaN: %s", err.message);
    n += 3;
    pact_plan_free(plan);
}

/* --- calibration of a model whose activations are NaN or infinite -------- */

static const char *const toy_names[2] = {"first", "second"};
static const pact_func toy_funcs[2] = {PACT_RELU, PACT_RELU};
static float poison; /* written into layer "second" at image 70's position */

static pact_status toy_forward(void *ctx, const float *input, int batch, pact_act_hook hook,
                               void *hook_ctx, float *logits, pact_error *err)
{
    const int *first_image = ctx;
    float *v = malloc(sizeof(float) * (size_t)batch * 4);
    pact_status st = PACT_OK;
    for (int i = 0; i < batch * 4; i++)
        v[i] = input[(size_t)(i / 4) * 3072 + i % 4] - 0.5f;
    st = hook(hook_ctx, 0, v, batch, 4, 1, err);
    for (int i = 0; i < batch * 4 && st == PACT_OK; i++)
        if (*first_image + i / 4 == 70)
            v[i] = poison;
    if (st == PACT_OK)
        st = hook(hook_ctx, 1, v, batch, 4, 1, err);
    for (int i = 0; i < batch && st == PACT_OK; i++)
        logits[2 * i] = v[4 * i], logits[2 * i + 1] = 0.0f;
    free(v);
    return st;
}

/* A forward wrapper that knows which images it runs (calibration goes in
 * chunk order, one forward per chunk of chunk_images). */
typedef struct {
    int next;
} toy_state;

static pact_status toy_forward_counted(void *ctx, const float *input, int batch,
                                       pact_act_hook hook, void *hook_ctx, float *logits,
                                       pact_error *err)
{
    toy_state *s = ctx;
    int first = s->next;
    s->next += batch;
    return toy_forward(&first, input, batch, hook, hook_ctx, logits, err);
}

static void calibrate_nonfinite(const char *tmpdir)
{
    pact_error err;
    char path[256];
    snprintf(path, sizeof path, "%s/images.bin", tmpdir);
    pact_test_write_cifar(path, 100, 7, 13, 0);
    pact_dataset *ds = NULL;
    CHECK_OK(pact_cifar_load(path, PACT_SPLIT_TEST, 0, &ds, &err), &err);
    remove(path);
    if (!ds)
        return;
    const float values[3] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        toy_state s = {0};
        pact_model m = {.ctx = &s, .n_act = 2, .act_names = toy_names, .act_funcs = toy_funcs,
                        .input_size = 3072, .n_classes = 2, .forward = toy_forward_counted};
        pact_calib_opts o = {.chunk_images = 32};
        poison = values[i];
        pact_calib *c = NULL;
        pact_status st = pact_calibrate(&m, ds, &o, &c, &err);
        /* image 70 is in chunk 2 (images 64..95) */
        CHECK(st == PACT_ENUMERIC && !c && strstr(err.message, "second") &&
                  strstr(err.message, "chunk 2"),
              "activation %g: %s '%s'", (double)values[i], pact_status_str(st), err.message);
        pact_calib_free(c);
        n++;
    }
    /* the largest finite floats are fine: statistics in double do not overflow */
    toy_state s = {0};
    pact_model m = {.ctx = &s, .n_act = 2, .act_names = toy_names, .act_funcs = toy_funcs,
                    .input_size = 3072, .n_classes = 2, .forward = toy_forward_counted};
    pact_calib_opts o = {.chunk_images = 32, .bins = 16};
    poison = FLT_MAX;
    pact_calib *c = NULL;
    CHECK_OK(pact_calibrate(&m, ds, &o, &c, &err), &err);
    const pact_calib_layer *l = c ? pact_calib_layer_at(c, 1) : NULL;
    CHECK(l && l->max == FLT_MAX && isfinite(l->mean) && isfinite(l->std) && l->count == 400,
          "FLT_MAX activation: max %g mean %g std %g count %llu", l ? l->max : 0,
          l ? l->mean : 0, l ? l->std : 0, l ? (unsigned long long)l->count : 0ull);
    pact_calib_free(c);
    n += 2;
    pact_dataset_free(ds);
}

int main(void)
{
    char dir[] = "/tmp/pact_numeric_XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    degrees_0_and_1();
    intervals();
    remez_limits();
    lsq_weights();
    poly_overflow();
    pann_extremes();
    calibrate_nonfinite(dir);
    remove(dir);
    return pact_test_done("test_numeric_edges", n);
}
