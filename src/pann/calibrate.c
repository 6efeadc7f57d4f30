/* Calibration: per-layer statistics of the activations' inputs, through the
 * model interface, in fixed chunks merged in chunk order. */
#include "calib_internal.h"
#include "../internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHUNK 64
#define DEFAULT_BINS 2048

static const double default_levels[] = {0.001, 0.01, 0.05, 0.5, 0.95, 0.99, 0.999};
#define N_DEFAULT_LEVELS ((int)(sizeof default_levels / sizeof default_levels[0]))

enum { S_COUNT, S_MIN, S_MAX, S_MEAN, S_M2 };

/* ---- the calibration object ---- */

int pact_calib_set_string(char **dst, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d)
        return 0;
    memcpy(d, s, n);
    free(*dst);
    *dst = d;
    return 1;
}

void pact_calib_free(pact_calib *c)
{
    if (!c)
        return;
    for (int i = 0; c->layers && i < c->n_layers; i++) {
        free((char *)(uintptr_t)c->layers[i].name);
        free((double *)(uintptr_t)c->layers[i].quantiles);
        free((uint64_t *)(uintptr_t)c->layers[i].histogram);
    }
    free(c->layers);
    free(c->levels);
    free(c->model_name);
    free(c->model_sha256);
    free(c->data_name);
    free(c);
}

pact_calib *pact_calib_alloc(int n_layers, int bins, int n_levels, const double *levels)
{
    pact_calib *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->bins = bins;
    c->n_levels = n_levels;
    c->levels = malloc(sizeof(double) * (size_t)(n_levels > 0 ? n_levels : 1));
    c->layers = calloc((size_t)(n_layers > 0 ? n_layers : 1), sizeof *c->layers);
    int ok = c->levels && c->layers && pact_calib_set_string(&c->model_name, NULL) &&
             pact_calib_set_string(&c->model_sha256, NULL) &&
             pact_calib_set_string(&c->data_name, NULL);
    if (ok) {
        c->n_layers = n_layers;
        memcpy(c->levels, levels, sizeof(double) * (size_t)n_levels);
        for (int i = 0; i < n_layers && ok; i++) {
            pact_calib_layer *l = &c->layers[i];
            l->n_quantiles = n_levels;
            l->quantile_levels = c->levels;
            l->bins = bins;
            l->quantiles = calloc((size_t)(n_levels > 0 ? n_levels : 1), sizeof(double));
            l->histogram = calloc((size_t)bins, sizeof(uint64_t));
            ok = l->quantiles && l->histogram;
        }
    }
    if (!ok) {
        pact_calib_free(c);
        return NULL;
    }
    return c;
}

static double quantile(const pact_calib_layer *l, double q)
{
    if (l->count == 0 || !(q >= 0.0 && q <= 1.0))
        return NAN;
    if (q == 0.0)
        return l->min;
    if (q == 1.0)
        return l->max;
    const double target = q * (double)l->count, w = (l->max - l->min) / l->bins;
    double cum = 0.0;
    for (int i = 0; i < l->bins; i++) {
        double c = (double)l->histogram[i];
        if (c > 0.0 && cum + c >= target) {
            double v = l->min + ((double)i + (target - cum) / c) * w;
            return v < l->min ? l->min : v > l->max ? l->max : v;
        }
        cum += c;
    }
    return l->max;
}

void pact_calib_fill_quantiles(pact_calib_layer *l)
{
    for (int k = 0; k < l->n_quantiles; k++)
        ((double *)(uintptr_t)l->quantiles)[k] = quantile(l, l->quantile_levels[k]);
}

int pact_calib_layer_count(const pact_calib *c) { return c->n_layers; }

const pact_calib_layer *pact_calib_layer_at(const pact_calib *c, int i)
{
    return i >= 0 && i < c->n_layers ? &c->layers[i] : NULL;
}

int pact_calib_find(const pact_calib *c, const char *name)
{
    for (int i = 0; name && i < c->n_layers; i++)
        if (strcmp(c->layers[i].name, name) == 0)
            return i;
    return -1;
}

double pact_calib_quantile(const pact_calib *c, int layer, double q)
{
    return layer >= 0 && layer < c->n_layers ? quantile(&c->layers[layer], q) : NAN;
}

size_t pact_calib_images(const pact_calib *c) { return c->images; }
int pact_calib_chunk_images(const pact_calib *c) { return c->chunk_images; }
int pact_calib_bins(const pact_calib *c) { return c->bins; }

pact_status pact_calib_check_model(const pact_calib *c, const pact_model *m, const char *sha256,
                                   pact_error *err)
{
    if (sha256 && sha256[0] && c->model_sha256 && c->model_sha256[0] &&
        strcmp(sha256, c->model_sha256) != 0)
        return pact_fail(err, PACT_EMISMATCH,
                         "calibration was measured on other weights (sha256 %.12s..., the model's "
                         "is %.12s...)",
                         c->model_sha256, sha256);
    pact_status st = pact_check_model_count("calibration", c->n_layers, m, err);
    for (int i = 0; st == PACT_OK && i < m->n_act; i++)
        st = pact_check_model_layer("calibration", i, c->layers[i].name, c->layers[i].func, m, err);
    return st;
}

const char *pact_calib_model_name(const pact_calib *c) { return c->model_name; }
const char *pact_calib_model_sha256(const pact_calib *c) { return c->model_sha256; }
const char *pact_calib_data_name(const pact_calib *c) { return c->data_name; }

/* ---- options ---- */

typedef struct {
    int chunk, bins, n_levels;
    const double *levels;
    size_t images;      /* of the data set, after max_images */
} settings;

static pact_status check_opts(const pact_model *model, const pact_dataset *ds,
                              const pact_calib_opts *o, settings *s, pact_error *err)
{
    const pact_calib_opts defaults = {0};
    if (!o)
        o = &defaults;
    if (!model || model->n_act < 1 || !model->forward || !model->act_names || !model->act_funcs)
        return pact_fail(err, PACT_EINVAL, "calibration needs a model with activation layers");
    if (model->input_size != PACT_CIFAR_IMAGE_SIZE || model->n_classes < 1)
        return pact_fail(err, PACT_EINVAL,
                         "model takes %d floats per image; CIFAR-10 images are %d",
                         model->input_size, PACT_CIFAR_IMAGE_SIZE);
    if (o->chunk_images < 0 || o->bins < 0 || o->bins > PACT_CALIB_MAX_BINS)
        return pact_fail(err, PACT_EINVAL, "chunk_images %d or bins %d out of range (bins <= %d)",
                         o->chunk_images, o->bins, PACT_CALIB_MAX_BINS);
    s->chunk = o->chunk_images ? o->chunk_images : DEFAULT_CHUNK;
    s->bins = o->bins ? o->bins : DEFAULT_BINS;
    if (o->n_quantiles < 0 || o->n_quantiles > PACT_CALIB_MAX_QUANTILES ||
        (o->n_quantiles > 0 && !o->quantiles))
        return pact_fail(err, PACT_EINVAL, "n_quantiles %d outside 0..%d", o->n_quantiles,
                         PACT_CALIB_MAX_QUANTILES);
    s->n_levels = o->n_quantiles ? o->n_quantiles : N_DEFAULT_LEVELS;
    s->levels = o->n_quantiles ? o->quantiles : default_levels;
    for (int k = 0; k < s->n_levels; k++)
        if (!(s->levels[k] > 0.0 && s->levels[k] < 1.0) ||
            (k > 0 && !(s->levels[k] > s->levels[k - 1])))
            return pact_fail(err, PACT_EINVAL,
                             "quantile level %d (%g) must be in (0, 1) and above the previous",
                             k, s->levels[k]);
    s->images = pact_dataset_count(ds);
    if (o->max_images && o->max_images < s->images)
        s->images = o->max_images;
    if (s->images == 0)
        return pact_fail(err, PACT_EINVAL, "no images to calibrate on");
    return PACT_OK;
}

size_t pact_calib_chunk_count(const pact_dataset *ds, const pact_calib_opts *opts)
{
    size_t n = pact_dataset_count(ds);
    if (opts && opts->max_images && opts->max_images < n)
        n = opts->max_images;
    size_t chunk = opts && opts->chunk_images > 0 ? (size_t)opts->chunk_images : DEFAULT_CHUNK;
    return (n + chunk - 1) / chunk;
}

/* ---- the two passes ---- */

typedef struct {
    const pact_model *model;
    size_t chunk;
    double *stats;          /* pass 1: n_act x PACT_CALIB_STATS */
    const double *totals;   /* pass 2 */
    uint64_t *counts;       /* pass 2: n_act x bins */
    int bins;
} hook_ctx;

/* Chan et al.'s merge of (count, mean, M2), plus min and max, into a. */
static void merge(double *a, const double *b)
{
    if (b[S_COUNT] == 0.0)
        return;
    if (a[S_COUNT] == 0.0) {
        memcpy(a, b, sizeof(double) * PACT_CALIB_STATS);
        return;
    }
    double n = a[S_COUNT] + b[S_COUNT], d = b[S_MEAN] - a[S_MEAN];
    a[S_MEAN] += d * (b[S_COUNT] / n);
    a[S_M2] += b[S_M2] + d * d * (a[S_COUNT] * b[S_COUNT] / n);
    a[S_COUNT] = n;
    a[S_MIN] = b[S_MIN] < a[S_MIN] ? b[S_MIN] : a[S_MIN];
    a[S_MAX] = b[S_MAX] > a[S_MAX] ? b[S_MAX] : a[S_MAX];
}

static pact_status non_finite(const hook_ctx *h, int layer, pact_error *err)
{
    return pact_fail(err, PACT_ENUMERIC,
                     "activation layer %s: non-finite input in chunk %zu",
                     h->model->act_names[layer], h->chunk);
}

/* (count, min, max, mean, M2) of n values by two passes over x, with four
 * fixed partial sums (a fixed order, so results are reproducible). */
static int image_stats(const float *x, size_t n, double *part)
{
    float lo = x[0], hi = x[0];
    double s[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) {
            float v = x[i + k];
            s[k] += v;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    for (; i < n; i++) {
        s[0] += x[i];
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    double mean = ((s[0] + s[1]) + (s[2] + s[3])) / (double)n;
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(mean))
        return 0;
    double q[4] = {0, 0, 0, 0};
    for (i = 0; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) {
            double d = (double)x[i + k] - mean;
            q[k] += d * d;
        }
    for (; i < n; i++) {
        double d = (double)x[i] - mean;
        q[0] += d * d;
    }
    part[S_COUNT] = (double)n;
    part[S_MIN] = lo;
    part[S_MAX] = hi;
    part[S_MEAN] = mean;
    part[S_M2] = (q[0] + q[1]) + (q[2] + q[3]);
    return 1;
}

/* Pass 1: statistics of every image, merged image after image: the result
 * depends on the chunk's images only, not on how a model splits them into
 * hook calls (slices, threads). */
static pact_status stats_hook(void *ctx, int layer, float *x, int batch, int channels,
                              int spatial, pact_error *err)
{
    hook_ctx *h = ctx;
    const size_t per_image = (size_t)channels * spatial, n = (size_t)batch * per_image;
    double part[PACT_CALIB_STATS];
    for (int b = 0; b < batch && per_image > 0; b++) {
        if (!image_stats(x + (size_t)b * per_image, per_image, part))
            return non_finite(h, layer, err);
        merge(h->stats + (size_t)layer * PACT_CALIB_STATS, part);
    }
    pact_func_apply_f32(h->model->act_funcs[layer], x, n);
    return PACT_OK;
}

/* Pass 2: bin every value over the layer's [min, max]. */
static pact_status hist_hook(void *ctx, int layer, float *x, int batch, int channels,
                             int spatial, pact_error *err)
{
    hook_ctx *h = ctx;
    const size_t n = (size_t)batch * channels * spatial;
    const double *t = h->totals + (size_t)layer * PACT_CALIB_STATS;
    const double lo = t[S_MIN], hi = t[S_MAX];
    const double scale = hi > lo ? (double)h->bins / (hi - lo) : 0.0;
    uint64_t *counts = h->counts + (size_t)layer * h->bins;
    const int last = h->bins - 1;
    for (size_t i = 0; i < n; i++) {
        double v = (double)x[i];
        if (isnan(v))
            return non_finite(h, layer, err);
        /* a model that is not bit-reproducible may step slightly outside pass
         * 1's range: such values count in the end bins */
        double p = (v - lo) * scale;
        int b = p <= 0.0 ? 0 : p >= (double)last ? last : (int)p;
        counts[b]++;
    }
    pact_func_apply_f32(h->model->act_funcs[layer], x, n);
    return PACT_OK;
}

/* Runs chunk `chunk` through the model with the hook. */
static pact_status run_chunk(const pact_model *model, const pact_dataset *ds,
                             const settings *s, size_t chunk, pact_act_hook hook, hook_ctx *h,
                             pact_error *err)
{
    size_t first = chunk * (size_t)s->chunk;
    if (first >= s->images)
        return pact_fail(err, PACT_EINVAL, "chunk %zu outside the %zu images", chunk, s->images);
    int n = s->images - first < (size_t)s->chunk ? (int)(s->images - first) : s->chunk;
    float *x = malloc(sizeof(float) * (size_t)n * PACT_CIFAR_IMAGE_SIZE);
    float *logits = malloc(sizeof(float) * (size_t)n * (size_t)model->n_classes);
    pact_status st = PACT_OK;
    if (!x || !logits)
        st = pact_fail(err, PACT_ENOMEM, "out of memory for a chunk of %d images", n);
    if (st == PACT_OK)
        st = pact_dataset_images_f32(ds, first, (size_t)n, x, err);
    h->chunk = chunk;
    if (st == PACT_OK)
        st = model->forward(model->ctx, x, n, hook, h, logits, err);
    free(x);
    free(logits);
    return st;
}

pact_status pact_calib_stats_chunk(const pact_model *model, const pact_dataset *ds,
                                   const pact_calib_opts *opts, size_t chunk, double *stats,
                                   pact_error *err)
{
    settings s = {0};
    pact_status st = check_opts(model, ds, opts, &s, err);
    if (st != PACT_OK)
        return st;
    memset(stats, 0, sizeof(double) * (size_t)model->n_act * PACT_CALIB_STATS);
    hook_ctx h = {.model = model, .stats = stats};
    return run_chunk(model, ds, &s, chunk, stats_hook, &h, err);
}

void pact_calib_merge_stats(int n_act, size_t n_chunks, const double *chunk_stats,
                            double *totals)
{
    const size_t per_chunk = (size_t)n_act * PACT_CALIB_STATS;
    memset(totals, 0, sizeof(double) * per_chunk);
    for (size_t c = 0; c < n_chunks; c++)
        for (int l = 0; l < n_act; l++)
            merge(totals + (size_t)l * PACT_CALIB_STATS,
                  chunk_stats + c * per_chunk + (size_t)l * PACT_CALIB_STATS);
}

pact_status pact_calib_hist_chunk(const pact_model *model, const pact_dataset *ds,
                                  const pact_calib_opts *opts, const double *totals,
                                  size_t chunk, uint64_t *counts, pact_error *err)
{
    settings s = {0};
    pact_status st = check_opts(model, ds, opts, &s, err);
    if (st != PACT_OK)
        return st;
    for (int l = 0; l < model->n_act; l++) { /* totals may come from a file */
        const double *t = totals + (size_t)l * PACT_CALIB_STATS;
        if (!isfinite(t[S_MIN]) || !isfinite(t[S_MAX]) || t[S_MIN] > t[S_MAX])
            return pact_fail(err, PACT_EINVAL, "layer %d (%s): pass-1 range [%g, %g] is not finite "
                             "and ordered", l, model->act_names[l], t[S_MIN], t[S_MAX]);
    }
    hook_ctx h = {.model = model, .totals = totals, .counts = counts, .bins = s.bins};
    return run_chunk(model, ds, &s, chunk, hist_hook, &h, err);
}

pact_status pact_calib_build(const pact_model *model, const pact_calib_opts *opts,
                             size_t images, const double *totals, const uint64_t *counts,
                             pact_calib **out, pact_error *err)
{
    *out = NULL;
    const pact_calib_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    const int bins = opts->bins ? opts->bins : DEFAULT_BINS;
    for (int l = 0; l < model->n_act; l++) {
        const double *t = totals + (size_t)l * PACT_CALIB_STATS;
        const uint64_t *h = counts + (size_t)l * (size_t)bins;
        uint64_t sum = 0;
        for (int b = 0; b < bins; b++)
            sum += h[b];
        if (!(t[S_COUNT] >= 0.0 && t[S_COUNT] <= 9007199254740992.0) ||
            t[S_COUNT] != floor(t[S_COUNT]) || !isfinite(t[S_MIN]) || !isfinite(t[S_MAX]) ||
            !isfinite(t[S_MEAN]) || !isfinite(t[S_M2]) || t[S_MIN] > t[S_MAX] || t[S_M2] < 0.0 ||
            sum != (uint64_t)t[S_COUNT])
            return pact_fail(err, PACT_EFORMAT,
                             "calibration of layer %d (%s): inconsistent statistics (count %g, "
                             "min %g, max %g, mean %g, M2 %g, histogram sum %llu)",
                             l, model->act_names[l], t[S_COUNT], t[S_MIN], t[S_MAX], t[S_MEAN],
                             t[S_M2], (unsigned long long)sum);
    }
    settings s = {.chunk = opts->chunk_images ? opts->chunk_images : DEFAULT_CHUNK,
                  .bins = opts->bins ? opts->bins : DEFAULT_BINS,
                  .n_levels = opts->n_quantiles ? opts->n_quantiles : N_DEFAULT_LEVELS,
                  .levels = opts->n_quantiles ? opts->quantiles : default_levels};
    pact_calib *c = pact_calib_alloc(model->n_act, s.bins, s.n_levels, s.levels);
    if (!c || !pact_calib_set_string(&c->model_name, opts->model_name) ||
        !pact_calib_set_string(&c->model_sha256, opts->model_sha256) ||
        !pact_calib_set_string(&c->data_name, opts->data_name)) {
        pact_calib_free(c);
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    }
    c->images = images;
    c->chunk_images = s.chunk;
    for (int l = 0; l < model->n_act; l++) {
        pact_calib_layer *y = &c->layers[l];
        const double *t = totals + (size_t)l * PACT_CALIB_STATS;
        y->func = model->act_funcs[l];
        y->count = (uint64_t)t[S_COUNT];
        y->min = t[S_MIN];
        y->max = t[S_MAX];
        y->mean = t[S_MEAN];
        y->std = t[S_COUNT] > 0 ? sqrt(t[S_M2] / t[S_COUNT]) : 0.0;
        memcpy((uint64_t *)(uintptr_t)y->histogram, counts + (size_t)l * s.bins,
               sizeof(uint64_t) * (size_t)s.bins);
        pact_calib_fill_quantiles(y);
        char *name = NULL;
        if (!pact_calib_set_string(&name, model->act_names[l])) {
            pact_calib_free(c);
            return pact_fail(err, PACT_ENOMEM, "out of memory");
        }
        y->name = name;
    }
    *out = c;
    return PACT_OK;
}

pact_status pact_calibrate(const pact_model *model, const pact_dataset *ds,
                           const pact_calib_opts *opts, pact_calib **out, pact_error *err)
{
    *out = NULL;
    settings s = {0};
    pact_status st = check_opts(model, ds, opts, &s, err);
    if (st != PACT_OK)
        return st;
    const size_t n_chunks = pact_calib_chunk_count(ds, opts);
    const size_t per_chunk = (size_t)model->n_act * PACT_CALIB_STATS;
    double *stats = malloc(sizeof(double) * per_chunk * n_chunks);
    double *totals = malloc(sizeof(double) * per_chunk);
    uint64_t *counts = calloc((size_t)model->n_act * (size_t)s.bins, sizeof(uint64_t));
    if (!stats || !totals || !counts)
        st = pact_fail(err, PACT_ENOMEM, "out of memory for %zu chunks", n_chunks);
    pact_progress_fn progress = opts ? opts->progress : NULL;
    void *pctx = opts ? opts->progress_ctx : NULL;
    for (size_t c = 0; c < n_chunks && st == PACT_OK; c++) {
        st = pact_calib_stats_chunk(model, ds, opts, c, stats + c * per_chunk, err);
        if (st == PACT_OK && progress)
            progress(pctx, c + 1 < n_chunks ? (c + 1) * (size_t)s.chunk : s.images,
                     2 * s.images);
    }
    if (st == PACT_OK)
        pact_calib_merge_stats(model->n_act, n_chunks, stats, totals);
    for (size_t c = 0; c < n_chunks && st == PACT_OK; c++) {
        st = pact_calib_hist_chunk(model, ds, opts, totals, c, counts, err);
        if (st == PACT_OK && progress)
            progress(pctx, s.images + (c + 1 < n_chunks ? (c + 1) * (size_t)s.chunk : s.images),
                     2 * s.images);
    }
    if (st == PACT_OK)
        st = pact_calib_build(model, opts, s.images, totals, counts, out, err);
    free(stats);
    free(totals);
    free(counts);
    return st;
}
