/* Chebyshev interpolation at first-kind nodes (the OpenFHE / Orion baseline),
 * and the discrete Chebyshev transform the least-squares floor reuses. */
#include "poly_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

pact_status cheb_coeffs(pact_fn f, void *ctx, double a, double b, int m, int nout, double *c,
                        pact_error *err)
{
    memset(c, 0, (size_t)nout * sizeof *c);
    for (int j = 0; j < m; j++) {
        double y = cos(PACT_PI * (j + 0.5) / m);
        double x = cheb_from_unit(a, b, y), fx = f(ctx, x);
        if (!isfinite(fx))
            return pact_fail(err, PACT_ENUMERIC, "f(%.17g) = %g is not finite", x, fx);
        /* T_k(y) by the recurrence: stable on [-1, 1] */
        double t0 = 1.0, t1 = y;
        for (int k = 0; k < nout; k++) {
            c[k] += fx * t0;
            double t2 = 2.0 * y * t1 - t0;
            t0 = t1;
            t1 = t2;
        }
    }
    for (int k = 0; k < nout; k++)
        c[k] *= (k == 0 ? 1.0 : 2.0) / m;
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
