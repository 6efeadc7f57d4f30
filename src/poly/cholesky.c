/* Dense Cholesky solve for the small normal equations of least-squares fits. */
#include "../internal.h"

#include <math.h>
#include <stddef.h>

/* Solves G x = rhs (G symmetric positive definite, overwritten by its
 * Cholesky factor; rhs becomes x). Returns -1 if G is not positive definite. */
int pact_cholesky_solve(double *G, double *rhs, int m)
{
    for (int j = 0; j < m; j++) {
        double *gj = G + (size_t)j * m, d = gj[j];
        for (int k = 0; k < j; k++)
            d -= gj[k] * gj[k];
        if (!(d > 0.0))
            return -1;
        gj[j] = sqrt(d);
        for (int i = j + 1; i < m; i++) {
            double *gi = G + (size_t)i * m, v = gi[j];
            for (int k = 0; k < j; k++)
                v -= gi[k] * gj[k];
            gi[j] = v / gj[j];
        }
    }
    for (int i = 0; i < m; i++) { /* L y = rhs */
        double v = rhs[i];
        for (int k = 0; k < i; k++)
            v -= G[(size_t)i * m + k] * rhs[k];
        rhs[i] = v / G[(size_t)i * m + i];
    }
    for (int i = m - 1; i >= 0; i--) { /* L^T x = y */
        double v = rhs[i];
        for (int k = i + 1; k < m; k++)
            v -= G[(size_t)k * m + i] * rhs[k];
        rhs[i] = v / G[(size_t)i * m + i];
    }
    return 0;
}
