/* Live cross-check with Sollya (installed by tools/deps.sh; missing sollya is
 * a failure, not a skip): three small minimax problems solved by Sollya's
 * remez at 200 bits, sup norm by dirtyinfnorm, on the normalised variable;
 * polyact's max error must agree to 1e-6 relative. One case uses the parity
 * path (gelu, symmetric), two the general exchange (asymmetric, one of them
 * relu's kink). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double sollya_minimax(const char *expr, double a, double b, int d)
{
    char cmd[2048], out[512];
    snprintf(cmd, sizeof cmd,
             "sollya 2>/dev/null <<'EOF'\n"
             "prec = 200!; display = decimal!; verbosity = 0!;\n"
             "X = (%.17g + %.17g)/2 + (%.17g - (%.17g))/2 * x;\n"
             "f = %s;\n"
             "p = remez(f, %d, [-1;1], 1, 1e-12);\n"
             "print(dirtyinfnorm(p - f, [-1;1]));\n"
             "quit;\n"
             "EOF\n",
             a, b, b, a, expr, d);
    int rc = pact_test_run(cmd, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "sollya exit %d: %s\n", rc, out);
    return rc == 0 ? strtod(out, NULL) : NAN;
}

int main(void)
{
    int n = 0;
    int have = pact_test_run("command -v sollya >/dev/null 2>&1", NULL, 0) == 0;
    CHECK(have, "sollya is not on PATH: install it (tools/deps.sh)"); n++;
    if (!have)
        return pact_test_done("test_minimax_sollya", n);
    struct {
        pact_func f;
        const char *expr;
        double a, b;
        int d;
    } cases[] = {
        {PACT_GELU, "X/2*(1+erf(X/sqrt(2)))", -4, 4, 8},
        {PACT_SIGMOID, "1/(1+exp(-X))", -6, 3, 11},
        {PACT_RELU, "(X+abs(X))/2", -2, 5, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double ref = sollya_minimax(cases[i].expr, cases[i].a, cases[i].b, cases[i].d);
        pact_poly *p = NULL;
        pact_error err;
        double e = NAN;
        CHECK_OK(pact_fit_minimax(cases[i].f, cases[i].a, cases[i].b, cases[i].d, NULL, &p, &e,
                                  &err), &err);
        double rel = fabs(e - ref) / ref;
        CHECK(rel <= 1e-6, "%s [%g,%g] d%d: max_error %.12g, Sollya %.12g (rel %.2g)",
              pact_func_name(cases[i].f), cases[i].a, cases[i].b, cases[i].d, e, ref, rel); n++;
        printf("%s [%g, %g] degree %d: polyact %.15g, Sollya %.15g, rel %.2g\n",
               pact_func_name(cases[i].f), cases[i].a, cases[i].b, cases[i].d, e, ref, rel);
        pact_poly_free(p);
    }
    return pact_test_done("test_minimax_sollya", n);
}
