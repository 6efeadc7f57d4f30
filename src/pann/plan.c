/* The plan: per activation layer, the approximation that replaces it. */
#include "plan_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void layer_clear(plan_layer *l)
{
    free(l->name);
    for (int i = 0; i < l->n_parts; i++)
        free(l->cheb[i]);
    free(l->ch_a);
    free(l->ch_b);
    free(l->ch_cheb);
    free(l->ch_rows);
    memset(l, 0, sizeof *l);
}

pact_status pact_plan_create(const char *model_name, const char *model_sha256, int n_layers,
                             pact_plan **out, pact_error *err)
{
    *out = NULL;
    if (!model_name || !model_sha256)
        return pact_fail(err, PACT_EINVAL, "plan: model name and sha256 must not be NULL");
    if (n_layers < 1 || n_layers > PACT_PLAN_MAX_LAYERS)
        return pact_fail(err, PACT_EINVAL, "plan: %d layers outside 1..%d", n_layers,
                         PACT_PLAN_MAX_LAYERS);
    pact_plan *p = calloc(1, sizeof *p);
    if (!p)
        return pact_fail(err, PACT_ENOMEM, "plan: out of memory");
    p->layers = calloc((size_t)n_layers, sizeof *p->layers);
    p->model_name = dup_str(model_name);
    p->model_sha256 = dup_str(model_sha256);
    p->n_layers = n_layers;
    if (!p->layers || !p->model_name || !p->model_sha256) {
        pact_plan_free(p);
        return pact_fail(err, PACT_ENOMEM, "plan: out of memory");
    }
    *out = p;
    return PACT_OK;
}

void pact_plan_free(pact_plan *p)
{
    if (!p)
        return;
    for (int i = 0; p->layers && i < p->n_layers; i++)
        layer_clear(&p->layers[i]);
    for (int i = 0; i < p->n_summary; i++)
        free(p->summary[i].key);
    for (int i = 0; i < p->n_notes; i++) {
        free(p->notes[i].key);
        free(p->notes[i].value);
    }
    free(p->summary);
    free(p->notes);
    free(p->layers);
    free(p->model_name);
    free(p->model_sha256);
    free(p);
}

int pact_plan_layer_count(const pact_plan *p) { return p->n_layers; }
const char *pact_plan_model_name(const pact_plan *p) { return p->model_name; }
const char *pact_plan_model_sha256(const pact_plan *p) { return p->model_sha256; }

int pact_plan_depth(pact_func func, pact_form form, int n_parts, const int *degrees)
{
    int depth = 0;
    for (int i = 0; i < n_parts; i++) {
        pact_bsgs b;
        if (pact_bsgs_plan(degrees[i], &b, NULL) != PACT_OK)
            return -1;
        depth += b.depth;
    }
    /* the final product u (1 + s) / 2 or u s of a composite relu / abs */
    if (form == PACT_FORM_COMPOSITE && func != PACT_SIGN)
        depth += 1;
    return depth;
}

/* A per-channel layer: its channels' intervals and coefficients. */
static pact_status validate_channels(int i, const pact_plan_layer *in, pact_error *err)
{
    if (in->form != PACT_FORM_POLY || in->n_parts != 1)
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): per-channel polynomials need the poly form",
                         i, in->name);
    if (in->n_channels > PACT_PLAN_MAX_CHANNELS)
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): %d channels outside 1..%d", i,
                         in->name, in->n_channels, PACT_PLAN_MAX_CHANNELS);
    if (!in->channel_a || !in->channel_b || !in->channel_cheb)
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): %d channels but NULL channel arrays",
                         i, in->name, in->n_channels);
    if (!in->degrees)
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): no degree", i, in->name);
    int d = in->degrees[0];
    if (d < 1 || d > 1023)
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): degree %d outside 1..1023", i,
                         in->name, d);
    for (int c = 0; c < in->n_channels; c++) {
        double ca = in->channel_a[c], cb = in->channel_b[c];
        if (!(isfinite(ca) && isfinite(cb) && ca < cb && isfinite(cb - ca)))
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): channel %d interval [%g, %g] needs finite a < b, b - a finite",
                             i, in->name, c, ca, cb);
        if (!in->channel_cheb[c])
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): channel %d has no coefficients",
                             i, in->name, c);
        for (int j = 0; j <= d; j++)
            if (!isfinite(in->channel_cheb[c][j]))
                return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): channel %d coefficient %d is not finite",
                                 i, in->name, c, j);
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int c = 0; c < in->n_channels; c++) {
        lo = fmin(lo, in->channel_a[c]);
        hi = fmax(hi, in->channel_b[c]);
    }
    if (!isfinite(hi - lo))
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): the channel intervals span [%g, %g], wider than a double",
                         i, in->name, lo, hi);
    return PACT_OK;
}

static pact_status validate(int i, const pact_plan_layer *in, pact_error *err)
{
    if (!in->name || !in->name[0])
        return pact_fail(err, PACT_EINVAL, "plan layer %d: empty name", i);
    if ((unsigned)in->func >= PACT_FUNC_COUNT)
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): unknown function %d", i,
                         in->name, (int)in->func);
    if (in->n_channels < 0)
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): %d channels", i, in->name,
                         in->n_channels);
    if (in->n_channels > 0)
        return validate_channels(i, in, err);
    if (!in->degrees || !in->cheb ||
        (in->form == PACT_FORM_COMPOSITE && (!in->part_a || !in->part_b)))
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): NULL %s", i, in->name,
                         !in->degrees ? "degrees" : !in->cheb ? "cheb" : "part_a/part_b");
    if (!(isfinite(in->a) && isfinite(in->b) && in->a < in->b && isfinite(in->b - in->a)))
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): interval [%g, %g] needs finite a < b, b - a finite",
                         i, in->name, in->a, in->b);
    if (in->form == PACT_FORM_POLY) {
        if (in->n_parts != 1)
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): a direct polynomial has 1 part, not %d",
                             i, in->name, in->n_parts);
    } else if (in->form == PACT_FORM_COMPOSITE) {
        if (in->func != PACT_RELU && in->func != PACT_ABS && in->func != PACT_SIGN)
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): composite form is for relu, abs or sign, not %s",
                             i, in->name, pact_func_name(in->func));
        if (!(isfinite(in->bound) && in->bound > 0.0))
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): composite bound %g must be > 0",
                             i, in->name, in->bound);
        if (in->n_parts < 1 || in->n_parts > PACT_PLAN_MAX_PARTS)
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): %d parts outside 1..%d", i,
                             in->name, in->n_parts, PACT_PLAN_MAX_PARTS);
    } else {
        return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): unknown form %d", i, in->name,
                         (int)in->form);
    }
    for (int k = 0; k < in->n_parts; k++) {
        int d = in->degrees[k];
        if (d < 1 || d > 1023)
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): part %d degree %d outside 1..1023",
                             i, in->name, k, d);
        double pa = in->form == PACT_FORM_POLY ? in->a : in->part_a[k];
        double pb = in->form == PACT_FORM_POLY ? in->b : in->part_b[k];
        if (!(isfinite(pa) && isfinite(pb) && pa < pb && isfinite(pb - pa)))
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): part %d interval [%g, %g] needs finite a < b, b - a finite",
                             i, in->name, k, pa, pb);
        if (!in->cheb[k])
            return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): part %d has no coefficients",
                             i, in->name, k);
        for (int j = 0; j <= d; j++)
            if (!isfinite(in->cheb[k][j]))
                return pact_fail(err, PACT_EINVAL, "plan layer %d (%s): part %d coefficient %d is not finite",
                                 i, in->name, k, j);
    }
    return PACT_OK;
}

/* Copies a per-channel layer's channels into l (n_parts 1, degree set);
 * its interval becomes their hull. 0 when out of memory. */
static int copy_channels(plan_layer *l, const pact_plan_layer *in)
{
    size_t nc = (size_t)in->n_channels, m = (size_t)in->degrees[0] + 1;
    l->ch_a = malloc(nc * sizeof *l->ch_a);
    l->ch_b = malloc(nc * sizeof *l->ch_b);
    l->ch_cheb = malloc(nc * m * sizeof *l->ch_cheb);
    l->ch_rows = malloc(nc * sizeof *l->ch_rows);
    if (!l->ch_a || !l->ch_b || !l->ch_cheb || !l->ch_rows)
        return 0;
    l->n_channels = in->n_channels;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t c = 0; c < nc; c++) {
        l->ch_a[c] = in->channel_a[c];
        l->ch_b[c] = in->channel_b[c];
        lo = fmin(lo, l->ch_a[c]);
        hi = fmax(hi, l->ch_b[c]);
        memcpy(l->ch_cheb + c * m, in->channel_cheb[c], m * sizeof *l->ch_cheb);
        l->ch_rows[c] = l->ch_cheb + c * m;
    }
    l->a = l->part_a[0] = lo;
    l->b = l->part_b[0] = hi;
    return 1;
}

pact_status pact_plan_set_layer(pact_plan *p, int i, const pact_plan_layer *in, pact_error *err)
{
    if (i < 0 || i >= p->n_layers)
        return pact_fail(err, PACT_EINVAL, "plan: layer %d outside 0..%d", i, p->n_layers - 1);
    pact_status st = validate(i, in, err);
    if (st != PACT_OK)
        return st;
    plan_layer l = {0};
    l.set = 1;
    l.name = dup_str(in->name);
    l.func = in->func;
    l.form = in->form;
    l.a = in->a;
    l.b = in->b;
    l.bound = in->form == PACT_FORM_COMPOSITE ? in->bound : 0.0;
    l.n_parts = in->n_parts;
    l.max_error = in->max_error;
    l.impact = in->impact;
    int ok = l.name != NULL;
    for (int k = 0; in->n_channels == 0 && k < in->n_parts; k++) {
        l.degrees[k] = in->degrees[k];
        l.part_a[k] = in->form == PACT_FORM_POLY ? in->a : in->part_a[k];
        l.part_b[k] = in->form == PACT_FORM_POLY ? in->b : in->part_b[k];
        l.cheb[k] = malloc((size_t)(in->degrees[k] + 1) * sizeof(double));
        if (!l.cheb[k]) {
            ok = 0;
            l.n_parts = k; /* what layer_clear must free */
            break;
        }
        memcpy(l.cheb[k], in->cheb[k], (size_t)(in->degrees[k] + 1) * sizeof(double));
    }
    if (in->n_channels > 0)
        l.degrees[0] = in->degrees[0];
    if (ok && in->n_channels > 0 && !copy_channels(&l, in))
        ok = 0;
    if (!ok) {
        layer_clear(&l);
        return pact_fail(err, PACT_ENOMEM, "plan layer %d: out of memory", i);
    }
    l.depth = pact_plan_depth(l.func, l.form, l.n_parts, l.degrees);
    layer_clear(&p->layers[i]);
    p->layers[i] = l;
    return PACT_OK;
}

pact_status pact_plan_layer_get(const pact_plan *p, int i, pact_plan_layer *out, pact_error *err)
{
    if (i < 0 || i >= p->n_layers)
        return pact_fail(err, PACT_EINVAL, "plan: layer %d outside 0..%d", i, p->n_layers - 1);
    const plan_layer *l = &p->layers[i];
    if (!l->set)
        return pact_fail(err, PACT_EINVAL, "plan: layer %d is not set", i);
    out->name = l->name;
    out->func = l->func;
    out->form = l->form;
    out->a = l->a;
    out->b = l->b;
    out->bound = l->bound;
    out->n_parts = l->n_parts;
    out->degrees = l->degrees;
    out->part_a = l->part_a;
    out->part_b = l->part_b;
    out->cheb = l->n_channels > 0 ? NULL : (const double *const *)l->cheb;
    out->depth = l->depth;
    out->max_error = l->max_error;
    out->impact = l->impact;
    out->n_channels = l->n_channels;
    out->channel_a = l->ch_a;
    out->channel_b = l->ch_b;
    out->channel_cheb = (const double *const *)l->ch_rows;
    return PACT_OK;
}

double pact_plan_layer_eval(const pact_plan *p, int i, double x)
{
    if (i < 0 || i >= p->n_layers || !p->layers[i].set)
        return NAN;
    const plan_layer *l = &p->layers[i];
    if (l->n_channels > 0)
        return NAN;
    if (l->form == PACT_FORM_POLY)
        return pact_clenshaw(l->cheb[0], l->degrees[0], (2.0 * x - l->a - l->b) / (l->b - l->a));
    double u = x / l->bound, s = u;
    for (int k = 0; k < l->n_parts; k++) {
        double a = l->part_a[k], b = l->part_b[k];
        s = pact_clenshaw(l->cheb[k], l->degrees[k], (2.0 * s - a - b) / (b - a));
    }
    switch (l->func) {
    case PACT_RELU: return l->bound * u * (1.0 + s) * 0.5;
    case PACT_ABS: return l->bound * u * s;
    default: return s;
    }
}

double pact_plan_layer_eval_channel(const pact_plan *p, int i, int channel, double x)
{
    if (i < 0 || i >= p->n_layers || !p->layers[i].set || channel < 0)
        return NAN;
    const plan_layer *l = &p->layers[i];
    if (l->n_channels == 0)
        return pact_plan_layer_eval(p, i, x);
    if (channel >= l->n_channels)
        return NAN;
    double a = l->ch_a[channel], b = l->ch_b[channel];
    return pact_clenshaw(l->ch_rows[channel], l->degrees[0], (2.0 * x - a - b) / (b - a));
}

/* --- summary numbers and notes ---------------------------------------- */

pact_status pact_plan_set_summary(pact_plan *p, const char *key, double value, pact_error *err)
{
    for (int i = 0; i < p->n_summary; i++)
        if (strcmp(p->summary[i].key, key) == 0) {
            p->summary[i].value = value;
            return PACT_OK;
        }
    plan_summary *s = realloc(p->summary, (size_t)(p->n_summary + 1) * sizeof *s);
    if (!s)
        return pact_fail(err, PACT_ENOMEM, "plan: out of memory");
    p->summary = s;
    s[p->n_summary].key = dup_str(key);
    if (!s[p->n_summary].key)
        return pact_fail(err, PACT_ENOMEM, "plan: out of memory");
    s[p->n_summary++].value = value;
    return PACT_OK;
}

pact_status pact_plan_get_summary(const pact_plan *p, const char *key, double *value,
                                  pact_error *err)
{
    for (int i = 0; i < p->n_summary; i++)
        if (strcmp(p->summary[i].key, key) == 0) {
            *value = p->summary[i].value;
            return PACT_OK;
        }
    return pact_fail(err, PACT_EINVAL, "plan: no summary value '%s'", key);
}

pact_status pact_plan_set_note(pact_plan *p, const char *key, const char *value, pact_error *err)
{
    char *v = dup_str(value);
    if (!v)
        return pact_fail(err, PACT_ENOMEM, "plan: out of memory");
    for (int i = 0; i < p->n_notes; i++)
        if (strcmp(p->notes[i].key, key) == 0) {
            free(p->notes[i].value);
            p->notes[i].value = v;
            return PACT_OK;
        }
    plan_note *n = realloc(p->notes, (size_t)(p->n_notes + 1) * sizeof *n);
    char *k = dup_str(key);
    if (!n || !k) {
        if (n)
            p->notes = n;
        free(k);
        free(v);
        return pact_fail(err, PACT_ENOMEM, "plan: out of memory");
    }
    p->notes = n;
    n[p->n_notes].key = k;
    n[p->n_notes++].value = v;
    return PACT_OK;
}

const char *pact_plan_get_note(const pact_plan *p, const char *key)
{
    for (int i = 0; i < p->n_notes; i++)
        if (strcmp(p->notes[i].key, key) == 0)
            return p->notes[i].value;
    return NULL;
}

pact_status pact_plan_check_model(const pact_plan *p, const pact_model *m, const char *sha256,
                                  pact_error *err)
{
    if (sha256 && sha256[0] && p->model_sha256[0] && strcmp(sha256, p->model_sha256) != 0)
        return pact_fail(err, PACT_EMISMATCH,
                         "plan was made for model %s (sha256 %.12s...), not for these weights (sha256 %.12s...)",
                         p->model_name, p->model_sha256, sha256);
    pact_status st = pact_check_model_count("plan", p->n_layers, m, err);
    for (int i = 0; st == PACT_OK && i < p->n_layers; i++)
        st = p->layers[i].set ? pact_check_model_layer("plan", i, p->layers[i].name,
                                                       p->layers[i].func, m, err)
                              : pact_fail(err, PACT_EMISMATCH, "plan layer %d is not set", i);
    return st;
}
