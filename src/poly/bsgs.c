/* Baby-step giant-step evaluation plan of a Chebyshev series: depth and
 * multiplication counts (they feed the HE cost model). */
#include "../internal.h"

int pact_poly_depth(int d)
{
    int n = 0;
    while (d > 0) {
        n++;
        d >>= 1;
    }
    return n;
}

static int nonscalar_mults(int degree, int l, int m)
{
    if (m == 0)
        return degree - 1; /* T_2..T_d */
    int k = 1 << l;
    int blocks = (degree + k) / k; /* ceil((d + 1) / k) */
    return (k - 1)                 /* baby steps T_2..T_k */
           + (m - 1)               /* giant steps T_2k..T_{2^(m-1) k} */
           + (blocks - 1);         /* one product per split of the recursion */
}

pact_status pact_bsgs_plan(int degree, pact_bsgs *plan, pact_error *err)
{
    if (degree < 1 || degree > 1023)
        return pact_fail(err, PACT_EINVAL, "bsgs: degree %d outside 1..1023", degree);
    int n = pact_poly_depth(degree);
    pact_bsgs best = {degree, 0, 0, n, nonscalar_mults(degree, n, 0), degree};
    /* A split with giant = m needs baby = 2^(n-m) >= 2 and covers degrees
     * below 2^n, so every m in 1..n-1 keeps the optimal depth n. */
    for (int m = 1; m < n; m++) {
        int cost = nonscalar_mults(degree, n - m, m);
        if (cost < best.nonscalar_mults) {
            best.baby = 1 << (n - m);
            best.giant = m;
            best.nonscalar_mults = cost;
        }
    }
    *plan = best;
    return PACT_OK;
}
