/* Binned per-channel least squares (src/pann/chanfit.c): the fit of binned
 * inputs with the activation as target equals the library's weighted least
 * squares (pact_fit_lsq, itself checked against Sollya) on the same
 * histogram; per-channel grouping fits each channel on its own data; fitted
 * targets of a known cubic are recovered; a group without data falls back to
 * the floor (the Chebyshev projection, within its known error); evaluation of
 * group polynomials equals pact_poly_eval. */
#include "testutil.h"
#include "pann/chanfit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int n;
static unsigned seed = 12345;

static double uniform(void)
{
    seed = seed * 1103515245u + 12345u;
    return (double)((seed >> 8) & 0xffffff) / 16777216.0;
}

/* Largest relative difference of two coefficient vectors. */
static double coeff_diff(const double *a, const double *b, int m)
{
    double worst = 0.0, scale = 0.0;
    for (int j = 0; j < m; j++)
        scale = fmax(scale, fabs(b[j]));
    for (int j = 0; j < m; j++)
        worst = fmax(worst, fabs(a[j] - b[j]) / fmax(scale, 1e-300));
    return worst;
}

/* pact_fit_lsq on group g's histogram, as the calibrated fits do it. */
static pact_poly *reference_fit(const pact_bins *bn, int g, int degree, double floor)
{
    size_t nb = (size_t)bn->bins, m = 0;
    double *edges = malloc((nb + 1) * sizeof *edges), *x = malloc(3 * nb * sizeof *x),
           *w = malloc(3 * nb * sizeof *w);
    double width = (bn->b[g] - bn->a[g]) / (double)nb;
    for (size_t k = 0; k <= nb; k++)
        edges[k] = bn->a[g] + (double)k * width;
    pact_error err;
    pact_poly *p = NULL;
    CHECK_OK(pact_hist_samples(edges, bn->count + (size_t)g * nb, nb, x, w, &m, &err), &err);
    pact_fit_opts o;
    pact_fit_opts_default(&o);
    o.floor = floor;
    CHECK_OK(pact_fit_lsq(PACT_RELU, bn->a[g], bn->b[g], degree, x, w, m, &o, &p, NULL, &err), &err);
    n += 2;
    free(edges);
    free(x);
    free(w);
    return p;
}

int main(void)
{
    pact_error err;
    /* two channels of a layer: different distributions, NCHW with 500 values each */
    enum { IMG = 4, CH = 2, SP = 500 };
    static float x[IMG * CH * SP], t[IMG * CH * SP];
    for (int im = 0; im < IMG; im++)
        for (int s = 0; s < SP; s++) {
            double g = 0.0;
            for (int k = 0; k < 4; k++)
                g += uniform() - 0.5;
            x[(im * CH + 0) * SP + s] = (float)(2.0 * g - 0.3);   /* around -0.3 */
            x[(im * CH + 1) * SP + s] = (float)(3.0 * uniform()); /* positive: relu is x */
        }
    const double a[CH] = {-2.5, -0.2}, b[CH] = {2.0, 3.2};
    pact_bins bn;
    CHECK_OK(pact_bins_init(&bn, CH, 512, a, b, &err), &err);
    n++;
    pact_bins_add(&bn, x, NULL, IMG, CH, SP);
    double counted = 0.0;
    for (int i = 0; i < CH * 512; i++)
        counted += bn.count[i];
    CHECK(counted + bn.outside == IMG * CH * SP, "binned %g + outside %g != %d values", counted,
          bn.outside, IMG * CH * SP);
    n++;

    const int degrees[] = {3, 7, 15};
    const double floors[] = {0.002, 0.03, 0.5};
    for (int g = 0; g < CH; g++) {
        pact_moments mo;
        CHECK_OK(pact_bins_moments(&bn, g, PACT_RELU, 0, 15, &mo, &err), &err);
        n++;
        for (int di = 0; di < 3; di++)
            for (int fi = 0; fi < 3; fi++) {
                int d = degrees[di];
                double c[16];
                CHECK_OK(pact_moments_solve(&mo, d, floors[fi], c, &err), &err);
                pact_poly *ref = reference_fit(&bn, g, d, floors[fi]);
                double diff = ref ? coeff_diff(c, pact_poly_cheb(ref), d + 1) : 1.0;
                CHECK(diff < 1e-8, "channel %d degree %d floor %g: coefficients differ from pact_fit_lsq by %.3g",
                      g, d, floors[fi], diff);
                n += 2;
                pact_poly_free(ref);
            }
        pact_moments_free(&mo);
    }
    /* the positive channel is fitted almost exactly by a line */
    {
        pact_moments mo;
        double c[4];
        CHECK_OK(pact_bins_moments(&bn, 1, PACT_RELU, 0, 3, &mo, &err), &err);
        CHECK_OK(pact_moments_solve(&mo, 3, 0.0, c, &err), &err);
        double mid = 0.5 * (a[1] + b[1]), half = 0.5 * (b[1] - a[1]);
        /* relu(x) = x = mid + half y on the data; the floor (1e-4) bends it a little */
        CHECK(fabs(c[0] - mid) < 2e-3 && fabs(c[1] - half) < 2e-3 && fabs(c[2]) < 2e-3 &&
                  fabs(c[3]) < 2e-3,
              "positive channel: %g + %g y + %g T2 + %g T3, expected %g + %g y", c[0], c[1], c[2],
              c[3], mid, half);
        pact_moments_free(&mo);
        n += 3;
    }
    pact_bins_free(&bn);

    /* targets: a known cubic q is recovered from (x, q(x)) pairs */
    {
        const double qa = -3.0, qb = 3.0;
        pact_bins tb;
        CHECK_OK(pact_bins_init(&tb, 1, 2048, &qa, &qb, &err), &err);
        for (int i = 0; i < IMG * CH * SP; i++) {
            double v = -3.0 + 6.0 * uniform();
            x[i] = (float)v;
            t[i] = (float)(0.3 * v * v * v - v + 0.5);
        }
        pact_bins_add(&tb, x, t, 1, 1, IMG * CH * SP);
        pact_moments mo;
        double c[4];
        CHECK_OK(pact_bins_moments(&tb, 0, PACT_RELU, 1, 3, &mo, &err), &err);
        CHECK_OK(pact_moments_solve(&mo, 3, 1e-4, c, &err), &err);
        pact_poly *p = NULL;
        CHECK_OK(pact_poly_create(qa, qb, 3, c, &p, &err), &err);
        double worst = 0.0;
        for (double v = -3.0; p && v <= 3.0; v += 0.01) {
            double q = 0.3 * v * v * v - v + 0.5;
            worst = fmax(worst, fabs(pact_poly_eval(p, v) - q));
        }
        /* bins of width 6/2048 hold each target's mean at their Gauss points:
         * error of order the cubic's slope x width, plus the 1e-4 floor */
        CHECK(worst < 0.03, "targets of 0.3 x^3 - x + 0.5: fitted within %g", worst);
        n += 5;
        pact_poly_free(p);
        pact_moments_free(&mo);
        pact_bins_free(&tb);
    }

    /* no data: the floor alone, the Chebyshev projection of relu on [-1, 1]
     * (degree 15: error near the kink about 1 / (pi 15) ~ 0.02; 0.05 bound) */
    {
        const double za = -1.0, zb = 1.0;
        pact_bins eb;
        CHECK_OK(pact_bins_init(&eb, 1, 64, &za, &zb, &err), &err);
        float nan_in[3] = {NAN, 5.0f, -7.0f};
        pact_bins_add(&eb, nan_in, NULL, 1, 1, 3);
        CHECK(eb.outside == 3.0, "NaN and out-of-interval inputs counted outside: %g", eb.outside);
        pact_moments mo;
        double c[16];
        CHECK_OK(pact_bins_moments(&eb, 0, PACT_RELU, 0, 15, &mo, &err), &err);
        CHECK_OK(pact_moments_solve(&mo, 15, 0.002, c, &err), &err);
        pact_poly *p = NULL;
        CHECK_OK(pact_poly_create(za, zb, 15, c, &p, &err), &err);
        double e = 1.0;
        if (p)
            CHECK_OK(pact_poly_max_error(p, PACT_RELU, NULL, &e, NULL, &err), &err);
        CHECK(e < 0.05, "no data: projection of relu, max error %g", e);
        n += 7;
        pact_poly_free(p);
        pact_moments_free(&mo);
        pact_bins_free(&eb);
    }

    /* group polynomials evaluate like pact_poly_eval, per channel */
    {
        pact_group_poly gp;
        CHECK_OK(pact_group_poly_init(&gp, 2, 3, &err), &err);
        double cf[2][4] = {{0.1, 1.0, -0.2, 0.05}, {2.0, -1.0, 0.5, 0.25}};
        gp.a[0] = -1.0, gp.b[0] = 3.0, gp.a[1] = 0.5, gp.b[1] = 1.5;
        memcpy(gp.cheb, cf, sizeof cf);
        float v[2 * 2 * 3];
        for (int i = 0; i < 12; i++)
            v[i] = (float)(-1.0 + 0.35 * i);
        float orig[12];
        memcpy(orig, v, sizeof v);
        pact_group_poly_apply(&gp, v, 2, 2, 3);
        double worst = 0.0;
        for (int i = 0; i < 12; i++) {
            int ch = (i / 3) % 2;
            pact_poly *p = NULL;
            pact_poly_create(gp.a[ch], gp.b[ch], 3, cf[ch], &p, NULL);
            worst = fmax(worst, fabs(v[i] - (float)pact_poly_eval(p, orig[i])));
            pact_poly_free(p);
        }
        CHECK(worst == 0.0, "group polynomial vs pact_poly_eval: %g", worst);
        float huge[1] = {1e30f};
        pact_group_poly one = gp;
        one.groups = 1;
        pact_group_poly_apply(&one, huge, 1, 1, 1);
        CHECK(isinf(huge[0]), "beyond the float range: %g", huge[0]);
        n += 3;
        pact_group_poly_free(&gp);
    }
    return pact_test_done("test_chanfit", n);
}
