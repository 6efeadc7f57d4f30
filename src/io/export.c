/* Exporting a plan: format names, options, dispatch, atomic saving, and the
 * pieces the JSON documents share. */
#include "export_internal.h"
#include "file_util.h"

#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {"openfhe", "lattigo", "c"};
#define N_FORMATS ((int)(sizeof format_names / sizeof format_names[0]))

void pact_export_opts_default(pact_export_opts *opts)
{
    opts->folded = 0;
    opts->c_prefix = NULL;
}

const char *pact_export_format_name(pact_export_format format)
{
    return (unsigned)format < (unsigned)N_FORMATS ? format_names[format] : "?";
}

pact_status pact_export_format_from_name(const char *name, pact_export_format *format,
                                         pact_error *err)
{
    for (int i = 0; name && i < N_FORMATS; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *format = (pact_export_format)i;
            return PACT_OK;
        }
    return pact_fail(err, PACT_EINVAL, "unknown export format '%.40s' (openfhe, lattigo or c)",
                     name ? name : "(null)");
}

int pact_openfhe_series_levels(int degree)
{
    /* upper degree of each level count on [-1, 1]: measured with OpenFHE 1.5.1
     * up to 495 (and at 511); above, OpenFHE's own GetDepthByDegree less one */
    static const int upper[] = {0, 1, 2, 5, 13, 27, 59, 119, 247, 495, 1007, 2031};
    if (degree < 1 || degree > 1023)
        return -1;
    int levels = 1;
    while (degree > upper[levels])
        levels++;
    return levels;
}

void export_text_printf(export_text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
        return;
    }
    if (!t->s || t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
        va_start(ap, fmt);
        vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
    }
    t->len += (size_t)n;
}




cJSON *export_json_head(const pact_plan *plan, const char *format, int folded,
                        const char *convention, const char *levels_note)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", format);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "created_by", "polyact " PACT_VERSION_STRING);
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "name", pact_plan_model_name(plan));
    cJSON_AddStringToObject(model, "sha256", pact_plan_model_sha256(plan));
    cJSON_AddBoolToObject(root, "folded", folded);
    cJSON_AddStringToObject(root, "convention", convention);
    if (levels_note)
        cJSON_AddStringToObject(root, "levels_note", levels_note);
    if (!model) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

void export_json_layer_head(cJSON *o, const pact_plan_layer *l, int index, const export_chain *c)
{
    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddStringToObject(o, "name", l->name);
    cJSON_AddStringToObject(o, "func", pact_func_name(l->func));
    cJSON_AddStringToObject(o, "form", l->form == PACT_FORM_POLY ? "poly" : "composite");
    if (l->form == PACT_FORM_COMPOSITE)
        cJSON_AddItemToObject(o, "bound", pact_json_number(l->bound));
    if (c->folded) {
        cJSON *map = cJSON_AddObjectToObject(o, "input_map");
        cJSON_AddItemToObject(map, "scale", pact_json_number(c->in_scale));
        cJSON_AddItemToObject(map, "shift", pact_json_number(c->in_shift));
    } else {
        cJSON_AddNullToObject(o, "input_map");
    }
}

void export_json_channels_head(cJSON *o, const pact_plan_layer *l, int index,
                               const export_chain *chains, int folded)
{
    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddStringToObject(o, "name", l->name);
    cJSON_AddStringToObject(o, "func", pact_func_name(l->func));
    cJSON_AddStringToObject(o, "form", "poly");
    if (folded) {
        cJSON *map = cJSON_AddObjectToObject(o, "input_map");
        cJSON *scale = cJSON_AddArrayToObject(map, "scale");
        cJSON *shift = cJSON_AddArrayToObject(map, "shift");
        for (int ch = 0; scale && shift && ch < l->n_channels; ch++) {
            cJSON_AddItemToArray(scale, pact_json_number(chains[ch].in_scale));
            cJSON_AddItemToArray(shift, pact_json_number(chains[ch].in_shift));
        }
    } else {
        cJSON_AddNullToObject(o, "input_map");
    }
    cJSON_AddNumberToObject(o, "n_channels", l->n_channels);
}

int export_plan_has_channels(const pact_plan *plan)
{
    for (int i = 0; i < pact_plan_layer_count(plan); i++) {
        pact_plan_layer l;
        if (pact_plan_layer_get(plan, i, &l, NULL) == PACT_OK && l.n_channels > 0)
            return 1;
    }
    return 0;
}

pact_status export_json_finish(cJSON *root, char **text, pact_error *err)
{
    char *s = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!s)
        return pact_fail(err, PACT_ENOMEM, "export: out of memory formatting the document");
    size_t len = strlen(s);
    char *t = realloc(s, len + 2); /* documents end with a newline */
    if (!t) {
        free(s);
        return pact_fail(err, PACT_ENOMEM, "export: out of memory formatting the document");
    }
    t[len] = '\n';
    t[len + 1] = '\0';
    *text = t;
    return PACT_OK;
}

pact_status pact_export(const pact_plan *plan, pact_export_format format,
                        const pact_export_opts *opts, char **text, pact_error *err)
{
    *text = NULL;
    pact_export_opts def;
    if (!opts) {
        pact_export_opts_default(&def);
        opts = &def;
    }
    if (!plan)
        return pact_fail(err, PACT_EINVAL, "export: plan is NULL");
    for (int i = 0; i < pact_plan_layer_count(plan); i++) {
        pact_plan_layer l;
        if (pact_plan_layer_get(plan, i, &l, NULL) != PACT_OK)
            return pact_fail(err, PACT_EINVAL, "export: plan layer %d is not set", i);
    }
    switch (format) {
    case PACT_EXPORT_OPENFHE:
        return export_openfhe(plan, opts->folded != 0, text, err);
    case PACT_EXPORT_LATTIGO:
        return export_lattigo(plan, opts->folded != 0, text, err);
    case PACT_EXPORT_C:
        if (opts->folded)
            return pact_fail(err, PACT_EINVAL,
                             "export: the folded form is for HE libraries (openfhe, lattigo), not c");
        return export_c_header(plan, opts->c_prefix && opts->c_prefix[0] ? opts->c_prefix : "pact",
                               text, err);
    }
    return pact_fail(err, PACT_EINVAL, "export: unknown format %d", (int)format);
}

pact_status pact_export_save(const pact_plan *plan, pact_export_format format,
                             const pact_export_opts *opts, const char *path, pact_error *err)
{
    char *text;
    pact_status st = pact_export(plan, format, opts, &text, err);
    if (st != PACT_OK)
        return st;
    st = pact_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}
