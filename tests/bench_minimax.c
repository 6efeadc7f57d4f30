/* Benchmark: degree-63 ReLU minimax (target: well under 100 ms), against
 * baselines measured in the same run: polyact's own general exchange (no
 * parity), Chebyshev interpolation, and Sollya's remez on the same job (when
 * sollya is on PATH; POLYACT_BENCH_SOLLYA_TIMEOUT seconds, default 1200;
 * 0 skips it). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median wall time in ms of `reps` fits; *err the max error */
static double time_fit(int method, pact_func f, double a, double b, int d, pact_parity par,
                       int reps, double *maxerr)
{
    double t[64];
    pact_fit_opts o;
    pact_fit_opts_default(&o);
    o.parity = par;
    for (int r = 0; r < reps; r++) {
        pact_poly *p = NULL;
        pact_error err;
        double t0 = now();
        pact_status st = method == 0 ? pact_fit_minimax(f, a, b, d, &o, &p, maxerr, &err)
                                     : pact_fit_cheb(f, a, b, d, &o, &p, maxerr, &err);
        t[r] = (now() - t0) * 1e3;
        CHECK(st == PACT_OK, "%s", err.message);
        pact_poly_free(p);
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    return t[reps / 2];
}

int main(void)
{
    int n = 0;
    double e1, e2, e3, e4, e5;
    double t_par = time_fit(0, PACT_RELU, -1, 1, 63, PACT_PARITY_AUTO, 21, &e1);
    double t_gen = time_fit(0, PACT_RELU, -1, 1, 63, PACT_PARITY_NONE, 11, &e2);
    double t_asym = time_fit(0, PACT_RELU, -2, 5, 63, PACT_PARITY_AUTO, 11, &e3);
    double t_cheb = time_fit(1, PACT_RELU, -1, 1, 63, PACT_PARITY_AUTO, 21, &e4);
    double t_255 = time_fit(0, PACT_RELU, -1, 1, 255, PACT_PARITY_AUTO, 5, &e5);
    printf("bench relu [-1,1] degree 63 minimax (parity): %.2f ms (median of 21), error %.6e\n",
           t_par, e1);
    printf("bench relu [-1,1] degree 63 minimax (general exchange): %.2f ms, ratio %.2f\n", t_gen,
           t_gen / t_par);
    printf("bench relu [-2,5] degree 63 minimax (general exchange): %.2f ms, error %.6e\n", t_asym,
           e3);
    printf("bench relu [-1,1] degree 63 Chebyshev interpolation: %.2f ms (error %.6e, %.2fx the "
           "minimax error), minimax/interp time %.2f\n",
           t_cheb, e4, e4 / e2, t_par / t_cheb);
    printf("bench relu [-1,1] degree 255 minimax (parity): %.2f ms, error %.6e\n", t_255, e5);
    CHECK(t_par < 100.0, "degree-63 relu minimax took %.1f ms (target < 100)", t_par); n++;
    CHECK(t_gen < 100.0, "degree-63 relu general exchange took %.1f ms (target < 100)", t_gen); n++;

    const char *to = getenv("POLYACT_BENCH_SOLLYA_TIMEOUT");
    int timeout = to ? atoi(to) : 1200;
    if (timeout > 0 && pact_test_run("command -v sollya >/dev/null 2>&1", NULL, 0) == 0) {
        char cmd[1024], out[256];
        snprintf(cmd, sizeof cmd,
                 "timeout %d sollya 2>/dev/null <<'EOF'\n"
                 "prec = 200!; display = decimal!; verbosity = 0!;\n"
                 "f = (x + abs(x))/2;\n"
                 "p = remez(f, 63, [-1;1], 1, 1e-12);\n"
                 "print(dirtyinfnorm(p - f, [-1;1]));\nquit;\nEOF\n",
                 timeout);
        double t0 = now();
        int rc = pact_test_run(cmd, out, sizeof out);
        double ts = now() - t0;
        if (rc == 0) {
            double es = strtod(out, NULL);
            printf("bench relu [-1,1] degree 63 Sollya remez: %.1f s, error %.6e (polyact %.6e, "
                   "rel %.1e); Sollya / polyact time ratio %.0f\n",
                   ts, es, e2, fabs(es - e2) / es, ts * 1e3 / t_par);
        } else {
            printf("bench relu [-1,1] degree 63 Sollya remez: no result after %.0f s (exit %d); "
                   "ratio > %.0f\n",
                   ts, rc, ts * 1e3 / t_par);
        }
    }
    return pact_test_done("bench_minimax", n);
}
