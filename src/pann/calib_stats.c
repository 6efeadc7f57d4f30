/* Calibration: every activation layer's input distribution, through the
 * model interface, in two passes (range, then histogram) over fixed chunks. */
#include "calib_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double default_quantiles[] = {1e-4, 1e-3, 1e-2, 0.05, 0.5, 0.95, 0.99, 0.999, 0.9999};

void pact_calib_opts_default(pact_calib_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 64;
    o->bins = 2048;
}

static char *dup_or_empty(const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

pact_calib *pact_calib_alloc(int n_layers, const char *model_name, const char *model_sha256,
                             const char *data_name)
{
    pact_calib *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_layers = n_layers;
    c->layers = calloc((size_t)n_layers, sizeof *c->layers);
    c->model_name = dup_or_empty(model_name);
    c->model_sha256 = dup_or_empty(model_sha256);
    c->data_name = dup_or_empty(data_name);
    if (!c->layers || !c->model_name || !c->model_sha256 || !c->data_name) {
        pact_calib_free(c);
        return NULL;
    }
    return c;
}

int pact_calib_alloc_bins(calib_layer *l, int bins)
{
    free(l->counts);
    l->bins = bins;
    l->counts = calloc((size_t)bins, sizeof *l->counts);
    return l->counts != NULL;
}

void pact_calib_free(pact_calib *c)
{
    if (!c)
        return;
    for (int i = 0; c->layers && i < c->n_layers; i++) {
        free(c->layers[i].name);
        free(c->layers[i].counts);
    }
    free(c->layers);
    free(c->model_name);
    free(c->model_sha256);
    free(c->data_name);
    free(c);
}

/* --- quantiles from the histogram ------------------------------------- */

static double hist_quantile(const calib_layer *l, double p)
{
    if (l->count == 0 || !(p >= 0.0 && p <= 1.0))
        return NAN;
    if (p == 0.0)
        return l->min;
    if (p == 1.0)
        return l->max;
    double target = p * (double)l->count, cum = 0.0;
    double width = (l->hmax - l->hmin) / l->bins;
    for (int k = 0; k < l->bins; k++) {
        double c = l->counts[k];
        if (c > 0.0 && cum + c >= target) {
            double x = l->hmin + (k + (target - cum) / c) * width;
            return fmin(fmax(x, l->min), l->max);
        }
        cum += c;
    }
    return l->max;
}

void pact_calib_fill_quantiles(calib_layer *l)
{
    for (int q = 0; q < l->n_q; q++)
        l->qx[q] = hist_quantile(l, l->qp[q]);
}

/* --- the two passes ----------------------------------------------------- */

typedef struct {
    uint64_t count;
    double min, max, mean, m2;
} moments;

typedef struct {
    const pact_model *model;
    pact_calib *cal;
    int pass;          /* 1: moments, 2: histogram */
    moments *chunk;    /* pass 1: this chunk's partial moments per layer */
} calib_ctx;

/* Chan et al.'s pairwise combination: exact in the algebra, and applied in
 * a fixed order (calls within a chunk, then chunks) it is reproducible. */
static void merge(moments *into, const moments *m)
{
    if (m->count == 0)
        return;
    if (into->count == 0) {
        *into = *m;
        return;
    }
    double na = (double)into->count, nb = (double)m->count, n = na + nb;
    double d = m->mean - into->mean;
    into->mean += d * nb / n;
    into->m2 += m->m2 + d * d * na * nb / n;
    into->count += m->count;
    into->min = fmin(into->min, m->min);
    into->max = fmax(into->max, m->max);
}

static void apply_exact(pact_func f, float *x, size_t n)
{
    if (f == PACT_RELU) {
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        return;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)pact_func_eval(f, x[i]);
}

static pact_status calib_hook(void *vctx, int layer, float *x, int batch, int channels,
                              int spatial, pact_error *err)
{
    calib_ctx *cx = vctx;
    if (layer < 0 || layer >= cx->cal->n_layers)
        return pact_fail(err, PACT_ECALLBACK, "calibrate: the model called the hook for layer %d of %d",
                         layer, cx->cal->n_layers);
    size_t n = (size_t)batch * (size_t)channels * (size_t)spatial;
    calib_layer *l = &cx->cal->layers[layer];
    if (cx->pass == 1) {
        moments m = {n, INFINITY, -INFINITY, 0.0, 0.0};
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            double v = x[i];
            if (!isfinite(v))
                return pact_fail(err, PACT_ENUMERIC, "calibrate: layer %d (%s): input %g is not finite",
                                 layer, l->name, v);
            sum += v;
            m.min = fmin(m.min, v);
            m.max = fmax(m.max, v);
        }
        if (n) {
            m.mean = sum / (double)n;
            for (size_t i = 0; i < n; i++) {
                double d = x[i] - m.mean;
                m.m2 += d * d;
            }
            merge(&cx->chunk[layer], &m);
        }
    } else {
        double width = (l->hmax - l->hmin) / l->bins;
        for (size_t i = 0; i < n; i++) {
            int k = width > 0.0 ? (int)((x[i] - l->hmin) / width) : 0;
            k = k < 0 ? 0 : k >= l->bins ? l->bins - 1 : k;
            l->counts[k] += 1.0;
        }
    }
    apply_exact(cx->model->act_funcs[layer], x, n);
    return PACT_OK;
}

pact_status pact_calibrate(const pact_model *model, const pact_dataset *data,
                           const pact_calib_opts *opts, pact_calib **out, pact_error *err)
{
    *out = NULL;
    pact_calib_opts o;
    if (opts)
        o = *opts;
    else
        pact_calib_opts_default(&o);
    if (o.batch < 1 || o.batch > 4096)
        return pact_fail(err, PACT_EINVAL, "calibrate: batch %d outside 1..4096", o.batch);
    if (o.bins < 1 || o.bins > PACT_CALIB_MAX_BINS)
        return pact_fail(err, PACT_EINVAL, "calibrate: %d bins outside 1..%d", o.bins, PACT_CALIB_MAX_BINS);
    if (o.n_quantiles < 0 || o.n_quantiles > PACT_CALIB_MAX_QUANTILES)
        return pact_fail(err, PACT_EINVAL, "calibrate: %d quantiles outside 0..%d", o.n_quantiles,
                         PACT_CALIB_MAX_QUANTILES);
    for (int q = 0; q < o.n_quantiles; q++)
        if (!(o.quantiles[q] > 0.0 && o.quantiles[q] < 1.0) ||
            (q && !(o.quantiles[q] > o.quantiles[q - 1])))
            return pact_fail(err, PACT_EINVAL, "calibrate: quantile %d (%g) must be in (0, 1) and increasing",
                             q, o.quantiles[q]);
    if (model->n_act < 1 || model->n_act > PACT_CALIB_MAX_LAYERS || !model->forward ||
        model->input_size < 1 || model->n_classes < 1)
        return pact_fail(err, PACT_EINVAL, "calibrate: the model has no activation layers or no forward");
    size_t total = pact_dataset_count(data);
    if (o.max_images && o.max_images < total)
        total = o.max_images;
    if (total == 0)
        return pact_fail(err, PACT_EINVAL, "calibrate: the data set holds no images");

    pact_calib *cal = pact_calib_alloc(model->n_act, o.model_name, o.model_sha256, o.data_name);
    float *input = malloc((size_t)o.batch * (size_t)model->input_size * sizeof *input);
    float *logits = malloc((size_t)o.batch * (size_t)model->n_classes * sizeof *logits);
    moments *total_m = calloc((size_t)model->n_act, sizeof *total_m);
    moments *chunk = calloc((size_t)model->n_act, sizeof *chunk);
    pact_status st = PACT_OK;
    if (!cal || !input || !logits || !total_m || !chunk)
        st = pact_fail(err, PACT_ENOMEM, "calibrate: out of memory");
    for (int i = 0; st == PACT_OK && i < model->n_act; i++) {
        calib_layer *l = &cal->layers[i];
        l->name = dup_or_empty(model->act_names[i]);
        l->func = model->act_funcs[i];
        l->n_q = o.n_quantiles ? o.n_quantiles : (int)(sizeof default_quantiles / sizeof *default_quantiles);
        memcpy(l->qp, o.n_quantiles ? o.quantiles : default_quantiles, (size_t)l->n_q * sizeof(double));
        if (!l->name || !pact_calib_alloc_bins(l, o.bins))
            st = pact_fail(err, PACT_ENOMEM, "calibrate: out of memory");
    }
    calib_ctx cx = {model, cal, 1, chunk};
    size_t done = 0;
    for (int pass = 1; pass <= 2 && st == PACT_OK; pass++) {
        cx.pass = pass;
        for (size_t first = 0; st == PACT_OK && first < total; first += (size_t)o.batch) {
            int cnt = (int)(total - first < (size_t)o.batch ? total - first : (size_t)o.batch);
            memset(chunk, 0, (size_t)model->n_act * sizeof *chunk);
            st = pact_dataset_images_f32(data, first, (size_t)cnt, input, err);
            if (st == PACT_OK)
                st = model->forward(model->ctx, input, cnt, calib_hook, &cx, logits, err);
            if (st == PACT_OK && pass == 1)
                for (int i = 0; i < model->n_act; i++)
                    merge(&total_m[i], &chunk[i]);
            done += (size_t)cnt;
            if (st == PACT_OK && o.progress)
                o.progress(o.progress_ctx, done, 2 * total);
        }
        if (st != PACT_OK || pass != 1)
            continue;
        for (int i = 0; i < model->n_act; i++) {
            calib_layer *l = &cal->layers[i];
            if (total_m[i].count == 0) {
                st = pact_fail(err, PACT_ECALLBACK, "calibrate: the model never called the hook for layer %d (%s)",
                               i, l->name);
                break;
            }
            l->count = total_m[i].count;
            l->min = total_m[i].min;
            l->max = total_m[i].max;
            l->mean = total_m[i].mean;
            l->m2 = total_m[i].m2;
            l->hmin = l->min;
            l->hmax = l->max;
        }
    }
    for (int i = 0; st == PACT_OK && i < model->n_act; i++)
        pact_calib_fill_quantiles(&cal->layers[i]);
    cal->images = total;
    free(input);
    free(logits);
    free(total_m);
    free(chunk);
    if (st != PACT_OK) {
        pact_calib_free(cal);
        return st;
    }
    *out = cal;
    return PACT_OK;
}

/* --- accessors ------------------------------------------------------------ */

int pact_calib_layer_count(const pact_calib *c) { return c->n_layers; }
size_t pact_calib_images(const pact_calib *c) { return c->images; }
const char *pact_calib_model_name(const pact_calib *c) { return c->model_name; }
const char *pact_calib_model_sha256(const pact_calib *c) { return c->model_sha256; }

pact_status pact_calib_layer_get(const pact_calib *c, int i, pact_calib_layer *out, pact_error *err)
{
    if (i < 0 || i >= c->n_layers)
        return pact_fail(err, PACT_EINVAL, "calibration: layer %d outside 0..%d", i, c->n_layers - 1);
    const calib_layer *l = &c->layers[i];
    out->name = l->name;
    out->func = l->func;
    out->count = l->count;
    out->min = l->min;
    out->max = l->max;
    out->mean = l->mean;
    out->std = l->count ? sqrt(l->m2 / (double)l->count) : 0.0;
    out->n_quantiles = l->n_q;
    out->quantile_p = l->qp;
    out->quantile_x = l->qx;
    out->bins = l->bins;
    out->hist_min = l->hmin;
    out->hist_max = l->hmax;
    out->counts = l->counts;
    return PACT_OK;
}

int pact_calib_find(const pact_calib *c, const char *name)
{
    for (int i = 0; i < c->n_layers; i++)
        if (strcmp(c->layers[i].name, name) == 0)
            return i;
    return -1;
}

double pact_calib_quantile(const pact_calib *c, int i, double p)
{
    if (i < 0 || i >= c->n_layers)
        return NAN;
    return hist_quantile(&c->layers[i], p);
}
