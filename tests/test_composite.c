/* Composite minimax sign / ReLU, measured here independently of the fitting
 * code: components evaluated by the forward Chebyshev recurrence, the ReLU
 * error x |1 - s(x)| / 2 on 2^20 uniform points of [0, 1] (s is odd: its even
 * coefficients are checked to be exactly 0, so [-1, 0] mirrors [0, 1]) with
 * every local maximum above 0.9 of the largest refined by golden section.
 * For alpha = 4..14 the error must be <= 2^-alpha and the depth (sum of
 * ceil(log2(d + 1)) + 1 for the product by x) at most the published set's
 * (Lee et al. degrees as listed in PAPERS.md, copied here). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int published[11][4] = {
    /* count, degrees (alpha 4..14) */
    {1, 5}, {1, 13}, {2, 3, 7}, {2, 7, 7}, {2, 7, 15}, {2, 15, 15},
    {3, 7, 7, 13}, {3, 7, 7, 27}, {3, 7, 15, 27}, {3, 15, 15, 27}, {3, 15, 27, 29},
};

static int depth_of(int d)
{
    return (int)ceil(log2(d + 1.0));
}

static double eval_comp(const pact_poly *p, double x)
{
    double a, b;
    pact_poly_interval(p, &a, &b);
    const double *c = pact_poly_cheb(p);
    double y = (2.0 * x - a - b) / (b - a), t0 = 1.0, t1 = y, s = c[0];
    for (int k = 1; k <= pact_poly_degree(p); k++) {
        s += c[k] * t1;
        double t2 = 2.0 * y * t1 - t0;
        t0 = t1, t1 = t2;
    }
    return s;
}

static const pact_composite *g_c;
static double sign_approx(double x)
{
    for (int i = 0; i < pact_composite_count(g_c); i++)
        x = eval_comp(pact_composite_component(g_c, i), x);
    return x;
}

static double relu_err(double x)
{
    return 0.5 * fabs(x) * fabs((x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0) - sign_approx(x));
}

static double golden_max(double (*h)(double), double lo, double hi)
{
    const double g = 0.6180339887498949;
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo), f1 = h(x1), f2 = h(x2);
    for (int i = 0; i < 60; i++) {
        if (f1 > f2)
            hi = x2, x2 = x1, f2 = f1, x1 = hi - g * (hi - lo), f1 = h(x1);
        else
            lo = x1, x1 = x2, f1 = f2, x2 = lo + g * (hi - lo), f2 = h(x2);
    }
    return fmax(f1, f2);
}

/* max of h on [lo, hi]: m uniform points + golden refinement of the peaks */
static double dense_max(double (*h)(double), double lo, double hi, int m)
{
    double *v = malloc((size_t)m * sizeof *v), best = 0.0, step = (hi - lo) / (m - 1);
    for (int j = 0; j < m; j++) {
        v[j] = h(lo + step * j);
        best = fmax(best, v[j]);
    }
    double refined = best;
    for (int j = 1; j + 1 < m; j++)
        if (v[j] >= 0.9 * best && v[j] >= v[j - 1] && v[j] >= v[j + 1])
            refined = fmax(refined, golden_max(h, lo + step * (j - 1), lo + step * (j + 1)));
    free(v);
    return refined;
}

static double g_eps;
static double sign_err(double x)
{
    return fabs(1.0 - sign_approx(x));
}

int main(void)
{
    int n = 0;
    pact_error err;
    printf("alpha  degrees       depth (published)  eps        relu error (here)  (library)\n");
    for (int alpha = 4; alpha <= 14; alpha++) {
        const int *pub = published[alpha - 4];
        pact_composite *c = NULL;
        pact_status st = pact_composite_sign(alpha, NULL, &c, &err);
        CHECK(st == PACT_OK && c, "alpha %d: %s %s", alpha, pact_status_str(st), err.message); n++;
        if (!c)
            continue;
        g_c = c;
        int k = pact_composite_count(c), depth = 1, pub_depth = 1, odd = 1;
        char degs[64] = "";
        for (int i = 0; i < k; i++) {
            const pact_poly *p = pact_composite_component(c, i);
            int d = pact_poly_degree(p);
            depth += depth_of(d);
            for (int j = 0; j <= d; j += 2)
                odd &= pact_poly_cheb(p)[j] == 0.0;
            snprintf(degs + strlen(degs), sizeof degs - strlen(degs), "%s%d", i ? "," : "{", d);
        }
        strncat(degs, "}", sizeof degs - strlen(degs) - 1);
        for (int i = 0; i < pub[0]; i++)
            pub_depth += depth_of(pub[1 + i]);
        CHECK(odd, "alpha %d: a component has a non-zero even coefficient", alpha); n++;
        CHECK(depth <= pub_depth && depth == pact_composite_depth(c),
              "alpha %d: depth %d (library %d), published %d", alpha, depth,
              pact_composite_depth(c), pub_depth); n++;
        double e = dense_max(relu_err, 0.0, 1.0, 1 << 20);
        double lib = pact_composite_relu_error(c);
        CHECK(e <= exp2(-alpha), "alpha %d: relu error %.6g = 2^%.3f > 2^-%d", alpha, e, log2(e),
              alpha); n++;
        CHECK(fabs(e - lib) <= 1e-6 * lib, "alpha %d: relu error here %.9g, library %.9g", alpha,
              e, lib); n++;
        /* the negative side, sampled: odd symmetry */
        double eneg = 0.0;
        for (int j = 1; j <= 4096; j++)
            eneg = fmax(eneg, relu_err(-(double)j / 4096));
        CHECK(eneg <= e * (1 + 1e-12), "alpha %d: [-1,0] error %.6g > [0,1] %.6g", alpha, eneg, e); n++;
        printf("%5d  %-12s  %5d (%d)           2^%-7.3f  2^%-7.3f          2^%.3f\n", alpha, degs,
               depth, pub_depth, log2(pact_composite_eps(c)), log2(e), log2(lib));
        /* B r(x / B) on [-B, B] */
        const double B = 40.0;
        double eb = 0.0;
        for (int j = -1000; j <= 1000; j++) {
            double x = B * j / 1000.0;
            eb = fmax(eb, fabs(pact_composite_eval_relu_bound(c, B, x) - (x > 0 ? x : 0)));
        }
        CHECK(eb <= B * exp2(-alpha), "alpha %d: B = 40 error %g", alpha, eb); n++;
        pact_composite_free(c);
    }

    /* given degrees and eps: stage 1 equioscillates (minimax certificate), and
     * the sign error on [eps, 1] matches */
    pact_composite *c = NULL;
    const int degs[2] = {7, 15};
    g_eps = 1.0 / 64;
    CHECK_OK(pact_composite_fit(degs, 2, g_eps, NULL, &c, &err), &err);
    if (c) {
        g_c = c;
        const pact_poly *p1 = pact_composite_component(c, 0);
        int m = 200001, ne = 0;
        double ext[64], prev = 0, cur, step = (1.0 - g_eps) / (m - 1);
        double e0 = 1.0 - eval_comp(p1, g_eps), e1 = 1.0 - eval_comp(p1, g_eps + step);
        if (fabs(e0) >= fabs(e1))
            ext[ne++] = e0;
        prev = e0, cur = e1;
        for (int j = 2; j < m && ne < 64; j++) {
            double nx = 1.0 - eval_comp(p1, g_eps + step * j);
            if (fabs(cur) >= fabs(prev) && fabs(cur) >= fabs(nx) && fabs(cur) > 1e-3)
                ext[ne++] = cur;
            prev = cur, cur = nx;
        }
        if (fabs(cur) >= fabs(prev))
            ext[ne++] = cur;
        double mn = INFINITY, mx = 0;
        int alternates = 1;
        for (int i = 0; i < ne; i++) {
            mn = fmin(mn, fabs(ext[i])), mx = fmax(mx, fabs(ext[i]));
            if (i && (ext[i] > 0) == (ext[i - 1] > 0))
                alternates = 0;
        }
        /* odd degree 7: 4 basis functions, 5 alternation points */
        CHECK(ne == 5 && alternates && mn >= mx * (1 - 1e-4),
              "stage 1 (degree 7 on [1/64, 1]): %d extrema, alternating %d, min %.9g max %.9g", ne,
              alternates, mn, mx); n++;
        double se = dense_max(sign_err, g_eps, 1.0, 1 << 18);
        CHECK(fabs(se - pact_composite_sign_error(c)) <= 1e-6 * se,
              "sign error on [eps, 1]: here %.9g, library %.9g", se, pact_composite_sign_error(c)); n++;
        CHECK(pact_composite_alpha(c) == 0 && pact_composite_eps(c) == g_eps &&
                  pact_composite_component(c, 2) == NULL, "accessors"); n++;
        pact_composite_free(c);
    }
    CHECK(pact_composite_sign(3, NULL, &c, &err) == PACT_EINVAL && !c, "alpha 3"); n++;
    CHECK(pact_composite_sign(15, NULL, &c, &err) == PACT_EINVAL, "alpha 15"); n++;
    CHECK(pact_composite_fit((int[]){7, 8}, 2, 0.1, NULL, &c, &err) == PACT_EINVAL &&
              strstr(err.message, "8"), "even degree: %s", err.message); n++;
    CHECK(pact_composite_fit(degs, 2, -0.1, NULL, &c, &err) == PACT_EINVAL, "eps < 0"); n++;
    CHECK(pact_composite_fit(degs, 2, 1.0, NULL, &c, &err) == PACT_EINVAL, "eps 1"); n++;
    /* eps 0: chosen like pact_composite_sign does */
    pact_composite *c13 = NULL;
    CHECK_OK(pact_composite_fit((int[]){15, 15, 27}, 3, 0.0, NULL, &c, &err), &err);
    CHECK_OK(pact_composite_sign(13, NULL, &c13, &err), &err);
    if (c && c13) {
        double e1 = pact_composite_relu_error(c), e2 = pact_composite_relu_error(c13);
        CHECK(e1 <= exp2(-13) && fabs(e1 - e2) <= 1e-3 * e2,
              "{15,15,27} with eps chosen: relu error %.6g, alpha 13: %.6g", e1, e2); n++;
    }
    pact_composite_free(c), pact_composite_free(c13);
    CHECK(pact_composite_fit(degs, 0, 0.1, NULL, &c, &err) == PACT_EINVAL, "no components"); n++;
    pact_composite_free(NULL);
    return pact_test_done("test_composite", n);
}
