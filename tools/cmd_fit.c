/* polyact fit: fits one activation on an interval and prints the polynomial. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: polyact fit --func F --range A,B --degree D [--method minimax|lsq|cheb]\n"
    "                   [--weights FILE] [--floor P] [--json]\n"
    "       polyact fit --method composite --alpha K [--func relu|sign] [--range -B,B] [--json]\n"
    "\n"
    "Fits F (relu, gelu, gelu_tanh, silu, sigmoid, tanh, abs, sign) on [A, B] by a\n"
    "polynomial of degree D (1..255) and prints its Chebyshev coefficients on [A, B]\n"
    "(p(x) = sum c_k T_k((2x - A - B)/(B - A)), c_0 not halved), its monomial\n"
    "coefficients in x (ill-conditioned at high degree: an export, not for computing),\n"
    "the max error (dense grid + refinement), and the depth and multiplication counts\n"
    "of baby-step giant-step evaluation.\n"
    "\n"
    "  --method minimax   best uniform approximation (Remez exchange; default)\n"
    "  --method lsq       weighted least squares; --weights FILE: lines \"x w\" (samples\n"
    "                     of the input distribution, w >= 0; '#' comments); without it\n"
    "                     the weight is uniform on [A, B]. --floor P in [0, 1] mixes in\n"
    "                     the Chebyshev measure (default 0.1). --weights\n"
    "                     calib.json:LAYER weighs by that layer's calibrated histogram.\n"
    "  --method cheb      interpolation at Chebyshev first-kind nodes (OpenFHE, Orion)\n"
    "  --method composite composite minimax sign for ReLU precision 2^-K (K 4..14,\n"
    "                     published degrees); --range -B,B scales to [-B, B]\n"
    "  --json             one JSON object on stdout\n"
    "\n"
    "exit status: 0 success, 1 runtime error (e.g. not converged), 2 usage error\n";

enum { METHOD_MINIMAX, METHOD_LSQ, METHOD_CHEB, METHOD_COMPOSITE };

static void json_num(double v)
{
    if (isfinite(v))
        printf("%.17g", v);
    else
        printf("null");
}

static void json_array(const double *v, int n)
{
    putchar('[');
    for (int i = 0; i < n; i++) {
        if (i)
            printf(", ");
        json_num(v[i]);
    }
    putchar(']');
}

/* Reads "x w" lines. Returns CLI_OK or prints one line and returns an exit code. */
static int read_weights(const char *path, double **xs, double **ws, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_error("fit", CLI_RUNTIME, "--weights %s: %s", path, strerror(errno));
    size_t cap = 0, cnt = 0, line = 0;
    double *x = NULL, *w = NULL;
    char buf[512];
    int rc = CLI_OK;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n' && !feof(f)) {
            rc = cli_error("fit", CLI_RUNTIME, "--weights %s:%zu: line longer than %zu bytes",
                           path, line, sizeof buf - 2);
            break;
        }
        char *p = buf;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        char *end;
        errno = 0;
        double xv = strtod(p, &end);
        char *end2 = end;
        double wv = end > p ? strtod(end, &end2) : 0.0;
        while (*end2 == ' ' || *end2 == '\t' || *end2 == '\r' || *end2 == '\n')
            end2++;
        if (end == p || end2 == end || *end2 != '\0' || errno || !isfinite(xv) ||
            !isfinite(wv) || wv < 0.0) {
            rc = cli_error("fit", CLI_RUNTIME,
                           "--weights %s:%zu: expected \"x w\" (finite numbers, w >= 0)", path,
                           line);
            break;
        }
        if (cnt == cap) {
            if (cap >= ((size_t)1 << 28)) {
                rc = cli_error("fit", CLI_RUNTIME, "--weights %s: more than %zu samples", path,
                               cap);
                break;
            }
            cap = cap ? 2 * cap : 1024;
            double *nx = realloc(x, cap * sizeof *x);
            if (nx)
                x = nx;
            double *nw = nx ? realloc(w, cap * sizeof *w) : NULL;
            if (nw)
                w = nw;
            if (!nx || !nw) {
                rc = cli_error("fit", CLI_RUNTIME, "--weights %s: out of memory", path);
                break;
            }
        }
        x[cnt] = xv;
        w[cnt] = wv;
        cnt++;
    }
    if (rc == CLI_OK && ferror(f))
        rc = cli_error("fit", CLI_RUNTIME, "--weights %s: read error", path);
    if (rc == CLI_OK && cnt == 0)
        rc = cli_error("fit", CLI_RUNTIME, "--weights %s: no samples", path);
    fclose(f);
    if (rc != CLI_OK) {
        free(x);
        free(w);
        return rc;
    }
    *xs = x;
    *ws = w;
    *n = cnt;
    return CLI_OK;
}

static void print_poly_json_fields(const pact_poly *p, const double *mono, int mono_ok)
{
    int d = pact_poly_degree(p);
    printf("\"cheb_coeffs\": ");
    json_array(pact_poly_cheb(p), d + 1);
    printf(", \"monomial_coeffs\": ");
    if (mono_ok)
        json_array(mono, d + 1);
    else
        printf("null");
}

static int run_composite(int alpha, pact_func func, double bound, int json)
{
    pact_composite *c = NULL;
    pact_error err;
    pact_status st = pact_composite_sign(alpha, NULL, &c, &err);
    if (!c)
        return cli_lib_error("fit", &err, 1);
    int k = pact_composite_count(c);
    double relu_err = bound * pact_composite_relu_error(c), sign_err = pact_composite_sign_error(c);
    double max_err = func == PACT_SIGN ? sign_err : relu_err;
    int depth = pact_composite_depth(c) - (func == PACT_SIGN ? 1 : 0);
    if (json) {
        printf("{\"func\": \"%s\", \"method\": \"composite\", \"alpha\": %d, \"range\": [",
               pact_func_name(func), alpha);
        json_num(-bound);
        printf(", ");
        json_num(bound);
        printf("], \"eps\": ");
        json_num(pact_composite_eps(c));
        printf(", \"max_error\": ");
        json_num(max_err);
        printf(", \"relu_error\": ");
        json_num(relu_err);
        printf(", \"sign_error\": ");
        json_num(sign_err);
        printf(", \"depth\": %d, \"degrees\": [", depth);
        for (int i = 0; i < k; i++)
            printf("%s%d", i ? ", " : "", pact_poly_degree(pact_composite_component(c, i)));
        printf("], \"components\": [");
    } else {
        printf("composite sign for ReLU precision 2^-%d (Lee et al. degrees), %s on [%g, %g]\n",
               alpha, pact_func_name(func), -bound, bound);
        printf("s(x) = p_%d(...p_1(x / B)) ~ sign on [-1,-eps] U [eps,1], eps = %.6g (2^%.3f)\n",
               k, pact_composite_eps(c), log2(pact_composite_eps(c)));
        if (func == PACT_RELU)
            printf("relu(x) ~ B (x/B) (1 + s(x)) / 2, B = %g\n", bound);
        printf("max_error  %.6e (2^%.3f)  [relu %.6e, sign on [eps,1] %.6e]\n", max_err,
               log2(max_err), relu_err, sign_err);
        printf("depth      %d (sum of ceil(log2(d+1))%s)\n", depth,
               func == PACT_SIGN ? "" : " + 1 for the product by x");
    }
    for (int i = 0; i < k; i++) {
        const pact_poly *p = pact_composite_component(c, i);
        int d = pact_poly_degree(p);
        double a, b;
        pact_poly_interval(p, &a, &b);
        double *mono = malloc((size_t)(d + 1) * sizeof *mono);
        int mono_ok = mono && pact_poly_to_monomial(p, mono, NULL) == PACT_OK;
        pact_bsgs plan;
        pact_bsgs_plan(d, &plan, NULL);
        if (json) {
            printf("%s{\"degree\": %d, \"interval\": [", i ? ", " : "", d);
            json_num(a);
            printf(", ");
            json_num(b);
            printf("], \"depth\": %d, \"nonscalar_mults\": %d, \"scalar_mults\": %d, ", plan.depth,
                   plan.nonscalar_mults, plan.scalar_mults);
            print_poly_json_fields(p, mono, mono_ok);
            printf("}");
        } else {
            printf("component %d: degree %d on [%.17g, %.17g], depth %d, %d non-scalar + %d "
                   "scalar mults\n",
                   i + 1, d, a, b, plan.depth, plan.nonscalar_mults, plan.scalar_mults);
            printf("  cheb_coeffs (odd; even ones are 0):\n");
            for (int j = 1; j <= d; j += 2)
                printf("    c[%d] = %.17g\n", j, pact_poly_cheb(p)[j]);
            if (mono_ok) {
                printf("  monomial_coeffs (in the component's input):\n");
                for (int j = 1; j <= d; j += 2)
                    printf("    x^%d = %.17g\n", j, mono[j]);
            }
        }
        free(mono);
    }
    if (json)
        printf("]}\n");
    pact_composite_free(c);
    if (st != PACT_OK)
        return cli_lib_error("fit", &err, 0);
    return CLI_OK;
}

int cmd_fit(int argc, char **argv)
{
    const char *func_s = NULL, *range_s = NULL, *degree_s = NULL, *method_s = NULL,
               *alpha_s = NULL, *weights_s = NULL, *floor_s = NULL;
    int json = 0;
    const cli_option opts[] = {
        {"func", &func_s, NULL},       {"range", &range_s, NULL},   {"degree", &degree_s, NULL},
        {"method", &method_s, NULL},   {"alpha", &alpha_s, NULL},   {"weights", &weights_s, NULL},
        {"floor", &floor_s, NULL},     {"json", NULL, &json},       {NULL, NULL, NULL},
    };
    int rc = cli_parse("fit", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;

    int method = METHOD_MINIMAX;
    if (method_s) {
        static const char *const names[] = {"minimax", "lsq", "cheb", "composite"};
        method = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(method_s, names[i]) == 0)
                method = i;
        if (method < 0)
            return cli_error("fit", CLI_USAGE,
                             "--method: '%s' is not minimax, lsq, cheb or composite", method_s);
    }
    pact_error err;
    pact_func func = PACT_RELU;
    if (func_s && pact_func_from_name(func_s, &func, &err) != PACT_OK)
        return cli_error("fit", CLI_USAGE, "--func: %s", err.message);
    if (method != METHOD_LSQ && (weights_s || floor_s))
        return cli_error("fit", CLI_USAGE, "--%s applies to --method lsq only",
                         weights_s ? "weights" : "floor");

    if (method == METHOD_COMPOSITE) {
        if (degree_s)
            return cli_error("fit", CLI_USAGE,
                             "--degree does not apply to --method composite (use --alpha)");
        if (!alpha_s)
            return cli_error("fit", CLI_USAGE, "--method composite needs --alpha K (4..14)");
        if (func != PACT_RELU && func != PACT_SIGN)
            return cli_error("fit", CLI_USAGE,
                             "--method composite approximates relu or sign, not %s",
                             pact_func_name(func));
        long alpha;
        if ((rc = cli_int("fit", "alpha", alpha_s, 4, 14, &alpha)) != CLI_OK)
            return rc;
        double bound = 1.0;
        if (range_s) {
            double a, b;
            if ((rc = cli_range("fit", "range", range_s, &a, &b)) != CLI_OK)
                return rc;
            if (a != -b)
                return cli_error("fit", CLI_USAGE,
                                 "--range %s: the composite needs a symmetric range -B,B",
                                 range_s);
            bound = b;
        }
        return run_composite((int)alpha, func, bound, json);
    }

    if (alpha_s)
        return cli_error("fit", CLI_USAGE, "--alpha applies to --method composite only");
    if (!func_s || !range_s || !degree_s)
        return cli_error("fit", CLI_USAGE, "--func, --range and --degree are required (see --help)");
    double a, b;
    long degree;
    if ((rc = cli_range("fit", "range", range_s, &a, &b)) != CLI_OK)
        return rc;
    if ((rc = cli_int("fit", "degree", degree_s, 1, PACT_FIT_MAX_DEGREE, &degree)) != CLI_OK)
        return rc;
    pact_fit_opts fo;
    pact_fit_opts_default(&fo);
    if (floor_s) {
        if ((rc = cli_double("fit", "floor", floor_s, &fo.floor)) != CLI_OK)
            return rc;
        if (fo.floor < 0.0 || fo.floor > 1.0)
            return cli_error("fit", CLI_USAGE, "--floor %s: outside [0, 1]", floor_s);
    }
    double *xs = NULL, *ws = NULL;
    size_t n = 0;
    pact_calib *cal = NULL;
    const pact_calib_layer *layer = NULL;
    const char *colon = weights_s ? strstr(weights_s, ".json:") : NULL;
    if (colon) { /* calib.json:LAYER */
        char file[4096];
        size_t len = (size_t)(colon - weights_s) + 5;
        if (len >= sizeof file)
            return cli_error("fit", CLI_USAGE, "--weights: path too long");
        memcpy(file, weights_s, len);
        file[len] = '\0';
        if (pact_calib_load(file, &cal, &err) != PACT_OK)
            return cli_lib_error("fit", &err, 0);
        int li = pact_calib_find(cal, colon + 6);
        if (li < 0) {
            pact_calib_free(cal);
            return cli_error("fit", CLI_USAGE, "--weights %s: no layer '%s' in %s", weights_s,
                             colon + 6, file);
        }
        layer = pact_calib_layer_at(cal, li);
    } else if (weights_s && (rc = read_weights(weights_s, &xs, &ws, &n)) != CLI_OK) {
        return rc;
    }

    pact_poly *p = NULL;
    double max_err = NAN, argmax = NAN;
    pact_status st;
    const char *mname = method == METHOD_MINIMAX ? "minimax" : method == METHOD_LSQ ? "lsq" : "cheb";
    if (method == METHOD_MINIMAX)
        st = pact_fit_minimax(func, a, b, (int)degree, &fo, &p, NULL, &err);
    else if (method == METHOD_LSQ && layer)
        st = pact_fit_lsq_calib(layer, func, a, b, (int)degree, &fo, &p, NULL, &err);
    else if (method == METHOD_LSQ)
        st = pact_fit_lsq(func, a, b, (int)degree, xs, ws, n, &fo, &p, NULL, &err);
    else
        st = pact_fit_cheb(func, a, b, (int)degree, &fo, &p, NULL, &err);
    free(xs);
    free(ws);
    pact_calib_free(cal);
    if (!p)
        return cli_lib_error("fit", &err, 1);
    pact_error e2;
    if (pact_poly_max_error(p, func, &fo, &max_err, &argmax, &e2) != PACT_OK) {
        pact_poly_free(p);
        return cli_lib_error("fit", &e2, 0);
    }
    int d = pact_poly_degree(p);
    double *mono = malloc((size_t)(d + 1) * sizeof *mono);
    int mono_ok = mono && pact_poly_to_monomial(p, mono, NULL) == PACT_OK;
    pact_bsgs plan;
    pact_bsgs_plan(d, &plan, NULL);
    if (json) {
        printf("{\"func\": \"%s\", \"method\": \"%s\", \"range\": [", pact_func_name(func), mname);
        json_num(a);
        printf(", ");
        json_num(b);
        printf("], \"degree\": %d, \"max_error\": ", d);
        json_num(max_err);
        printf(", \"max_error_at\": ");
        json_num(argmax);
        printf(", \"converged\": %s", st == PACT_OK ? "true" : "false");
        if (method == METHOD_LSQ)
            printf(", \"floor\": %.17g, \"samples\": %zu", fo.floor, n);
        printf(", \"depth\": %d, \"nonscalar_mults\": %d, \"scalar_mults\": %d, "
               "\"bsgs\": {\"baby\": %d, \"giant\": %d}, ",
               plan.depth, plan.nonscalar_mults, plan.scalar_mults, plan.baby, plan.giant);
        print_poly_json_fields(p, mono, mono_ok);
        printf("}\n");
    } else {
        printf("%s on [%.17g, %.17g], %s, degree %d\n", pact_func_name(func), a, b, mname, d);
        printf("max_error  %.12e at x = %.17g\n", max_err, argmax);
        if (plan.giant == 0)
            printf("depth      %d (every T_k formed directly, no baby-step giant-step split)\n",
                   plan.depth);
        else
            printf("depth      %d (baby-step giant-step, baby %d, giant %d)\n", plan.depth,
                   plan.baby, plan.giant);
        printf("mults      %d non-scalar, %d scalar\n", plan.nonscalar_mults,
               plan.scalar_mults);
        printf("cheb_coeffs: p(x) = sum c[k] T_k((2x - a - b)/(b - a)), c[0] not halved\n");
        for (int k = 0; k <= d; k++)
            printf("  c[%d] = %.17g\n", k, pact_poly_cheb(p)[k]);
        if (mono_ok) {
            printf("monomial_coeffs: p(x) = sum m[j] x^j (ill-conditioned at high degree)\n");
            for (int k = 0; k <= d; k++)
                printf("  m[%d] = %.17g\n", k, mono[k]);
        } else {
            printf("monomial_coeffs: overflow (degree too high for this interval)\n");
        }
    }
    free(mono);
    pact_poly_free(p);
    if (st != PACT_OK)
        return cli_lib_error("fit", &err, 0);
    return CLI_OK;
}
