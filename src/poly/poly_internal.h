/* Internal pieces of src/poly shared between its files; not installed. */
#ifndef PACT_POLY_INTERNAL_H
#define PACT_POLY_INTERNAL_H

#include "../internal.h"

#define PACT_PI 3.14159265358979323846

/* Chebyshev coefficients c[0..degree] on [a, b] (see polyact.h). */
struct pact_poly {
    double a, b;
    int degree;
    double c[];
};

/* Allocates a zeroed polynomial; PACT_ENOMEM or PACT_EINVAL (bad degree/interval). */
pact_status poly_alloc(double a, double b, int degree, pact_poly **out, pact_error *err);

/* sum_{k=0..degree} c[k] T_k(y) by Clenshaw's recurrence. */
double cheb_clenshaw(const double *c, int degree, double y);

/* x in [a, b] -> y in [-1, 1], and back. */
static inline double cheb_to_unit(double a, double b, double x)
{
    return (2.0 * x - a - b) / (b - a);
}
static inline double cheb_from_unit(double a, double b, double y)
{
    return 0.5 * (a + b) + 0.5 * (b - a) * y;
}

/* Validates a fitting request (finite a < b, degree 1..PACT_FIT_MAX_DEGREE). */
pact_status fit_check(double a, double b, int degree, const char *what, pact_error *err);

/* Resolved options: NULL -> defaults. */
pact_fit_opts fit_opts_resolve(const pact_fit_opts *opts);

/* max |f - p| over p's interval on a dense grid of `grid` points (0: auto)
 * merged from Chebyshev and uniform spacing, plus `kink` when it is inside
 * (NAN: none), every local maximum above half the grid's refined by Brent. */
pact_status maxerr_measure(const pact_poly *p, pact_fn f, void *ctx, int grid, double kink,
                           double *max_error, double *argmax, pact_error *err);

/* First `nout` Chebyshev coefficients (c_0 not halved) of the degree-(m - 1)
 * interpolant of f at the m first-kind nodes of [a, b]. PACT_ENUMERIC if f is
 * not finite at a node; PACT_ENOMEM. */
pact_status cheb_coeffs(pact_fn f, void *ctx, double a, double b, int m, int nout, double *c,
                        pact_error *err);

/* Validates the fields of resolved options; `what` prefixes the message. */
pact_status fit_opts_check(const pact_fit_opts *o, const char *what, pact_error *err);

/* pact_func as a pact_fn: ctx points at the pact_func. */
double func_as_fn(void *ctx, double x);

/* Maximises h on [lo, hi] (Brent: golden section + parabolic steps). Returns the
 * abscissa, writes the value. `xtol` is the absolute abscissa tolerance. */
double brent_max(pact_fn h, void *ctx, double lo, double hi, double xtol, double *hmax);

/* Solves the n x n system A x = rhs (A row-major, overwritten; rhs becomes x)
 * by Gaussian elimination with partial pivoting. Returns 0, or -1 if singular. */
int lu_solve(double *A, double *rhs, int n);

/* --- The exchange engine behind minimax fits (remez.c). ---------------------
 * Best uniform approximation of g(y) on [lo, hi] (a sub-interval of [-1, 1]) in
 * the span of n Chebyshev functions: all of T_0..T_{n-1}, the even T_0, T_2, ...,
 * T_{2n-2} or the odd T_1, T_3, ..., T_{2n-1}. For the odd basis lo may be 0:
 * every basis function vanishes there, so 0 is never a reference point. */
typedef enum { BASIS_ALL, BASIS_EVEN, BASIS_ODD } remez_basis;

typedef struct {
    pact_fn g;
    void *ctx;
    double lo, hi;
    remez_basis basis;
    int n;
    int max_iter;
    double tol;
    double scale; /* magnitude of terms removed from g (its rounding floor) */
} remez_problem;

typedef struct {
    double levelled;   /* |E| of the last reference */
    double max_error;  /* max |g - p| found on [lo, hi] (grid + refinement) */
    int iterations;
} remez_result;

/* coef[0..n-1] in the chosen basis. PACT_OK (levelled, or the error is at the
 * rounding floor 32 eps (max|g| + sum|coef| + scale), where no exchange can
 * improve it); PACT_EMAXITER (coef holds the best found); PACT_ENUMERIC
 * (singular reference system or non-finite g); PACT_ENOMEM. */
pact_status remez_run(const remez_problem *pb, double *coef, remez_result *res,
                      pact_error *err);

/* p(y) = sum coef[k] phi_k(y) for the basis. */
double remez_basis_eval(remez_basis basis, const double *coef, int n, double y);

/* Expands coef in a basis into full Chebyshev coefficients c[0..degree]
 * (adds to c, which the caller zeroes). */
void remez_basis_expand(remez_basis basis, const double *coef, int n, double *c, int degree);

#endif
