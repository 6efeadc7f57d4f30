/* The C export: a self-contained header with every layer's coefficients as
 * static const arrays (%.17g: each double reads back exactly) and inline
 * Clenshaw evaluation, so a plan runs without libpolyact. Names and hashes
 * come from the plan file: they only ever appear inside escaped string
 * literals, never in comments or identifiers. */
#include "export_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_MAX 32

static const char types_block[] =
    "#ifndef PACT_C_PLAN_TYPES\n"
    "#define PACT_C_PLAN_TYPES\n"
    "/* Shared by every header polyact exports (any prefix). */\n"
    "enum { PACT_C_POLY = 0, PACT_C_RELU = 1, PACT_C_ABS = 2, PACT_C_SIGN = 3 };\n"
    "\n"
    "typedef struct {\n"
    "    int degree;         /* degree + 1 coefficients */\n"
    "    double a, b;        /* the part's interval */\n"
    "    const double *cheb; /* c[0..degree], Chebyshev basis of [a, b], c[0] not halved */\n"
    "} pact_c_part;\n"
    "\n"
    "typedef struct {\n"
    "    const char *name;   /* the model's activation name */\n"
    "    const char *func;   /* the activation approximated (\"relu\", \"gelu\", ...) */\n"
    "    int kind;           /* PACT_C_POLY, or composite PACT_C_RELU / _ABS / _SIGN */\n"
    "    double a, b;        /* input interval (composite: [-bound, bound]) */\n"
    "    double bound;       /* composite: B; poly: 0 */\n"
    "    int n_parts;        /* poly: 1 */\n"
    "    const pact_c_part *parts;\n"
    "} pact_c_layer;\n"
    "\n"
    "/* sum_{j=0}^{degree} c[j] T_j(t), t = (2 x - a - b) / (b - a), by Clenshaw's\n"
    " * recurrence b_j = 2 t b_{j+1} - b_{j+2} + c[j]. */\n"
    "static inline double pact_c_cheb_eval(const double *c, int degree, double a, double b,\n"
    "                                      double x)\n"
    "{\n"
    "    double t = (2.0 * x - a - b) / (b - a), b1 = 0.0, b2 = 0.0;\n"
    "    for (int j = degree; j >= 1; j--) {\n"
    "        double next = 2.0 * t * b1 - b2 + c[j];\n"
    "        b2 = b1;\n"
    "        b1 = next;\n"
    "    }\n"
    "    return t * b1 - b2 + c[0];\n"
    "}\n"
    "\n"
    "/* A layer's approximation at x: poly p(x); composite u = x / B,\n"
    " * s = p_k(...p_1(u)) (parts in order), then B u (1 + s) / 2 (relu), B u s (abs)\n"
    " * or s (sign). */\n"
    "static inline double pact_c_layer_eval(const pact_c_layer *l, double x)\n"
    "{\n"
    "    if (l->kind == PACT_C_POLY)\n"
    "        return pact_c_cheb_eval(l->parts[0].cheb, l->parts[0].degree, l->a, l->b, x);\n"
    "    double u = x / l->bound, s = u;\n"
    "    for (int k = 0; k < l->n_parts; k++)\n"
    "        s = pact_c_cheb_eval(l->parts[k].cheb, l->parts[k].degree, l->parts[k].a,\n"
    "                             l->parts[k].b, s);\n"
    "    if (l->kind == PACT_C_RELU)\n"
    "        return l->bound * u * (1.0 + s) * 0.5;\n"
    "    if (l->kind == PACT_C_ABS)\n"
    "        return l->bound * u * s;\n"
    "    return s;\n"
    "}\n"
    "#endif /* PACT_C_PLAN_TYPES */\n";

/* Only in headers of plans with per-channel layers, so that the others stay
 * as they were; guarded apart for the same reason. */
static const char channel_types_block[] =
    "#ifndef PACT_C_PLAN_CHANNEL_TYPES\n"
    "#define PACT_C_PLAN_CHANNEL_TYPES\n"
    "/* A per-channel layer (polyact optimize --per-channel) has kind\n"
    " * PACT_C_POLY_CHANNELS and one part per channel: parts[ch] is channel ch's\n"
    " * polynomial on its own interval, n_parts the channel count, a, b the hull\n"
    " * of the channels' intervals. pact_c_layer_eval does not apply to it. */\n"
    "enum { PACT_C_POLY_CHANNELS = 4 };\n"
    "\n"
    "/* Channel ch of a layer at x: a per-channel layer's polynomial of channel\n"
    " * ch, any other layer's own (every channel alike); NAN when ch < 0 or, per\n"
    " * channel, ch >= n_parts. */\n"
    "static inline double pact_c_layer_eval_channel(const pact_c_layer *l, int ch, double x)\n"
    "{\n"
    "    if (ch < 0)\n"
    "        return NAN;\n"
    "    if (l->kind != PACT_C_POLY_CHANNELS)\n"
    "        return pact_c_layer_eval(l, x);\n"
    "    if (ch >= l->n_parts)\n"
    "        return NAN;\n"
    "    return pact_c_cheb_eval(l->parts[ch].cheb, l->parts[ch].degree, l->parts[ch].a,\n"
    "                            l->parts[ch].b, x);\n"
    "}\n"
    "#endif /* PACT_C_PLAN_CHANNEL_TYPES */\n";

/* A C string literal: printable ASCII as is, everything else (and " \ ?) as
 * a three-digit octal escape, which can neither run on nor form a trigraph. */
static void c_string(export_text *t, const char *s)
{
    export_text_printf(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '?')
            export_text_printf(t, "%c", *p);
        else
            export_text_printf(t, "\\%03o", *p);
    }
    export_text_printf(t, "\"");
}

/* %.17g, locale-proof: every double reads back bit for bit */
static const char *c_double(char buf[PACT_DOUBLE_TEXT_MAX], double v)
{
    pact_format_double(buf, v, 0);
    return buf;
}

static const char *kind_name(const pact_plan_layer *l)
{
    if (l->n_channels > 0)
        return "PACT_C_POLY_CHANNELS";
    if (l->form == PACT_FORM_POLY)
        return "PACT_C_POLY";
    return l->func == PACT_RELU ? "PACT_C_RELU" : l->func == PACT_ABS ? "PACT_C_ABS" : "PACT_C_SIGN";
}

static pact_status check_prefix(const char *prefix, pact_error *err)
{
    size_t n = strlen(prefix);
    int ok = n >= 1 && n <= PREFIX_MAX && (isalpha((unsigned char)prefix[0]) || prefix[0] == '_');
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)prefix[i]) || prefix[i] == '_';
    if (!ok)
        return pact_fail(err, PACT_EINVAL,
                         "export: C prefix '%.40s' must be a C identifier of 1..%d characters",
                         prefix, PREFIX_MAX);
    return PACT_OK;
}

/* A per-channel layer: every channel's row, then one part per channel. */
static void channel_arrays(export_text *t, const pact_plan_layer *l, const char *prefix, int i)
{
    char x[PACT_DOUBLE_TEXT_MAX], y[PACT_DOUBLE_TEXT_MAX];
    int d = l->degrees[0];
    export_text_printf(t, "\n/* layer %d: polynomial per channel, %d channels of degree %d */\n",
                       i, l->n_channels, d);
    export_text_printf(t, "static const double %s_layer%d_cheb[%d] = {\n", prefix, i,
                       l->n_channels * (d + 1));
    for (int ch = 0; ch < l->n_channels; ch++) {
        export_text_printf(t, "    /* channel %d: c[0..%d] */\n", ch, d);
        for (int j = 0; j <= d; j++)
            export_text_printf(t, "    %s,\n", c_double(x, l->channel_cheb[ch][j]));
    }
    export_text_printf(t, "};\n");
    export_text_printf(t, "static const pact_c_part %s_layer%d_parts[%d] = {\n", prefix, i,
                       l->n_channels);
    for (int ch = 0; ch < l->n_channels; ch++)
        export_text_printf(t, "    {%d, %s, %s, %s_layer%d_cheb + %d},\n", d,
                           c_double(x, l->channel_a[ch]), c_double(y, l->channel_b[ch]), prefix,
                           i, ch * (d + 1));
    export_text_printf(t, "};\n");
}

pact_status export_c_header(const pact_plan *plan, const char *prefix, char **text,
                            pact_error *err)
{
    pact_status st = check_prefix(prefix, err);
    if (st != PACT_OK)
        return st;
    char upper[PREFIX_MAX + 1];
    size_t n = strlen(prefix);
    for (size_t i = 0; i <= n; i++)
        upper[i] = (char)toupper((unsigned char)prefix[i]);
    int n_layers = pact_plan_layer_count(plan);
    char x[PACT_DOUBLE_TEXT_MAX], y[PACT_DOUBLE_TEXT_MAX], z[PACT_DOUBLE_TEXT_MAX];

    export_text t = {0};
    export_text_printf(&t,
        "/* A polyact plan as a self-contained C header (polyact " PACT_VERSION_STRING
        ", generated: do not edit).\n"
        " *\n"
        " * %s_layer_eval(i, x) evaluates layer i's approximation in double precision,\n"
        " * exactly as pact_plan_layer_eval does, without libpolyact: include this header\n"
        " * (C99 or later, or C++) and link with -lm. %s_layers[i] describes layer i.\n"
        " *\n"
        " * Coefficients are in the Chebyshev basis of each part's interval [a, b], c[0]\n"
        " * NOT halved: p(x) = sum_{j=0}^{d} c[j] T_j((2 x - a - b) / (b - a)).\n"
        " * %s_layer<i>_cheb holds the coefficients of every part of layer i in order,\n"
        " * written with %%.17g so that each double reads back bit for bit. */\n"
        "#ifndef %s_EXPORTED_PLAN_H\n"
        "#define %s_EXPORTED_PLAN_H\n\n"
        "#include <math.h>\n\n",
        prefix, prefix, prefix, upper, upper);
    int has_channels = 0;
    for (int i = 0; i < n_layers; i++) {
        pact_plan_layer l;
        if ((st = pact_plan_layer_get(plan, i, &l, err)) != PACT_OK) {
            free(t.s);
            return st;
        }
        has_channels = has_channels || l.n_channels > 0;
    }
    export_text_printf(&t, "%s\n", types_block);
    if (has_channels)
        export_text_printf(&t,
            "/* Per-channel layers: %s_layer_eval_channel(i, ch, x) evaluates channel\n"
            " * ch's polynomial of layer i (%s_layer_eval(i, x) is NAN for them), as\n"
            " * pact_plan_layer_eval_channel does; %s_layer<i>_cheb holds channel after\n"
            " * channel, each c[0..degree]. */\n%s\n",
            prefix, prefix, prefix, channel_types_block);
    export_text_printf(&t, "#define %s_MODEL_NAME ", upper);
    c_string(&t, pact_plan_model_name(plan));
    export_text_printf(&t, "\n#define %s_MODEL_SHA256 ", upper);
    c_string(&t, pact_plan_model_sha256(plan));
    export_text_printf(&t, "\n#define %s_N_LAYERS %d\n", upper, n_layers);

    for (int i = 0; i < n_layers; i++) {
        pact_plan_layer l;
        if ((st = pact_plan_layer_get(plan, i, &l, err)) != PACT_OK) {
            free(t.s);
            return st;
        }
        if (l.n_channels > 0) {
            channel_arrays(&t, &l, prefix, i);
            continue;
        }
        int total = 0;
        for (int k = 0; k < l.n_parts; k++)
            total += l.degrees[k] + 1;
        export_text_printf(&t, "\n/* layer %d: %s, %d part%s */\n", i,
                           l.form == PACT_FORM_POLY ? "polynomial" : "composite", l.n_parts,
                           l.n_parts == 1 ? "" : "s");
        export_text_printf(&t, "static const double %s_layer%d_cheb[%d] = {\n", prefix, i, total);
        for (int k = 0; k < l.n_parts; k++) {
            if (l.n_parts > 1)
                export_text_printf(&t, "    /* part %d: c[0..%d] */\n", k, l.degrees[k]);
            for (int j = 0; j <= l.degrees[k]; j++)
                export_text_printf(&t, "    %s,\n", c_double(x, l.cheb[k][j]));
        }
        export_text_printf(&t, "};\n");
        export_text_printf(&t, "static const pact_c_part %s_layer%d_parts[%d] = {\n", prefix, i,
                           l.n_parts);
        for (int k = 0, off = 0; k < l.n_parts; off += l.degrees[k] + 1, k++)
            export_text_printf(&t, "    {%d, %s, %s, %s_layer%d_cheb + %d},\n", l.degrees[k],
                               c_double(x, l.part_a[k]), c_double(y, l.part_b[k]), prefix, i, off);
        export_text_printf(&t, "};\n");
    }

    export_text_printf(&t, "\nstatic const pact_c_layer %s_layers[%s_N_LAYERS] = {\n", prefix, upper);
    for (int i = 0; i < n_layers; i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, NULL); /* checked above */
        export_text_printf(&t, "    {");
        c_string(&t, l.name);
        export_text_printf(&t, ", \"%s\", %s, %s, %s, %s, %d, %s_layer%d_parts},\n",
                           pact_func_name(l.func), kind_name(&l), c_double(x, l.a),
                           c_double(y, l.b),
                           c_double(z, l.form == PACT_FORM_COMPOSITE ? l.bound : 0.0),
                           l.n_channels > 0 ? l.n_channels : l.n_parts, prefix, i);
    }
    if (has_channels)
        export_text_printf(&t, "};\n\n"
            "/* Layer i's approximation at x; NAN when i is outside 0..%s_N_LAYERS-1 or\n"
            " * layer i is per-channel. */\n"
            "static inline double %s_layer_eval(int i, double x)\n"
            "{\n"
            "    return i >= 0 && i < %s_N_LAYERS && %s_layers[i].kind != PACT_C_POLY_CHANNELS\n"
            "               ? pact_c_layer_eval(&%s_layers[i], x) : NAN;\n"
            "}\n\n"
            "/* Channel ch of layer i at x (see pact_c_layer_eval_channel); NAN when i\n"
            " * is outside 0..%s_N_LAYERS-1. */\n"
            "static inline double %s_layer_eval_channel(int i, int ch, double x)\n"
            "{\n"
            "    return i >= 0 && i < %s_N_LAYERS ? pact_c_layer_eval_channel(&%s_layers[i], ch, x)\n"
            "                                     : NAN;\n"
            "}\n\n"
            "#endif /* %s_EXPORTED_PLAN_H */\n",
            upper, prefix, upper, prefix, prefix, upper, prefix, upper, prefix, upper);
    else
        export_text_printf(&t, "};\n\n"
            "/* Layer i's approximation at x; NAN when i is outside 0..%s_N_LAYERS-1. */\n"
            "static inline double %s_layer_eval(int i, double x)\n"
            "{\n"
            "    return i >= 0 && i < %s_N_LAYERS ? pact_c_layer_eval(&%s_layers[i], x) : NAN;\n"
            "}\n\n"
            "#endif /* %s_EXPORTED_PLAN_H */\n",
            upper, prefix, upper, prefix, upper);
    if (t.failed) {
        free(t.s);
        return pact_fail(err, PACT_ENOMEM, "export: out of memory writing the C header");
    }
    *text = t.s;
    return PACT_OK;
}
