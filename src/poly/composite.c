/* Composite minimax sign and ReLU (Lee et al., arXiv 2105.10879).
 *
 * Stage i is the odd minimax approximation of sign on [-r_i, -l_i] U [l_i, r_i]
 * = the image of [-1, -eps] U [eps, 1] through the earlier stages; by odd
 * symmetry that is the exchange on [l_i / r_i, 1] in T_1, T_3, ... of x / r_i
 * with target 1. Its error delta_i makes the next stage's interval
 * [1 - delta_i, 1 + delta_i]. The ReLU x (1 + s) / 2 errs by
 * x |1 - s(x)| / 2 on [0, 1] (odd s: the same on [-1, 0]): at most delta_k / 2
 * beyond eps, and up to x / 2 inside the gap, where s climbs from 0. pact_composite_sign
 * chooses eps to balance the two (golden section on log2 eps). */
#include "poly_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pact_composite {
    int count;
    int alpha;
    double eps;
    double sign_error;
    double relu_error;
    pact_poly *comp[PACT_COMPOSITE_MAX_COMPONENTS];
};

static double one(void *ctx, double y)
{
    (void)ctx;
    (void)y;
    return 1.0;
}

void pact_composite_free(pact_composite *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->count; i++)
        pact_poly_free(c->comp[i]);
    free(c);
}

int pact_composite_count(const pact_composite *c)
{
    return c->count;
}

const pact_poly *pact_composite_component(const pact_composite *c, int i)
{
    return i >= 0 && i < c->count ? c->comp[i] : NULL;
}

double pact_composite_eps(const pact_composite *c)
{
    return c->eps;
}

int pact_composite_alpha(const pact_composite *c)
{
    return c->alpha;
}

int pact_composite_depth(const pact_composite *c)
{
    int depth = 1; /* the product by x */
    for (int i = 0; i < c->count; i++) {
        pact_bsgs plan;
        if (pact_bsgs_plan(c->comp[i]->degree, &plan, NULL) == PACT_OK)
            depth += plan.depth;
        else
            depth += pact_poly_depth(c->comp[i]->degree);
    }
    return depth;
}

double pact_composite_sign_error(const pact_composite *c)
{
    return c->sign_error;
}

double pact_composite_relu_error(const pact_composite *c)
{
    return c->relu_error;
}

double pact_composite_eval_sign(const pact_composite *c, double x)
{
    for (int i = 0; i < c->count; i++)
        x = pact_poly_eval(c->comp[i], x);
    return x;
}

double pact_composite_eval_relu(const pact_composite *c, double x)
{
    return 0.5 * x * (1.0 + pact_composite_eval_sign(c, x));
}

double pact_composite_eval_relu_bound(const pact_composite *c, double bound, double x)
{
    return bound * pact_composite_eval_relu(c, x / bound);
}

/* ReLU error x |1 - s(x)| / 2 at x >= 0 (as a pact_fn for Brent). */
static double relu_err_at(void *ctx, double x)
{
    return 0.5 * x * fabs(1.0 - pact_composite_eval_sign(ctx, x));
}

static double sign_err_at(void *ctx, double x)
{
    return fabs(1.0 - pact_composite_eval_sign(ctx, x));
}

/* Builds the stages for `degrees` and eps into c (count set, comp allocated).
 * Writes the last stage's error delta_k. */
static pact_status build_stages(pact_composite *c, const int *degrees, int count, double eps,
                                const pact_fit_opts *o, double *delta_k, pact_error *err)
{
    double l = eps, r = 1.0;
    for (int i = 0; i < count; i++) {
        int d = degrees[i], n = (d + 1) / 2;
        double coef[PACT_FIT_MAX_DEGREE + 1];
        remez_problem pb = {one, NULL, l / r, 1.0, BASIS_ODD, n, o->max_iter, o->tol, 0.0};
        remez_result rr;
        pact_error e2 = {PACT_OK, ""};
        pact_status st = remez_run(&pb, coef, &rr, &e2);
        if (st != PACT_OK)
            return pact_fail(err, st, "composite stage %d (degree %d on [%.6g, %.6g]): %s", i + 1,
                             d, l, r, e2.message);
        if ((st = poly_alloc(-r, r, d, &c->comp[i], err)) != PACT_OK)
            return st;
        c->count = i + 1;
        remez_basis_expand(BASIS_ODD, coef, n, c->comp[i]->c, d);
        /* a hair of margin so the next interval surely holds this image */
        double delta = rr.max_error * (1.0 + 1e-9) + 1e-15;
        if (!(delta < 1.0))
            return pact_fail(err, PACT_ENUMERIC,
                             "composite stage %d (degree %d): error %g >= 1 on [%.6g, %.6g], eps "
                             "%g too small for these degrees",
                             i + 1, d, delta, l, r, eps);
        l = 1.0 - delta;
        r = 1.0 + delta;
        *delta_k = delta;
    }
    return PACT_OK;
}

/* Max of h over x in [lo, hi] on a uniform grid of m points + Brent around
 * the grid's best few local maxima. */
static double grid_max(pact_fn h, void *ctx, double lo, double hi, int m, double *where)
{
    double best = 0.0, xb = lo, prev2 = -1.0, prev = -1.0;
    double cand[64];
    int nc = 0;
    for (int j = 0; j < m; j++) {
        double x = lo + (hi - lo) * j / (m - 1), v = h(ctx, x);
        if (!(v <= INFINITY))
            v = INFINITY; /* NaN: report as infinite */
        if (v > best)
            best = v, xb = x;
        /* local max at j - 1 */
        if (j >= 2 && prev >= prev2 && prev >= v && nc < 64)
            cand[nc++] = lo + (hi - lo) * (j - 1) / (m - 1);
        prev2 = prev;
        prev = v;
    }
    double step = (hi - lo) / (m - 1);
    for (int i = 0; i < nc; i++) {
        double a = fmax(lo, cand[i] - step), b = fmin(hi, cand[i] + step), v;
        double x = brent_max(h, ctx, a, b, 1e-10 * step, &v);
        if (v > best)
            best = v, xb = x;
    }
    if (where)
        *where = xb;
    return best;
}

/* What eps search minimises: max(delta_k / 2, max over the gap of the ReLU
 * error), the first an upper bound of the ReLU error beyond eps. */
static double quick_relu_error(pact_composite *c, double delta_k)
{
    return fmax(0.5 * delta_k, grid_max(relu_err_at, c, 0.0, c->eps, 513, NULL));
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Dense measurement of the sign error on [eps, 1] and the ReLU error on
 * [0, 1]: 2^16 uniform points on [0, 1], 2^15 on [0, 4 eps], 2^15 Chebyshev
 * spaced on [eps, 1]; every local maximum above half the largest refined. */
static pact_status measure(pact_composite *c, pact_error *err)
{
    const int n1 = 1 << 16, n2 = 1 << 15, n3 = 1 << 15, N = n1 + n2 + n3;
    double *x = malloc((size_t)N * sizeof *x), *v = malloc((size_t)N * sizeof *v);
    double *sv = malloc((size_t)N * sizeof *sv);
    if (!x || !v || !sv) {
        free(x), free(v), free(sv);
        return pact_fail(err, PACT_ENOMEM, "composite: out of memory measuring the error");
    }
    double e = c->eps, top = fmin(1.0, 4.0 * e);
    for (int j = 0; j < n1; j++)
        x[j] = (double)j / (n1 - 1);
    for (int j = 0; j < n2; j++)
        x[n1 + j] = top * j / (n2 - 1);
    for (int j = 0; j < n3; j++)
        x[n1 + n2 + j] = e + (1.0 - e) * 0.5 * (1.0 - cos(PACT_PI * j / (n3 - 1)));
    qsort(x, (size_t)N, sizeof *x, cmp_double);
    double rmax = 0.0, smax = 0.0;
    for (int j = 0; j < N; j++) {
        double s = pact_composite_eval_sign(c, x[j]);
        v[j] = 0.5 * x[j] * fabs(1.0 - s);
        sv[j] = x[j] >= e ? fabs(1.0 - s) : 0.0;
        if (!isfinite(v[j])) {
            double xb = x[j];
            free(x), free(v), free(sv);
            return pact_fail(err, PACT_ENUMERIC, "composite: s(%.17g) is not finite", xb);
        }
        rmax = fmax(rmax, v[j]);
        smax = fmax(smax, sv[j]);
    }
    double rbest = rmax, sbest = smax;
    for (int j = 1; j + 1 < N; j++) {
        double lo = x[j - 1], hi = x[j + 1], val;
        if (!(hi > lo))
            continue;
        if (v[j] >= 0.5 * rmax && v[j] >= v[j - 1] && v[j] >= v[j + 1]) {
            brent_max(relu_err_at, c, lo, hi, 1e-12 * (hi - lo), &val);
            rbest = fmax(rbest, val);
        }
        if (sv[j] >= 0.5 * smax && sv[j] >= sv[j - 1] && sv[j] >= sv[j + 1] && lo >= e) {
            brent_max(sign_err_at, c, lo, hi, 1e-12 * (hi - lo), &val);
            sbest = fmax(sbest, val);
        }
    }
    c->relu_error = rbest;
    c->sign_error = sbest;
    free(x), free(v), free(sv);
    return PACT_OK;
}

static pact_status check_degrees(const int *degrees, int count, pact_error *err)
{
    if (!degrees || count < 1 || count > PACT_COMPOSITE_MAX_COMPONENTS)
        return pact_fail(err, PACT_EINVAL, "composite: %d components, need 1..%d", count,
                         PACT_COMPOSITE_MAX_COMPONENTS);
    for (int i = 0; i < count; i++)
        if (degrees[i] < 1 || degrees[i] > PACT_FIT_MAX_DEGREE || degrees[i] % 2 == 0)
            return pact_fail(err, PACT_EINVAL,
                             "composite: component %d degree %d is not odd in 1..%d", i + 1,
                             degrees[i], PACT_FIT_MAX_DEGREE);
    return PACT_OK;
}

static pact_status make(const int *degrees, int count, double eps, const pact_fit_opts *o,
                        int full, pact_composite **out, double *quick, pact_error *err)
{
    pact_composite *c = calloc(1, sizeof *c);
    if (!c)
        return pact_fail(err, PACT_ENOMEM, "composite: out of memory");
    c->eps = eps;
    double delta_k = 1.0;
    pact_status st = build_stages(c, degrees, count, eps, o, &delta_k, err);
    if (st == PACT_OK && quick)
        *quick = quick_relu_error(c, delta_k);
    if (st == PACT_OK && full)
        st = measure(c, err);
    if (st != PACT_OK) {
        pact_composite_free(c);
        return st;
    }
    *out = c;
    return PACT_OK;
}

/* ReLU error (quick form) as a function of log2 eps; +inf where the stages
 * cannot be built (eps far too small). */
static double objective(const int *degrees, int count, double log2eps, const pact_fit_opts *o)
{
    pact_composite *c = NULL;
    double q = INFINITY;
    if (make(degrees, count, exp2(log2eps), o, 0, &c, &q, NULL) != PACT_OK)
        return INFINITY;
    pact_composite_free(c);
    return q;
}

/* log2 of the eps minimising the ReLU error: a scan of [lo, hi] in steps of
 * 1/2, then golden section around the best. Near the optimum the error is the
 * max of a part falling with eps (delta_k) and one rising with it (the gap),
 * but not globally: for large eps the first stage is nearly exact, the later
 * ones are fitted on tiny intervals around 1 and swing wildly on the images of
 * the gap, hence the full scan. */
static double best_log2_eps(const int *degrees, int count, double lo, double hi,
                            const pact_fit_opts *o)
{
    hi = fmin(hi, -0.25); /* eps < 1 */
    double best_u = hi, best_f = INFINITY;
    int failed = 0;
    for (double u = hi; u >= lo; u -= 0.5) {
        double f = objective(degrees, count, u, o);
        if (f < best_f)
            best_f = f, best_u = u;
        /* smaller eps only makes a failing first stage (error >= 1) worse */
        failed = isfinite(best_f) && !isfinite(f) ? failed + 1 : 0;
        if (failed == 4)
            break;
    }
    const double g = 0.6180339887498949;
    double a = best_u - 0.5, b = fmin(best_u + 0.5, hi);
    double u1 = b - g * (b - a), u2 = a + g * (b - a);
    double f1 = objective(degrees, count, u1, o), f2 = objective(degrees, count, u2, o);
    while (b - a > 0.002) {
        if (f1 <= f2) {
            b = u2, u2 = u1, f2 = f1;
            u1 = b - g * (b - a);
            f1 = objective(degrees, count, u1, o);
        } else {
            a = u1, u1 = u2, f1 = f2;
            u2 = a + g * (b - a);
            f2 = objective(degrees, count, u2, o);
        }
    }
    double u = f1 <= f2 ? u1 : u2, fu = fmin(f1, f2);
    return fu <= best_f ? u : best_u;
}

pact_status pact_composite_fit(const int *degrees, int count, double eps,
                               const pact_fit_opts *opts, pact_composite **c, pact_error *err)
{
    if (!c)
        return pact_fail(err, PACT_EINVAL, "composite: NULL output pointer");
    *c = NULL;
    pact_fit_opts o = fit_opts_resolve(opts);
    pact_status st = check_degrees(degrees, count, err);
    if (st == PACT_OK)
        st = fit_opts_check(&o, "composite", err);
    if (st != PACT_OK)
        return st;
    if (!(eps >= 0.0 && eps < 1.0))
        return pact_fail(err, PACT_EINVAL, "composite: eps %g outside [0, 1)", eps);
    if (eps == 0.0)
        eps = exp2(best_log2_eps(degrees, count, -40.0, -0.5, &o));
    return make(degrees, count, eps, &o, 1, c, NULL, err);
}

pact_status pact_composite_sign(int alpha, const pact_fit_opts *opts, pact_composite **c,
                                pact_error *err)
{
    if (!c)
        return pact_fail(err, PACT_EINVAL, "composite: NULL output pointer");
    *c = NULL;
    pact_fit_opts o = fit_opts_resolve(opts);
    pact_status st = fit_opts_check(&o, "composite", err);
    if (st != PACT_OK)
        return st;
    int degrees[PACT_COMPOSITE_MAX_COMPONENTS], count = 0;
    pact_error e2;
    if (pact_composite_published_degrees(alpha, degrees, &count, &e2) != PACT_OK)
        return pact_fail(err, PACT_EINVAL, "composite sign: %s", e2.message);
    double u = best_log2_eps(degrees, count, -(alpha + 4.0), 6.0 - alpha, &o);
    st = make(degrees, count, exp2(u), &o, 1, c, NULL, err);
    if (st != PACT_OK)
        return st;
    (*c)->alpha = alpha;
    double target = exp2(-alpha);
    if (!((*c)->relu_error <= target))
        return pact_fail(err, PACT_ETOL,
                         "composite sign alpha %d: best ReLU error 2^%.3f above 2^-%d (eps 2^%.3f)",
                         alpha, log2((*c)->relu_error), alpha, u);
    return PACT_OK;
}
