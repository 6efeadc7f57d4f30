/* Minimax fits: the front end of the Remez engine. On a symmetric interval
 * [-r, r] the target's parity reduces the problem: relu = x/2 + |x|/2 (and
 * gelu, gelu_tanh, silu = x/2 + even) is fitted as its even part in
 * T_0, T_2, ... on y in [0, 1], where the kink of |x| becomes an end point of
 * the exchange; sigmoid = 1/2 + odd and tanh are fitted in T_1, T_3, ....
 * Because the best approximation is unique, the reduced fit is also the best
 * among all polynomials of the degree. Other intervals use the general
 * exchange on [-1, 1]. */
#include "poly_internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    pact_fn f;
    void *ctx;
    double a, b;   /* x = map(y) on [a, b] */
    double lin;    /* subtracted: lin * x + cst (an exactly representable part) */
    double cst;
} target;

static double target_eval(void *c, double y)
{
    const target *t = c;
    double x = cheb_from_unit(t->a, t->b, y);
    return t->f(t->ctx, x) - t->lin * x - t->cst;
}

/* How a pact_func splits on a symmetric interval (PACT_PARITY_AUTO). */
static void func_structure(pact_func f, pact_parity *parity, double *lin, double *cst)
{
    *lin = 0.0;
    *cst = 0.0;
    switch (f) {
    case PACT_RELU:
    case PACT_GELU:
    case PACT_GELU_TANH:
    case PACT_SILU: *parity = PACT_PARITY_EVEN, *lin = 0.5; return;
    case PACT_ABS: *parity = PACT_PARITY_EVEN; return;
    case PACT_SIGMOID: *parity = PACT_PARITY_ODD, *cst = 0.5; return;
    case PACT_TANH:
    case PACT_SIGN: *parity = PACT_PARITY_ODD; return;
    case PACT_FUNC_COUNT: break;
    }
    *parity = PACT_PARITY_NONE;
}

static pact_status minimax(const char *name, pact_fn f, void *ctx, double a, double b, int degree,
                           pact_parity parity, double lin, double cst, double kink,
                           const pact_fit_opts *o, pact_poly **poly, double *max_error,
                           pact_error *err)
{
    target t = {f, ctx, a, b, 0.0, 0.0};
    remez_problem pb = {target_eval, &t, -1.0, 1.0, BASIS_ALL, degree + 1,
                        o->max_iter, o->tol, 0.0};
    if (parity == PACT_PARITY_EVEN || parity == PACT_PARITY_ODD) {
        t.lin = lin;
        t.cst = cst;
        pb.scale = fabs(lin) * fmax(fabs(a), fabs(b)) + fabs(cst);
        pb.lo = 0.0;
        pb.basis = parity == PACT_PARITY_EVEN ? BASIS_EVEN : BASIS_ODD;
        pb.n = parity == PACT_PARITY_EVEN ? degree / 2 + 1 : (degree + 1) / 2;
    }
    double coef[PACT_FIT_MAX_DEGREE + 1];
    remez_result rr;
    pact_error rerr = {PACT_OK, ""}, merr;
    pact_status st = remez_run(&pb, coef, &rr, &rerr);
    if (st != PACT_OK && st != PACT_EMAXITER)
        return pact_fail(err, st, "minimax %s on [%g, %g] degree %d: %s", name, a, b, degree,
                         rerr.message);
    pact_status st2 = poly_alloc(a, b, degree, poly, &merr);
    if (st2 != PACT_OK)
        return pact_fail(err, st2, "%s", merr.message);
    remez_basis_expand(pb.basis, coef, pb.n, (*poly)->c, degree);
    /* lin x + cst = lin (r y) + cst on [-r, r] */
    (*poly)->c[0] += cst;
    if (degree >= 1)
        (*poly)->c[1] += lin * 0.5 * (b - a);
    if (max_error) {
        st2 = maxerr_measure(*poly, f, ctx, o->grid, kink, max_error, NULL, &merr);
        if (st2 != PACT_OK) {
            pact_poly_free(*poly);
            *poly = NULL;
            return pact_fail(err, st2, "minimax %s: %s", name, merr.message);
        }
    }
    if (st == PACT_EMAXITER)
        return pact_fail(err, st, "minimax %s on [%g, %g] degree %d: %s", name, a, b, degree,
                         rerr.message);
    return PACT_OK;
}

static pact_status check_common(double a, double b, int degree, const pact_fit_opts *o,
                                pact_poly **poly, pact_error *err)
{
    if (!poly)
        return pact_fail(err, PACT_EINVAL, "minimax: NULL output pointer");
    *poly = NULL;
    pact_status st = fit_check(a, b, degree, "minimax", err);
    if (st == PACT_OK)
        st = fit_opts_check(o, "minimax", err);
    return st;
}

pact_status pact_fit_minimax(pact_func f, double a, double b, int degree,
                             const pact_fit_opts *opts, pact_poly **poly, double *max_error,
                             pact_error *err)
{
    pact_fit_opts o = fit_opts_resolve(opts);
    pact_status st = check_common(a, b, degree, &o, poly, err);
    if (st != PACT_OK)
        return st;
    if ((unsigned)f >= PACT_FUNC_COUNT)
        return pact_fail(err, PACT_EINVAL, "minimax: unknown function %d", (int)f);
    if (f == PACT_SIGN && a <= 0.0 && b >= 0.0)
        return pact_fail(err, PACT_EINVAL,
                         "minimax sign on [%g, %g]: the jump at 0 makes every polynomial's "
                         "uniform error >= 1/2; use the composite sign on [-1,-eps] U [eps,1]",
                         a, b);
    pact_parity parity = PACT_PARITY_NONE;
    double lin = 0.0, cst = 0.0;
    if (o.parity == PACT_PARITY_EVEN || o.parity == PACT_PARITY_ODD)
        return pact_fail(err, PACT_EINVAL,
                         "minimax %s: opts.parity EVEN/ODD is for pact_fit_minimax_fn; use AUTO",
                         pact_func_name(f));
    if (o.parity == PACT_PARITY_AUTO && a == -b)
        func_structure(f, &parity, &lin, &cst);
    return minimax(pact_func_name(f), func_as_fn, &f, a, b, degree, parity, lin, cst, 0.0, &o,
                   poly, max_error, err);
}

pact_status pact_fit_minimax_fn(pact_fn f, void *ctx, double a, double b, int degree,
                                const pact_fit_opts *opts, pact_poly **poly, double *max_error,
                                pact_error *err)
{
    pact_fit_opts o = fit_opts_resolve(opts);
    pact_status st = check_common(a, b, degree, &o, poly, err);
    if (st != PACT_OK)
        return st;
    if (!f)
        return pact_fail(err, PACT_EINVAL, "minimax: NULL target function");
    pact_parity parity = o.parity == PACT_PARITY_AUTO ? PACT_PARITY_NONE : o.parity;
    if (parity != PACT_PARITY_NONE && a != -b)
        return pact_fail(err, PACT_EINVAL,
                         "minimax: opts.parity %s needs a symmetric interval, got [%g, %g]",
                         parity == PACT_PARITY_EVEN ? "EVEN" : "ODD", a, b);
    return minimax("fn", f, ctx, a, b, degree, parity, 0.0, 0.0, NAN, &o, poly, max_error,
                   err);
}
