/* Weighted least squares against independent references:
 *  - samples of a Gaussian N(u, v^2), floor 0, degree 2 fit of relu: the
 *    closed-form projection on Hermite polynomials (derived here:
 *    relu(u + v t) ~ v [z Phi + phi + Phi t + phi/2 (t^2 - 1)], z = u/v);
 *    the same from a histogram of exact bin probabilities;
 *  - uniform weight (no samples), |x| degree 2: the Legendre projection
 *    3/16 + 15/16 x^2;
 *  - floor 1: the Chebyshev projection of |x|, c_0 = 2/pi,
 *    c_2k = (-1)^(k+1) 4 / (pi (4k^2 - 1));
 *  - a mixture (samples + floor 0.3): normal equations solved here in long
 *    double with f's Chebyshev coefficients from a cosine sum;
 *  - exact reproduction of a polynomial target; degenerate weights. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static double phi(double z) { return exp(-0.5 * z * z) / sqrt(2.0 * PI); }
static double Phi(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

/* closed-form Gaussian-weighted degree-2 LSQ of relu */
static double relu_gauss_fit(double u, double v, double x)
{
    double z = u / v, t = (x - u) / v;
    return v * (z * Phi(z) + phi(z) + Phi(z) * t + 0.5 * phi(z) * (t * t - 1.0));
}

static double cubic(void *ctx, double x)
{
    (void)ctx;
    return 0.3 - 1.2 * x + 0.7 * x * x * x;
}

static double silu_ld(double x) { return x / (1.0 + exp(-x)); }

/* Gaussian elimination in long double */
static void solve_ld(long double *A, long double *b, int n)
{
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabsl(A[i * n + k]) > fabsl(A[p * n + k]))
                p = i;
        for (int j = 0; j < n; j++) {
            long double t = A[k * n + j];
            A[k * n + j] = A[p * n + j];
            A[p * n + j] = t;
        }
        long double t = b[k];
        b[k] = b[p];
        b[p] = t;
        for (int i = k + 1; i < n; i++) {
            long double f = A[i * n + k] / A[k * n + k];
            for (int j = k; j < n; j++)
                A[i * n + j] -= f * A[k * n + j];
            b[i] -= f * b[k];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        for (int j = i + 1; j < n; j++)
            b[i] -= A[i * n + j] * b[j];
        b[i] /= A[i * n + i];
    }
}

int main(void)
{
    int n = 0;
    pact_error err;
    pact_poly *p = NULL;
    pact_fit_opts o;
    double e;

    /* Gaussian samples (midpoint rule on +-9 sigma), floor 0 */
    const double u = 0.3, v = 1.7, a = u - 9 * v, b = u + 9 * v;
    const size_t ns = 40000;
    double *xs = malloc(ns * sizeof *xs), *ws = malloc(ns * sizeof *ws);
    for (size_t i = 0; i < ns; i++) {
        xs[i] = a + (b - a) * (i + 0.5) / ns;
        ws[i] = phi((xs[i] - u) / v);
    }
    pact_fit_opts_default(&o);
    o.floor = 0.0;
    CHECK_OK(pact_fit_lsq(PACT_RELU, a, b, 2, xs, ws, ns, &o, &p, &e, &err), &err);
    double worst = 0.0;
    for (int i = -3; i <= 3; i++) {
        double x = u + v * i;
        worst = fmax(worst, fabs(pact_poly_eval(p, x) - relu_gauss_fit(u, v, x)));
    }
    CHECK(worst < 1e-6, "Gaussian-weighted relu d2 vs Hermite closed form: %.3g", worst); n++;
    pact_poly_free(p);

    /* the same from a histogram of exact bin probabilities */
    const size_t nb = 3000;
    double *edges = malloc((nb + 1) * sizeof *edges), *counts = malloc(nb * sizeof *counts);
    double *hx = malloc(3 * nb * sizeof *hx), *hw = malloc(3 * nb * sizeof *hw);
    for (size_t i = 0; i <= nb; i++)
        edges[i] = a + (b - a) * i / nb;
    for (size_t i = 0; i < nb; i++)
        counts[i] = 1e6 * (Phi((edges[i + 1] - u) / v) - Phi((edges[i] - u) / v));
    size_t nh = 0;
    CHECK_OK(pact_hist_samples(edges, counts, nb, hx, hw, &nh, &err), &err);
    CHECK(nh == 3 * nb, "histogram samples %zu", nh); n++;
    CHECK_OK(pact_fit_lsq(PACT_RELU, a, b, 2, hx, hw, nh, &o, &p, &e, &err), &err);
    worst = 0.0;
    for (int i = -3; i <= 3; i++) {
        double x = u + v * i;
        worst = fmax(worst, fabs(pact_poly_eval(p, x) - relu_gauss_fit(u, v, x)));
    }
    CHECK(worst < 1e-4, "histogram-weighted relu d2 vs closed form: %.3g", worst); n++;
    pact_poly_free(p);
    counts[7] = -1.0;
    CHECK(pact_hist_samples(edges, counts, nb, hx, hw, &nh, &err) == PACT_EINVAL &&
              strstr(err.message, "bin 7"), "negative count: %s", err.message); n++;
    edges[5] = edges[4];
    counts[7] = 1.0;
    CHECK(pact_hist_samples(edges, counts, nb, hx, hw, &nh, &err) == PACT_EINVAL,
          "non-increasing edges"); n++;
    free(edges), free(counts), free(hx), free(hw);

    /* uniform weight: Legendre projection of |x| = 3/16 + 15/16 x^2 */
    CHECK_OK(pact_fit_lsq(PACT_ABS, -1, 1, 2, NULL, NULL, 0, &o, &p, &e, &err), &err);
    worst = 0.0;
    for (int i = 0; i <= 10; i++) {
        double x = -1.0 + 0.2 * i;
        worst = fmax(worst, fabs(pact_poly_eval(p, x) - (3.0 / 16 + 15.0 / 16 * x * x)));
    }
    CHECK(worst < 1e-13, "uniform |x| d2 vs Legendre projection: %.3g", worst); n++;
    pact_poly_free(p);

    /* floor 1: Chebyshev projection of |x| */
    o.floor = 1.0;
    CHECK_OK(pact_fit_lsq(PACT_ABS, -1, 1, 12, xs, ws, ns, &o, &p, &e, &err), &err);
    worst = 0.0;
    for (int k = 0; k <= 12; k++) {
        double want = k == 0 ? 2.0 / PI : (k % 2) ? 0.0
                                                  : ((k / 2) % 2 ? 4.0 : -4.0) / (PI * (k * k - 1.0));
        worst = fmax(worst, fabs(pact_poly_cheb(p)[k] - want));
    }
    CHECK(worst < 1e-7, "floor 1: Chebyshev coefficients of |x|: %.3g", worst); n++;
    pact_poly_free(p);

    /* mixture: samples of silu on [-6, 4] (weights ~ exp) + floor 0.3, degree 5,
     * against normal equations in long double */
    {
        const int d = 5, m = d + 1, nsm = 500;
        const double A = -6.0, B = 4.0, fl = 0.3;
        double sx[500], sw[500];
        long double W = 0.0;
        for (int i = 0; i < nsm; i++) {
            sx[i] = -3.0 + 5.0 * (i + 0.5) / nsm;
            sw[i] = exp(-0.4 * sx[i] * sx[i]);
            W += sw[i];
        }
        long double G[36] = {0}, r[6] = {0}, fk[6] = {0};
        const int M = 20000; /* f's Chebyshev coefficients by a cosine sum */
        for (int j = 0; j < M; j++) {
            long double t = PI * (j + 0.5L) / M, y = cosl(t);
            long double fx = silu_ld((double)((A + B) / 2 + (B - A) / 2 * y));
            for (int k = 0; k < m; k++)
                fk[k] += fx * cosl(k * t) * (k ? 2.0L : 1.0L) / M;
        }
        for (int i = 0; i < nsm; i++) {
            long double y = (2.0L * sx[i] - A - B) / (B - A), t = acosl(y), T[6];
            for (int k = 0; k < m; k++)
                T[k] = cosl(k * t);
            long double wi = (1 - fl) * sw[i] / W, fx = silu_ld(sx[i]);
            for (int j = 0; j < m; j++) {
                r[j] += wi * fx * T[j];
                for (int k = 0; k < m; k++)
                    G[j * m + k] += wi * T[j] * T[k];
            }
        }
        for (int k = 0; k < m; k++) {
            long double g = k ? fl / 2 : fl;
            G[k * m + k] += g;
            r[k] += g * fk[k];
        }
        solve_ld(G, r, m);
        pact_fit_opts_default(&o);
        o.floor = fl;
        CHECK_OK(pact_fit_lsq(PACT_SILU, A, B, d, sx, sw, nsm, &o, &p, &e, &err), &err);
        worst = 0.0;
        for (int k = 0; k < m; k++)
            worst = fmax(worst, fabs(pact_poly_cheb(p)[k] - (double)r[k]));
        CHECK(worst < 1e-9, "mixture floor 0.3 vs long double normal equations: %.3g", worst); n++;
        pact_poly_free(p);
        /* samples outside [A, B] are ignored */
        double sx2[502], sw2[502];
        memcpy(sx2, sx, sizeof sx), memcpy(sw2, sw, sizeof sw);
        sx2[500] = -7.0, sw2[500] = 5.0, sx2[501] = 4.5, sw2[501] = 1.0;
        CHECK_OK(pact_fit_lsq(PACT_SILU, A, B, d, sx2, sw2, 502, &o, &p, &e, &err), &err);
        worst = 0.0;
        for (int k = 0; k < m; k++)
            worst = fmax(worst, fabs(pact_poly_cheb(p)[k] - (double)r[k]));
        CHECK(worst < 1e-9, "samples outside the interval ignored: %.3g", worst); n++;
        pact_poly_free(p);
    }

    /* the two solvers (moments + Cholesky at floor >= 1e-4, Givens QR below)
     * agree across the switch: the fit is continuous in the floor */
    const int degs[2] = {20, 255};
    for (int t = 0; t < 2; t++) {
        pact_poly *q = NULL;
        pact_fit_opts_default(&o);
        o.floor = 1.00000001e-4;
        CHECK_OK(pact_fit_lsq(PACT_GELU, a, b, degs[t], xs, ws, ns / 40, &o, &p, NULL, &err), &err);
        o.floor = 0.99999999e-4;
        CHECK_OK(pact_fit_lsq(PACT_GELU, a, b, degs[t], xs, ws, ns / 40, &o, &q, NULL, &err), &err);
        double diff = 0.0, big = 0.0;
        for (int k = 0; p && q && k <= degs[t]; k++) {
            diff = fmax(diff, fabs(pact_poly_cheb(p)[k] - pact_poly_cheb(q)[k]));
            big = fmax(big, fabs(pact_poly_cheb(q)[k]));
        }
        printf("lsq solvers at the switch, degree %d: max coefficient difference %.3g (max coefficient %.3g)\n", degs[t], diff, big);
        CHECK(diff <= 1e-7 * big, "degree %d: moments vs QR solver differ by %.3g (max coef %.3g)",
              degs[t], diff, big); n++;
        pact_poly_free(p), pact_poly_free(q);
    }

    /* a cubic is reproduced exactly by any weights */
    pact_fit_opts_default(&o);
    o.floor = 0.0;
    /* xs[0..6] lie near -15, outside [-2, 3]: nothing carries weight */
    CHECK(pact_fit_lsq_fn(cubic, NULL, -2, 3, 5, xs, ws, 7, &o, &p, &e, &err) == PACT_EINVAL,
          "every sample outside the interval, floor 0: %s", err.message); n++;
    double cx[9] = {-2, -1.5, -0.3, 0.1, 0.8, 1.1, 2.0, 2.5, 3.0};
    double cw[9] = {1, 2, 0.5, 1, 3, 1, 0.2, 1, 1};
    CHECK_OK(pact_fit_lsq_fn(cubic, NULL, -2, 3, 5, cx, cw, 9, &o, &p, &e, &err), &err);
    CHECK(p && e < 1e-12, "cubic reproduced by degree 5 from 9 samples: max error %.3g", e); n++;
    pact_poly_free(p);

    /* degenerate weights */
    double zw[9] = {0};
    CHECK(pact_fit_lsq(PACT_RELU, -2, 3, 5, cx, zw, 9, &o, &p, &e, &err) == PACT_EINVAL && !p &&
              strstr(err.message, "floor"), "all-zero weights, floor 0: %s", err.message); n++;
    CHECK(pact_fit_lsq(PACT_RELU, -2, 3, 5, cx, cw, 4, &o, &p, &e, &err) == PACT_EINVAL &&
              strstr(err.message, "4 distinct"), "4 points for degree 5: %s", err.message); n++;
    o.floor = 0.05;
    CHECK_OK(pact_fit_lsq(PACT_RELU, -2, 3, 5, cx, cw, 4, &o, &p, &e, &err), &err);
    CHECK(p && isfinite(e) && e < 1.0, "4 points regularised by the floor: max error %g", e); n++;
    pact_poly_free(p);
    CHECK_OK(pact_fit_lsq(PACT_RELU, -2, 3, 5, cx, zw, 9, &o, &p, &e, &err), &err);
    pact_poly_free(p);
    n++;
    cw[3] = -1.0;
    CHECK(pact_fit_lsq(PACT_RELU, -2, 3, 5, cx, cw, 9, &o, &p, &e, &err) == PACT_EINVAL &&
              strstr(err.message, "sample 3"), "negative weight: %s", err.message); n++;
    cw[3] = 1.0, cx[2] = NAN;
    CHECK(pact_fit_lsq(PACT_RELU, -2, 3, 5, cx, cw, 9, &o, &p, &e, &err) == PACT_EINVAL,
          "NaN sample"); n++;
    o.floor = 1.5;
    CHECK(pact_fit_lsq(PACT_RELU, -2, 3, 5, NULL, NULL, 0, &o, &p, &e, &err) == PACT_EINVAL,
          "floor 1.5"); n++;
    free(xs), free(ws);
    return pact_test_done("test_lsq", n);
}
