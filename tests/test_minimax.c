/* Minimax fits against independent references:
 *  - closed forms: best degree-1 approximation of a convex/concave function
 *    (secant slope, tangent point found here by bisection), best degree 1..3
 *    approximations of relu and |x| (r/4, r/16, 1/2, 1/8);
 *  - tests/data/minimax_ref.txt: Sollya's remez + dirtyinfnorm at 200 bits
 *    (tools/sollya-reference.sh), relu/gelu/silu/sigmoid/tanh/gelu_tanh/abs,
 *    degrees 2..63, symmetric and asymmetric intervals: 1e-6 relative;
 *  - a de la Vallee Poussin certificate computed here, independently of the
 *    fitting code, for high degrees (relu/abs up to 255, where Sollya is too
 *    slow): dense grid, p evaluated by the forward recurrence, every extremum
 *    refined by golden section; d + 2 alternating errors >= L prove
 *    E* >= L, and E* <= the polynomial's own sup error;
 *  - the status codes. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* p(x) by the forward three-term recurrence (not Clenshaw) */
static double eval_forward(const pact_poly *p, double x)
{
    double a, b;
    pact_poly_interval(p, &a, &b);
    const double *c = pact_poly_cheb(p);
    int d = pact_poly_degree(p);
    double y = (2.0 * x - a - b) / (b - a), t0 = 1.0, t1 = y, s = c[0];
    for (int k = 1; k <= d; k++) {
        s += c[k] * t1;
        double t2 = 2.0 * y * t1 - t0;
        t0 = t1;
        t1 = t2;
    }
    return s;
}

static double ref_f(pact_func f, double x)
{
    switch (f) {
    case PACT_RELU: return x > 0 ? x : 0;
    case PACT_ABS: return fabs(x);
    case PACT_GELU: return 0.5 * x * erfc(-x / sqrt(2.0));
    case PACT_SILU: return x / (1.0 + exp(-x));
    case PACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case PACT_TANH: return tanh(x);
    default: return pact_func_eval(f, x);
    }
}

static double ref_df(pact_func f, double x)
{
    double s = 1.0 / (1.0 + exp(-x));
    switch (f) {
    case PACT_GELU: return 0.5 * erfc(-x / sqrt(2.0)) + x * exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846);
    case PACT_SILU: return s * (1.0 + x * (1.0 - s));
    case PACT_SIGMOID: return s * (1.0 - s);
    case PACT_TANH: return 1.0 - tanh(x) * tanh(x);
    default: return NAN;
    }
}

/* Best linear approximation error of a strictly convex or concave f on [a, b]. */
static double linear_closed_form(pact_func f, double a, double b)
{
    double m = (ref_f(f, b) - ref_f(f, a)) / (b - a), lo = a, hi = b;
    int up = ref_df(f, a) < m; /* convex: f' increases through m */
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if ((ref_df(f, mid) < m) == up)
            lo = mid;
        else
            hi = mid;
    }
    double xi = 0.5 * (lo + hi);
    return 0.5 * fabs(ref_f(f, xi) - (ref_f(f, a) + m * (xi - a)));
}

typedef struct {
    double x, e;
} ext;

static const pact_poly *g_p;
static pact_func g_f;
static double err_signed(double x)
{
    return ref_f(g_f, x) - eval_forward(g_p, x);
}

/* golden-section maximum of s * e on [lo, hi] */
static double golden(double lo, double hi, double s, double *xout)
{
    const double g = 0.6180339887498949;
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    double f1 = s * err_signed(x1), f2 = s * err_signed(x2);
    for (int i = 0; i < 80 && hi - lo > 1e-15 * (1.0 + fabs(lo)); i++) {
        if (f1 > f2) {
            hi = x2, x2 = x1, f2 = f1;
            x1 = hi - g * (hi - lo);
            f1 = s * err_signed(x1);
        } else {
            lo = x1, x1 = x2, f1 = f2;
            x2 = lo + g * (hi - lo);
            f2 = s * err_signed(x2);
        }
    }
    *xout = f1 > f2 ? x1 : x2;
    return fmax(f1, f2);
}

/* Certificate: *lower <= E* (de la Vallee Poussin), *upper = sup |e| found. */
static void certify(pact_func f, const pact_poly *p, double *lower, double *upper)
{
    g_p = p, g_f = f;
    double a, b;
    pact_poly_interval(p, &a, &b);
    int d = pact_poly_degree(p), N = 512 * (d + 2) + 1;
    double *x = malloc((size_t)(N + 1) * sizeof *x), *e = malloc((size_t)(N + 1) * sizeof *e);
    ext *ex = malloc((size_t)(N + 1) * sizeof *ex);
    int m = 0;
    for (int i = 0; i < N; i++) {
        double xi = a + (b - a) * i / (N - 1);
        if (m > 0 && x[m - 1] < 0.0 && xi > 0.0 && a < 0.0)
            x[m++] = 0.0; /* the kink */
        x[m++] = xi;
    }
    double gmax = 0.0;
    for (int i = 0; i < m; i++) {
        e[i] = err_signed(x[i]);
        gmax = fmax(gmax, fabs(e[i]));
    }
    int ne = 0;
    double up = gmax;
    for (int i = 0; i < m; i++) {
        double v = fabs(e[i]);
        if (v < 0.5 * gmax || (i > 0 && v < fabs(e[i - 1])) || (i + 1 < m && v < fabs(e[i + 1])))
            continue;
        double s = e[i] > 0 ? 1.0 : -1.0, xr = x[i];
        double vr = golden(x[i > 0 ? i - 1 : i], x[i + 1 < m ? i + 1 : i], s, &xr);
        if (vr < v)
            vr = v, xr = x[i];
        up = fmax(up, vr);
        if (ne > 0 && (ex[ne - 1].e > 0) == (s > 0)) {
            if (vr > fabs(ex[ne - 1].e))
                ex[ne - 1] = (ext){xr, s * vr};
        } else {
            ex[ne++] = (ext){xr, s * vr};
        }
    }
    double low = 0.0;
    for (int i = 0; i + d + 2 <= ne; i++) {
        double mn = INFINITY;
        for (int j = i; j < i + d + 2; j++)
            mn = fmin(mn, fabs(ex[j].e));
        low = fmax(low, mn);
    }
    *lower = low;
    *upper = up;
    free(x), free(e), free(ex);
}

static int check_certificate(pact_func f, double a, double b, int d, pact_parity parity)
{
    pact_fit_opts o;
    pact_fit_opts_default(&o);
    o.parity = parity;
    pact_poly *p = NULL;
    pact_error err;
    double me = NAN, lo, up;
    pact_status st = pact_fit_minimax(f, a, b, d, &o, &p, &me, &err);
    CHECK(st == PACT_OK, "%s [%g,%g] d%d: %s", pact_func_name(f), a, b, d, err.message);
    if (!p)
        return 1;
    certify(f, p, &lo, &up);
    /* E* in [lo, up]; ours claims max_error = me */
    CHECK(lo >= me * (1.0 - 1e-6) && fabs(up - me) <= 1e-9 * me,
          "%s [%g,%g] d%d%s: max_error %.12g, certificate [%.12g, %.12g]", pact_func_name(f), a, b,
          d, parity == PACT_PARITY_NONE ? " (general exchange)" : "", me, lo, up);
    printf("certificate %s [%g, %g] degree %d%s: max_error %.12e, E* >= %.12e (rel gap %.1e)\n",
           pact_func_name(f), a, b, d, parity == PACT_PARITY_NONE ? " general" : "", me, lo,
           (me - lo) / me);
    pact_poly_free(p);
    return 1;
}

static double sin_fn(void *ctx, double x)
{
    (void)ctx;
    return sin(3.0 * x) + 0.25 * x * x * x;
}

static double cos_fn(void *ctx, double x)
{
    (void)ctx;
    return cos(3.0 * x) + fabs(x);
}

int main(void)
{
    int n = 0;
    pact_error err;
    pact_poly *p = NULL;
    double e;

    /* closed forms: relu on [-r, r] degree 1: r/4, 2 and 3: r/16; |x| 1/2, 1/8 */
    const double radii[] = {1.0, 3.5};
    for (int i = 0; i < 2; i++) {
        double r = radii[i];
        const double want[] = {r / 4, r / 16, r / 16};
        for (int d = 1; d <= 3; d++) {
            CHECK_OK(pact_fit_minimax(PACT_RELU, -r, r, d, NULL, &p, &e, &err), &err);
            CHECK(fabs(e - want[d - 1]) <= 1e-12 * want[d - 1],
                  "relu [-%g,%g] d%d: max_error %.17g, closed form %.17g", r, r, d, e, want[d - 1]);
            n++;
            pact_poly_free(p);
        }
    }
    const double abs_want[] = {0.5, 0.125, 0.125};
    for (int d = 1; d <= 3; d++) {
        CHECK_OK(pact_fit_minimax(PACT_ABS, -1, 1, d, NULL, &p, &e, &err), &err);
        CHECK(fabs(e - abs_want[d - 1]) <= 1e-12, "abs d%d: %.17g, closed form %g", d, e,
              abs_want[d - 1]); n++;
        pact_poly_free(p);
    }
    /* degree 1 of convex / concave functions (general exchange: asymmetric or not) */
    struct { pact_func f; double a, b; } lin[] = {
        {PACT_GELU, -1.0, 1.0}, {PACT_GELU, -1.2, 0.7}, {PACT_SILU, -2.0, 2.0},
        {PACT_SIGMOID, 0.5, 4.0}, {PACT_TANH, 0.2, 3.0}, {PACT_SILU, -2.3, 1.1},
    };
    for (size_t i = 0; i < sizeof lin / sizeof lin[0]; i++) {
        double want = linear_closed_form(lin[i].f, lin[i].a, lin[i].b);
        CHECK_OK(pact_fit_minimax(lin[i].f, lin[i].a, lin[i].b, 1, NULL, &p, &e, &err), &err);
        CHECK(fabs(e - want) <= 1e-10 * want, "%s [%g,%g] d1: max_error %.15g, closed form %.15g",
              pact_func_name(lin[i].f), lin[i].a, lin[i].b, e, want); n++;
        pact_poly_free(p);
    }

    /* Sollya reference table */
    const char *src = getenv("POLYACT_SOURCE");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/minimax_ref.txt", src ? src : ".");
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL, "missing Sollya reference table %s (tools/sollya-reference.sh)", path); n++;
    int cases = 0, funcs_seen[PACT_FUNC_COUNT] = {0}, maxdeg = 0;
    double worst = 0.0;
    char line[512], worst_case[160] = "";
    while (fp && fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char name[32];
        double a, b, ref;
        int d;
        pact_func f;
        if (sscanf(line, "%31s %lf %lf %d %lf", name, &a, &b, &d, &ref) != 5 ||
            pact_func_from_name(name, &f, &err) != PACT_OK) {
            CHECK(0, "malformed reference line: %s", line);
            continue;
        }
        pact_status st = pact_fit_minimax(f, a, b, d, NULL, &p, &e, &err);
        CHECK(st == PACT_OK, "%s [%g,%g] d%d: %s", name, a, b, d, err.message);
        double rel = fabs(e - ref) / ref;
        CHECK(rel <= 1e-6, "%s [%g,%g] d%d: max_error %.12g, Sollya %.12g (rel %.2g)", name, a, b,
              d, e, ref, rel);
        if (rel > worst) {
            worst = rel;
            snprintf(worst_case, sizeof worst_case, "%s [%g, %g] degree %d", name, a, b, d);
        }
        funcs_seen[f]++;
        maxdeg = d > maxdeg ? d : maxdeg;
        cases++;
        n++;
        pact_poly_free(p);
    }
    if (fp)
        fclose(fp);
    printf("Sollya table: %d cases (relu %d, gelu %d, silu %d, sigmoid %d, tanh %d, gelu_tanh %d, "
           "abs %d), degrees up to %d, max relative difference %.3g (%s)\n",
           cases, funcs_seen[PACT_RELU], funcs_seen[PACT_GELU], funcs_seen[PACT_SILU],
           funcs_seen[PACT_SIGMOID], funcs_seen[PACT_TANH], funcs_seen[PACT_GELU_TANH],
           funcs_seen[PACT_ABS], maxdeg, worst, worst_case);
    CHECK(cases >= 100 && funcs_seen[PACT_RELU] && funcs_seen[PACT_GELU] && funcs_seen[PACT_SILU] &&
              funcs_seen[PACT_SIGMOID] && maxdeg == 63,
          "reference table too small: %d cases, max degree %d", cases, maxdeg); n++;

    /* certificates at high degree: parity path and general exchange */
    n += check_certificate(PACT_RELU, -1, 1, 63, PACT_PARITY_AUTO);
    n += check_certificate(PACT_RELU, -1, 1, 255, PACT_PARITY_AUTO);
    n += check_certificate(PACT_RELU, -1, 1, 127, PACT_PARITY_NONE);
    n += check_certificate(PACT_RELU, -2, 5, 63, PACT_PARITY_AUTO);
    n += check_certificate(PACT_RELU, -2, 5, 255, PACT_PARITY_AUTO);
    n += check_certificate(PACT_ABS, -3, 2, 100, PACT_PARITY_AUTO);
    n += check_certificate(PACT_GELU, -20, 20, 63, PACT_PARITY_AUTO);
    n += check_certificate(PACT_SILU, -10, 3, 20, PACT_PARITY_AUTO);
    n += check_certificate(PACT_SIGMOID, -40, 40, 127, PACT_PARITY_AUTO);

    /* relu on a symmetric interval: odd degree 2k+1 has the error of 2k */
    for (int d = 4; d <= 40; d += 12) {
        double e_even, e_odd;
        pact_poly *q = NULL;
        CHECK_OK(pact_fit_minimax(PACT_RELU, -2, 2, d, NULL, &p, &e_even, &err), &err);
        CHECK_OK(pact_fit_minimax(PACT_RELU, -2, 2, d + 1, NULL, &q, &e_odd, &err), &err);
        CHECK(fabs(e_even - e_odd) <= 1e-12 * e_even, "relu d%d %.15g vs d%d %.15g", d, e_even,
              d + 1, e_odd); n++;
        pact_poly_free(p), pact_poly_free(q);
    }
    /* parity paths of pact_fit_minimax_fn agree with the general exchange */
    pact_fit_opts o;
    pact_fit_opts_default(&o);
    for (int par = PACT_PARITY_EVEN; par <= PACT_PARITY_ODD; par++) {
        double e_par, e_gen;
        pact_poly *q = NULL;
        pact_fn fn = par == PACT_PARITY_EVEN ? cos_fn : sin_fn;
        o.parity = (pact_parity)par;
        CHECK_OK(pact_fit_minimax_fn(fn, NULL, -2, 2, 14, &o, &p, &e_par, &err), &err);
        o.parity = PACT_PARITY_NONE;
        CHECK_OK(pact_fit_minimax_fn(fn, NULL, -2, 2, 14, &o, &q, &e_gen, &err), &err);
        CHECK(fabs(e_par - e_gen) <= 1e-8 * e_gen, "parity %d: %.12g, general %.12g", par, e_par,
              e_gen); n++;
        pact_poly_free(p), pact_poly_free(q);
    }

    /* status codes */
    pact_fit_opts_default(&o);
    o.max_iter = 1;
    pact_status st = pact_fit_minimax(PACT_GELU, -8, 8, 20, &o, &p, &e, &err);
    CHECK(st == PACT_EMAXITER && p != NULL && isfinite(e) && strstr(err.message, "levelled"),
          "max_iter 1: %s, poly %p, error %g: %s", pact_status_str(st), (void *)p, e, err.message); n++;
    pact_poly_free(p);
    CHECK(pact_fit_minimax(PACT_RELU, 1, 1, 3, NULL, &p, &e, &err) == PACT_EINVAL && !p, "a == b"); n++;
    CHECK(pact_fit_minimax(PACT_RELU, -1, 1, 0, NULL, &p, &e, &err) == PACT_EINVAL, "degree 0"); n++;
    CHECK(pact_fit_minimax(PACT_RELU, -1, 1, 256, NULL, &p, &e, &err) == PACT_EINVAL &&
              strstr(err.message, "256"), "degree 256: %s", err.message); n++;
    CHECK(pact_fit_minimax(PACT_RELU, -INFINITY, 1, 3, NULL, &p, &e, &err) == PACT_EINVAL, "inf"); n++;
    CHECK(pact_fit_minimax(PACT_RELU, NAN, 1, 3, NULL, &p, &e, &err) == PACT_EINVAL, "nan"); n++;
    CHECK(pact_fit_minimax(PACT_SIGN, -1, 1, 3, NULL, &p, &e, &err) == PACT_EINVAL &&
              strstr(err.message, "composite"), "sign over 0: %s", err.message); n++;
    CHECK(pact_fit_minimax(PACT_FUNC_COUNT, -1, 1, 3, NULL, &p, &e, &err) == PACT_EINVAL,
          "unknown function"); n++;
    pact_fit_opts_default(&o);
    o.tol = 0.0;
    CHECK(pact_fit_minimax(PACT_RELU, -1, 1, 3, &o, &p, &e, &err) == PACT_EINVAL &&
              strstr(err.message, "tol"), "tol 0: %s", err.message); n++;
    pact_fit_opts_default(&o);
    o.parity = PACT_PARITY_EVEN;
    CHECK(pact_fit_minimax_fn(cos_fn, NULL, -1, 2, 3, &o, &p, &e, &err) == PACT_EINVAL,
          "EVEN parity on an asymmetric interval"); n++;
    /* sign away from 0 is a constant: fitted exactly */
    CHECK_OK(pact_fit_minimax(PACT_SIGN, 0.5, 2, 3, NULL, &p, &e, &err), &err);
    CHECK(e <= 1e-15 && fabs(pact_poly_eval(p, 1.0) - 1.0) < 1e-15, "sign on [0.5, 2]: %g", e); n++;
    pact_poly_free(p);
    return pact_test_done("test_minimax", n);
}
