/* Chebyshev-basis polynomials against closed forms: T_k(cos t) = cos(k t),
 * T_n' = n U_{n-1}, known monomial expansions, pointwise products and
 * compositions, and the error paths. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

/* sum c_k cos(k acos y) in long double: a reference independent of Clenshaw */
static long double direct(const double *c, int d, double a, double b, double x)
{
    long double y = (2.0L * x - a - b) / ((long double)b - a), t = acosl(y), s = 0.0L;
    for (int k = 0; k <= d; k++)
        s += c[k] * cosl(k * t);
    return s;
}

static unsigned long long rng = 88172645463325252ULL;
static double urand(void) /* xorshift64 in [0, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (rng >> 11) * (1.0 / 9007199254740992.0);
}

static double relu_fn(void *ctx, double x)
{
    (void)ctx;
    return x > 0.0 ? x : 0.0;
}

int main(void)
{
    int n = 0;
    pact_error err;
    pact_poly *p = NULL, *q = NULL, *r = NULL;

    /* Clenshaw on an asymmetric interval vs cos(k acos y) */
    double c[41];
    for (int k = 0; k <= 40; k++)
        c[k] = (urand() - 0.5) / (1.0 + k);
    CHECK_OK(pact_poly_create(-3.0, 7.0, 40, c, &p, &err), &err);
    double worst = 0.0;
    for (int i = 0; i <= 200; i++) {
        double x = -3.0 + 10.0 * i / 200.0;
        worst = fmax(worst, fabs((double)(pact_poly_eval(p, x) - direct(c, 40, -3.0, 7.0, x))));
    }
    CHECK(worst < 1e-14, "Clenshaw vs cos(k acos y) on [-3, 7], degree 40: %.3g", worst); n++;
    double a, b;
    pact_poly_interval(p, &a, &b);
    CHECK(a == -3.0 && b == 7.0 && pact_poly_degree(p) == 40 && pact_poly_cheb(p)[5] == c[5],
          "accessors: [%g, %g] degree %d", a, b, pact_poly_degree(p)); n++;
    pact_poly_free(p);

    /* T_1 on [2, 6] is (x - 4) / 2 */
    CHECK_OK(pact_poly_create(2.0, 6.0, 1, (double[]){0.0, 1.0}, &p, &err), &err);
    CHECK(pact_poly_eval(p, 5.0) == 0.5, "T_1 on [2,6] at 5: %g, expected 0.5", pact_poly_eval(p, 5.0)); n++;
    pact_poly_free(p);

    /* monomial: T_3 on [-1, 1] = 4x^3 - 3x; T_2 on [1, 3] = 2x^2 - 8x + 7 */
    double mono[8];
    CHECK_OK(pact_poly_create(-1.0, 1.0, 3, (double[]){0, 0, 0, 1}, &p, &err), &err);
    CHECK_OK(pact_poly_to_monomial(p, mono, &err), &err);
    CHECK(mono[0] == 0 && mono[1] == -3 && mono[2] == 0 && mono[3] == 4,
          "T_3 monomial [%g %g %g %g], expected [0 -3 0 4]", mono[0], mono[1], mono[2], mono[3]); n++;
    pact_poly_free(p);
    CHECK_OK(pact_poly_create(1.0, 3.0, 2, (double[]){0, 0, 1}, &p, &err), &err);
    CHECK_OK(pact_poly_to_monomial(p, mono, &err), &err);
    CHECK(fabs(mono[0] - 7) < 1e-14 && fabs(mono[1] + 8) < 1e-14 && fabs(mono[2] - 2) < 1e-14,
          "T_2 on [1,3] monomial [%g %g %g], expected [7 -8 2]", mono[0], mono[1], mono[2]); n++;
    pact_poly_free(p);

    /* from_monomial: values of sum m_j x^j (Horner, long double) on [-2, 3] */
    double m[9];
    for (int j = 0; j <= 8; j++)
        m[j] = urand() - 0.5;
    CHECK_OK(pact_poly_from_monomial(-2.0, 3.0, 8, m, &p, &err), &err);
    worst = 0.0;
    for (int i = 0; i <= 50; i++) {
        double x = -2.0 + 5.0 * i / 50.0;
        long double h = 0.0L;
        for (int j = 8; j >= 0; j--)
            h = h * x + m[j];
        worst = fmax(worst, fabs((double)(pact_poly_eval(p, x) - h)) / (1.0 + fabs((double)h)));
    }
    CHECK(worst < 1e-13, "from_monomial values, degree 8 on [-2, 3]: %.3g", worst); n++;
    double back[9];
    CHECK_OK(pact_poly_to_monomial(p, back, &err), &err);
    worst = 0.0;
    for (int j = 0; j <= 8; j++)
        worst = fmax(worst, fabs(back[j] - m[j]));
    CHECK(worst < 1e-12, "monomial round trip: %.3g", worst); n++;
    pact_poly_free(p);

    /* derivative: T_n' = n U_{n-1}, U_{n-1}(cos t) = sin(n t) / sin t; scaled on [0, 4] */
    double tn[13] = {0};
    tn[12] = 1.0;
    CHECK_OK(pact_poly_create(-1.0, 1.0, 12, tn, &p, &err), &err);
    CHECK_OK(pact_poly_derivative(p, &q, &err), &err);
    worst = 0.0;
    for (int i = 1; i < 40; i++) {
        double t = 3.14159265358979323846 * i / 40.0, x = cos(t);
        worst = fmax(worst, fabs(pact_poly_eval(q, x) - 12.0 * sin(12.0 * t) / sin(t)) / 12.0);
    }
    CHECK(pact_poly_degree(q) == 11 && worst < 1e-13, "T_12' = 12 U_11: degree %d, err %.3g",
          pact_poly_degree(q), worst); n++;
    pact_poly_free(p), pact_poly_free(q);
    CHECK_OK(pact_poly_create(0.0, 4.0, 2, (double[]){0, 0, 1}, &p, &err), &err);
    CHECK_OK(pact_poly_derivative(p, &q, &err), &err);
    CHECK(fabs(pact_poly_eval(q, 3.0) - 1.0) < 1e-15, "d/dx T_2((x-2)/2) at 3: %g, expected 1",
          pact_poly_eval(q, 3.0)); n++;
    pact_poly_free(p), pact_poly_free(q);

    /* product and composition, pointwise */
    double pc[6], qc[4];
    for (int k = 0; k < 6; k++)
        pc[k] = urand() - 0.5;
    for (int k = 0; k < 4; k++)
        qc[k] = urand() - 0.5;
    CHECK_OK(pact_poly_create(-1.5, 2.5, 5, pc, &p, &err), &err);
    CHECK_OK(pact_poly_create(-1.5, 2.5, 3, qc, &q, &err), &err);
    CHECK_OK(pact_poly_mul(p, q, &r, &err), &err);
    worst = 0.0;
    for (int i = 0; i <= 40; i++) {
        double x = -1.5 + 4.0 * i / 40.0;
        worst = fmax(worst, fabs(pact_poly_eval(r, x) -
                                 (double)(direct(pc, 5, -1.5, 2.5, x) * direct(qc, 3, -1.5, 2.5, x))));
    }
    CHECK(pact_poly_degree(r) == 8 && worst < 1e-14, "product: degree %d, err %.3g",
          pact_poly_degree(r), worst); n++;
    pact_poly_free(r);
    pact_poly *outer = NULL;
    CHECK_OK(pact_poly_create(-2.0, 2.0, 3, qc, &outer, &err), &err);
    CHECK_OK(pact_poly_compose(outer, p, &r, &err), &err);
    worst = 0.0;
    for (int i = 0; i <= 40; i++) {
        double x = -1.5 + 4.0 * i / 40.0, in = (double)direct(pc, 5, -1.5, 2.5, x);
        /* outer's variable may leave [-1, 1]: evaluate T_k by recurrence there */
        double y = in / 2.0, t0 = 1.0, t1 = y, s = 0.0;
        for (int k = 0; k <= 3; k++) {
            s += qc[k] * t0;
            double t2 = 2.0 * y * t1 - t0;
            t0 = t1, t1 = t2;
        }
        worst = fmax(worst, fabs(pact_poly_eval(r, x) - s));
    }
    CHECK(pact_poly_degree(r) == 15 && worst < 1e-13, "composition: degree %d, err %.3g",
          pact_poly_degree(r), worst); n++;
    pact_poly_free(r), pact_poly_free(outer), pact_poly_free(q), pact_poly_free(p);

    /* trim is explicit */
    CHECK_OK(pact_poly_create(-1.0, 1.0, 4, (double[]){1, 2, 1e-18, 0, 0}, &p, &err), &err);
    CHECK(pact_poly_degree(p) == 4, "create keeps trailing zeros: degree %d", pact_poly_degree(p)); n++;
    CHECK(pact_poly_trim(p, 0.0) == 2 && pact_poly_trim(p, 1e-15) == 1, "trim"); n++;
    pact_poly_free(p);

    /* max error against closed forms: x^2 + 1/8 vs |x| is 1/8 (at 0, +-1/2, +-1) */
    CHECK_OK(pact_poly_create(-1.0, 1.0, 2, (double[]){0.5 + 0.125, 0.0, 0.5}, &p, &err), &err);
    double e, at;
    CHECK_OK(pact_poly_max_error(p, PACT_ABS, NULL, &e, &at, &err), &err);
    CHECK(fabs(e - 0.125) < 1e-15, "max |x^2 + 1/8 - |x||: %.17g, expected 0.125", e); n++;
    pact_poly_free(p);
    CHECK_OK(pact_poly_create(-1.0, 3.0, 0, (double[]){0.0}, &p, &err), &err);
    CHECK_OK(pact_poly_max_error_fn(p, relu_fn, NULL, NULL, &e, &at, &err), &err);
    CHECK(e == 3.0 && at == 3.0, "max |relu - 0| on [-1,3]: %g at %g, expected 3 at 3", e, at); n++;
    pact_poly_free(p);

    /* errors */
    CHECK(pact_poly_create(1.0, 1.0, 2, c, &p, &err) == PACT_EINVAL && p == NULL,
          "a == b: %s", err.message); n++;
    CHECK(pact_poly_create(-1.0, 1.0, -1, c, &p, &err) == PACT_EINVAL, "degree -1"); n++;
    CHECK(pact_poly_create(-1.0, 1.0, 1, (double[]){0.0, NAN}, &p, &err) == PACT_EINVAL,
          "NaN coefficient: %s", err.message); n++;
    CHECK_OK(pact_poly_create(-1.0, 1.0, 1, c, &p, &err), &err);
    CHECK_OK(pact_poly_create(-1.0, 2.0, 1, c, &q, &err), &err);
    CHECK(pact_poly_mul(p, q, &r, &err) == PACT_EMISMATCH, "mul of different intervals"); n++;
    pact_poly_free(p), pact_poly_free(q);
    pact_poly_free(NULL);
    return pact_test_done("test_cheb", n);
}
