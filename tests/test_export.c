/* Exports evaluated the way their target evaluates them, against the plan's own
 * evaluation (pact_plan_layer_eval), to 1e-12 * max(1, |value|):
 *   OpenFHE: EvalChebyshevSeries = coeffs[0]/2 + sum c_i T_i(y), y = alpha x +
 *            (-1 - a alpha), alpha = 2/(b-a) (no map on [-1,1] within 2^-44),
 *            T_i by OpenFHE's products T_2i = 2 T_i^2 - 1, T_2i+1 = 2 T_i T_i+1 - y;
 *   Lattigo: coeffs[0] + sum c_i T_i(y), y = scalar x + constant from
 *            ChangeOfBasis (scalar 2/(B-A), constant (-B-A)/(B-A)), forward
 *            recurrence as bignum.Polynomial.Evaluate;
 *   folded:  the user's affine map, then every series on [-1, 1];
 *   C:       the generated header compiled by the system C compiler.
 * Levels are checked against the measured OpenFHE table in
 * he/openfhe-n16-2core.json and against ceil(log2(d+1)) for Lattigo. The plan
 * has composites, asymmetric intervals, trailing zeros, degree 1 and a hostile
 * model name. A second plan has per-channel layers: every channel of every
 * format, folded or not, against pact_plan_layer_eval_channel the same way, and
 * the C header of it compiled together with the first one. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n;
static const double TOL = 1e-12;

#define N_LAYERS 10
#define N_POINTS 301

/* --- the plan ------------------------------------------------------------ */

typedef struct {
    const char *name;
    pact_func func;
    pact_form form;
    double a, b, bound;
    int n_parts;
    int degrees[3];
    double pa[3], pb[3];
    const double *cheb[3];
} spec;

static double decaying[4][256];

static pact_plan *make_plan(const char *model_name)
{
    for (int j = 0; j < 256; j++) {
        decaying[0][j] = cos(1.7 * j + 0.3) * pow(0.8, j);
        decaying[1][j] = sin(0.9 * j + 1.1) * pow(0.93, j);
        decaying[2][j] = cos(2.3 * j) / (1.0 + j * j);
        decaying[3][j] = (j % 2 ? 1.0 : 0.0) * sin(0.7 * j) * pow(0.85, j); /* odd */
    }
    decaying[0][0] = 1.25;
    decaying[1][0] = -0.5;
    static const double deg1[] = {3.0, 2.5};
    static const double zeros[] = {0.7, 1.1, 0.3, 0.0, 0.0};
    static const double odd7[] = {0, 1.1, 0, -0.2, 0, 0.05, 0, -0.01};
    /* (3t - t^3)/2 on [-1, 1] and on [-1.25, 1.25], with two trailing zeros */
    static const double f1[] = {0, 1.125, 0, -0.125};
    static const double f125[] = {0, 1.142578125, 0, -0.244140625, 0, 0};
    static const double lin_asym[] = {0.1, 0.9};
    static const double abs2[] = {0.3, 0.2, 0.25, -0.05, 0.02, 0.01, -0.004, 0.002};
    static const double s2[] = {0, 0.85, 0, -0.1, 0, 0.05, 0, -0.02};
    static const double sig5[] = {0.5, 0.23, 0, -0.01, 0, 0.001};
    const spec specs[N_LAYERS] = {
        {"gelu15_asym", PACT_GELU, PACT_FORM_POLY, -3, 7, 0, 1, {15}, {0}, {0}, {decaying[0]}},
        {"relu_deg1", PACT_RELU, PACT_FORM_POLY, 0, 6, 0, 1, {1}, {0}, {0}, {deg1}},
        {"silu_trailing_zeros", PACT_SILU, PACT_FORM_POLY, -2.5, 4, 0, 1, {4}, {0}, {0}, {zeros}},
        {"tanh_unit", PACT_TANH, PACT_FORM_POLY, -1, 1, 0, 1, {7}, {0}, {0}, {odd7}},
        {"relu_composite", PACT_RELU, PACT_FORM_COMPOSITE, -10, 10, 10, 2, {3, 5}, {-1, -1.25},
         {1, 1.25}, {f1, f125}},
        {"abs \"*/ ?\?= \\ composite", PACT_ABS, PACT_FORM_COMPOSITE, -3.5, 3.5, 3.5, 2, {1, 7},
         {-1, -1.2}, {1.5, 1.3}, {lin_asym, abs2}},
        {"sign_composite", PACT_SIGN, PACT_FORM_COMPOSITE, -2, 2, 2, 3, {3, 7, 15},
         {-1, -1.1, -1.05}, {1, 1.1, 1.05}, {f1, s2, decaying[3]}},
        {"gelu63", PACT_GELU, PACT_FORM_POLY, -12, 20, 0, 1, {63}, {0}, {0}, {decaying[1]}},
        {"gelu255", PACT_GELU, PACT_FORM_POLY, -30, 50, 0, 1, {255}, {0}, {0}, {decaying[2]}},
        {"sigmoid_01", PACT_SIGMOID, PACT_FORM_POLY, 0, 1, 0, 1, {5}, {0}, {0}, {sig5}},
    };
    pact_plan *plan = NULL;
    pact_error err;
    CHECK_OK(pact_plan_create(model_name, "00ff", N_LAYERS, &plan, &err), &err);
    n++;
    for (int i = 0; plan && i < N_LAYERS; i++) {
        const spec *s = &specs[i];
        pact_plan_layer l = {.name = s->name, .func = s->func, .form = s->form, .a = s->a,
                             .b = s->b, .bound = s->bound, .n_parts = s->n_parts,
                             .degrees = s->degrees, .part_a = s->pa, .part_b = s->pb,
                             .cheb = s->cheb, .max_error = NAN, .impact = NAN};
        CHECK_OK(pact_plan_set_layer(plan, i, &l, &err), &err);
        n++;
    }
    return plan;
}

/* --- evaluation as the targets do it ----------------------------------- */

static double openfhe_series(const double *c, int len, double a, double b, double x)
{
    double y;
    if (fabs(a + 1.0) <= 0x1p-44 && fabs(b - 1.0) <= 0x1p-44) {
        y = x;
    } else {
        double alpha = 2.0 / (b - a), beta = a * alpha;
        y = x * alpha + (-1.0 - beta);
    }
    double t[1024];
    t[0] = 1.0;
    t[1] = y;
    for (int i = 2; i < len; i++)
        t[i] = i % 2 ? 2.0 * t[i / 2] * t[i / 2 + 1] - y : 2.0 * t[i / 2] * t[i / 2] - 1.0;
    double sum = 0.0;
    for (int i = 1; i < len; i++)
        sum += c[i] * t[i];
    return sum + c[0] / 2.0;
}

static double lattigo_series(const double *c, int len, double lo, double hi, double x)
{
    double scalar = 2.0 / (hi - lo), constant = (-hi - lo) / (hi - lo);
    double y = x * scalar + constant, sum = c[0], t_prev = 1.0, t = y;
    for (int i = 1; i < len; i++) {
        sum += c[i] * t;
        double next = 2.0 * y * t - t_prev;
        t_prev = t;
        t = next;
    }
    return sum;
}

typedef enum { TARGET_OPENFHE, TARGET_LATTIGO, TARGET_OPENFHE_AS_LATTIGO } target;

static double num(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* coeffs of a series into c (at most 1024); returns the count, 0 if malformed */
static int coeffs_of(const cJSON *series, double *c)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(series, "coeffs"), *e;
    int len = 0;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsNumber(e) || len >= 1024)
            return 0;
        c[len++] = e->valuedouble;
    }
    return len;
}

static void interval_of(const cJSON *series, target t, double *a, double *b)
{
    if (t == TARGET_LATTIGO) {
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(series, "interval");
        *a = cJSON_GetArrayItem(iv, 0) ? cJSON_GetArrayItem(iv, 0)->valuedouble : NAN;
        *b = cJSON_GetArrayItem(iv, 1) ? cJSON_GetArrayItem(iv, 1)->valuedouble : NAN;
    } else {
        *a = num(series, "a");
        *b = num(series, "b");
    }
}

/* Entry ch of array `key` of o (a per-channel input map); NaN if absent. */
static double num_at(const cJSON *o, const char *key, int ch)
{
    const cJSON *x = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, key), ch);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* One exported layer at x for channel ch: input map, the chain of series (a
 * per-channel layer: channel ch's entry of "channels" and of the input map's
 * vectors), the final product. */
static double eval_layer_channel(const cJSON *layer, target t, int ch, double x)
{
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(layer, "input_map");
    const cJSON *channels = cJSON_GetObjectItemCaseSensitive(layer, "channels");
    double in = x;
    if (cJSON_IsObject(map))
        in = channels ? num_at(map, "scale", ch) * x + num_at(map, "shift", ch)
                      : num(map, "scale") * x + num(map, "shift");
    double s = in, c[1024];
    const cJSON *series;
    cJSON *one = NULL;
    if (channels) {
        /* a one-element chain of channel ch's series (a reference, not a copy) */
        const cJSON *entry = cJSON_GetArrayItem(channels, ch);
        one = cJSON_CreateArray();
        if (entry)
            cJSON_AddItemReferenceToArray(one, (cJSON *)entry);
    }
    const cJSON *chain = channels ? one : cJSON_GetObjectItemCaseSensitive(layer, "series");
    cJSON_ArrayForEach(series, chain) {
        int len = coeffs_of(series, c);
        double a, b;
        interval_of(series, t, &a, &b);
        if (len < 2)
            s = NAN;
        else
            s = t == TARGET_OPENFHE ? openfhe_series(c, len, a, b, s) : lattigo_series(c, len, a, b, s);
    }
    cJSON_Delete(one);
    if (channels && !cJSON_GetArrayItem(channels, ch))
        return NAN;
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(layer, "final");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(fin, "op");
    if (!cJSON_IsString(op))
        return NAN;
    if (strcmp(op->valuestring, "mul_input") == 0)
        return (in + num(fin, "add")) * s;
    return strcmp(op->valuestring, "none") == 0 ? s : NAN;
}

static double eval_layer(const cJSON *layer, target t, double x)
{
    return eval_layer_channel(layer, t, 0, x);
}

/* --- the levels tables ---------------------------------------------------- */

/* Measured OpenFHE levels on [-1, 1] for degree d from the shared table; -1 when
 * the table has no entry for d. */
static int measured_levels(const cJSON *table, int d)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, table) {
        int lo, hi;
        if (sscanf(e->string, "%d-%d", &lo, &hi) != 2)
            hi = lo = atoi(e->string);
        if (lo <= d && d <= hi && cJSON_IsNumber(e))
            return (int)e->valuedouble;
    }
    return -1;
}

/* OpenFHE's Degree(): index of the last coefficient that is not exactly zero */
static int openfhe_degree(const double *c, int len)
{
    int i = len;
    while (i > 0)
        if (c[--i] != 0.0)
            break;
    return i;
}

static int bit_length(int d)
{
    int b = 0;
    for (; d > 0; d >>= 1)
        b++;
    return b;
}

/* --- the checks ------------------------------------------------------------ */

static cJSON *export_json(const pact_plan *plan, pact_export_format f, int folded, const char *fmt)
{
    pact_export_opts o;
    pact_export_opts_default(&o);
    o.folded = folded;
    char *text = NULL, *again = NULL;
    pact_error err;
    CHECK_OK(pact_export(plan, f, &o, &text, &err), &err);
    CHECK_OK(pact_export(plan, f, &o, &again, &err), &err);
    CHECK(text && again && strcmp(text, again) == 0, "%s: export is not deterministic", fmt);
    n += 3;
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL, "%s folded=%d: export is not valid JSON", fmt, folded);
    n++;
    free(text);
    free(again);
    if (!root)
        return NULL;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(model, "name");
    CHECK(cJSON_IsString(format) && strcmp(format->valuestring, fmt) == 0, "format field");
    CHECK(num(root, "version") == 1.0, "version");
    CHECK(cJSON_IsString(name) && strcmp(name->valuestring, pact_plan_model_name(plan)) == 0,
          "model name survives");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "folded")) == (folded != 0),
          "folded flag");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "layers")) ==
              pact_plan_layer_count(plan), "%s: layer count", fmt);
    n += 5;
    return root;
}

/* Every layer of the document against pact_plan_layer_eval. */
static void check_values(const pact_plan *plan, const cJSON *root, target t, const char *what)
{
    int i = 0;
    const cJSON *layer;
    cJSON_ArrayForEach(layer, cJSON_GetObjectItemCaseSensitive(root, "layers")) {
        pact_plan_layer l;
        pact_error err;
        CHECK_OK(pact_plan_layer_get(plan, i, &l, &err), &err);
        double worst = 0.0, worst_x = 0.0, worst_v = 0.0, worst_ref = 0.0;
        int worst_ch = 0;
        /* every channel on its own interval (a layer without channels: one) */
        for (int ch = 0; ch < (l.n_channels > 0 ? l.n_channels : 1); ch++) {
            double a = l.n_channels > 0 ? l.channel_a[ch] : l.a;
            double b = l.n_channels > 0 ? l.channel_b[ch] : l.b;
            for (int k = 0; k < N_POINTS; k++) {
                double x = a + (b - a) * k / (N_POINTS - 1);
                double ref = l.n_channels > 0 ? pact_plan_layer_eval_channel(plan, i, ch, x)
                                              : pact_plan_layer_eval(plan, i, x);
                double v = eval_layer_channel(layer, t, ch, x);
                double rel = fabs(v - ref) / fmax(1.0, fabs(ref));
                if (!(rel <= worst)) {
                    worst = isnan(rel) ? INFINITY : rel;
                    worst_x = x;
                    worst_v = v;
                    worst_ref = ref;
                    worst_ch = ch;
                }
            }
        }
        CHECK(worst <= TOL, "%s layer %d (%s) channel %d: at x=%.17g export %.17g, plan %.17g "
              "(rel %.3g)", what, i, l.name, worst_ch, worst_x, worst_v, worst_ref, worst);
        printf("%-26s layer %d %-28s max rel diff %.2e\n", what, i, l.name, worst);
        n += 2;
        i++;
    }
}

static void check_openfhe_structure(const pact_plan *plan, const cJSON *root, int folded,
                                    const cJSON *table)
{
    int i = 0;
    const cJSON *layer;
    cJSON_ArrayForEach(layer, cJSON_GetObjectItemCaseSensitive(root, "layers")) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL);
        int k = 0, expected = 0, measurable = 1;
        const cJSON *series;
        cJSON_ArrayForEach(series, cJSON_GetObjectItemCaseSensitive(layer, "series")) {
            double c[1024];
            int len = coeffs_of(series, c);
            int deg = openfhe_degree(c, len);
            double a = num(series, "a"), b = num(series, "b");
            CHECK(len >= 2 && (deg == len - 1 || len == 2), "layer %d series %d: %d coefficients, "
                  "last non-zero at %d: trailing zeros not trimmed", i, k, len, deg);
            CHECK(num(series, "degree") == len - 1, "layer %d series %d: degree field", i, k);
            n += 2;
            if (folded) {
                CHECK(a == -1.0 && b == 1.0, "folded layer %d series %d on [%.17g, %.17g]", i, k, a, b);
                n++;
            }
            int unit = fabs(a + 1.0) <= 0x1p-44 && fabs(b - 1.0) <= 0x1p-44;
            int lv = measured_levels(table, deg < 1 ? 1 : deg);
            if (lv < 0)
                measurable = 0;
            int want = lv + !unit;
            CHECK(lv < 0 || num(series, "levels") == want, "layer %d series %d (degree %d on "
                  "[%g, %g]): levels %g, measured table says %d", i, k, deg, a, b,
                  num(series, "levels"), want);
            n++;
            expected += want;
            k++;
        }
        CHECK(k == l.n_parts, "layer %d: %d series for %d parts", i, k, l.n_parts);
        const cJSON *fin = cJSON_GetObjectItemCaseSensitive(layer, "final");
        int mul = strcmp(cJSON_GetObjectItemCaseSensitive(fin, "op")->valuestring, "mul_input") == 0;
        CHECK(mul == (l.form == PACT_FORM_COMPOSITE && l.func != PACT_SIGN), "layer %d: final op", i);
        expected += mul;
        CHECK(!measurable || num(layer, "levels") == expected,
              "layer %d (%s): levels %g, measured table says %d", i, l.name, num(layer, "levels"),
              expected);
        n += 3;
        i++;
    }
}

static void check_lattigo_structure(const pact_plan *plan, const cJSON *root, int folded)
{
    int i = 0;
    const cJSON *layer;
    cJSON_ArrayForEach(layer, cJSON_GetObjectItemCaseSensitive(root, "layers")) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL);
        int expected = 0;
        const cJSON *series;
        cJSON_ArrayForEach(series, cJSON_GetObjectItemCaseSensitive(layer, "series")) {
            double c[1024], a, b;
            int len = coeffs_of(series, c);
            interval_of(series, TARGET_LATTIGO, &a, &b);
            const cJSON *cob = cJSON_GetObjectItemCaseSensitive(series, "change_of_basis");
            double scalar = num(cob, "scalar"), constant = num(cob, "constant");
            CHECK(fabs(scalar - 2.0 / (b - a)) <= 1e-15 * fabs(scalar) &&
                      fabs(constant - (-b - a) / (b - a)) <= 1e-15 * fmax(1.0, fabs(constant)),
                  "layer %d: change of basis %.17g, %.17g for [%.17g, %.17g]", i, scalar, constant, a, b);
            CHECK(len >= 2 && (c[len - 1] != 0.0 || len == 2), "layer %d: trailing zero kept", i);
            n += 2;
            if (folded) {
                CHECK(a == -1.0 && b == 1.0 && scalar == 1.0 && constant == 0.0,
                      "folded layer %d on [%.17g, %.17g]", i, a, b);
                n++;
            }
            int odd = 1, even = 1;
            for (int j = 0; j < len; j++)
                if (c[j] != 0.0)
                    *(j % 2 ? &even : &odd) = 0;
            CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(series, "odd")) == odd &&
                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(series, "even")) == even,
                  "layer %d: odd/even flags", i);
            int integer = scalar == floor(scalar) && scalar * (b - a) == 2.0;
            int want = bit_length(len - 1) + !integer;
            CHECK(num(series, "levels") == want, "layer %d: Lattigo levels %g, expected %d", i,
                  num(series, "levels"), want);
            n += 2;
            expected += want;
        }
        const cJSON *fin = cJSON_GetObjectItemCaseSensitive(layer, "final");
        expected += strcmp(cJSON_GetObjectItemCaseSensitive(fin, "op")->valuestring, "mul_input") == 0;
        CHECK(num(layer, "levels") == expected, "layer %d: Lattigo layer levels %g, expected %d", i,
              num(layer, "levels"), expected);
        n++;
        i++;
    }
}

/* Series k of layer i of a document. */
static const cJSON *series_at(const cJSON *root, int i, int k)
{
    const cJSON *layer = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "layers"), i);
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(layer, "series"), k);
}

/* Unfolded OpenFHE of a direct polynomial: exactly the plan's coefficients on
 * the plan's interval, c_0 doubled, trailing zeros gone. */
static void check_openfhe_literal(const pact_plan *plan, const cJSON *root)
{
    for (int i = 0; i < N_LAYERS; i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL);
        if (l.form != PACT_FORM_POLY)
            continue;
        const cJSON *s = series_at(root, i, 0);
        double c[1024];
        int len = coeffs_of(s, c), same = len >= 2 && len <= l.degrees[0] + 1;
        for (int j = 0; same && j < len; j++)
            same = c[j] == (j == 0 ? 2.0 * l.cheb[0][0] : l.cheb[0][j]);
        for (int j = len; same && j <= l.degrees[0]; j++)
            same = l.cheb[0][j] == 0.0;
        CHECK(same && num(s, "a") == l.a && num(s, "b") == l.b,
              "layer %d: OpenFHE coefficients are not 2 c_0, c_1.. of the plan on [a, b]", i);
        n++;
    }
    /* the trailing-zero layer: degree 4 in the plan, a degree-2 series (3 levels, not 4) */
    const cJSON *s2 = series_at(root, 2, 0);
    CHECK(num(s2, "degree") == 2 && num(s2, "levels") == 3, "trimmed degree %g, levels %g",
          num(s2, "degree"), num(s2, "levels"));
    /* the composite's second part: degree 5 with two trailing zeros -> degree 3 */
    const cJSON *s4 = series_at(root, 4, 1);
    CHECK(num(s4, "degree") == 3, "composite part trimmed to degree %g, expected 3", num(s4, "degree"));
    n += 2;
}

/* A halving mistake must not pass: the OpenFHE document read with the
 * unhalved convention is off by |c_0| on layer 0. */
static void check_sensitivity(const pact_plan *plan, const cJSON *root)
{
    const cJSON *layer = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "layers"), 0);
    double x = 0.3, ref = pact_plan_layer_eval(plan, 0, x);
    double wrong = eval_layer(layer, TARGET_OPENFHE_AS_LATTIGO, x);
    /* TARGET_OPENFHE_AS_LATTIGO uses the Lattigo formula on "a"/"b" */
    CHECK(fabs(wrong - ref - 1.25) < 1e-9, "unhalved reading of OpenFHE coefficients differs by "
          "%.17g, expected c_0 = 1.25", wrong - ref);
    n++;
}

/* --- the C header ------------------------------------------------------------ */

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static void check_c_header(const pact_plan *plan, const char *dir)
{
    pact_export_opts o;
    pact_export_opts_default(&o);
    char *h1 = NULL, *h2 = NULL;
    pact_error err;
    CHECK_OK(pact_export(plan, PACT_EXPORT_C, &o, &h1, &err), &err);
    o.c_prefix = "other_net";
    CHECK_OK(pact_export(plan, PACT_EXPORT_C, &o, &h2, &err), &err);
    n += 2;
    if (!h1 || !h2) {
        free(h1);
        free(h2);
        return;
    }
    char p1[600], p2[600], pm[600], exe[600], cmd[3000];
    snprintf(p1, sizeof p1, "%s/plan.h", dir);
    snprintf(p2, sizeof p2, "%s/other.h", dir);
    snprintf(pm, sizeof pm, "%s/main.c", dir);
    snprintf(exe, sizeof exe, "%s/prog", dir);
    /* both headers in one translation unit: the shared types are guarded */
    const char *prog =
        "#include <stdio.h>\n#include <string.h>\n#include \"plan.h\"\n#include \"other.h\"\n"
        "int main(void)\n{\n"
        "    for (int i = 0; i < PACT_N_LAYERS; i++) {\n"
        "        const pact_c_layer *l = &pact_layers[i];\n"
        "        for (int k = 0; k < 301; k++) {\n"
        "            double x = l->a + (l->b - l->a) * k / 300.0;\n"
        "            printf(\"v %d %a %a %a\\n\", i, x, pact_layer_eval(i, x), other_net_layer_eval(i, x));\n"
        "        }\n"
        "        for (int p = 0; p < l->n_parts; p++)\n"
        "            for (int j = 0; j <= l->parts[p].degree; j++)\n"
        "                printf(\"c %d %d %d %a %a %a\\n\", i, p, j, l->parts[p].cheb[j], l->parts[p].a, l->parts[p].b);\n"
        "        printf(\"l %d %d %d %a %a %a \", i, l->kind, l->n_parts, l->a, l->b, l->bound);\n"
        "        for (const char *s = l->name; *s; s++) printf(\"%02x\", (unsigned char)*s);\n"
        "        printf(\" %s\\n\", l->func);\n"
        "    }\n"
        "    printf(\"m \");\n"
        "    for (const char *s = PACT_MODEL_NAME; *s; s++) printf(\"%02x\", (unsigned char)*s);\n"
        "    printf(\" %s %d %d\\n\", PACT_MODEL_SHA256, OTHER_NET_N_LAYERS, pact_layer_eval(PACT_N_LAYERS, 0.0) != pact_layer_eval(PACT_N_LAYERS, 0.0));\n"
        "    return 0;\n}\n";
    int ok = write_file(p1, h1) && write_file(p2, h2) && write_file(pm, prog);
    CHECK(ok, "cannot write the C sources in %s", dir);
    snprintf(cmd, sizeof cmd, "cc -std=c99 -Wall -Wextra -Wpedantic -Werror -o %s %s -lm 2>&1", exe, pm);
    static char out[1 << 20];
    int rc = pact_test_run(cmd, out, sizeof out);
    CHECK(rc == 0, "the generated header does not compile cleanly (cc -std=c99 -Werror): %s", out);
    n += 2;
    free(h1);
    free(h2);
    if (rc != 0)
        return;
    rc = pact_test_run(exe, out, sizeof out);
    CHECK(rc == 0 && strlen(out) < sizeof out - 1, "program failed (%d) or output truncated", rc);
    n++;

    double worst[N_LAYERS] = {0};
    int values = 0, coeffs = 0, coeff_bad = 0, layers_ok = 0, model_ok = 0;
    int coeff_seen[N_LAYERS] = {0};
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p = line + 2, *end;
        if (line[0] == 'v') {
            int i = (int)strtol(p, &end, 10);
            double x = strtod(end, &end), v = strtod(end, &end), v2 = strtod(end, &end);
            if (i < 0 || i >= N_LAYERS)
                continue;
            double ref = pact_plan_layer_eval(plan, i, x);
            double rel = fmax(fabs(v - ref), fabs(v2 - ref)) / fmax(1.0, fabs(ref));
            worst[i] = isnan(rel) ? INFINITY : fmax(worst[i], rel);
            values++;
        } else if (line[0] == 'c') {
            int i = (int)strtol(p, &end, 10), k = (int)strtol(end, &end, 10);
            int j = (int)strtol(end, &end, 10);
            double c = strtod(end, &end), a = strtod(end, &end), b = strtod(end, &end);
            pact_plan_layer l;
            if (i < 0 || i >= N_LAYERS || pact_plan_layer_get(plan, i, &l, NULL) != PACT_OK ||
                k >= l.n_parts || j > l.degrees[k] || c != l.cheb[k][j] || a != l.part_a[k] ||
                b != l.part_b[k])
                coeff_bad++;
            else
                coeff_seen[i]++;
            coeffs++;
        } else if (line[0] == 'l') {
            int i = (int)strtol(p, &end, 10), kind = (int)strtol(end, &end, 10);
            int parts = (int)strtol(end, &end, 10);
            double a = strtod(end, &end), b = strtod(end, &end), bound = strtod(end, &end);
            pact_plan_layer l;
            if (i < 0 || i >= N_LAYERS || pact_plan_layer_get(plan, i, &l, NULL) != PACT_OK)
                continue;
            char hex[1024] = "";
            for (const char *s = l.name; *s && strlen(hex) < sizeof hex - 3; s++)
                snprintf(hex + strlen(hex), 3, "%02x", (unsigned char)*s);
            int want_kind = l.form == PACT_FORM_POLY ? 0 : l.func == PACT_RELU ? 1 : l.func == PACT_ABS ? 2 : 3;
            char func[32] = "";
            int name_ok = strncmp(end + 1, hex, strlen(hex)) == 0 && end[1 + strlen(hex)] == ' ';
            if (name_ok)
                sscanf(end + 2 + strlen(hex), "%31s", func);
            layers_ok += kind == want_kind && parts == l.n_parts && a == l.a && b == l.b &&
                         bound == (l.form == PACT_FORM_COMPOSITE ? l.bound : 0.0) && name_ok &&
                         strcmp(func, pact_func_name(l.func)) == 0;
        } else if (line[0] == 'm') {
            char hex[1024] = "";
            for (const char *s = pact_plan_model_name(plan); *s && strlen(hex) < sizeof hex - 3; s++)
                snprintf(hex + strlen(hex), 3, "%02x", (unsigned char)*s);
            model_ok = strncmp(p, hex, strlen(hex)) == 0 &&
                       strcmp(p + strlen(hex), " 00ff 10 1") == 0;
        }
    }
    CHECK(values == N_LAYERS * 301, "C program printed %d values, expected %d", values, N_LAYERS * 301);
    CHECK(coeff_bad == 0 && coeffs > 0, "%d of %d C coefficients/intervals differ bit-wise from the plan",
          coeff_bad, coeffs);
    CHECK(layers_ok == N_LAYERS, "%d of %d C layer descriptions match the plan", layers_ok, N_LAYERS);
    CHECK(model_ok, "model name / sha256 / layer count / NAN for a bad index wrong in the C header");
    n += 4;
    for (int i = 0; i < N_LAYERS; i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL);
        int total = 0;
        for (int k = 0; k < l.n_parts; k++)
            total += l.degrees[k] + 1;
        CHECK(coeff_seen[i] == total, "layer %d: %d of %d coefficients in the C header", i,
              coeff_seen[i], total);
        CHECK(worst[i] <= TOL, "C header layer %d (%s): max rel diff %.3g", i, l.name, worst[i]);
        printf("%-26s layer %d %-28s max rel diff %.2e\n", "c", i, l.name, worst[i]);
        n += 2;
    }
}

/* --- per-channel plans ----------------------------------------------------------- */

#define CH_LAYERS 5

static double ch0_rows[5][8], ch3_rows[3][4], ch4_rows[3][3], plain_row[10];

/* Per-channel layers (own intervals, one on [-1, 1], trailing zeros in some
 * channels, every channel on a power-of-two width) between ordinary ones. */
static pact_plan *make_channel_plan(void)
{
    for (int ch = 0; ch < 5; ch++)
        for (int j = 0; j < 8; j++)
            ch0_rows[ch][j] = cos(0.9 * j + 0.7 * ch + 0.2) * pow(0.75, j) + (j == 0 ? 0.3 * ch : 0.0);
    ch0_rows[2][6] = ch0_rows[2][7] = 0.0;                         /* degree 5 in effect */
    for (int j = 0; j < 8; j += 2)
        ch0_rows[4][j] = 0.0;                                        /* odd */
    for (int j = 0; j < 10; j++)
        plain_row[j] = sin(1.3 * j + 0.4) / (1.0 + j);
    static const double r3[3][4] = {{0.5, 1.0, 0.25, 0.0}, {0.1, 0.2, 0.0, 0.0}, {-0.3, 0.0, 0.6, 0.0}};
    static const double r4[3][3] = {{0.25, 0.5, 0.125}, {1.5, -0.75, 0.375}, {-2.0, 0.5, 0.0}};
    memcpy(ch3_rows, r3, sizeof r3);
    memcpy(ch4_rows, r4, sizeof r4);
    static const double ca0[5] = {-3, -1, 0.5, -40, -2.5}, cb0[5] = {7, 1, 2.25, -10, 2.5};
    static const double ca3[3] = {-1, -1, -1}, cb3[3] = {1, 1, 1};
    static const double ca4[3] = {-0.5, 0, -1}, cb4[3] = {0.5, 1, 0};
    static const double f1[] = {0, 1.125, 0, -0.125}, f2[] = {0.05, 1.2, 0.01, -0.3, 0, 0.04};
    const double *rows0[5] = {ch0_rows[0], ch0_rows[1], ch0_rows[2], ch0_rows[3], ch0_rows[4]};
    const double *rows3[3] = {ch3_rows[0], ch3_rows[1], ch3_rows[2]};
    const double *rows4[3] = {ch4_rows[0], ch4_rows[1], ch4_rows[2]};
    const double *plain[1] = {plain_row}, *comp[2] = {f1, f2};
    int d7 = 7, d3 = 3, d2 = 2, d9 = 9, dc[2] = {3, 5};
    double pa[2] = {-1, -1.2}, pb[2] = {1, 1.3}, p9a[1] = {-6}, p9b[1] = {3};
    pact_plan_layer layers[CH_LAYERS] = {
        {.name = "ch_gelu", .func = PACT_GELU, .form = PACT_FORM_POLY, .n_parts = 1, .degrees = &d7,
         .n_channels = 5, .channel_a = ca0, .channel_b = cb0, .channel_cheb = rows0},
        {.name = "plain", .func = PACT_SILU, .form = PACT_FORM_POLY, .a = -6, .b = 3, .n_parts = 1,
         .degrees = &d9, .part_a = p9a, .part_b = p9b, .cheb = plain},
        {.name = "relu_comp", .func = PACT_RELU, .form = PACT_FORM_COMPOSITE, .a = -4, .b = 4,
         .bound = 4, .n_parts = 2, .degrees = dc, .part_a = pa, .part_b = pb, .cheb = comp},
        {.name = "ch_unit", .func = PACT_SILU, .form = PACT_FORM_POLY, .n_parts = 1, .degrees = &d3,
         .n_channels = 3, .channel_a = ca3, .channel_b = cb3, .channel_cheb = rows3},
        {.name = "ch_width1", .func = PACT_TANH, .form = PACT_FORM_POLY, .n_parts = 1, .degrees = &d2,
         .n_channels = 3, .channel_a = ca4, .channel_b = cb4, .channel_cheb = rows4},
    };
    pact_plan *plan = NULL;
    pact_error err;
    CHECK_OK(pact_plan_create("channels", "abcd", CH_LAYERS, &plan, &err), &err);
    n++;
    for (int i = 0; plan && i < CH_LAYERS; i++) {
        layers[i].max_error = layers[i].impact = NAN;
        CHECK_OK(pact_plan_set_layer(plan, i, &layers[i], &err), &err);
        n++;
    }
    return plan;
}

/* The per-channel layers of an OpenFHE document: channel c's series is its
 * row of the plan (unfolded: 2 c_0, c_1.. on its interval; folded: on
 * [-1, 1] with the input map in the vectors), trimmed, with the measured
 * levels; the layer's levels the most of its channels'. */
static void check_openfhe_channels(const pact_plan *plan, const cJSON *root, int folded,
                                   const cJSON *table)
{
    for (int i = 0; i < pact_plan_layer_count(plan); i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL);
        const cJSON *layer = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "layers"), i);
        const cJSON *channels = cJSON_GetObjectItemCaseSensitive(layer, "channels");
        if (l.n_channels == 0) {
            CHECK(!channels && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(layer, "series")),
                  "openfhe layer %d without channels has a series list", i);
            n++;
            continue;
        }
        CHECK(cJSON_GetArraySize(channels) == l.n_channels && num(layer, "n_channels") == l.n_channels &&
                  !cJSON_GetObjectItemCaseSensitive(layer, "series"),
              "openfhe layer %d: %d channel entries, n_channels %g, expected %d", i,
              cJSON_GetArraySize(channels), num(layer, "n_channels"), l.n_channels);
        const cJSON *map = cJSON_GetObjectItemCaseSensitive(layer, "input_map");
        CHECK(folded ? cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(map, "scale")) == l.n_channels &&
                           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(map, "shift")) == l.n_channels
                     : cJSON_IsNull(map),
              "openfhe%s layer %d: input map", folded ? " folded" : "", i);
        n += 2;
        int most = 0;
        for (int ch = 0; ch < l.n_channels; ch++) {
            const cJSON *s = cJSON_GetArrayItem(channels, ch);
            double c[1024];
            int len = coeffs_of(s, c), deg = openfhe_degree(c, len);
            double a = num(s, "a"), b = num(s, "b");
            CHECK(len >= 2 && (deg == len - 1 || len == 2) && num(s, "degree") == len - 1,
                  "layer %d channel %d: %d coefficients, last non-zero at %d", i, ch, len, deg);
            n++;
            if (!folded) {
                int same = len <= l.degrees[0] + 1;
                for (int j = 0; same && j < len; j++)
                    same = c[j] == (j == 0 ? 2.0 * l.channel_cheb[ch][0] : l.channel_cheb[ch][j]);
                for (int j = len; same && j <= l.degrees[0]; j++)
                    same = l.channel_cheb[ch][j] == 0.0;
                CHECK(same && a == l.channel_a[ch] && b == l.channel_b[ch], "layer %d channel %d: "
                      "OpenFHE coefficients are not 2 c_0, c_1.. of the channel on its interval", i, ch);
            } else {
                double w = l.channel_b[ch] - l.channel_a[ch];
                double scale = num_at(map, "scale", ch), shift = num_at(map, "shift", ch);
                CHECK(a == -1.0 && b == 1.0 && fabs(scale - 2.0 / w) <= 1e-15 * fabs(scale) &&
                          fabs(shift + (l.channel_a[ch] + l.channel_b[ch]) / w) <= 1e-15 * fmax(1.0, fabs(shift)),
                      "folded layer %d channel %d: [%g, %g], map %.17g x + %.17g", i, ch, a, b, scale, shift);
            }
            int unit = fabs(a + 1.0) <= 0x1p-44 && fabs(b - 1.0) <= 0x1p-44;
            int want = measured_levels(table, deg) + !unit;
            CHECK(num(s, "levels") == want, "layer %d channel %d (degree %d): levels %g, measured "
                  "table says %d", i, ch, deg, num(s, "levels"), want);
            n += 2;
            most = want > most ? want : most;
        }
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(layer, "final"), "op");
        CHECK(num(layer, "levels") == most && cJSON_IsString(op) && strcmp(op->valuestring, "none") == 0,
              "openfhe layer %d: levels %g, the most of its channels is %d", i, num(layer, "levels"), most);
        n++;
    }
    /* channel 2 of layer 0 had two trailing zeros: degree 5, 3 + 1 levels */
    const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "layers"), 0), "channels"), 2);
    CHECK(num(s, "degree") == 5 && num(s, "levels") == 3 + !folded, "trimmed channel: degree %g, "
          "levels %g", num(s, "degree"), num(s, "levels"));
    n++;
}

/* The per-channel layers of a Lattigo document: NewPolynomialVector wants one
 * degree, so every channel has degree+1 coefficients, degree the largest
 * trimmed one; the change of basis per channel; levels ceil(log2(d+1)) plus
 * one unless every channel has the same integer scalar. */
static void check_lattigo_channels(const pact_plan *plan, const cJSON *root, int folded)
{
    static const int want_degree[CH_LAYERS] = {7, 0, 0, 2, 2};
    for (int i = 0; i < pact_plan_layer_count(plan); i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL);
        if (l.n_channels == 0)
            continue;
        const cJSON *layer = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "layers"), i);
        const cJSON *channels = cJSON_GetObjectItemCaseSensitive(layer, "channels");
        int d = (int)num(layer, "degree");
        CHECK(cJSON_GetArraySize(channels) == l.n_channels && num(layer, "n_channels") == l.n_channels &&
                  d == want_degree[i],
              "lattigo layer %d: %d channels (expected %d), degree %d (expected %d)", i,
              cJSON_GetArraySize(channels), l.n_channels, d, want_degree[i]);
        n++;
        int last_nonzero = 0, all_odd = 1, all_even = 1, same_integer = 1;
        double first = NAN;
        for (int ch = 0; ch < l.n_channels; ch++) {
            const cJSON *s = cJSON_GetArrayItem(channels, ch);
            double c[1024], a, b;
            int len = coeffs_of(s, c);
            interval_of(s, TARGET_LATTIGO, &a, &b);
            const cJSON *cob = cJSON_GetObjectItemCaseSensitive(s, "change_of_basis");
            double scalar = num(cob, "scalar"), constant = num(cob, "constant");
            CHECK(len == d + 1, "lattigo layer %d channel %d: %d coefficients for degree %d", i, ch, len, d);
            CHECK(fabs(scalar - 2.0 / (b - a)) <= 1e-15 * fabs(scalar) &&
                      fabs(constant - (-b - a) / (b - a)) <= 1e-15 * fmax(1.0, fabs(constant)),
                  "layer %d channel %d: change of basis %.17g, %.17g for [%.17g, %.17g]", i, ch,
                  scalar, constant, a, b);
            CHECK(folded ? a == -1.0 && b == 1.0 : a == l.channel_a[ch] && b == l.channel_b[ch],
                  "lattigo layer %d channel %d on [%.17g, %.17g]", i, ch, a, b);
            n += 3;
            int odd = 1, even = 1;
            for (int j = 0; j < len; j++)
                if (c[j] != 0.0)
                    *(j % 2 ? &even : &odd) = 0;
            CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "odd")) == odd &&
                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "even")) == even,
                  "layer %d channel %d: odd/even flags", i, ch);
            n++;
            all_odd = all_odd && odd;
            all_even = all_even && even;
            last_nonzero = last_nonzero || (len > 0 && c[len - 1] != 0.0);
            if (ch == 0)
                first = scalar;
            same_integer = same_integer && scalar == first && scalar == floor(scalar) &&
                           scalar * (b - a) == 2.0;
        }
        CHECK(last_nonzero, "lattigo layer %d: every channel ends in a zero (degree not trimmed)", i);
        CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(layer, "odd")) == all_odd &&
                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(layer, "even")) == all_even,
              "lattigo layer %d: odd/even of the vector", i);
        int want = bit_length(d) + !same_integer;
        CHECK(num(layer, "levels") == want, "lattigo layer %d: levels %g, expected %d", i,
              num(layer, "levels"), want);
        n += 3;
    }
    /* layer 4: every channel of width 1 (scalar 2): no rescale for the change of basis */
    const cJSON *l4 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "layers"), 4);
    CHECK(num(l4, "levels") == 2, "lattigo layer 4: levels %g, expected 2", num(l4, "levels"));
    n++;
}

/* Channels must not be interchangeable: channel 0's exported polynomial read
 * as channel 1's is far off (a test that mixed channels up would fail). */
static void check_channel_sensitivity(const pact_plan *plan, const cJSON *root, target t)
{
    const cJSON *layer = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "layers"), 0);
    double worst = 0.0;
    for (int k = 0; k <= 20; k++) {
        double x = -1.0 + k / 10.0; /* inside channels 0 and 1 */
        worst = fmax(worst, fabs(eval_layer_channel(layer, t, 0, x) -
                                 pact_plan_layer_eval_channel(plan, 0, 1, x)));
    }
    CHECK(worst > 1e-3, "channel 0 read as channel 1 differs by only %.3g", worst);
    n++;
}

/* The C header of the per-channel plan, compiled with the main plan's header
 * in the same translation unit. */
static void check_c_channels(const pact_plan *plan, const pact_plan *main_plan, const char *dir)
{
    pact_export_opts o;
    pact_export_opts_default(&o);
    o.c_prefix = "chan";
    char *h1 = NULL, *h2 = NULL;
    pact_error err;
    CHECK_OK(pact_export(plan, PACT_EXPORT_C, &o, &h1, &err), &err);
    CHECK_OK(pact_export(main_plan, PACT_EXPORT_C, NULL, &h2, &err), &err);
    n += 2;
    if (!h1 || !h2) {
        free(h1);
        free(h2);
        return;
    }
    char p1[600], p2[600], pm[600], exe[600], cmd[3000];
    snprintf(p1, sizeof p1, "%s/chan.h", dir);
    snprintf(p2, sizeof p2, "%s/main_plan.h", dir);
    snprintf(pm, sizeof pm, "%s/chan_main.c", dir);
    snprintf(exe, sizeof exe, "%s/chan_prog", dir);
    const char *prog =
        "#include <stdio.h>\n#include \"main_plan.h\"\n#include \"chan.h\"\n"
        "int main(void)\n{\n"
        "    for (int i = 0; i < CHAN_N_LAYERS; i++) {\n"
        "        const pact_c_layer *l = &chan_layers[i];\n"
        "        int per = l->kind == PACT_C_POLY_CHANNELS, nch = per ? l->n_parts : 2;\n"
        "        for (int ch = 0; ch < nch; ch++) {\n"
        "            double a = per ? l->parts[ch].a : l->a, b = per ? l->parts[ch].b : l->b;\n"
        "            for (int k = 0; k < 301; k++) {\n"
        "                double x = a + (b - a) * k / 300.0;\n"
        "                printf(\"v %d %d %a %a\\n\", i, ch, x, chan_layer_eval_channel(i, ch, x));\n"
        "            }\n"
        "            if (per)\n"
        "                for (int j = 0; j <= l->parts[ch].degree; j++)\n"
        "                    printf(\"c %d %d %d %a %a %a\\n\", i, ch, j, l->parts[ch].cheb[j], a, b);\n"
        "        }\n"
        "        printf(\"n %d %d %d %d %d %d\\n\", i, per, l->n_parts, isnan(chan_layer_eval(i, 0.25)) != 0,\n"
        "               isnan(chan_layer_eval_channel(i, -1, 0.25)) != 0,\n"
        "               isnan(chan_layer_eval_channel(i, l->n_parts, 0.25)) != 0);\n"
        "    }\n"
        "    printf(\"m %d %d\\n\", isnan(chan_layer_eval_channel(CHAN_N_LAYERS, 0, 0.0)) != 0,\n"
        "           isnan(pact_layer_eval(0, 0.5)) == 0);\n"
        "    return 0;\n}\n";
    int ok = write_file(p1, h1) && write_file(p2, h2) && write_file(pm, prog);
    CHECK(ok, "cannot write the C sources in %s", dir);
    snprintf(cmd, sizeof cmd, "cc -std=c99 -Wall -Wextra -Wpedantic -Werror -o %s %s -lm 2>&1", exe, pm);
    static char out[1 << 20];
    int rc = pact_test_run(cmd, out, sizeof out);
    CHECK(rc == 0, "the per-channel header does not compile cleanly (cc -std=c99 -Werror): %s", out);
    n += 2;
    free(h1);
    free(h2);
    if (rc != 0)
        return;
    rc = pact_test_run(exe, out, sizeof out);
    CHECK(rc == 0 && strlen(out) < sizeof out - 1, "program failed (%d) or output truncated", rc);
    n++;
    double worst[CH_LAYERS] = {0};
    int values = 0, coeff_bad = 0, coeffs = 0, layers_ok = 0, model_ok = 0, want_values = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p = line + 2, *end;
        int i = (int)strtol(p, &end, 10);
        pact_plan_layer l;
        if (line[0] == 'm') {
            int bad_index = i, other = (int)strtol(end, &end, 10);
            model_ok = bad_index == 1 && other == 1;
            continue;
        }
        if (i < 0 || i >= CH_LAYERS || pact_plan_layer_get(plan, i, &l, NULL) != PACT_OK)
            continue;
        if (line[0] == 'v') {
            int ch = (int)strtol(end, &end, 10);
            double x = strtod(end, &end), v = strtod(end, &end);
            double ref = pact_plan_layer_eval_channel(plan, i, ch, x);
            double rel = fabs(v - ref) / fmax(1.0, fabs(ref));
            worst[i] = isnan(rel) ? INFINITY : fmax(worst[i], rel);
            values++;
        } else if (line[0] == 'c') {
            int ch = (int)strtol(end, &end, 10), j = (int)strtol(end, &end, 10);
            double c = strtod(end, &end), a = strtod(end, &end), b = strtod(end, &end);
            coeff_bad += !(ch >= 0 && ch < l.n_channels && j <= l.degrees[0] &&
                           c == l.channel_cheb[ch][j] && a == l.channel_a[ch] && b == l.channel_b[ch]);
            coeffs++;
        } else if (line[0] == 'n') {
            int per = (int)strtol(end, &end, 10), parts = (int)strtol(end, &end, 10);
            int nan_layer = (int)strtol(end, &end, 10), nan_neg = (int)strtol(end, &end, 10);
            int nan_past = (int)strtol(end, &end, 10);
            /* a per-channel layer: NaN as one layer and past its last channel; any
             * other: the same for every channel, NaN only for ch < 0 */
            layers_ok += per == (l.n_channels > 0) &&
                         parts == (l.n_channels > 0 ? l.n_channels : l.n_parts) &&
                         nan_layer == per && nan_neg == 1 && nan_past == per;
        }
    }
    int want_coeffs = 0;
    for (int i = 0; i < CH_LAYERS; i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL);
        want_values += (l.n_channels > 0 ? l.n_channels : 2) * 301;
        want_coeffs += l.n_channels * (l.degrees[0] + 1);
    }
    CHECK(values == want_values, "C program printed %d values, expected %d", values, want_values);
    CHECK(coeff_bad == 0 && coeffs == want_coeffs, "%d of %d per-channel C coefficients/intervals "
          "differ bit-wise from the plan (expected %d)", coeff_bad, coeffs, want_coeffs);
    CHECK(layers_ok == CH_LAYERS, "%d of %d C layer descriptions (kind, channels, NaN cases) right",
          layers_ok, CH_LAYERS);
    CHECK(model_ok, "NaN past the last layer, or the two headers do not work together");
    n += 4;
    for (int i = 0; i < CH_LAYERS; i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL);
        CHECK(worst[i] <= TOL, "C header layer %d (%s): max rel diff %.3g per channel", i, l.name, worst[i]);
        printf("%-26s layer %d %-28s max rel diff %.2e\n", "c per-channel", i, l.name, worst[i]);
        n++;
    }
}

static void check_channel_plan(const pact_plan *main_plan, const cJSON *table, const char *dir)
{
    pact_plan *plan = make_channel_plan();
    if (!plan)
        return;
    for (int folded = 0; folded <= 1; folded++) {
        char what[64];
        cJSON *o = export_json(plan, PACT_EXPORT_OPENFHE, folded, "polyact-openfhe");
        cJSON *lt = export_json(plan, PACT_EXPORT_LATTIGO, folded, "polyact-lattigo");
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "channels_convention")) &&
                  cJSON_IsString(cJSON_GetObjectItemCaseSensitive(lt, "channels_convention")),
              "documents of a per-channel plan say how to read \"channels\"");
        n++;
        snprintf(what, sizeof what, "openfhe%s per-channel", folded ? " folded" : "");
        if (o) {
            check_values(plan, o, TARGET_OPENFHE, what);
            if (table)
                check_openfhe_channels(plan, o, folded, table);
            check_channel_sensitivity(plan, o, TARGET_OPENFHE);
        }
        cJSON_Delete(o);
        snprintf(what, sizeof what, "lattigo%s per-channel", folded ? " folded" : "");
        if (lt) {
            check_values(plan, lt, TARGET_LATTIGO, what);
            check_lattigo_channels(plan, lt, folded);
            check_channel_sensitivity(plan, lt, TARGET_LATTIGO);
        }
        cJSON_Delete(lt);
    }
    check_c_channels(plan, main_plan, dir);
    pact_plan_free(plan);
}

/* --- errors -------------------------------------------------------------------- */

static void check_errors(const pact_plan *plan, const char *dir)
{
    pact_export_opts o;
    pact_export_opts_default(&o);
    char *text = (char *)"sentinel";
    pact_error err = {0};
    CHECK(pact_export(plan, (pact_export_format)7, &o, &text, &err) == PACT_EINVAL && text == NULL,
          "unknown format refused");
    o.folded = 1;
    CHECK(pact_export(plan, PACT_EXPORT_C, &o, &text, &err) == PACT_EINVAL &&
              strstr(err.message, "folded"), "folded C refused: %s", err.message);
    o.folded = 0;
    const char *bad_prefixes[] = {"9lives", "a-b", "a b", "x234567890123456789012345678901234"};
    for (int i = 0; i < 4; i++) {
        o.c_prefix = bad_prefixes[i];
        CHECK(pact_export(plan, PACT_EXPORT_C, &o, &text, &err) == PACT_EINVAL &&
                  strstr(err.message, "prefix"), "prefix '%s' refused: %s", bad_prefixes[i], err.message);
    }
    pact_export_format f;
    CHECK(pact_export_format_from_name("openfhe", &f, &err) == PACT_OK && f == PACT_EXPORT_OPENFHE &&
              pact_export_format_from_name("lattigo", &f, &err) == PACT_OK && f == PACT_EXPORT_LATTIGO &&
              pact_export_format_from_name("c", &f, &err) == PACT_OK && f == PACT_EXPORT_C,
          "format names");
    CHECK(pact_export_format_from_name("seal", &f, &err) == PACT_EINVAL && strstr(err.message, "seal"),
          "unknown format name refused: %s", err.message);
    CHECK(strcmp(pact_export_format_name(PACT_EXPORT_LATTIGO), "lattigo") == 0 &&
              strcmp(pact_export_format_name((pact_export_format)9), "?") == 0, "format_name");
    n += 9;

    /* an unset layer */
    pact_plan *partial = NULL;
    CHECK_OK(pact_plan_create("m", "", 2, &partial, &err), &err);
    double c[2] = {0.0, 1.0};
    const double *cp[1] = {c};
    int d[1] = {1};
    pact_plan_layer l = {.name = "only", .func = PACT_RELU, .form = PACT_FORM_POLY, .a = -1, .b = 1,
                         .n_parts = 1, .degrees = d, .cheb = cp, .max_error = NAN, .impact = NAN};
    if (partial)
        CHECK_OK(pact_plan_set_layer(partial, 0, &l, &err), &err);
    CHECK(partial && pact_export(partial, PACT_EXPORT_OPENFHE, NULL, &text, &err) == PACT_EINVAL &&
              strstr(err.message, "layer 1"), "unset layer refused: %s", err.message);
    pact_plan_free(partial);
    n += 3;

    /* overflow: 2 c_0 for OpenFHE; a folded relu composite scaled by B */
    pact_plan *huge = NULL;
    CHECK_OK(pact_plan_create("m", "", 2, &huge, &err), &err);
    double hc[2] = {1.5e308, 1.0}, rc[2] = {0.5, 1e10};
    const double *hcp[1] = {hc}, *rcp[1] = {rc};
    double pa[1] = {-1}, pb[1] = {1};
    pact_plan_layer lh = l, lr = {.name = "relu", .func = PACT_RELU, .form = PACT_FORM_COMPOSITE,
                                  .a = -1e300, .b = 1e300, .bound = 1e300, .n_parts = 1,
                                  .degrees = d, .part_a = pa, .part_b = pb, .cheb = rcp,
                                  .max_error = NAN, .impact = NAN};
    lh.cheb = hcp;
    if (huge) {
        CHECK_OK(pact_plan_set_layer(huge, 0, &lh, &err), &err);
        CHECK_OK(pact_plan_set_layer(huge, 1, &lr, &err), &err);
        CHECK(pact_export(huge, PACT_EXPORT_OPENFHE, NULL, &text, &err) == PACT_ENUMERIC &&
                  strstr(err.message, "only") && text == NULL, "2 c_0 overflow refused: %s", err.message);
        char *ok_text = NULL;
        o.c_prefix = NULL;
        o.folded = 0;
        CHECK_OK(pact_export(huge, PACT_EXPORT_LATTIGO, &o, &ok_text, &err), &err);
        free(ok_text);
        o.folded = 1;
        CHECK(pact_export(huge, PACT_EXPORT_LATTIGO, &o, &text, &err) == PACT_ENUMERIC &&
                  strstr(err.message, "relu"), "folded overflow refused: %s", err.message);
    }
    pact_plan_free(huge);
    n += 6;

    /* save: written whole, or not at all */
    char path[600], missing[600];
    snprintf(path, sizeof path, "%s/export.json", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/export.json", dir);
    CHECK_OK(pact_export_save(plan, PACT_EXPORT_OPENFHE, NULL, path, &err), &err);
    char *expect = NULL;
    CHECK_OK(pact_export(plan, PACT_EXPORT_OPENFHE, NULL, &expect, &err), &err);
    FILE *fp = fopen(path, "rb");
    static char got[1 << 20];
    size_t len = fp ? fread(got, 1, sizeof got - 1, fp) : 0;
    got[len] = '\0';
    if (fp)
        fclose(fp);
    CHECK(expect && strcmp(got, expect) == 0, "saved file differs from pact_export's text");
    free(expect);
    CHECK(pact_export_save(plan, PACT_EXPORT_OPENFHE, NULL, missing, &err) == PACT_EIO &&
              access(missing, F_OK) != 0, "save into a missing folder: %s", err.message);
    n += 4;
    o.folded = 1;
    o.c_prefix = NULL;
    char bad_path[600];
    snprintf(bad_path, sizeof bad_path, "%s/c.h", dir);
    CHECK(pact_export_save(plan, PACT_EXPORT_C, &o, bad_path, &err) == PACT_EINVAL &&
              access(bad_path, F_OK) != 0, "failed export leaves no file");
    n++;
    remove(path);
}

static void check_levels_function(const cJSON *table)
{
    int bad = 0, covered = 0;
    for (int d = 1; d <= 1023; d++) {
        int want = measured_levels(table, d);
        if (want < 0)
            continue;
        covered++;
        if (pact_openfhe_series_levels(d) != want) {
            if (!bad)
                fprintf(stderr, "degree %d: %d levels, measured %d\n", d, pact_openfhe_series_levels(d), want);
            bad++;
        }
    }
    CHECK(bad == 0 && covered >= 496, "%d of %d measured degrees disagree", bad, covered);
    CHECK(pact_openfhe_series_levels(0) == -1 && pact_openfhe_series_levels(1024) == -1 &&
              pact_openfhe_series_levels(1007) == 10 && pact_openfhe_series_levels(1008) == 11,
          "levels outside the measured range");
    n += 2;
}

int main(void)
{
    char dir[] = "/tmp/pact_test_export_XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    const char *he = pact_test_data("he/openfhe-n16-2core.json");
    CHECK(he != NULL, "the measured OpenFHE table is required");
    n++;
    cJSON *he_root = NULL;
    if (he) {
        FILE *f = fopen(he, "rb");
        static char buf[1 << 16];
        size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        buf[len] = '\0';
        if (f)
            fclose(f);
        he_root = cJSON_Parse(buf);
    }
    const cJSON *table = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(he_root, "levels_consumed_by_degree"), "unit_interval");
    CHECK(cJSON_IsObject(table), "he/openfhe-n16-2core.json has no levels_consumed_by_degree.unit_interval");
    n++;

    pact_plan *plan = make_plan("net \"*/ ?\?( \\ \n\t\xc3\xa9");
    if (!plan)
        return pact_test_done("test_export", n);

    for (int folded = 0; folded <= 1; folded++) {
        char what[64];
        cJSON *o = export_json(plan, PACT_EXPORT_OPENFHE, folded, "polyact-openfhe");
        snprintf(what, sizeof what, "openfhe%s", folded ? " folded" : "");
        CHECK(!cJSON_GetObjectItemCaseSensitive(o, "channels_convention"),
              "no channels_convention without per-channel layers");
        n++;
        if (o) {
            check_values(plan, o, TARGET_OPENFHE, what);
            if (table)
                check_openfhe_structure(plan, o, folded, table);
            if (!folded) {
                check_openfhe_literal(plan, o);
                check_sensitivity(plan, o);
            }
        }
        cJSON_Delete(o);
        cJSON *lt = export_json(plan, PACT_EXPORT_LATTIGO, folded, "polyact-lattigo");
        snprintf(what, sizeof what, "lattigo%s", folded ? " folded" : "");
        if (lt) {
            check_values(plan, lt, TARGET_LATTIGO, what);
            check_lattigo_structure(plan, lt, folded);
        }
        cJSON_Delete(lt);
    }
    if (table)
        check_levels_function(table);
    check_c_header(plan, dir);
    check_channel_plan(plan, table, dir);
    check_errors(plan, dir);
    cJSON_Delete(he_root);
    pact_plan_free(plan);

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    pact_test_run(cmd, NULL, 0);
    return pact_test_done("test_export", n);
}
