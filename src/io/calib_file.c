/* calib.json: writing (byte-stable, exact doubles) and reading (validated). */
#include "../pann/calib_internal.h"
#include "file_util.h"
#include "json_num.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALIB_FORMAT "polyact-calib"
#define CALIB_VERSION 1
#define CALIB_MAX_BYTES ((size_t)512 << 20)

static cJSON *layer_json(const calib_layer *l, int index)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddStringToObject(o, "name", l->name);
    cJSON_AddStringToObject(o, "func", pact_func_name(l->func));
    cJSON_AddNumberToObject(o, "count", (double)l->count);
    cJSON_AddItemToObject(o, "min", pact_json_number(l->min));
    cJSON_AddItemToObject(o, "max", pact_json_number(l->max));
    cJSON_AddItemToObject(o, "mean", pact_json_number(l->mean));
    cJSON_AddItemToObject(o, "m2", pact_json_number(l->m2));
    cJSON_AddItemToObject(o, "std", pact_json_number(l->count ? sqrt(l->m2 / (double)l->count) : 0.0));
    cJSON *q = cJSON_AddObjectToObject(o, "quantiles");
    cJSON_AddItemToObject(q, "p", pact_json_numbers(l->qp, l->n_q));
    cJSON_AddItemToObject(q, "x", pact_json_numbers(l->qx, l->n_q));
    cJSON *h = cJSON_AddObjectToObject(o, "histogram");
    cJSON_AddItemToObject(h, "min", pact_json_number(l->hmin));
    cJSON_AddItemToObject(h, "max", pact_json_number(l->hmax));
    cJSON_AddNumberToObject(h, "bins", l->bins);
    cJSON_AddItemToObject(h, "counts", pact_json_numbers(l->counts, l->bins));
    return o;
}

pact_status pact_calib_save(const pact_calib *c, const char *path, pact_error *err)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", path);
    cJSON_AddStringToObject(root, "format", CALIB_FORMAT);
    cJSON_AddNumberToObject(root, "version", CALIB_VERSION);
    cJSON_AddStringToObject(root, "created_by", "polyact " PACT_VERSION_STRING);
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "name", c->model_name);
    cJSON_AddStringToObject(model, "sha256", c->model_sha256);
    cJSON *data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(data, "name", c->data_name);
    cJSON_AddNumberToObject(data, "images", (double)c->images);
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    int ok = model && data && layers;
    for (int i = 0; ok && i < c->n_layers; i++) {
        cJSON *l = layer_json(&c->layers[i], i);
        ok = l && cJSON_AddItemToArray(layers, l);
    }
    /* unformatted: a 2048-bin histogram per layer would be one number a line */
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory formatting the calibration", path);
    size_t len = strlen(text);
    text[len] = '\n';
    pact_status st = pact_write_file_atomic(path, text, len + 1, err);
    free(text);
    return st;
}

/* --- reading ----------------------------------------------------------- */

typedef struct {
    const char *path;
    pact_error *err;
} reader;

static pact_status bad(reader *r, const char *fmt, ...) PACT_PRINTF(2, 3);

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

static int num(const cJSON *o, const char *name, double *v)
{
    const cJSON *x = field(o, name);
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return 0;
    *v = x->valuedouble;
    return 1;
}

/* Reads an array of exactly n finite numbers into v. */
static int nums(const cJSON *a, double *v, int n)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return 0;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return 0;
        v[i++] = e->valuedouble;
    }
    return 1;
}

static pact_status read_layer(reader *r, calib_layer *l, const cJSON *o, int i)
{
    if (!cJSON_IsObject(o))
        return bad(r, "layers[%d] is not an object", i);
    const cJSON *name = field(o, "name"), *func = field(o, "func");
    double index, count;
    if (!num(o, "index", &index) || index != i)
        return bad(r, "layers[%d]: field 'index' must be %d", i, i);
    if (!cJSON_IsString(name) || !name->valuestring[0] || !cJSON_IsString(func))
        return bad(r, "layers[%d]: fields 'name' and 'func' must be strings", i);
    size_t nlen = strlen(name->valuestring) + 1;
    l->name = malloc(nlen);
    if (!l->name)
        return pact_fail(r->err, PACT_ENOMEM, "%s: out of memory", r->path);
    memcpy(l->name, name->valuestring, nlen);
    if (pact_func_from_name(func->valuestring, &l->func, NULL) != PACT_OK)
        return bad(r, "layers[%d] (%s): unknown func '%.40s'", i, l->name, func->valuestring);
    if (!num(o, "count", &count) || count < 1 || count > 9007199254740992.0 || count != floor(count))
        return bad(r, "layers[%d] (%s): 'count' must be a positive integer", i, l->name);
    l->count = (uint64_t)count;
    if (!num(o, "min", &l->min) || !num(o, "max", &l->max) || !(l->min <= l->max))
        return bad(r, "layers[%d] (%s): needs finite 'min' <= 'max'", i, l->name);
    if (!num(o, "mean", &l->mean) || !num(o, "m2", &l->m2) || l->m2 < 0 || l->mean < l->min ||
        l->mean > l->max)
        return bad(r, "layers[%d] (%s): needs 'mean' within [min, max] and 'm2' >= 0", i, l->name);
    const cJSON *q = field(o, "quantiles");
    const cJSON *qp = cJSON_IsObject(q) ? field(q, "p") : NULL;
    int nq = cJSON_IsArray(qp) ? cJSON_GetArraySize(qp) : -1;
    if (nq < 0 || nq > PACT_CALIB_MAX_QUANTILES || !nums(qp, l->qp, nq))
        return bad(r, "layers[%d] (%s): 'quantiles.p' must be at most %d numbers", i, l->name,
                   PACT_CALIB_MAX_QUANTILES);
    for (int k = 0; k < nq; k++)
        if (!(l->qp[k] > 0.0 && l->qp[k] < 1.0) || (k && !(l->qp[k] > l->qp[k - 1])))
            return bad(r, "layers[%d] (%s): quantile probability %g must be in (0, 1) and increasing",
                       i, l->name, l->qp[k]);
    l->n_q = nq;
    const cJSON *h = field(o, "histogram");
    double bins;
    if (!cJSON_IsObject(h) || !num(h, "bins", &bins) || bins < 1 || bins > PACT_CALIB_MAX_BINS ||
        bins != floor(bins))
        return bad(r, "layers[%d] (%s): 'histogram.bins' must be an integer in 1..%d", i, l->name,
                   PACT_CALIB_MAX_BINS);
    if (!num(h, "min", &l->hmin) || !num(h, "max", &l->hmax) || !(l->hmin <= l->hmax) ||
        l->hmin > l->min || l->hmax < l->max)
        return bad(r, "layers[%d] (%s): 'histogram.min'/'max' must cover [min, max]", i, l->name);
    if (!pact_calib_alloc_bins(l, (int)bins))
        return pact_fail(r->err, PACT_ENOMEM, "%s: out of memory", r->path);
    if (!nums(field(h, "counts"), l->counts, l->bins))
        return bad(r, "layers[%d] (%s): 'histogram.counts' must hold %d numbers", i, l->name, l->bins);
    double sum = 0.0;
    for (int k = 0; k < l->bins; k++) {
        if (l->counts[k] < 0 || l->counts[k] != floor(l->counts[k]))
            return bad(r, "layers[%d] (%s): histogram count %d (%g) is not a non-negative integer",
                       i, l->name, k, l->counts[k]);
        sum += l->counts[k];
    }
    if (sum != (double)l->count)
        return bad(r, "layers[%d] (%s): histogram counts sum to %.0f, not to 'count' %.0f", i,
                   l->name, sum, (double)l->count);
    /* quantile values are derived: recomputed rather than trusted */
    pact_calib_fill_quantiles(l);
    return PACT_OK;
}

pact_status pact_calib_parse(const char *text, size_t size, const char *name, pact_calib **out,
                             pact_error *err)
{
    *out = NULL;
    reader r = {name, err};
    cJSON *root = cJSON_ParseWithLength(text, size);
    if (!root)
        return bad(&r, "not valid JSON");
    pact_status st = PACT_OK;
    const cJSON *fmt = field(root, "format"), *model = field(root, "model");
    const cJSON *data = field(root, "data"), *layers = field(root, "layers");
    double version, images;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, CALIB_FORMAT) != 0)
        st = bad(&r, "not a polyact calibration (field 'format' must be \"" CALIB_FORMAT "\")");
    else if (!num(root, "version", &version) || version != CALIB_VERSION)
        st = bad(&r, "unsupported calibration version (this polyact reads version %d)", CALIB_VERSION);
    else if (!cJSON_IsObject(model) || !cJSON_IsString(field(model, "name")) ||
             !cJSON_IsString(field(model, "sha256")))
        st = bad(&r, "field 'model' must hold strings 'name' and 'sha256'");
    else if (!cJSON_IsObject(data) || !cJSON_IsString(field(data, "name")) ||
             !num(data, "images", &images) || images < 1 || images != floor(images) || images > 1e15)
        st = bad(&r, "field 'data' must hold 'name' and a positive integer 'images'");
    else if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1 ||
             cJSON_GetArraySize(layers) > PACT_CALIB_MAX_LAYERS)
        st = bad(&r, "field 'layers' must be a non-empty array");
    pact_calib *c = NULL;
    if (st == PACT_OK) {
        c = pact_calib_alloc(cJSON_GetArraySize(layers), field(model, "name")->valuestring,
                             field(model, "sha256")->valuestring, field(data, "name")->valuestring);
        if (!c)
            st = pact_fail(err, PACT_ENOMEM, "%s: out of memory", name);
    }
    if (st == PACT_OK) {
        c->images = (size_t)images;
        int i = 0;
        const cJSON *item;
        cJSON_ArrayForEach(item, layers) {
            st = read_layer(&r, &c->layers[i], item, i);
            i++;
            if (st != PACT_OK)
                break;
        }
    }
    cJSON_Delete(root);
    if (st != PACT_OK) {
        pact_calib_free(c);
        return st;
    }
    *out = c;
    return PACT_OK;
}

pact_status pact_calib_load(const char *path, pact_calib **out, pact_error *err)
{
    *out = NULL;
    char *text;
    size_t size;
    pact_status st = pact_read_file(path, CALIB_MAX_BYTES, &text, &size, err);
    if (st != PACT_OK)
        return st;
    st = pact_calib_parse(text, size, path, out, err);
    free(text);
    return st;
}
