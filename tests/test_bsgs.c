/* BSGS plan: depth is ceil(log2(d+1)) and the multiplication count is the
 * minimum over splits, checked against an independent count by simulation of
 * the recursion (products formed, counted one by one). */
#include "testutil.h"

#include <math.h>

/* Independent count: walks the recursive split for a given (baby, giant). */
static int count_split(int degree, int baby, int giant)
{
    if (giant == 0)
        return degree - 1;
    int products = 0;
    products += baby - 1;       /* T_2..T_baby from T_1 */
    products += giant - 1;      /* each further giant step is one squaring */
    /* recursion: a node covering degrees [0, hi] with giant step G splits iff hi >= G */
    int stack_hi[64], stack_g[64], sp = 0;
    stack_hi[sp] = degree;
    stack_g[sp++] = baby << (giant - 1);
    while (sp) {
        sp--;
        int hi = stack_hi[sp], g = stack_g[sp];
        if (g < baby || hi < baby)
            continue;
        if (hi >= g) {
            products++; /* q * T_g */
            stack_hi[sp] = hi - g;  stack_g[sp++] = g / 2; /* quotient */
            stack_hi[sp] = g - 1;   stack_g[sp++] = g / 2; /* remainder */
        } else {
            stack_hi[sp] = hi;      stack_g[sp++] = g / 2;
        }
    }
    return products;
}

int main(void)
{
    int n = 0;
    pact_error err;
    pact_bsgs p;
    for (int d = 1; d <= 1023; d++) {
        CHECK_OK(pact_bsgs_plan(d, &p, &err), &err);
        int depth = (int)ceil(log2(d + 1.0));
        CHECK(p.depth == depth, "d=%d depth %d, ceil(log2(d+1)) %d", d, p.depth, depth);
        int best = d - 1;
        for (int m = 1; m < depth; m++) {
            int c = count_split(d, 1 << (depth - m), m);
            if (c < best)
                best = c;
        }
        CHECK(p.nonscalar_mults == best, "d=%d mults %d, independent minimum %d", d,
              p.nonscalar_mults, best);
        CHECK(p.giant == 0 || p.baby * (1 << p.giant) > d, "d=%d split covers degree", d);
        n += 3;
    }
    /* Hand-counted cases: {15, 27} of the alpha=13 composite, degree 63. */
    pact_bsgs_plan(15, &p, &err);
    CHECK(p.depth == 4 && p.nonscalar_mults == 7, "d=15: depth %d mults %d (4, 7)", p.depth, p.nonscalar_mults);
    pact_bsgs_plan(27, &p, &err);
    CHECK(p.depth == 5 && p.nonscalar_mults == 11, "d=27: depth %d mults %d (5, 11)", p.depth, p.nonscalar_mults);
    pact_bsgs_plan(63, &p, &err);
    CHECK(p.depth == 6 && p.nonscalar_mults == 16, "d=63: depth %d mults %d (6, 16)", p.depth, p.nonscalar_mults);
    CHECK(pact_bsgs_plan(0, &p, &err) == PACT_EINVAL, "degree 0 rejected");
    CHECK(pact_bsgs_plan(1024, &p, &err) == PACT_EINVAL, "degree 1024 rejected");
    n += 5;
    return pact_test_done("test_bsgs", n);
}
