/* Weighted least squares in the Chebyshev basis: a data distribution (samples,
 * or the uniform measure) mixed with a Chebyshev floor.
 *
 * Two solvers, chosen by the floor phi:
 *  - phi >= LSQ_MOMENT_FLOOR: the normal equations. Their matrix
 *    G_jk = sum_i w_i T_j(y_i) T_k(y_i) = (mu_{j+k} + mu_|j-k|) / 2 needs only
 *    the Chebyshev moments mu_l = sum_i w_i T_l(y_i), l <= 2 degree: O(n degree)
 *    for n samples, then Cholesky, O(degree^3). The floor makes this safe: with
 *    normalised weights and |T_k| <= 1, lambda_max(G) <= degree + 1 and
 *    lambda_min(G) >= phi / 2, so cond(G) <= 2 (degree + 1) / phi.
 *  - below: Givens QR of the Chebyshev Vandermonde rows, accumulated row by
 *    row in O(degree^2) memory, O(n degree^2) time; no squared condition
 *    number, which matters when the data alone must determine the fit. */
#include "poly_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LSQ_MOMENT_FLOOR 1e-4

typedef struct {
    int m;        /* unknowns: degree + 1 */
    int moments;  /* 1: moments + Cholesky, 0: Givens QR */
    double *R;    /* QR: m x m upper triangular, row-major; moments: G */
    double *qtb;  /* QR: Q^T b; moments: the right-hand side */
    double *row;  /* QR: scratch; moments: mu[0..2m-2] */
    double *diag; /* moments: the floor's diagonal terms */
} qr_acc;

/* Rotates the row (row[0..m), rhs) into R. */
static void qr_add_row(qr_acc *q, double *row, double rhs)
{
    int m = q->m;
    for (int k = 0; k < m; k++) {
        if (row[k] == 0.0)
            continue;
        double *Rk = q->R + (size_t)k * m;
        double h = hypot(Rk[k], row[k]), c = Rk[k] / h, s = row[k] / h;
        for (int j = k; j < m; j++) {
            double t = Rk[j];
            Rk[j] = c * t + s * row[j];
            row[j] = -s * t + c * row[j];
        }
        double t = q->qtb[k];
        q->qtb[k] = c * t + s * rhs;
        rhs = -s * t + c * rhs;
    }
}

/* Adds the row sqrt(wt) [T_0(y) .. T_d(y)] = sqrt(wt) fx. */
static void add_sample(qr_acc *q, double y, double fx, double wt)
{
    if (q->moments) {
        double t0 = 1.0, t1 = y, wf = wt * fx;
        for (int l = 0; l <= 2 * q->m - 2; l++) {
            q->row[l] += wt * t0;
            if (l < q->m)
                q->qtb[l] += wf * t0;
            double t2 = 2.0 * y * t1 - t0;
            t0 = t1;
            t1 = t2;
        }
        return;
    }
    double sw = sqrt(wt), t0 = 1.0, t1 = y;
    for (int k = 0; k < q->m; k++) {
        q->row[k] = sw * t0;
        double t2 = 2.0 * y * t1 - t0;
        t0 = t1;
        t1 = t2;
    }
    qr_add_row(q, q->row, sw * fx);
}

/* Gauss-Legendre nodes/weights on [-1, 1] (Newton on P_n; n <= 1024). */
static void gauss_legendre(int n, double *x, double *w)
{
    for (int i = 0; i < (n + 1) / 2; i++) {
        double z = cos(PACT_PI * (i + 0.75) / (n + 0.5)), dp = 1.0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1.0, p1 = z;
            for (int k = 2; k <= n; k++) {
                double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = n * (z * p1 - p0) / (z * z - 1.0);
            double dz = p1 / dp;
            z -= dz;
            if (fabs(dz) < 1e-16)
                break;
        }
        x[i] = -z;
        x[n - 1 - i] = z;
        w[i] = w[n - 1 - i] = 2.0 / ((1.0 - z * z) * dp * dp);
    }
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static size_t count_distinct(const double *x, const double *w, size_t n, double a, double b)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return 0;
    size_t m = 0, d = 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0.0 && x[i] >= a && x[i] <= b)
            v[m++] = x[i];
    qsort(v, m, sizeof *v, cmp_double);
    for (size_t i = 0; i < m; i++)
        if (i == 0 || v[i] != v[i - 1])
            d++;
    free(v);
    return d;
}

static pact_status lsq(pact_fn f, void *ctx, int split0, double a, double b, int degree,
                       const double *x, const double *w, size_t n, const pact_fit_opts *opts,
                       pact_poly **poly, double *max_error, pact_error *err)
{
    if (!poly)
        return pact_fail(err, PACT_EINVAL, "lsq: NULL output pointer");
    *poly = NULL;
    pact_fit_opts o = fit_opts_resolve(opts);
    pact_status st = fit_check(a, b, degree, "lsq", err);
    if (st == PACT_OK)
        st = fit_opts_check(&o, "lsq", err);
    if (st != PACT_OK)
        return st;
    if (n > 0 && (!x || !w))
        return pact_fail(err, PACT_EINVAL, "lsq: %zu samples but NULL x or w", n);
    double W = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(w[i]) || w[i] < 0.0)
            return pact_fail(err, PACT_EINVAL,
                             "lsq: sample %zu (x = %g, w = %g): need finite x and w >= 0", i,
                             x[i], w[i]);
        if (x[i] >= a && x[i] <= b)
            W += w[i];
    }
    if (!isfinite(W))
        return pact_fail(err, PACT_EINVAL, "lsq: the weights sum to %g", W);
    double phi = o.floor;
    if (n > 0 && W == 0.0 && phi == 0.0)
        return pact_fail(err, PACT_EINVAL,
                         "lsq: every weight on [%g, %g] is zero and opts.floor is 0: nothing "
                         "to fit (raise floor)",
                         a, b);

    int m = degree + 1;
    int nfl = 4096 > 16 * m ? 4096 : 16 * m;
    qr_acc q = {m, phi >= LSQ_MOMENT_FLOOR, calloc((size_t)m * m, sizeof(double)),
                calloc((size_t)m, sizeof(double)), calloc(2 * (size_t)m, sizeof(double)),
                calloc((size_t)m, sizeof(double))};
    double *cf = calloc((size_t)m, sizeof(double));
    double *gx = calloc(2 * (size_t)(m + 16), sizeof(double)), *gw = gx + m + 16;
    if (!q.R || !q.qtb || !q.row || !q.diag || !cf || !gx) {
        st = pact_fail(err, PACT_ENOMEM, "lsq: out of memory (degree %d)", degree);
        goto out;
    }
    pact_error e2;
    if (phi < 1.0) {
        if (n > 0) {
            for (size_t i = 0; i < n; i++) {
                if (w[i] == 0.0 || x[i] < a || x[i] > b)
                    continue;
                double fx = f(ctx, x[i]);
                if (!isfinite(fx)) {
                    st = pact_fail(err, PACT_ENUMERIC, "lsq: f(%.17g) = %g is not finite", x[i],
                                   fx);
                    goto out;
                }
                add_sample(&q, cheb_to_unit(a, b, x[i]), fx, (1.0 - phi) * w[i] / W);
            }
        } else {
            /* uniform on [a, b]: Gauss-Legendre on panels split at 0 (the kink of
             * relu/abs, the jump of sign), exact for p^2 on each panel */
            int ng = m + 16;
            gauss_legendre(ng, gx, gw);
            double cuts[3] = {a, b, b};
            int np = 1;
            if (split0 && a < 0.0 && b > 0.0)
                cuts[1] = 0.0, np = 2;
            for (int pnl = 0; pnl < np; pnl++) {
                double lo = cuts[pnl], hi = cuts[pnl + 1];
                for (int j = 0; j < ng; j++) {
                    double xx = 0.5 * (lo + hi) + 0.5 * (hi - lo) * gx[j];
                    double fx = f(ctx, xx);
                    if (!isfinite(fx)) {
                        st = pact_fail(err, PACT_ENUMERIC, "lsq: f(%.17g) = %g is not finite",
                                       xx, fx);
                        goto out;
                    }
                    double wt = (1.0 - phi) * gw[j] * 0.5 * (hi - lo) / (b - a);
                    add_sample(&q, cheb_to_unit(a, b, xx), fx, wt);
                }
            }
        }
    }
    if (phi > 0.0) {
        /* int (f - p)^2 dmu = (f_0 - p_0)^2 + sum_k (f_k - p_k)^2 / 2 + tail */
        st = cheb_coeffs(f, ctx, a, b, nfl, m, cf, &e2);
        if (st != PACT_OK) {
            pact_fail(err, st, "lsq floor: %s", e2.message);
            goto out;
        }
        for (int k = 0; k < m; k++) {
            double s2 = k == 0 ? phi : 0.5 * phi;
            if (q.moments) {
                q.diag[k] += s2;
                q.qtb[k] += s2 * cf[k];
                continue;
            }
            double s = sqrt(s2);
            memset(q.row, 0, (size_t)m * sizeof *q.row);
            q.row[k] = s;
            qr_add_row(&q, q.row, s * cf[k]);
        }
    }
    if (q.moments) {
        /* G = Toeplitz + Hankel of the moments, plus the floor; G = L L^T in R */
        for (int j = 0; j < m; j++)
            for (int k = 0; k < m; k++)
                q.R[(size_t)j * m + k] = 0.5 * (q.row[j + k] + q.row[j > k ? j - k : k - j]) +
                                         (j == k ? q.diag[k] : 0.0);
        if (pact_cholesky_solve(q.R, q.qtb, m) != 0) {
            st = pact_fail(err, PACT_ENUMERIC,
                           "lsq: normal equations not positive definite (degree %d, floor %g)",
                           degree, phi);
            goto out;
        }
        if ((st = poly_alloc(a, b, degree, poly, err)) != PACT_OK)
            goto out;
        memcpy((*poly)->c, q.qtb, (size_t)m * sizeof *q.qtb);
        goto measured;
    }
    double dmax = 0.0, dmin = INFINITY;
    for (int k = 0; k < m; k++) {
        double v = fabs(q.R[(size_t)k * m + k]);
        dmax = fmax(dmax, v);
        dmin = fmin(dmin, v);
    }
    if (!(dmin > 1e-10 * dmax)) {
        size_t nd = n > 0 ? count_distinct(x, w, n, a, b) : 0;
        st = pact_fail(err, PACT_EINVAL,
                       "lsq: the weights constrain a degree-%d polynomial on [%g, %g] too "
                       "weakly (%zu distinct weighted points, R condition > 1e10) and opts.floor "
                       "is %g: raise floor",
                       degree, a, b, nd, phi);
        goto out;
    }
    if ((st = poly_alloc(a, b, degree, poly, err)) != PACT_OK)
        goto out;
    for (int i = m - 1; i >= 0; i--) {
        double s = q.qtb[i];
        for (int j = i + 1; j < m; j++)
            s -= q.R[(size_t)i * m + j] * (*poly)->c[j];
        (*poly)->c[i] = s / q.R[(size_t)i * m + i];
    }
measured:
    if (max_error) {
        st = maxerr_measure(*poly, f, ctx, o.grid, split0 ? 0.0 : NAN, max_error, NULL, &e2);
        if (st != PACT_OK) {
            pact_poly_free(*poly);
            *poly = NULL;
            pact_fail(err, st, "lsq: %s", e2.message);
        }
    }
out:
    free(q.R), free(q.qtb), free(q.row), free(q.diag), free(cf), free(gx);
    return st;
}

pact_status pact_fit_lsq(pact_func f, double a, double b, int degree, const double *x,
                         const double *w, size_t n, const pact_fit_opts *opts, pact_poly **poly,
                         double *max_error, pact_error *err)
{
    if ((unsigned)f >= PACT_FUNC_COUNT) {
        if (poly)
            *poly = NULL;
        return pact_fail(err, PACT_EINVAL, "lsq: unknown function %d", (int)f);
    }
    return lsq(func_as_fn, &f, 1, a, b, degree, x, w, n, opts, poly, max_error, err);
}

pact_status pact_fit_lsq_fn(pact_fn f, void *ctx, double a, double b, int degree,
                            const double *x, const double *w, size_t n,
                            const pact_fit_opts *opts, pact_poly **poly, double *max_error,
                            pact_error *err)
{
    if (!f) {
        if (poly)
            *poly = NULL;
        return pact_fail(err, PACT_EINVAL, "lsq: NULL target function");
    }
    return lsq(f, ctx, 0, a, b, degree, x, w, n, opts, poly, max_error, err);
}

pact_status pact_hist_samples(const double *edges, const double *counts, size_t nbins,
                              double *x, double *w, size_t *n, pact_error *err)
{
    if (!edges || !counts || !x || !w || !n)
        return pact_fail(err, PACT_EINVAL, "histogram: NULL argument");
    if (nbins == 0)
        return pact_fail(err, PACT_EINVAL, "histogram: no bins");
    const double g = 0.7745966692414834; /* sqrt(3/5): 3-point Gauss-Legendre */
    for (size_t i = 0; i < nbins; i++) {
        double lo = edges[i], hi = edges[i + 1];
        if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
            return pact_fail(err, PACT_EINVAL,
                             "histogram: bin %zu edges [%g, %g] not finite and increasing", i,
                             lo, hi);
        if (!isfinite(counts[i]) || counts[i] < 0.0)
            return pact_fail(err, PACT_EINVAL, "histogram: bin %zu count %g", i, counts[i]);
        double mid = 0.5 * (lo + hi), h = 0.5 * (hi - lo);
        x[3 * i] = mid - g * h;
        x[3 * i + 1] = mid;
        x[3 * i + 2] = mid + g * h;
        w[3 * i] = w[3 * i + 2] = counts[i] * (5.0 / 18.0);
        w[3 * i + 1] = counts[i] * (8.0 / 18.0);
    }
    *n = 3 * nbins;
    return PACT_OK;
}
