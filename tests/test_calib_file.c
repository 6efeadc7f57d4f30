/* Calibration through a model written here (not the engine: any pact_model
 * works) on images written here, against brute force over every value:
 * count, min, max, mean, std, and quantiles within one bin width of the sorted
 * values; then calib.json: round trip, and hostile files (each must fail with
 * the documented status and a message naming the field). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMAGES 150
static char dir[64];

/* Toy model: layer "a" sees 4 p - 2 for the first 256 pixels p; layer "b" sees
 * one value per image, the mean of a's outputs (after ReLU) minus 0.3. */
static const char *const toy_names[2] = {"a", "b"};
static const pact_func toy_funcs[2] = {PACT_RELU, PACT_TANH};

/* ctx non-NULL: the toy calls the hook image by image instead of once */
static pact_status toy_forward(void *ctx, const float *input, int batch, pact_act_hook hook,
                               void *hook_ctx, float *logits, pact_error *err)
{
    if (ctx && batch > 1) {
        pact_status st = PACT_OK;
        for (int i = 0; i < batch && st == PACT_OK; i++)
            st = toy_forward(ctx, input + (size_t)i * 3072, 1, hook, hook_ctx, logits + 2 * i,
                             err);
        return st;
    }
    float *a = malloc(sizeof(float) * (size_t)batch * 256), *b = malloc(sizeof(float) * batch);
    pact_status st = PACT_OK;
    for (int i = 0; i < batch; i++)
        for (int k = 0; k < 256; k++)
            a[i * 256 + k] = 4.0f * input[(size_t)i * 3072 + k] - 2.0f;
    st = hook(hook_ctx, 0, a, batch, 4, 64, err);
    for (int i = 0; i < batch && st == PACT_OK; i++) {
        double s = 0;
        for (int k = 0; k < 256; k++)
            s += a[i * 256 + k];
        b[i] = (float)(s / 256.0) - 0.3f;
    }
    if (st == PACT_OK)
        st = hook(hook_ctx, 1, b, batch, 1, 1, err);
    for (int i = 0; i < batch && st == PACT_OK; i++) {
        logits[2 * i] = b[i];
        logits[2 * i + 1] = -b[i];
    }
    free(a);
    free(b);
    return st;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static int check_against_brute_force(const pact_calib *c, const pact_dataset *ds)
{
    int n = 0;
    /* layer a: all 256 values of every image */
    size_t count = (size_t)IMAGES * 256;
    double *v = malloc(sizeof(double) * count);
    float x[3072];
    for (int i = 0; i < IMAGES; i++) {
        pact_dataset_images_f32(ds, (size_t)i, 1, x, NULL);
        for (int k = 0; k < 256; k++)
            v[(size_t)i * 256 + k] = 4.0f * x[k] - 2.0f;
    }
    double sum = 0, lo = v[0], hi = v[0];
    for (size_t i = 0; i < count; i++) {
        sum += v[i];
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    double mean = sum / count, ss = 0;
    for (size_t i = 0; i < count; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    const pact_calib_layer *l = pact_calib_layer_at(c, 0);
    CHECK(l && l->count == count && l->min == lo && l->max == hi, "layer a: count %llu [%g, %g]",
          l ? (unsigned long long)l->count : 0ull, l ? l->min : 0, l ? l->max : 0);
    CHECK(l && fabs(l->mean - mean) < 1e-12 && fabs(l->std - sqrt(ss / count)) < 1e-12,
          "layer a: mean %.15g std %.15g, brute force %.15g %.15g", l ? l->mean : 0,
          l ? l->std : 0, mean, sqrt(ss / count));
    qsort(v, count, sizeof(double), cmp_double);
    const double w = (hi - lo) / pact_calib_bins(c);
    for (int k = 0; l && k < l->n_quantiles; k++) {
        double q = l->quantile_levels[k];
        double exact = v[(size_t)ceil(q * count) - 1]; /* rank ceil(q n) */
        CHECK(fabs(l->quantiles[k] - exact) <= w * (1 + 1e-9),
              "layer a q=%g: %.6f, exact %.6f, bin width %.3g", q, l->quantiles[k], exact, w);
        n++;
    }
    uint64_t total = 0;
    for (int i = 0; l && i < l->bins; i++)
        total += l->histogram[i];
    CHECK(l && total == count, "histogram holds %llu values, count %zu",
          (unsigned long long)total, count);
    const pact_calib_layer *b = pact_calib_layer_at(c, 1);
    CHECK(b && b->count == IMAGES && b->func == PACT_TANH && strcmp(b->name, "b") == 0,
          "layer b: count %llu", b ? (unsigned long long)b->count : 0ull);
    CHECK(pact_calib_quantile(c, 0, 0.0) == lo && pact_calib_quantile(c, 0, 1.0) == hi &&
              isnan(pact_calib_quantile(c, 0, 1.5)) && isnan(pact_calib_quantile(c, 2, 0.5)),
          "quantile edges");
    CHECK(pact_calib_find(c, "b") == 1 && pact_calib_find(c, "z") == -1, "find");
    free(v);
    return n + 6;
}

static char path[128];

static void write_text(const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static int expect(const char *what, pact_status want, const char *needle)
{
    pact_calib *c = NULL;
    pact_error err = {0};
    pact_status st = pact_calib_load(path, &c, &err);
    CHECK(st == want && strstr(err.message, needle) && !c,
          "%s: %s '%s' (expected %s naming '%s')", what, pact_status_str(st), err.message,
          pact_status_str(want), needle);
    pact_calib_free(c);
    return 1;
}

/* Saves the valid calibration's JSON after `edit` was applied to it. */
static int mutate(const char *good, const char *what, void (*edit)(cJSON *), pact_status want,
                  const char *needle)
{
    cJSON *j = cJSON_Parse(good);
    edit(j);
    char *text = cJSON_PrintUnformatted(j);
    write_text(text);
    free(text);
    cJSON_Delete(j);
    return expect(what, want, needle);
}

static cJSON *layer(cJSON *j, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "layers"), i);
}
static void e_format(cJSON *j) { cJSON_ReplaceItemInObject(j, "format", cJSON_CreateString("x")); }
static void e_version(cJSON *j) { cJSON_ReplaceItemInObject(j, "version", cJSON_CreateNumber(2)); }
static void e_bins(cJSON *j) { cJSON_ReplaceItemInObject(j, "bins", cJSON_CreateNumber(-3)); }
static void e_hist_len(cJSON *j)
{
    cJSON_DeleteItemFromArray(cJSON_GetObjectItemCaseSensitive(layer(j, 1), "histogram"), 0);
}
static void e_hist_sum(cJSON *j)
{
    cJSON *h = cJSON_GetObjectItemCaseSensitive(layer(j, 0), "histogram");
    cJSON_ReplaceItemInArray(h, 3, cJSON_CreateNumber(cJSON_GetArrayItem(h, 3)->valuedouble + 1));
}
static void e_hist_neg(cJSON *j)
{
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(layer(j, 0), "histogram"), 5,
                             cJSON_CreateNumber(-1));
}
static void e_dup_name(cJSON *j) { cJSON_ReplaceItemInObject(layer(j, 1), "name", cJSON_CreateString("a")); }
static void e_func(cJSON *j) { cJSON_ReplaceItemInObject(layer(j, 1), "func", cJSON_CreateString("softplus")); }
static void e_min_max(cJSON *j) { cJSON_ReplaceItemInObject(layer(j, 0), "min", cJSON_CreateNumber(1e9)); }
static void e_std(cJSON *j) { cJSON_ReplaceItemInObject(layer(j, 0), "std", cJSON_CreateString("wide")); }
static void e_quant(cJSON *j)
{
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(layer(j, 0), "quantiles"), 0,
                             cJSON_CreateNumber(1e6));
}
static void e_levels(cJSON *j)
{
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(j, "quantile_levels"), 1,
                             cJSON_CreateNumber(0.0001));
}
static void e_index(cJSON *j) { cJSON_ReplaceItemInObject(layer(j, 1), "index", cJSON_CreateNumber(0)); }
static void e_no_layers(cJSON *j) { cJSON_ReplaceItemInObject(j, "layers", cJSON_CreateArray()); }
static void e_count_frac(cJSON *j) { cJSON_ReplaceItemInObject(layer(j, 1), "count", cJSON_CreateNumber(1.5)); }
static void e_huge_bins(cJSON *j) { cJSON_ReplaceItemInObject(j, "bins", cJSON_CreateNumber(1048576)); }

int main(void)
{
    int n = 0;
    pact_error err;
    strcpy(dir, "/tmp/pact_calib_XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    /* images: pixel k of image i is (k * 13 + i * 101) mod 256 */
    snprintf(path, sizeof path, "%s/images.bin", dir);
    pact_test_write_cifar(path, IMAGES, 13, 101, 0);
    pact_dataset *ds = NULL;
    CHECK_OK(pact_cifar_load(path, PACT_SPLIT_TEST, 0, &ds, &err), &err);
    remove(path);
    if (!ds)
        return pact_test_done("test_calib_file", 1);

    pact_model toy = {.n_act = 2, .act_names = toy_names, .act_funcs = toy_funcs,
                      .input_size = 3072, .n_classes = 2, .forward = toy_forward};
    pact_calib_opts o = {.chunk_images = 32, .bins = 512, .model_name = "toy",
                         .model_sha256 = "00ff", .data_name = "images.bin"};
    pact_calib *c = NULL;
    CHECK_OK(pact_calibrate(&toy, ds, &o, &c, &err), &err);
    if (!c)
        return pact_test_done("test_calib_file", 1);
    n += check_against_brute_force(c, ds);

    /* the same numbers, to the bit, when the model calls the hook image by image */
    pact_model split = toy;
    split.ctx = &split;
    pact_calib *cs = NULL;
    CHECK_OK(pact_calibrate(&split, ds, &o, &cs, &err), &err);
    for (int l = 0; cs && l < 2; l++) {
        const pact_calib_layer *x = pact_calib_layer_at(c, l), *y = pact_calib_layer_at(cs, l);
        CHECK(x->mean == y->mean && x->std == y->std && x->min == y->min && x->max == y->max &&
                  memcmp(x->histogram, y->histogram, sizeof(uint64_t) * 512) == 0,
              "layer %d: hook calls per image change the statistics (mean %.17g vs %.17g)", l,
              x->mean, y->mean);
        n++;
    }
    pact_calib_free(cs);
    CHECK(pact_calib_images(c) == IMAGES && pact_calib_chunk_images(c) == 32 &&
              pact_calib_bins(c) == 512 && strcmp(pact_calib_model_name(c), "toy") == 0 &&
              strcmp(pact_calib_model_sha256(c), "00ff") == 0 &&
              strcmp(pact_calib_data_name(c), "images.bin") == 0,
          "recorded settings");
    n++;

    /* option checks */
    pact_calib *bad = NULL;
    const double desc[2] = {0.9, 0.1};
    pact_calib_opts ob = {.n_quantiles = 2, .quantiles = desc};
    CHECK(pact_calibrate(&toy, ds, &ob, &bad, &err) == PACT_EINVAL && !bad,
          "decreasing levels: %s", err.message);
    ob = (pact_calib_opts){.bins = PACT_CALIB_MAX_BINS + 1};
    CHECK(pact_calibrate(&toy, ds, &ob, &bad, &err) == PACT_EINVAL, "too many bins");
    pact_model none = toy;
    none.n_act = 0;
    CHECK(pact_calibrate(&none, ds, NULL, &bad, &err) == PACT_EINVAL, "no layers");
    n += 3;

    /* round trip, then hostile variants of the file */
    snprintf(path, sizeof path, "%s/calib.json", dir);
    CHECK_OK(pact_calib_save(c, path, &err), &err);
    pact_calib *r = NULL;
    CHECK_OK(pact_calib_load(path, &r, &err), &err);
    CHECK(r && pact_calib_layer_count(r) == 2 &&
              pact_calib_layer_at(r, 0)->mean == pact_calib_layer_at(c, 0)->mean &&
              pact_calib_layer_at(r, 1)->func == PACT_TANH &&
              strcmp(pact_calib_model_sha256(r), "00ff") == 0,
          "round trip");
    pact_calib_free(r);
    n += 2;
    FILE *g = fopen(path, "rb");
    fseek(g, 0, SEEK_END);
    long size = ftell(g);
    fseek(g, 0, SEEK_SET);
    char *good = calloc(1, (size_t)size + 1);
    size_t got = fread(good, 1, (size_t)size, g);
    fclose(g);
    CHECK(got == (size_t)size, "read back");

    char *cut = strndup(good, (size_t)size / 2);
    write_text(cut);
    free(cut);
    n += expect("truncated", PACT_EFORMAT, "not valid JSON (near byte");
    write_text("");
    n += expect("empty", PACT_EFORMAT, "not valid JSON");
    write_text("[1, 2]");
    n += expect("array", PACT_EFORMAT, "not a JSON object");
    write_text("{\"format\":\"polyact-calib\",\"version\":1,\"images\":1,\"layers\":[");
    n += expect("unterminated", PACT_EFORMAT, "not valid JSON");
    n += mutate(good, "format", e_format, PACT_EFORMAT, "format");
    n += mutate(good, "version 2", e_version, PACT_EUNSUPPORTED, "version 2");
    n += mutate(good, "bins", e_bins, PACT_EFORMAT, "bins");
    n += mutate(good, "histogram length", e_hist_len, PACT_EFORMAT, "layers[1].histogram: 511");
    n += mutate(good, "histogram sum", e_hist_sum, PACT_EFORMAT, "layers[0].histogram: counts sum");
    n += mutate(good, "negative count", e_hist_neg, PACT_EFORMAT, "layers[0].histogram");
    n += mutate(good, "duplicate name", e_dup_name, PACT_EFORMAT, "layers[1].name");
    n += mutate(good, "unknown func", e_func, PACT_EFORMAT, "layers[1].func");
    n += mutate(good, "min above max", e_min_max, PACT_EFORMAT, "layers[0].min");
    n += mutate(good, "std not a number", e_std, PACT_EFORMAT, "layers[0].std");
    n += mutate(good, "quantile outside range", e_quant, PACT_EFORMAT, "layers[0].quantiles");
    n += mutate(good, "levels not increasing", e_levels, PACT_EFORMAT, "quantile_levels");
    n += mutate(good, "index", e_index, PACT_EFORMAT, "layers[1].index");
    n += mutate(good, "no layers", e_no_layers, PACT_EFORMAT, "layers");
    n += mutate(good, "fractional count", e_count_frac, PACT_EFORMAT, "layers[1].count");
    n += mutate(good, "bins beyond the file", e_huge_bins, PACT_EFORMAT, "more than the file holds");
    remove(path);
    CHECK(pact_calib_load(path, &r, &err) == PACT_EIO && strstr(err.message, "calib.json"),
          "missing file: %s", err.message);
    snprintf(path, sizeof path, "%s/no/such/dir/calib.json", dir);
    CHECK(pact_calib_save(c, path, &err) == PACT_EIO && strstr(err.message, "calib.json"),
          "unwritable: %s", err.message);
    n += 2;

    free(good);
    pact_calib_free(c);
    pact_dataset_free(ds);
    rmdir(dir);
    return pact_test_done("test_calib_file", n);
}
