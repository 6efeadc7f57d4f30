/* One-dimensional maximisation: Brent's method (golden section safeguarding
 * parabolic interpolation), used to refine every extremum a grid brackets. */
#include "poly_internal.h"

#include <float.h>
#include <math.h>

double brent_max(pact_fn h, void *ctx, double lo, double hi, double xtol, double *hmax)
{
    const double golden = 0.3819660112501051; /* (3 - sqrt 5) / 2 */
    double a = lo, b = hi;
    double x = a + golden * (b - a), w = x, v = x;
    double fx = -h(ctx, x), fw = fx, fv = fx; /* minimise -h */
    double d = 0.0, e = 0.0;
    for (int iter = 0; iter < 100; iter++) {
        double m = 0.5 * (a + b);
        double tol = xtol + 4.0 * DBL_EPSILON * fabs(x);
        if (fabs(x - m) <= 2.0 * tol - 0.5 * (b - a))
            break;
        int golden_step = 1;
        if (fabs(e) > tol) {
            /* parabola through (v, fv), (w, fw), (x, fx) */
            double r = (x - w) * (fx - fv), q = (x - v) * (fx - fw);
            double p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if (q > 0.0)
                p = -p;
            else
                q = -q;
            if (fabs(p) < fabs(0.5 * q * e) && p > q * (a - x) && p < q * (b - x)) {
                e = d;
                d = p / q;
                double u = x + d;
                if (u - a < 2.0 * tol || b - u < 2.0 * tol)
                    d = x < m ? tol : -tol;
                golden_step = 0;
            }
        }
        if (golden_step) {
            e = (x < m ? b : a) - x;
            d = golden * e;
        }
        double u = x + (fabs(d) >= tol ? d : (d > 0.0 ? tol : -tol));
        double fu = -h(ctx, u);
        if (fu <= fx) {
            if (u < x)
                b = x;
            else
                a = x;
            v = w, fv = fw;
            w = x, fw = fx;
            x = u, fx = fu;
        } else {
            if (u < x)
                a = u;
            else
                b = u;
            if (fu <= fw || w == x) {
                v = w, fv = fw;
                w = u, fw = fu;
            } else if (fu <= fv || v == x || v == w) {
                v = u, fv = fu;
            }
        }
    }
    *hmax = -fx;
    return x;
}
