/* Option defaults and argument checks shared by every fitting method. */
#include "poly_internal.h"

#include <math.h>

void pact_fit_opts_default(pact_fit_opts *opts)
{
    if (!opts)
        return;
    opts->max_iter = 100;
    opts->tol = 1e-10;
    opts->grid = 0;
    opts->floor = 0.1;
    opts->parity = PACT_PARITY_AUTO;
}

pact_fit_opts fit_opts_resolve(const pact_fit_opts *opts)
{
    pact_fit_opts o;
    pact_fit_opts_default(&o);
    return opts ? *opts : o;
}

pact_status fit_check(double a, double b, int degree, const char *what, pact_error *err)
{
    /* b - a must be finite too: every map to [-1, 1] divides by it */
    if (!isfinite(a) || !isfinite(b) || !(a < b) || !isfinite(b - a))
        return pact_fail(err, PACT_EINVAL,
                         "%s: interval [%g, %g] is not finite with a < b and b - a finite", what,
                         a, b);
    if (degree < 1 || degree > PACT_FIT_MAX_DEGREE)
        return pact_fail(err, PACT_EINVAL, "%s: degree %d outside 1..%d", what, degree,
                         PACT_FIT_MAX_DEGREE);
    return PACT_OK;
}

pact_status fit_opts_check(const pact_fit_opts *o, const char *what, pact_error *err)
{
    if (o->max_iter < 1 || o->max_iter > 100000)
        return pact_fail(err, PACT_EINVAL, "%s: opts.max_iter %d outside 1..100000", what,
                         o->max_iter);
    if (!(o->tol > 0.0 && o->tol < 1.0))
        return pact_fail(err, PACT_EINVAL, "%s: opts.tol %g outside (0, 1)", what, o->tol);
    if (o->grid < 0 || o->grid > (1 << 22) || (o->grid > 0 && o->grid < 16))
        return pact_fail(err, PACT_EINVAL, "%s: opts.grid %d: 0 (auto) or 16..%d", what, o->grid,
                         1 << 22);
    if (!(o->floor >= 0.0 && o->floor <= 1.0))
        return pact_fail(err, PACT_EINVAL, "%s: opts.floor %g outside [0, 1]", what, o->floor);
    if (o->parity < PACT_PARITY_AUTO || o->parity > PACT_PARITY_ODD)
        return pact_fail(err, PACT_EINVAL, "%s: opts.parity %d unknown", what, (int)o->parity);
    return PACT_OK;
}

double func_as_fn(void *ctx, double x)
{
    return pact_func_eval(*(const pact_func *)ctx, x);
}
