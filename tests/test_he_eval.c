/* BSGS evaluation with simulated CKKS rounding: exact mode against the
 * trigonometric definition T_j(y) = cos(j acos y); the multiplication count
 * against pact_bsgs_plan; fixed point against an a-priori error bound. */
#include "testutil.h"

#include "pann/he_eval.h"

#include <math.h>
#include <stdlib.h>

static double trig_series(const double *c, int d, double y)
{
    double t = acos(y), s = 0.0;
    for (int j = 0; j <= d; j++)
        s += c[j] * cos(j * t);
    return s;
}

int main(void)
{
    int n = 0;
    pact_error err;
    enum { NPTS = 257 };
    double y[NPTS], out[NPTS];
    for (int i = 0; i < NPTS; i++)
        y[i] = cos(3.14159265358979 * (i + 0.37) / NPTS); /* spread over (-1, 1) */
    srand(7);
    int degrees[] = {1, 2, 3, 4, 5, 7, 8, 13, 15, 16, 27, 31, 63, 64, 100, 127, 255, 511};
    for (size_t t = 0; t < sizeof degrees / sizeof degrees[0]; t++) {
        int d = degrees[t];
        double *c = malloc((size_t)(d + 1) * sizeof *c), l1 = 0.0;
        for (int j = 0; j <= d; j++) {
            c[j] = ((double)rand() / RAND_MAX - 0.5) / (1.0 + j);
            l1 += fabs(c[j]);
        }
        pact_he_poly *hp = NULL;
        CHECK_OK(pact_he_poly_create(c, d, &hp, &err), &err);
        if (!hp) { free(c); continue; }
        pact_fx fx = {0};
        CHECK_OK(pact_he_poly_eval(hp, &fx, y, out, NPTS, &err), &err);
        double worst = 0.0;
        for (int i = 0; i < NPTS; i++) {
            double e = fabs(out[i] - trig_series(c, d, y[i]));
            if (e > worst) worst = e;
        }
        CHECK(worst <= 1e-12 * (1.0 + l1) * d, "d=%d exact mode: max |bsgs - trig| %.3e", d, worst);
        uint64_t blocks = (NPTS + 63) / 64;
        CHECK(fx.mults == blocks * (uint64_t)pact_he_poly_plan(hp)->nonscalar_mults,
              "d=%d mults %llu, plan %d x %llu blocks", d, (unsigned long long)fx.mults,
              pact_he_poly_plan(hp)->nonscalar_mults, (unsigned long long)blocks);

        /* Fixed point, F = 30: each rounding errs by <= 2^-31; products of
         * values bounded by 1 keep T_j errors growing at most like j^2 2^-31
         * (Chebyshev three-term recurrence) -> bound l1 * d^2 * 2^-29. */
        pact_fx fxf = {.frac_bits = 30};
        CHECK_OK(pact_he_poly_eval(hp, &fxf, y, out, NPTS, &err), &err);
        double worstf = 0.0;
        for (int i = 0; i < NPTS; i++) {
            double e = fabs(out[i] - trig_series(c, d, y[i]));
            if (e > worstf) worstf = e;
        }
        double bound = (l1 + 1.0) * (double)d * d * ldexp(1.0, -29);
        CHECK(worstf <= bound && worstf > 0.0, "d=%d F=30: error %.3e, bound %.3e", d, worstf, bound);

        /* Seeded noise: identical streams give identical results. */
        pact_fx a = {.frac_bits = 24, .noise_sigma = 1e-6}, b = a;
        pact_fx_seed(&a, 42, 3);
        pact_fx_seed(&b, 42, 3);
        double out2[NPTS];
        pact_he_poly_eval(hp, &a, y, out, NPTS, &err);
        pact_he_poly_eval(hp, &b, y, out2, NPTS, &err);
        int same = 1;
        for (int i = 0; i < NPTS; i++)
            same &= out[i] == out2[i];
        CHECK(same, "d=%d: same seed, same noisy result", d);
        n += 4;
        pact_he_poly_free(hp);
        free(c);
    }
    /* grid rounding is round-half-even to 2^-F, as nearbyint would do it,
     * including exact ties and values beyond the fast path's range */
    {
        pact_fx g = {.frac_bits = 20};
        unsigned long long st = 99;
        int same = 1;
        for (int i = 0; i < 200000; i++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            double v = ((double)(st >> 11) * 0x1p-53 - 0.5) * ldexp(1.0, (int)(st % 60) - 20);
            if (i % 4 == 0) /* an exact tie */
                v = ldexp((double)(long long)(st >> 40) + 0.5, -20) * ((i & 8) ? -1 : 1);
            double want = ldexp(nearbyint(ldexp(v, 20)), -20);
            same &= pact_fx_round(&g, v) == want;
        }
        CHECK(same, "grid rounding differs from nearbyint");
        n++;
    }
    pact_he_poly *bad = NULL;
    double c1[2] = {0.0, NAN};
    CHECK(pact_he_poly_create(c1, 1, &bad, &err) == PACT_EINVAL && bad == NULL, "NaN coefficient rejected");
    CHECK(pact_he_poly_create(c1, 0, &bad, &err) == PACT_EINVAL, "degree 0 rejected");
    pact_he_poly_free(NULL);
    n += 2;
    return pact_test_done("test_he_eval", n);
}
