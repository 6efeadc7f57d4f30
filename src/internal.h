/* Internal helpers shared by every part of the library; not installed. */
#ifndef PACT_INTERNAL_H
#define PACT_INTERNAL_H

#include "polyact.h"

#if defined(__GNUC__)
#define PACT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PACT_PRINTF(f, a)
#endif

/* Fills *err (if not NULL) with `status` and a formatted message; returns
 * `status` so that callers can write `return pact_fail(err, PACT_EINVAL, ...)`. */
pact_status pact_fail(pact_error *err, pact_status status, const char *fmt, ...)
    PACT_PRINTF(3, 4);

/* Resets *err (if not NULL) to PACT_OK with an empty message. */
void pact_error_clear(pact_error *err);

/* Multiplicative depth ceil(log2(d + 1)) of a degree-d polynomial (the bit
 * length of d); 0 for d <= 0. */
int pact_poly_depth(int degree);

/* sum_{j=0..d} c[j] T_j(y) by Clenshaw's recurrence, in the one operation order
 * every plan evaluator (layer, channel, PANN) shares, so they agree bit for bit. */
static inline double pact_clenshaw(const double *c, int d, double y)
{
    double b1 = 0.0, b2 = 0.0;
    for (int j = d; j >= 1; j--) {
        double t = 2.0 * y * b1 - b2 + c[j];
        b2 = b1;
        b1 = t;
    }
    return y * b1 - b2 + c[0];
}

/* Solves G x = rhs for symmetric positive definite G (m x m, row-major),
 * overwriting G by its Cholesky factor and rhs by x; -1 if G is not positive
 * definite (src/poly/cholesky.c). */
int pact_cholesky_solve(double *G, double *rhs, int m);

/* Whether a plan or a calibration (`what`) fits a model: its layer count
 * (pact_check_model_count), then each layer's name and activation function
 * (pact_check_model_layer, i < n). PACT_EMISMATCH naming the difference
 * (src/pann/model_check.c). */
pact_status pact_check_model_count(const char *what, int n, const pact_model *m, pact_error *err);
pact_status pact_check_model_layer(const char *what, int i, const char *name, pact_func func,
                                   const pact_model *m, pact_error *err);

/* x[0..n) <- f(x) exactly (in double, rounded to float; ReLU by comparison). */
void pact_func_apply_f32(pact_func f, float *x, size_t n);

#endif
