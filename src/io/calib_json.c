/* calib.json: the calibration file (format "polyact-calib", version 1).
 * Writing is atomic (temporary file + rename); reading checks every field. */
#include "../internal.h"
#include "../pann/calib_internal.h"
#include "file_util.h"
#include "json_num.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALIB_FORMAT "polyact-calib"
#define CALIB_VERSION 1
#define CALIB_MAX_FILE ((size_t)1 << 30)
#define CALIB_MAX_LAYERS 100000
#define CALIB_MAX_NAME 256

/* ---- writing ---- */

/* 1 when every piece was added. */
static int add(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return 0;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}

static cJSON *to_json(const pact_calib *c)
{
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    ok = ok && add(root, "format", cJSON_CreateString(CALIB_FORMAT));
    ok = ok && add(root, "version", cJSON_CreateNumber(CALIB_VERSION));
    ok = ok && add(root, "model", cJSON_CreateString(c->model_name));
    ok = ok && add(root, "model_sha256", cJSON_CreateString(c->model_sha256));
    ok = ok && add(root, "data", cJSON_CreateString(c->data_name));
    ok = ok && add(root, "images", pact_json_count(c->images));
    ok = ok && add(root, "chunk_images", cJSON_CreateNumber(c->chunk_images));
    ok = ok && add(root, "bins", cJSON_CreateNumber(c->bins));
    ok = ok && add(root, "quantile_levels", pact_json_numbers(c->levels, c->n_levels));
    cJSON *layers = ok ? cJSON_CreateArray() : NULL;
    ok = ok && add(root, "layers", layers);
    for (int i = 0; ok && i < c->n_layers; i++) {
        const pact_calib_layer *l = &c->layers[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(layers, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        ok = ok && add(o, "index", cJSON_CreateNumber(i));
        ok = ok && add(o, "name", cJSON_CreateString(l->name));
        ok = ok && add(o, "func", cJSON_CreateString(pact_func_name(l->func)));
        ok = ok && add(o, "count", pact_json_count(l->count));
        ok = ok && add(o, "min", pact_json_number(l->min));
        ok = ok && add(o, "max", pact_json_number(l->max));
        ok = ok && add(o, "mean", pact_json_number(l->mean));
        ok = ok && add(o, "std", pact_json_number(l->std));
        ok = ok && add(o, "quantiles", pact_json_numbers(l->quantiles, l->n_quantiles));
        ok = ok && add(o, "histogram", pact_json_counts(l->histogram, (size_t)l->bins));
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

pact_status pact_calib_save(const pact_calib *c, const char *path, pact_error *err)
{
    cJSON *root = to_json(c);
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory writing the calibration", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the terminator: the file ends with a newline */
    /* a temporary file beside the target, renamed over it in one step */
    pact_status st = pact_write_file_atomic(path, text, len + 1, err);
    free(text);
    return st;
}

/* ---- reading: every byte is hostile ---- */

typedef struct {
    const char *path;
    pact_error *err;
    size_t file_size;
} reader;

static pact_status bad(const reader *r, const char *field, const char *what)
{
    return pact_fail(r->err, PACT_EFORMAT, "%s: %s: %s", r->path, field, what);
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int is_finite_number(const cJSON *v) { return cJSON_IsNumber(v) && isfinite(v->valuedouble); }

/* Non-negative integer below 2^53 (exact in a double). */
static int get_count(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= 9007199254740992.0) || d != floor(d))
        return 0;
    *out = (uint64_t)d;
    return 1;
}

static pact_status read_string(const reader *r, const cJSON *root, const char *key, char **dst)
{
    const cJSON *v = get(root, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) > 4096)
        return bad(r, key, "missing or not a string (at most 4096 bytes)");
    if (!pact_calib_set_string(dst, v->valuestring))
        return pact_fail(r->err, PACT_ENOMEM, "%s: out of memory", r->path);
    return PACT_OK;
}

static pact_status read_layer(const reader *r, const cJSON *o, int i, pact_calib *c)
{
    char field[96];
    pact_calib_layer *l = &c->layers[i];
#define FIELD(name) (snprintf(field, sizeof field, "layers[%d].%s", i, name), field)
    if (!cJSON_IsObject(o))
        return bad(r, FIELD(""), "not an object");
    const cJSON *v = get(o, "index");
    uint64_t idx;
    if (!get_count(v, &idx) || idx != (uint64_t)i)
        return bad(r, FIELD("index"), "missing or not equal to the layer's position");
    v = get(o, "name");
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > CALIB_MAX_NAME)
        return bad(r, FIELD("name"), "missing, empty or longer than 256 bytes");
    char *name = NULL;
    if (!pact_calib_set_string(&name, v->valuestring))
        return pact_fail(r->err, PACT_ENOMEM, "%s: out of memory", r->path);
    l->name = name;
    for (int j = 0; j < i; j++)
        if (strcmp(c->layers[j].name, name) == 0)
            return bad(r, FIELD("name"), "the same name as an earlier layer");
    v = get(o, "func");
    if (!cJSON_IsString(v) || pact_func_from_name(v->valuestring, &l->func, NULL) != PACT_OK)
        return bad(r, FIELD("func"), "missing or not a known function name");
    if (!get_count(get(o, "count"), &l->count))
        return bad(r, FIELD("count"), "missing or not a non-negative integer");
    const char *keys[4] = {"min", "max", "mean", "std"};
    double *vals[4] = {&l->min, &l->max, &l->mean, &l->std};
    for (int k = 0; k < 4; k++) {
        v = get(o, keys[k]);
        if (!is_finite_number(v))
            return bad(r, FIELD(keys[k]), "missing or not a finite number");
        *vals[k] = v->valuedouble;
    }
    if (!(l->min <= l->max) || !(l->std >= 0.0) ||
        (l->count > 0 && !(l->mean >= l->min && l->mean <= l->max)))
        return bad(r, FIELD("min"), "inconsistent statistics (need min <= mean <= max, std >= 0)");
    v = get(o, "quantiles");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != c->n_levels)
        return bad(r, FIELD("quantiles"), "missing or not one value per quantile level");
    int k = 0;
    for (const cJSON *q = v->child; q; q = q->next, k++) {
        if (!is_finite_number(q) ||
            (l->count > 0 && !(q->valuedouble >= l->min && q->valuedouble <= l->max)))
            return bad(r, FIELD("quantiles"), "holds a value that is not a number in [min, max]");
        ((double *)(uintptr_t)l->quantiles)[k] = q->valuedouble;
    }
    v = get(o, "histogram");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != c->bins)
        return pact_fail(r->err, PACT_EFORMAT, "%s: %s: %d entries, expected bins = %d",
                         r->path, FIELD("histogram"), cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1,
                         c->bins);
    uint64_t sum = 0;
    k = 0;
    uint64_t *h = (uint64_t *)(uintptr_t)l->histogram;
    for (const cJSON *q = v->child; q; q = q->next, k++) {
        if (!get_count(q, &h[k]))
            return bad(r, FIELD("histogram"), "holds a value that is not a non-negative integer");
        sum += h[k];
    }
    if (sum != l->count)
        return pact_fail(r->err, PACT_EFORMAT, "%s: %s: counts sum to %llu, count is %llu",
                         r->path, FIELD("histogram"), (unsigned long long)sum,
                         (unsigned long long)l->count);
#undef FIELD
    return PACT_OK;
}

static pact_status from_json(const reader *r, const cJSON *root, pact_calib **out)
{
    if (!cJSON_IsObject(root))
        return bad(r, "(top level)", "not a JSON object");
    const cJSON *v = get(root, "format");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, CALIB_FORMAT) != 0)
        return bad(r, "format", "missing or not \"" CALIB_FORMAT "\"");
    v = get(root, "version");
    if (!cJSON_IsNumber(v))
        return bad(r, "version", "missing or not a number");
    if (v->valuedouble != CALIB_VERSION)
        return pact_fail(r->err, PACT_EUNSUPPORTED,
                         "%s: version %g is not supported (this build reads version %d)",
                         r->path, v->valuedouble, CALIB_VERSION);
    uint64_t images, chunk, bins;
    if (!get_count(get(root, "images"), &images))
        return bad(r, "images", "missing or not a non-negative integer");
    if (!get_count(get(root, "chunk_images"), &chunk) || chunk < 1 || chunk > INT32_MAX)
        return bad(r, "chunk_images", "missing or not a positive integer");
    if (!get_count(get(root, "bins"), &bins) || bins < 1 || bins > PACT_CALIB_MAX_BINS)
        return bad(r, "bins", "missing or not an integer in 1..1048576");
    v = get(root, "quantile_levels");
    int n_levels = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n_levels < 0 || n_levels > PACT_CALIB_MAX_QUANTILES)
        return bad(r, "quantile_levels", "missing or not an array of at most 32 levels");
    double levels[PACT_CALIB_MAX_QUANTILES];
    int k = 0;
    for (const cJSON *q = v->child; q; q = q->next, k++) {
        if (!is_finite_number(q) || !(q->valuedouble > 0.0 && q->valuedouble < 1.0) ||
            (k > 0 && !(q->valuedouble > levels[k - 1])))
            return bad(r, "quantile_levels", "levels must increase strictly inside (0, 1)");
        levels[k] = q->valuedouble;
    }
    const cJSON *layers = get(root, "layers");
    int n_layers = cJSON_IsArray(layers) ? cJSON_GetArraySize(layers) : -1;
    if (n_layers < 1 || n_layers > CALIB_MAX_LAYERS)
        return bad(r, "layers", "missing, empty or not an array");
    /* every count takes at least two bytes ("0,"): refuse before allocating
     * what a short file only claims */
    if ((uint64_t)n_layers * bins > r->file_size / 2)
        return bad(r, "bins", "layers x bins is more than the file holds");
    pact_calib *c = pact_calib_alloc(n_layers, (int)bins, n_levels, levels);
    if (!c)
        return pact_fail(r->err, PACT_ENOMEM, "%s: out of memory", r->path);
    c->images = (size_t)images;
    c->chunk_images = (int)chunk;
    pact_status st = read_string(r, root, "model", &c->model_name);
    if (st == PACT_OK)
        st = read_string(r, root, "model_sha256", &c->model_sha256);
    if (st == PACT_OK)
        st = read_string(r, root, "data", &c->data_name);
    int i = 0;
    for (const cJSON *o = layers->child; o && st == PACT_OK; o = o->next, i++)
        st = read_layer(r, o, i, c);
    if (st != PACT_OK) {
        pact_calib_free(c);
        return st;
    }
    *out = c;
    return PACT_OK;
}

pact_status pact_calib_parse(const char *text, size_t size, const char *name,
                             pact_calib **out, pact_error *err)
{
    *out = NULL;
    if (!name)
        name = "calibration";
    reader r = {name, err, size};
    long at;
    cJSON *root = pact_json_parse(text, size, &at);
    if (!root)
        return pact_fail(err, PACT_EFORMAT, "%s: not valid JSON (near byte %ld of %zu)", name, at,
                         size);
    pact_status st = from_json(&r, root, out);
    cJSON_Delete(root);
    return st;
}

pact_status pact_calib_load(const char *path, pact_calib **out, pact_error *err)
{
    *out = NULL;
    char *text;
    size_t size;
    pact_status st = pact_read_file(path, CALIB_MAX_FILE, &text, &size, err);
    if (st == PACT_OK)
        st = pact_calib_parse(text, size, path, out, err);
    free(text);
    return st;
}
