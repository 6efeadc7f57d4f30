/* Binned per-channel least squares in the Chebyshev basis (see chanfit.h). */
#include "chanfit.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

pact_status pact_bins_init(pact_bins *bn, int groups, int bins, const double *a, const double *b,
                           pact_error *err)
{
    memset(bn, 0, sizeof *bn);
    size_t cells = (size_t)groups * (size_t)bins;
    bn->a = malloc((size_t)groups * sizeof *bn->a);
    bn->b = malloc((size_t)groups * sizeof *bn->b);
    bn->count = calloc(cells, sizeof *bn->count);
    bn->tsum = calloc(cells, sizeof *bn->tsum);
    if (!bn->a || !bn->b || !bn->count || !bn->tsum) {
        pact_bins_free(bn);
        return pact_fail(err, PACT_ENOMEM, "fit: out of memory for %d x %d bins", groups, bins);
    }
    bn->groups = groups;
    bn->bins = bins;
    memcpy(bn->a, a, (size_t)groups * sizeof *a);
    memcpy(bn->b, b, (size_t)groups * sizeof *b);
    return PACT_OK;
}

void pact_bins_free(pact_bins *bn)
{
    free(bn->a);
    free(bn->b);
    free(bn->count);
    free(bn->tsum);
    memset(bn, 0, sizeof *bn);
}

void pact_bins_add(pact_bins *bn, const float *x, const float *t, size_t images, int channels,
                   size_t spatial)
{
    const int per_channel = bn->groups == channels && channels > 1;
    for (size_t im = 0; im < images; im++)
        for (int c = 0; c < channels; c++) {
            const int g = per_channel ? c : 0;
            const double a = bn->a[g], scale = (double)bn->bins / (bn->b[g] - a);
            double *cnt = bn->count + (size_t)g * (size_t)bn->bins;
            double *ts = bn->tsum + (size_t)g * (size_t)bn->bins;
            const size_t off = (im * (size_t)channels + (size_t)c) * spatial;
            for (size_t s = 0; s < spatial; s++) {
                double v = (x[off + s] - a) * scale;
                if (!(v >= 0.0 && v <= (double)bn->bins)) { /* also NaN */
                    bn->outside += 1.0;
                    continue;
                }
                int k = v >= (double)bn->bins ? bn->bins - 1 : (int)v;
                cnt[k] += 1.0;
                if (t)
                    ts[k] += t[off + s];
            }
        }
}

void pact_moments_free(pact_moments *m)
{
    free(m->mu);
    free(m->rhs);
    free(m->cf);
    memset(m, 0, sizeof *m);
}

/* f's Chebyshev coefficients on [a, b] from n >= 16 (d + 1) Chebyshev points
 * (the discrete orthogonality of the first kind; aliasing is negligible for
 * the degrees fitted). */
static pact_status func_cheb(pact_func f, double a, double b, int d, double *cf, pact_error *err)
{
    int n = 16 * (d + 1) > 4096 ? 16 * (d + 1) : 4096;
    memset(cf, 0, (size_t)(d + 1) * sizeof *cf);
    for (int i = 0; i < n; i++) {
        double th = 3.14159265358979323846 * (i + 0.5) / n, y = cos(th);
        double fx = pact_func_eval(f, 0.5 * (a + b) + 0.5 * (b - a) * y);
        if (!isfinite(fx))
            return pact_fail(err, PACT_ENUMERIC, "fit: %s is not finite on [%g, %g]",
                             pact_func_name(f), a, b);
        double t0 = 1.0, t1 = y; /* T_j(y) = cos(j th) */
        cf[0] += fx;
        for (int j = 1; j <= d; j++) {
            cf[j] += fx * t1;
            double t2 = 2.0 * y * t1 - t0;
            t0 = t1;
            t1 = t2;
        }
    }
    for (int j = 0; j <= d; j++)
        cf[j] *= (j == 0 ? 1.0 : 2.0) / n;
    return PACT_OK;
}

pact_status pact_bins_moments(const pact_bins *bn, int g, pact_func f, int use_targets,
                              int max_degree, pact_moments *m, pact_error *err)
{
    memset(m, 0, sizeof *m);
    int d = max_degree, nm = 2 * d + 1;
    m->max_degree = d;
    m->a = bn->a[g];
    m->b = bn->b[g];
    m->mu = calloc((size_t)nm, sizeof *m->mu);
    m->rhs = calloc((size_t)d + 1, sizeof *m->rhs);
    m->cf = calloc((size_t)d + 1, sizeof *m->cf);
    double *t = malloc((size_t)nm * sizeof *t);
    if (!m->mu || !m->rhs || !m->cf || !t) {
        free(t);
        pact_moments_free(m);
        return pact_fail(err, PACT_ENOMEM, "fit: out of memory (degree %d)", d);
    }
    static const double gx[3] = {-0.7745966692414834, 0.0, 0.7745966692414834};
    static const double gw[3] = {5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0};
    const double *cnt = bn->count + (size_t)g * (size_t)bn->bins;
    const double *ts = bn->tsum + (size_t)g * (size_t)bn->bins;
    const double width = (m->b - m->a) / bn->bins;
    double W = 0.0;
    for (int k = 0; k < bn->bins; k++) {
        if (cnt[k] == 0.0)
            continue;
        W += cnt[k];
        for (int q = 0; q < 3; q++) {
            double x = m->a + (k + 0.5 + 0.5 * gx[q]) * width;
            double y = (2.0 * x - m->a - m->b) / (m->b - m->a);
            double w = cnt[k] * gw[q];
            double target = use_targets ? ts[k] / cnt[k] : pact_func_eval(f, x);
            t[0] = 1.0;
            if (nm > 1)
                t[1] = y;
            for (int l = 2; l < nm; l++)
                t[l] = 2.0 * y * t[l - 1] - t[l - 2];
            for (int l = 0; l < nm; l++)
                m->mu[l] += w * t[l];
            for (int j = 0; j <= d; j++)
                m->rhs[j] += w * target * t[j];
        }
    }
    free(t);
    m->weight = W;
    if (W > 0.0) {
        for (int l = 0; l < nm; l++)
            m->mu[l] /= W;
        for (int j = 0; j <= d; j++)
            m->rhs[j] /= W;
    }
    pact_status st = func_cheb(f, m->a, m->b, d, m->cf, err);
    if (st != PACT_OK)
        pact_moments_free(m);
    return st;
}

pact_status pact_moments_solve(const pact_moments *m, int degree, double floor, double *cheb,
                               pact_error *err)
{
    if (degree < 0 || degree > m->max_degree)
        return pact_fail(err, PACT_EINVAL, "fit: degree %d outside 0..%d", degree, m->max_degree);
    double phi = m->weight > 0.0 ? fmax(floor, PACT_CHANFIT_MIN_FLOOR) : 1.0;
    if (phi > 1.0)
        phi = 1.0;
    int n = degree + 1;
    double *G = malloc((size_t)n * (size_t)n * sizeof *G);
    if (!G)
        return pact_fail(err, PACT_ENOMEM, "fit: out of memory (degree %d)", degree);
    /* T_j T_k = (T_{j+k} + T_|j-k|) / 2; the floor's Gram matrix is diagonal */
    for (int j = 0; j < n; j++) {
        double s2 = j == 0 ? phi : 0.5 * phi;
        for (int k = 0; k < n; k++)
            G[(size_t)j * n + k] = (1.0 - phi) * 0.5 * (m->mu[j + k] + m->mu[j > k ? j - k : k - j]) +
                                   (j == k ? s2 : 0.0);
        cheb[j] = (1.0 - phi) * m->rhs[j] + s2 * m->cf[j];
    }
    int bad = pact_cholesky_solve(G, cheb, n);
    free(G);
    for (int j = 0; !bad && j < n; j++)
        if (!isfinite(cheb[j]))
            bad = 1;
    if (bad)
        return pact_fail(err, PACT_ENUMERIC,
                         "fit: normal equations of degree %d on [%g, %g] not solvable (floor %g)",
                         degree, m->a, m->b, phi);
    return PACT_OK;
}

void pact_group_interval(double lo, double hi, double margin, double min_width, double *a,
                         double *b)
{
    double w = hi - lo;
    if (!(w >= min_width)) {
        double mid = 0.5 * (lo + hi);
        lo = mid - 0.5 * min_width;
        hi = mid + 0.5 * min_width;
        w = min_width;
    }
    *a = lo - margin * w;
    *b = hi + margin * w;
}

pact_status pact_group_poly_init(pact_group_poly *gp, int groups, int degree, pact_error *err)
{
    memset(gp, 0, sizeof *gp);
    gp->a = malloc((size_t)groups * sizeof *gp->a);
    gp->b = malloc((size_t)groups * sizeof *gp->b);
    gp->cheb = calloc((size_t)groups * ((size_t)degree + 1), sizeof *gp->cheb);
    if (!gp->a || !gp->b || !gp->cheb) {
        pact_group_poly_free(gp);
        return pact_fail(err, PACT_ENOMEM, "fit: out of memory for %d polynomials", groups);
    }
    gp->groups = groups;
    gp->degree = degree;
    return PACT_OK;
}

void pact_group_poly_free(pact_group_poly *gp)
{
    free(gp->a);
    free(gp->b);
    free(gp->cheb);
    memset(gp, 0, sizeof *gp);
}

void pact_group_poly_apply(const pact_group_poly *gp, float *x, size_t images, int channels,
                           size_t spatial)
{
    const int per_channel = gp->groups == channels && channels > 1;
    for (size_t im = 0; im < images; im++)
        for (int c = 0; c < channels; c++) {
            const int g = per_channel ? c : 0;
            const double a = gp->a[g], b = gp->b[g];
            const double *cf = gp->cheb + (size_t)g * ((size_t)gp->degree + 1);
            float *v = x + (im * (size_t)channels + (size_t)c) * spatial;
            for (size_t s = 0; s < spatial; s++) {
                double y = pact_clenshaw(cf, gp->degree, (2.0 * v[s] - a - b) / (b - a));
                v[s] = fabs(y) <= FLT_MAX ? (float)y : (float)copysign(INFINITY, y);
            }
        }
}

double pact_group_poly_max_error(const pact_group_poly *gp, pact_func f)
{
    double worst = 0.0;
    for (int g = 0; g < gp->groups; g++) {
        pact_poly *p = NULL;
        double e = NAN;
        if (pact_poly_create(gp->a[g], gp->b[g], gp->degree,
                             gp->cheb + (size_t)g * ((size_t)gp->degree + 1), &p, NULL) == PACT_OK &&
            pact_poly_max_error(p, f, NULL, &e, NULL, NULL) == PACT_OK)
            worst = fmax(worst, e);
        else
            worst = NAN;
        pact_poly_free(p);
        if (isnan(worst))
            break;
    }
    return worst;
}
