/* Polynomials in the Chebyshev basis on [a, b]: storage, Clenshaw evaluation,
 * monomial conversion, derivative, product and composition. */
#include "poly_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

pact_status poly_alloc(double a, double b, int degree, pact_poly **out, pact_error *err)
{
    if (!out)
        return pact_fail(err, PACT_EINVAL, "poly: NULL output pointer");
    *out = NULL;
    /* b - a must be finite too: every map to [-1, 1] divides by it */
    if (!isfinite(a) || !isfinite(b) || !(a < b) || !isfinite(b - a))
        return pact_fail(err, PACT_EINVAL,
                         "poly: interval [%g, %g] is not finite with a < b and b - a finite", a, b);
    if (degree < 0 || degree > PACT_POLY_MAX_DEGREE)
        return pact_fail(err, PACT_EINVAL, "poly: degree %d outside 0..%d", degree,
                         PACT_POLY_MAX_DEGREE);
    pact_poly *p = calloc(1, sizeof *p + (size_t)(degree + 1) * sizeof(double));
    if (!p)
        return pact_fail(err, PACT_ENOMEM, "poly: out of memory for degree %d", degree);
    p->a = a;
    p->b = b;
    p->degree = degree;
    *out = p;
    return PACT_OK;
}

pact_status pact_poly_create(double a, double b, int degree, const double *cheb, pact_poly **p,
                             pact_error *err)
{
    if (!cheb)
        return pact_fail(err, PACT_EINVAL, "poly: NULL coefficient array");
    for (int k = 0; k >= 0 && k <= degree && k <= PACT_POLY_MAX_DEGREE; k++)
        if (!isfinite(cheb[k]))
            return pact_fail(err, PACT_EINVAL, "poly: coefficient c[%d] = %g is not finite", k,
                             cheb[k]);
    pact_status st = poly_alloc(a, b, degree, p, err);
    if (st != PACT_OK)
        return st;
    memcpy((*p)->c, cheb, (size_t)(degree + 1) * sizeof(double));
    return PACT_OK;
}

void pact_poly_free(pact_poly *p)
{
    free(p);
}

pact_status pact_poly_copy(const pact_poly *p, pact_poly **copy, pact_error *err)
{
    if (!p)
        return pact_fail(err, PACT_EINVAL, "poly copy: NULL polynomial");
    return pact_poly_create(p->a, p->b, p->degree, p->c, copy, err);
}

int pact_poly_degree(const pact_poly *p)
{
    return p->degree;
}

void pact_poly_interval(const pact_poly *p, double *a, double *b)
{
    if (a)
        *a = p->a;
    if (b)
        *b = p->b;
}

const double *pact_poly_cheb(const pact_poly *p)
{
    return p->c;
}

double cheb_clenshaw(const double *c, int degree, double y)
{
    double b1 = 0.0, b2 = 0.0, y2 = 2.0 * y;
    for (int k = degree; k >= 1; k--) {
        double t = c[k] + y2 * b1 - b2;
        b2 = b1;
        b1 = t;
    }
    return c[0] + y * b1 - b2;
}

double pact_poly_eval(const pact_poly *p, double x)
{
    return cheb_clenshaw(p->c, p->degree, cheb_to_unit(p->a, p->b, x));
}

int pact_poly_trim(pact_poly *p, double tol)
{
    while (p->degree > 0 && fabs(p->c[p->degree]) <= tol)
        p->degree--;
    return p->degree;
}

/* out[0..deg_q+1] = (alpha x + beta) * q[0..deg_q] in the monomial basis. */
static void mono_mul_affine(const double *q, int deg_q, double alpha, double beta, double *out)
{
    out[deg_q + 1] = alpha * q[deg_q];
    for (int j = deg_q; j >= 1; j--)
        out[j] = alpha * q[j - 1] + beta * q[j];
    out[0] = beta * q[0];
}

pact_status pact_poly_to_monomial(const pact_poly *p, double *mono, pact_error *err)
{
    if (!p || !mono)
        return pact_fail(err, PACT_EINVAL, "poly to monomial: NULL argument");
    int d = p->degree;
    /* Clenshaw in polynomial arithmetic: b_k(x) = c_k + 2 y(x) b_{k+1} - b_{k+2},
     * p = c_0 + y b_1 - b_2, y = alpha x + beta. deg -1 is the zero polynomial. */
    double alpha = 2.0 / (p->b - p->a), beta = -(p->a + p->b) / (p->b - p->a);
    size_t n = (size_t)d + 2;
    double *b1 = calloc(n, sizeof *b1), *b2 = calloc(n, sizeof *b2), *t = calloc(n, sizeof *t);
    if (!b1 || !b2 || !t) {
        free(b1), free(b2), free(t);
        return pact_fail(err, PACT_ENOMEM, "poly to monomial: out of memory (degree %d)", d);
    }
    int deg1 = -1, deg2 = -1;
    for (int k = d; k >= 1; k--) {
        memset(t, 0, n * sizeof *t);
        int dt = 0;
        if (deg1 >= 0) {
            mono_mul_affine(b1, deg1, 2.0 * alpha, 2.0 * beta, t);
            dt = deg1 + 1;
        }
        for (int j = 0; j <= deg2; j++)
            t[j] -= b2[j];
        t[0] += p->c[k];
        double *tmp = b2;
        b2 = b1;
        deg2 = deg1;
        b1 = t;
        deg1 = dt;
        t = tmp;
    }
    memset(mono, 0, (size_t)(d + 1) * sizeof *mono);
    if (deg1 >= 0) {
        memset(t, 0, n * sizeof *t);
        mono_mul_affine(b1, deg1, alpha, beta, t);
        for (int j = 0; j <= deg1 + 1 && j <= d; j++)
            mono[j] = t[j];
    }
    for (int j = 0; j <= deg2; j++)
        mono[j] -= b2[j];
    mono[0] += p->c[0];
    free(b1), free(b2), free(t);
    for (int j = 0; j <= d; j++)
        if (!isfinite(mono[j]))
            return pact_fail(err, PACT_ENUMERIC,
                             "poly to monomial: coefficient x^%d overflows (degree %d on "
                             "[%g, %g])",
                             j, d, p->a, p->b);
    return PACT_OK;
}

/* out[0..deg+1] = y * q[0..deg] in the Chebyshev basis: y T_0 = T_1,
 * y T_k = (T_{k+1} + T_{k-1}) / 2. out must not alias q. */
static void cheb_mul_y(const double *q, int deg, double *out)
{
    memset(out, 0, (size_t)(deg + 2) * sizeof *out);
    for (int k = 0; k <= deg; k++) {
        if (k == 0) {
            out[1] += q[0];
        } else {
            out[k + 1] += 0.5 * q[k];
            out[k - 1] += 0.5 * q[k];
        }
    }
}

/* A result whose coefficients overflowed (huge inputs, a derivative on a
 * tiny interval) is no polynomial: free it and say so. */
static pact_status finite_or_fail(pact_poly **p, const char *what, pact_error *err)
{
    for (int k = 0; k <= (*p)->degree; k++)
        if (!isfinite((*p)->c[k])) {
            double v = (*p)->c[k];
            pact_poly_free(*p);
            *p = NULL;
            return pact_fail(err, PACT_ENUMERIC, "%s: coefficient c[%d] = %g is not finite",
                             what, k, v);
        }
    return PACT_OK;
}

pact_status pact_poly_from_monomial(double a, double b, int degree, const double *mono,
                                    pact_poly **p, pact_error *err)
{
    if (!mono)
        return pact_fail(err, PACT_EINVAL, "poly from monomial: NULL coefficients");
    pact_status st = poly_alloc(a, b, degree, p, err);
    if (st != PACT_OK)
        return st;
    for (int j = 0; j <= degree; j++)
        if (!isfinite(mono[j])) {
            pact_poly_free(*p);
            *p = NULL;
            return pact_fail(err, PACT_EINVAL, "poly from monomial: x^%d coefficient %g", j,
                             mono[j]);
        }
    /* Horner with x = h y + m in the Chebyshev basis of y. */
    double h = 0.5 * (b - a), m = 0.5 * (a + b);
    double *acc = (*p)->c, *t = calloc((size_t)degree + 2, sizeof *t);
    if (!t) {
        pact_poly_free(*p);
        *p = NULL;
        return pact_fail(err, PACT_ENOMEM, "poly from monomial: out of memory");
    }
    acc[0] = mono[degree];
    for (int j = degree - 1, deg = 0; j >= 0; j--, deg++) {
        cheb_mul_y(acc, deg, t);
        for (int k = 0; k <= deg + 1; k++)
            acc[k] = h * t[k] + (k <= deg ? m * acc[k] : 0.0);
        acc[0] += mono[j];
    }
    free(t);
    return finite_or_fail(p, "poly from monomial", err);
}

pact_status pact_poly_derivative(const pact_poly *p, pact_poly **dp, pact_error *err)
{
    if (!p)
        return pact_fail(err, PACT_EINVAL, "poly derivative: NULL polynomial");
    int d = p->degree, dd = d > 0 ? d - 1 : 0;
    pact_status st = poly_alloc(p->a, p->b, dd, dp, err);
    if (st != PACT_OK || d == 0)
        return st;
    /* d_{k-1} = d_{k+1} + 2 k c_k, then d_0 /= 2 (c_0 not halved), times dy/dx. */
    double *o = (*dp)->c, next2 = 0.0, next1 = 0.0;
    for (int k = d; k >= 1; k--) {
        double v = next2 + 2.0 * k * p->c[k];
        o[k - 1] = v;
        next2 = next1;
        next1 = v;
    }
    o[0] *= 0.5;
    double scale = 2.0 / (p->b - p->a);
    for (int k = 0; k <= dd; k++)
        o[k] *= scale;
    return finite_or_fail(dp, "poly derivative", err);
}

/* r[0..dp+dq] += p * q in the Chebyshev basis: T_j T_k = (T_{j+k} + T_|j-k|) / 2. */
static void cheb_mul_add(const double *p, int dp, const double *q, int dq, double *r)
{
    for (int j = 0; j <= dp; j++) {
        if (p[j] == 0.0)
            continue;
        for (int k = 0; k <= dq; k++) {
            double v = 0.5 * p[j] * q[k];
            r[j + k] += v;
            r[j > k ? j - k : k - j] += v;
        }
    }
}

pact_status pact_poly_mul(const pact_poly *p, const pact_poly *q, pact_poly **pq,
                          pact_error *err)
{
    if (!p || !q)
        return pact_fail(err, PACT_EINVAL, "poly mul: NULL polynomial");
    if (p->a != q->a || p->b != q->b)
        return pact_fail(err, PACT_EMISMATCH, "poly mul: intervals [%g, %g] and [%g, %g] differ",
                         p->a, p->b, q->a, q->b);
    if ((long)p->degree + q->degree > PACT_POLY_MAX_DEGREE)
        return pact_fail(err, PACT_EINVAL, "poly mul: degree %d + %d above %d", p->degree,
                         q->degree, PACT_POLY_MAX_DEGREE);
    pact_status st = poly_alloc(p->a, p->b, p->degree + q->degree, pq, err);
    if (st != PACT_OK)
        return st;
    cheb_mul_add(p->c, p->degree, q->c, q->degree, (*pq)->c);
    return finite_or_fail(pq, "poly mul", err);
}

pact_status pact_poly_compose(const pact_poly *outer, const pact_poly *inner,
                              pact_poly **composed, pact_error *err)
{
    if (!outer || !inner)
        return pact_fail(err, PACT_EINVAL, "poly compose: NULL polynomial");
    long dl = (long)outer->degree * inner->degree;
    if (dl > PACT_POLY_MAX_DEGREE)
        return pact_fail(err, PACT_EINVAL, "poly compose: degree %d * %d above %d",
                         outer->degree, inner->degree, PACT_POLY_MAX_DEGREE);
    int D = (int)dl, di = inner->degree;
    pact_status st = poly_alloc(inner->a, inner->b, D, composed, err);
    if (st != PACT_OK)
        return st;
    /* Y(x) = outer's variable as a polynomial on inner's interval. */
    size_t n = (size_t)D + (size_t)di + 2;
    double *Y = calloc((size_t)di + 1, sizeof *Y), *b1 = calloc(n, sizeof *b1),
           *b2 = calloc(n, sizeof *b2), *t = calloc(n, sizeof *t);
    if (!Y || !b1 || !b2 || !t) {
        free(Y), free(b1), free(b2), free(t);
        pact_poly_free(*composed);
        *composed = NULL;
        return pact_fail(err, PACT_ENOMEM, "poly compose: out of memory (degree %d)", D);
    }
    double s = 2.0 / (outer->b - outer->a), sh = -(outer->a + outer->b) / (outer->b - outer->a);
    for (int k = 0; k <= di; k++)
        Y[k] = s * inner->c[k];
    Y[0] += sh;
    /* Clenshaw with polynomial values: b_k = c_k + 2 Y b_{k+1} - b_{k+2}. */
    int deg1 = -1, deg2 = -1; /* -1: zero polynomial */
    for (int k = outer->degree; k >= 1; k--) {
        memset(t, 0, n * sizeof *t);
        int dt = 0;
        if (deg1 >= 0) {
            cheb_mul_add(Y, di, b1, deg1, t);
            for (int j = 0; j <= deg1 + di; j++)
                t[j] *= 2.0;
            dt = deg1 + di;
        }
        for (int j = 0; j <= deg2; j++)
            t[j] -= b2[j];
        if (deg2 > dt)
            dt = deg2;
        t[0] += outer->c[k];
        double *tmp = b2;
        b2 = b1;
        deg2 = deg1;
        b1 = t;
        deg1 = dt;
        t = tmp;
    }
    double *r = (*composed)->c;
    r[0] = outer->c[0];
    if (deg1 >= 0) {
        memset(t, 0, n * sizeof *t);
        cheb_mul_add(Y, di, b1, deg1, t);
        for (int j = 0; j <= deg1 + di && j <= D; j++)
            r[j] += t[j];
    }
    for (int j = 0; j <= deg2 && j <= D; j++)
        r[j] -= b2[j];
    free(Y), free(b1), free(b2), free(t);
    return finite_or_fail(composed, "poly compose", err);
}
