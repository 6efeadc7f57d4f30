/* Achieved max error of a polynomial against its target: a dense grid (half
 * Chebyshev-spaced, dense near the ends where polynomial errors peak; half
 * uniform, dense in the middle where kinks sit) and Brent refinement of every
 * local maximum that could be the largest. */
#include "poly_internal.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    const pact_poly *p;
    pact_fn f;
    void *ctx;
    double sign;
} err_ctx;

static double err_at(void *c, double x)
{
    const err_ctx *e = c;
    return e->sign * (e->f(e->ctx, x) - pact_poly_eval(e->p, x));
}

typedef struct {
    double v;
    int j;
} peak;

static int peak_desc(const void *pa, const void *pb)
{
    const peak *a = pa, *b = pb;
    return (a->v < b->v) - (a->v > b->v);
}

pact_status maxerr_measure(const pact_poly *p, pact_fn f, void *ctx, int grid, double kink,
                           double *max_error, double *argmax, pact_error *err)
{
    if (!p || !f || !max_error)
        return pact_fail(err, PACT_EINVAL, "max error: NULL argument");
    int d = p->degree;
    int N = grid > 0 ? grid : (64 * (d + 1) > 8192 ? 64 * (d + 1) : 8192);
    int nc = N / 2, nu = N - nc;
    double *x = malloc((size_t)(N + 1) * sizeof *x), *e = malloc((size_t)(N + 1) * sizeof *e);
    peak *pk = malloc((size_t)(N + 1) * sizeof *pk);
    if (!x || !e || !pk) {
        free(x), free(e), free(pk);
        return pact_fail(err, PACT_ENOMEM, "max error: out of memory (grid %d)", N);
    }
    /* merge the two sorted point sets, then insert the kink */
    int i = 0, j = 0, m = 0;
    for (; m < N; m++) { /* exactly N points, whatever the comparisons say */
        double xc = i < nc ? cheb_from_unit(p->a, p->b, -cos(PACT_PI * i / (nc - 1))) : INFINITY;
        double xu = j < nu ? p->a + (p->b - p->a) * j / (nu - 1) : INFINITY;
        if (j >= nu || (i < nc && !(xu < xc)))
            x[m] = xc, i++;
        else
            x[m] = xu, j++;
    }
    if (kink > p->a && kink < p->b) {
        int k = m;
        while (k > 0 && x[k - 1] > kink) {
            x[k] = x[k - 1];
            k--;
        }
        x[k] = kink;
        m++;
    }
    double gmax = 0.0, xbest = p->a;
    for (int k = 0; k < m; k++) {
        e[k] = f(ctx, x[k]) - pact_poly_eval(p, x[k]);
        if (!isfinite(e[k])) {
            double xb = x[k];
            free(x), free(e), free(pk);
            return pact_fail(err, PACT_ENUMERIC, "max error: f - p is not finite at x = %.17g",
                             xb);
        }
        if (fabs(e[k]) > gmax) {
            gmax = fabs(e[k]);
            xbest = x[k];
        }
    }
    int np = 0;
    for (int k = 0; k < m; k++) {
        double v = fabs(e[k]);
        if (v < 0.8 * gmax || v == 0.0)
            continue;
        if ((k > 0 && v < fabs(e[k - 1])) || (k + 1 < m && v < fabs(e[k + 1])))
            continue;
        pk[np++] = (peak){v, k};
    }
    int cap = 4 * (d + 2) + 64;
    if (np > cap) {
        qsort(pk, (size_t)np, sizeof *pk, peak_desc);
        np = cap;
    }
    double best = gmax;
    for (int q = 0; q < np; q++) {
        int k = pk[q].j;
        double lo = x[k > 0 ? k - 1 : k], hi = x[k + 1 < m ? k + 1 : k];
        if (!(hi > lo))
            continue;
        err_ctx ec = {p, f, ctx, e[k] > 0.0 ? 1.0 : -1.0};
        double v, xv = brent_max(err_at, &ec, lo, hi, 1e-10 * (hi - lo), &v);
        if (v > best && isfinite(v)) {
            best = v;
            xbest = xv;
        }
    }
    free(x), free(e), free(pk);
    *max_error = best;
    if (argmax)
        *argmax = xbest;
    return PACT_OK;
}

pact_status pact_poly_max_error_fn(const pact_poly *p, pact_fn f, void *ctx,
                                   const pact_fit_opts *opts, double *max_error, double *argmax,
                                   pact_error *err)
{
    pact_fit_opts o = fit_opts_resolve(opts);
    pact_status st = fit_opts_check(&o, "max error", err);
    if (st != PACT_OK)
        return st;
    return maxerr_measure(p, f, ctx, o.grid, NAN, max_error, argmax, err);
}

pact_status pact_poly_max_error(const pact_poly *p, pact_func f, const pact_fit_opts *opts,
                                double *max_error, double *argmax, pact_error *err)
{
    if ((unsigned)f >= PACT_FUNC_COUNT)
        return pact_fail(err, PACT_EINVAL, "max error: unknown function %d", (int)f);
    pact_fit_opts o = fit_opts_resolve(opts);
    pact_status st = fit_opts_check(&o, "max error", err);
    if (st != PACT_OK)
        return st;
    /* every activation's kink (relu, abs) or jump (sign) is at 0 */
    return maxerr_measure(p, func_as_fn, &f, o.grid, 0.0, max_error, argmax, err);
}
