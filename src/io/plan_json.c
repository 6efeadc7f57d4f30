/* plan.json: reading (every field validated) and writing (byte-stable). */
#include "../pann/plan_internal.h"
#include "file_util.h"
#include "json_num.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_FORMAT "polyact-plan"
#define PLAN_VERSION 1          /* what scalar plans are written as */
#define PLAN_VERSION_CHANNELS 2 /* plans with per-channel layers; read: 1 and 2 */
#define PLAN_MAX_BYTES ((size_t)256 << 20)

/* --- writing ----------------------------------------------------------- */

/* NaN is not JSON: unknown values are written as null. */
static cJSON *number_or_null(double v)
{
    return isfinite(v) ? pact_json_number(v) : cJSON_CreateNull();
}

static cJSON *layer_json(const plan_layer *l, int index)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    double iv[2] = {l->a, l->b};
    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddStringToObject(o, "name", l->name);
    cJSON_AddStringToObject(o, "func", pact_func_name(l->func));
    cJSON_AddStringToObject(o, "form", l->form == PACT_FORM_POLY ? "poly" : "composite");
    cJSON_AddItemToObject(o, "interval", pact_json_numbers(iv, 2));
    cJSON_AddNumberToObject(o, "depth", l->depth);
    cJSON_AddItemToObject(o, "max_error", number_or_null(l->max_error));
    cJSON_AddItemToObject(o, "impact", number_or_null(l->impact));
    if (l->form == PACT_FORM_POLY && l->n_channels > 0) {
        cJSON_AddNumberToObject(o, "degree", l->degrees[0]);
        cJSON *chans = cJSON_AddArrayToObject(o, "channels");
        for (int c = 0; chans && c < l->n_channels; c++) {
            cJSON *ch = cJSON_CreateObject();
            double civ[2] = {l->ch_a[c], l->ch_b[c]};
            cJSON_AddItemToObject(ch, "interval", pact_json_numbers(civ, 2));
            cJSON_AddItemToObject(ch, "cheb", pact_json_numbers(l->ch_rows[c], l->degrees[0] + 1));
            cJSON_AddItemToArray(chans, ch);
        }
    } else if (l->form == PACT_FORM_POLY) {
        cJSON_AddNumberToObject(o, "degree", l->degrees[0]);
        cJSON_AddItemToObject(o, "cheb", pact_json_numbers(l->cheb[0], l->degrees[0] + 1));
    } else {
        cJSON_AddItemToObject(o, "bound", pact_json_number(l->bound));
        cJSON *parts = cJSON_AddArrayToObject(o, "components");
        for (int k = 0; parts && k < l->n_parts; k++) {
            cJSON *c = cJSON_CreateObject();
            double piv[2] = {l->part_a[k], l->part_b[k]};
            cJSON_AddNumberToObject(c, "degree", l->degrees[k]);
            cJSON_AddItemToObject(c, "interval", pact_json_numbers(piv, 2));
            cJSON_AddItemToObject(c, "cheb", pact_json_numbers(l->cheb[k], l->degrees[k] + 1));
            cJSON_AddItemToArray(parts, c);
        }
    }
    return o;
}

pact_status pact_plan_save(const pact_plan *p, const char *path, pact_error *err)
{
    for (int i = 0; i < p->n_layers; i++)
        if (!p->layers[i].set)
            return pact_fail(err, PACT_EINVAL, "%s: plan layer %d is not set", path, i);
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", path);
    int version = PLAN_VERSION;
    for (int i = 0; i < p->n_layers; i++)
        if (p->layers[i].n_channels > 0)
            version = PLAN_VERSION_CHANNELS;
    cJSON_AddStringToObject(root, "format", PLAN_FORMAT);
    cJSON_AddNumberToObject(root, "version", version);
    cJSON_AddStringToObject(root, "created_by", "polyact " PACT_VERSION_STRING);
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "name", p->model_name);
    cJSON_AddStringToObject(model, "sha256", p->model_sha256);
    cJSON *summary = cJSON_AddObjectToObject(root, "summary");
    for (int i = 0; i < p->n_summary; i++)
        cJSON_AddItemToObject(summary, p->summary[i].key, number_or_null(p->summary[i].value));
    cJSON *notes = cJSON_AddObjectToObject(root, "notes");
    for (int i = 0; i < p->n_notes; i++)
        cJSON_AddStringToObject(notes, p->notes[i].key, p->notes[i].value);
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    int ok = model && summary && notes && layers;
    for (int i = 0; ok && i < p->n_layers; i++) {
        cJSON *l = layer_json(&p->layers[i], i);
        ok = l && cJSON_AddItemToArray(layers, l);
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory formatting the plan", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* replace the terminator: files end with a newline */
    pact_status st = pact_write_file_atomic(path, text, len + 1, err);
    free(text);
    return st;
}

/* --- reading ----------------------------------------------------------- */

typedef struct {
    const char *path;
    pact_error *err;
    int version;
} reader;

static pact_status bad(reader *r, const char *fmt, ...) PACT_PRINTF(2, 3);

/* PACT_EFORMAT with the file's name before the formatted message. */
static pact_status bad(reader *r, const char *fmt, ...)
{
    char msg[PACT_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pact_fail(r->err, PACT_EFORMAT, "%s: %s", r->path, msg);
}

static const cJSON *field(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* A finite number field; *ok cleared when absent or not a finite number. */
static double get_num(const cJSON *o, const char *name, int *ok)
{
    const cJSON *x = field(o, name);
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) {
        *ok = 0;
        return NAN;
    }
    return x->valuedouble;
}

/* An integer field within [lo, hi]. */
static int get_int(const cJSON *o, const char *name, int lo, int hi, int *ok)
{
    double v = get_num(o, name, ok);
    if (!*ok || v != floor(v) || v < lo || v > hi) {
        *ok = 0;
        return 0;
    }
    return (int)v;
}

/* Optional number that may be null (NaN). */
static double get_opt(const cJSON *o, const char *name, int *ok)
{
    const cJSON *x = field(o, name);
    if (!x || cJSON_IsNull(x))
        return NAN;
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) {
        *ok = 0;
        return NAN;
    }
    return x->valuedouble;
}

/* Reads [a, b] into v. */
static int get_pair(const cJSON *o, const char *name, double v[2])
{
    const cJSON *x = field(o, name);
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 2)
        return 0;
    for (int i = 0; i < 2; i++) {
        const cJSON *e = cJSON_GetArrayItem(x, i);
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return 0;
        v[i] = e->valuedouble;
    }
    return 1;
}

/* Reads exactly n finite numbers of field "cheb" into c; 0 if they are not. */
static int read_coeffs(const cJSON *o, int n, double *c)
{
    const cJSON *x = field(o, "cheb");
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != n)
        return 0;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, x) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return 0;
        c[i++] = e->valuedouble;
    }
    return 1;
}

/* Reads exactly n finite numbers (a new array) or returns NULL. */
static double *get_coeffs(const cJSON *o, int n)
{
    double *c = malloc((size_t)n * sizeof *c);
    if (c && !read_coeffs(o, n, c)) {
        free(c);
        return NULL;
    }
    return c;
}

/* The 'channels' of a per-channel poly layer (version 2) into l: new arrays
 * *ca, *cb, *rows (rows[c] = cheb + c x (degree + 1)), freed by the caller. */
static pact_status read_channels(reader *r, const cJSON *chans, int i, pact_plan_layer *l,
                                 double **ca, double **cb, double **cheb, const double ***rows)
{
    int n = cJSON_IsArray(chans) ? cJSON_GetArraySize(chans) : 0;
    if (r->version < PLAN_VERSION_CHANNELS)
        return bad(r, "layers[%d] (%s): 'channels' needs plan version %d", i, l->name,
                   PLAN_VERSION_CHANNELS);
    if (n < 1 || n > PACT_PLAN_MAX_CHANNELS)
        return bad(r, "layers[%d] (%s): 'channels' must be an array of 1..%d channels", i,
                   l->name, PACT_PLAN_MAX_CHANNELS);
    size_t m = (size_t)l->degrees[0] + 1;
    *ca = malloc((size_t)n * sizeof **ca);
    *cb = malloc((size_t)n * sizeof **cb);
    *cheb = malloc((size_t)n * m * sizeof **cheb);
    *rows = malloc((size_t)n * sizeof **rows);
    if (!*ca || !*cb || !*cheb || !*rows)
        return pact_fail(r->err, PACT_ENOMEM, "%s: out of memory for %d channels", r->path, n);
    int c = 0;
    const cJSON *ch;
    cJSON_ArrayForEach(ch, chans) { /* linear walk */
        double civ[2];
        if (!cJSON_IsObject(ch) || !get_pair(ch, "interval", civ) ||
            !read_coeffs(ch, (int)m, *cheb + (size_t)c * m))
            return bad(r, "layers[%d] (%s): channel %d needs 'interval' [a, b] and 'cheb' with degree+1 finite numbers",
                       i, l->name, c);
        (*ca)[c] = civ[0];
        (*cb)[c] = civ[1];
        (*rows)[c] = *cheb + (size_t)c * m;
        c++;
    }
    l->n_channels = n;
    l->channel_a = *ca;
    l->channel_b = *cb;
    l->channel_cheb = (const double *const *)*rows;
    return PACT_OK;
}

static pact_status read_layer(reader *r, pact_plan *p, const cJSON *o, int i)
{
    if (!cJSON_IsObject(o)) {
        return bad(r, "layers[%d] is not an object", i);
    }
    int ok = 1;
    int index = get_int(o, "index", 0, p->n_layers - 1, &ok);
    const cJSON *name = field(o, "name"), *func = field(o, "func"), *form = field(o, "form");
    if (!ok || index != i) {
        return bad(r, "layers[%d]: field 'index' must be %d", i, i);
    }
    if (!cJSON_IsString(name) || !name->valuestring[0] || !cJSON_IsString(func) ||
        !cJSON_IsString(form)) {
        return bad(r, "layers[%d]: fields 'name', 'func' and 'form' must be strings", i);
    }
    pact_plan_layer l = {0};
    l.name = name->valuestring;
    if (pact_func_from_name(func->valuestring, &l.func, NULL) != PACT_OK) {
        return bad(r, "layers[%d] (%s): unknown func '%.40s'", i, l.name, func->valuestring);
    }
    double iv[2];
    if (!get_pair(o, "interval", iv)) {
        return bad(r, "layers[%d] (%s): 'interval' must be [a, b]", i, l.name);
    }
    l.a = iv[0];
    l.b = iv[1];
    l.max_error = get_opt(o, "max_error", &ok);
    l.impact = get_opt(o, "impact", &ok);
    if (!ok) {
        return bad(r, "layers[%d] (%s): 'max_error' / 'impact' must be numbers or null", i, l.name);
    }
    int degrees[PACT_PLAN_MAX_PARTS];
    double pa[PACT_PLAN_MAX_PARTS], pb[PACT_PLAN_MAX_PARTS];
    double *cheb[PACT_PLAN_MAX_PARTS] = {0};
    double *ch_a = NULL, *ch_b = NULL, *ch_cheb = NULL;
    const double **ch_rows = NULL;
    pact_status st = PACT_OK;
    const cJSON *chans = field(o, "channels");
    if (chans && strcmp(form->valuestring, "poly") == 0) {
        l.form = PACT_FORM_POLY;
        l.n_parts = 1;
        degrees[0] = get_int(o, "degree", 1, 1023, &ok);
        l.degrees = degrees;
        if (!ok)
            return bad(r, "layers[%d] (%s): needs 'degree' in 1..1023", i, l.name);
        if (field(o, "cheb"))
            return bad(r, "layers[%d] (%s): give 'cheb' or 'channels', not both", i, l.name);
        st = read_channels(r, chans, i, &l, &ch_a, &ch_b, &ch_cheb, &ch_rows);
        pa[0] = l.a;
        pb[0] = l.b;
    } else if (chans) {
        return bad(r, "layers[%d] (%s): 'channels' is for the poly form", i, l.name);
    } else if (strcmp(form->valuestring, "poly") == 0) {
        l.form = PACT_FORM_POLY;
        l.n_parts = 1;
        degrees[0] = get_int(o, "degree", 1, 1023, &ok);
        cheb[0] = ok ? get_coeffs(o, degrees[0] + 1) : NULL;
        if (!cheb[0]) {
            return bad(r, "layers[%d] (%s): needs 'degree' in 1..1023 and 'cheb' with degree+1 finite numbers",
                     i, l.name);
        }
    } else if (strcmp(form->valuestring, "composite") == 0) {
        l.form = PACT_FORM_COMPOSITE;
        l.bound = get_num(o, "bound", &ok);
        const cJSON *parts = field(o, "components");
        int n = cJSON_IsArray(parts) ? cJSON_GetArraySize(parts) : 0;
        if (!ok || n < 1 || n > PACT_PLAN_MAX_PARTS) {
            return bad(r, "layers[%d] (%s): composite needs 'bound' and 1..%d 'components'",
                     i, l.name, PACT_PLAN_MAX_PARTS);
        }
        l.n_parts = n;
        for (int k = 0; k < n; k++) {
            const cJSON *c = cJSON_GetArrayItem(parts, k);
            double piv[2];
            int okk = cJSON_IsObject(c) && get_pair(c, "interval", piv);
            degrees[k] = okk ? get_int(c, "degree", 1, 1023, &okk) : 0;
            cheb[k] = okk ? get_coeffs(c, degrees[k] + 1) : NULL;
            if (!cheb[k]) {
                st = bad(r, "layers[%d] (%s): component %d needs 'degree' in 1..1023, "
                         "'interval' [a, b] and 'cheb' with degree+1 finite numbers", i, l.name, k);
                break;
            }
            pa[k] = piv[0];
            pb[k] = piv[1];
        }
    } else {
        return bad(r, "layers[%d] (%s): unknown form '%.40s' (poly or composite)", i, l.name,
                 form->valuestring);
    }
    if (st == PACT_OK) {
        l.degrees = degrees;
        l.part_a = pa;
        l.part_b = pb;
        l.cheb = (const double *const *)cheb;
        pact_error e2;
        st = pact_plan_set_layer(p, i, &l, &e2);
        if (st != PACT_OK)
            st = pact_fail(r->err, PACT_EFORMAT, "%s: %s", r->path, e2.message);
    }
    if (st == PACT_OK) {
        int depth = get_int(o, "depth", 0, 1 << 20, &ok);
        if (ok && depth != p->layers[i].depth) {
            st = bad(r, "layers[%d] (%s): 'depth' %d does not match its degrees (%d)", i,
                     l.name, depth, p->layers[i].depth);
        }
    }
    if (st == PACT_OK && l.n_channels > 0 &&
        (p->layers[i].a != iv[0] || p->layers[i].b != iv[1]))
        st = bad(r, "layers[%d] (%s): 'interval' [%g, %g] is not the hull of its channels' [%g, %g]",
                 i, l.name, iv[0], iv[1], p->layers[i].a, p->layers[i].b);
    for (int k = 0; k < l.n_parts; k++)
        free(cheb[k]);
    free(ch_a);
    free(ch_b);
    free(ch_cheb);
    free(ch_rows);
    return st;
}

pact_status pact_plan_parse(const char *text, size_t size, const char *name, pact_plan **out,
                            pact_error *err)
{
    *out = NULL;
    reader r = {name, err, 0};
    long at;
    cJSON *root = pact_json_parse(text, size, &at);
    if (!root)
        return bad(&r, "not valid JSON (near byte %ld of %zu)", at, size);
    pact_status st = PACT_OK;
    const cJSON *fmt = field(root, "format"), *model = field(root, "model");
    const cJSON *layers = field(root, "layers");
    int ok = 1;
    double version = get_num(root, "version", &ok);
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, PLAN_FORMAT) != 0) {
        st = bad(&r, "not a polyact plan (field 'format' must be \"" PLAN_FORMAT "\")");
    } else if (!ok || (version != PLAN_VERSION && version != PLAN_VERSION_CHANNELS)) {
        st = bad(&r, "unsupported plan version %g (this polyact reads versions %d and %d)",
                 ok ? version : -1.0, PLAN_VERSION, PLAN_VERSION_CHANNELS);
    } else if (!cJSON_IsObject(model) || !cJSON_IsString(field(model, "name")) ||
               !cJSON_IsString(field(model, "sha256"))) {
        st = bad(&r, "field 'model' must hold strings 'name' and 'sha256'");
    } else if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1 ||
               cJSON_GetArraySize(layers) > PACT_PLAN_MAX_LAYERS) {
        st = bad(&r, "field 'layers' must be a non-empty array");
    }
    pact_plan *p = NULL;
    r.version = st == PACT_OK ? (int)version : 0; /* a refused version may be NaN */
    if (st == PACT_OK)
        st = pact_plan_create(field(model, "name")->valuestring, field(model, "sha256")->valuestring,
                              cJSON_GetArraySize(layers), &p, err);
    int li = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, layers) { /* linear walk: no O(n^2) indexing */
        if (st != PACT_OK)
            break;
        st = read_layer(&r, p, item, li++);
    }
    const cJSON *summary = field(root, "summary"), *notes = field(root, "notes"), *e;
    if (st == PACT_OK && summary) {
        if (!cJSON_IsObject(summary))
            st = bad(&r, "field 'summary' must be an object of numbers");
        cJSON_ArrayForEach(e, summary) {
            if (st != PACT_OK)
                break;
            if (!e->string || !(cJSON_IsNumber(e) || cJSON_IsNull(e)))
                st = bad(&r, "field 'summary' must be an object of numbers");
            else
                st = pact_plan_set_summary(p, e->string, cJSON_IsNumber(e) ? e->valuedouble : NAN, err);
        }
    }
    if (st == PACT_OK && notes) {
        if (!cJSON_IsObject(notes))
            st = bad(&r, "field 'notes' must be an object of strings");
        cJSON_ArrayForEach(e, notes) {
            if (st != PACT_OK)
                break;
            if (!e->string || !cJSON_IsString(e))
                st = bad(&r, "field 'notes' must be an object of strings");
            else
                st = pact_plan_set_note(p, e->string, e->valuestring, err);
        }
    }
    cJSON_Delete(root);
    if (st != PACT_OK) {
        pact_plan_free(p);
        return st;
    }
    *out = p;
    return PACT_OK;
}

pact_status pact_plan_load(const char *path, pact_plan **out, pact_error *err)
{
    *out = NULL;
    char *text;
    size_t size;
    pact_status st = pact_read_file(path, PLAN_MAX_BYTES, &text, &size, err);
    if (st != PACT_OK)
        return st;
    st = pact_plan_parse(text, size, path, out, err);
    free(text);
    return st;
}
