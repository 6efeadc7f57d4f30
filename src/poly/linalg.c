/* Small dense solves for the fitting code (no LAPACK: sizes stay below ~260). */
#include "poly_internal.h"

#include <math.h>

int lu_solve(double *A, double *rhs, int n)
{
    for (int k = 0; k < n; k++) {
        int piv = k;
        double best = fabs(A[(size_t)k * n + k]);
        for (int i = k + 1; i < n; i++) {
            double v = fabs(A[(size_t)i * n + k]);
            if (v > best) {
                best = v;
                piv = i;
            }
        }
        if (!(best > 0.0) || !isfinite(best))
            return -1;
        if (piv != k) {
            for (int j = 0; j < n; j++) {
                double t = A[(size_t)k * n + j];
                A[(size_t)k * n + j] = A[(size_t)piv * n + j];
                A[(size_t)piv * n + j] = t;
            }
            double t = rhs[k];
            rhs[k] = rhs[piv];
            rhs[piv] = t;
        }
        double inv = 1.0 / A[(size_t)k * n + k];
        for (int i = k + 1; i < n; i++) {
            double f = A[(size_t)i * n + k] * inv;
            if (f == 0.0)
                continue;
            double *ri = A + (size_t)i * n, *rk = A + (size_t)k * n;
            for (int j = k + 1; j < n; j++)
                ri[j] -= f * rk[j];
            rhs[i] -= f * rhs[k];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = rhs[i];
        for (int j = i + 1; j < n; j++)
            s -= A[(size_t)i * n + j] * rhs[j];
        rhs[i] = s / A[(size_t)i * n + i];
    }
    return 0;
}
