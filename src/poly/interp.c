/* Chebyshev interpolation at first-kind nodes (the OpenFHE / Orion baseline),
 * and the discrete Chebyshev transform the least-squares floor reuses. */
#include "poly_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

pact_status cheb_coeffs(pact_fn f, void *ctx, double a, double b, int m, int nout, double *c,
                        pact_error *err)
{
    /* T_k(y_j) = cos(pi k (2j + 1) / (2m)): one correctly rounded cosine from a
     * table indexed by k (2j + 1) mod 4m, no recurrence error */
    size_t nt = 4 * (size_t)m;
    double *cs = malloc(nt * sizeof *cs), *fx = malloc((size_t)m * sizeof *fx);
    if (!cs || !fx) {
        free(cs), free(fx);
        return pact_fail(err, PACT_ENOMEM, "Chebyshev transform: out of memory (%d nodes)", m);
    }
    for (size_t i = 0; i < nt; i++)
        cs[i] = cos(PACT_PI * (double)i / (2.0 * m));
    for (int j = 0; j < m; j++) {
        double x = cheb_from_unit(a, b, cs[2 * j + 1]);
        fx[j] = f(ctx, x);
        if (!isfinite(fx[j])) {
            double v = fx[j];
            free(cs), free(fx);
            return pact_fail(err, PACT_ENUMERIC, "f(%.17g) = %g is not finite", x, v);
        }
    }
    for (int k = 0; k < nout; k++) {
        double s = 0.0;
        size_t step = 2 * (size_t)k % nt, idx = (size_t)k % nt; /* k (2j + 1) mod 4m */
        for (int j = 0; j < m; j++) {
            s += fx[j] * cs[idx];
            idx += step;
            if (idx >= nt)
                idx -= nt;
        }
        c[k] = s * (k == 0 ? 1.0 : 2.0) / m;
    }
    free(cs), free(fx);
    return PACT_OK;
}

pact_status pact_fit_cheb_fn(pact_fn f, void *ctx, double a, double b, int degree,
                             const pact_fit_opts *opts, pact_poly **poly, double *max_error,
                             pact_error *err)
{
    if (!poly)
        return pact_fail(err, PACT_EINVAL, "cheb: NULL output pointer");
    *poly = NULL;
    pact_fit_opts o = fit_opts_resolve(opts);
    pact_status st = fit_check(a, b, degree, "cheb", err);
    if (st == PACT_OK)
        st = fit_opts_check(&o, "cheb", err);
    if (st == PACT_OK && !f)
        st = pact_fail(err, PACT_EINVAL, "cheb: NULL target function");
    if (st != PACT_OK)
        return st;
    pact_error e2;
    if ((st = poly_alloc(a, b, degree, poly, err)) != PACT_OK)
        return st;
    st = cheb_coeffs(f, ctx, a, b, degree + 1, degree + 1, (*poly)->c, &e2);
    if (st == PACT_OK && max_error)
        st = maxerr_measure(*poly, f, ctx, o.grid, f == func_as_fn ? 0.0 : NAN, max_error, NULL,
                            &e2);
    if (st != PACT_OK) {
        pact_poly_free(*poly);
        *poly = NULL;
        return pact_fail(err, st, "cheb on [%g, %g] degree %d: %s", a, b, degree, e2.message);
    }
    return PACT_OK;
}

pact_status pact_fit_cheb(pact_func f, double a, double b, int degree, const pact_fit_opts *opts,
                          pact_poly **poly, double *max_error, pact_error *err)
{
    if ((unsigned)f >= PACT_FUNC_COUNT) {
        if (poly)
            *poly = NULL;
        return pact_fail(err, PACT_EINVAL, "cheb: unknown function %d", (int)f);
    }
    return pact_fit_cheb_fn(func_as_fn, &f, a, b, degree, opts, poly, max_error, err);
}
