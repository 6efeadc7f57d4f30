/* Passes over activation layers for per-channel fitting, and the sequential
 * refit of a plan (see refit.h). Everything goes through the model interface;
 * sums run in image order, so results do not depend on who computes them. */
#include "refit.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Runs images [i0, i0 + cnt) of data through the model with hook: the whole
 * network, or (stop >= 0 and the model can split) only up to activation
 * layer stop + 1. in/out: scratch buffers grown here. */
typedef struct {
    float *input, *out;
    size_t input_cap, out_cap;
} pass_buf;

static pact_status run_batch(const pact_model *m, const pact_dataset *data, size_t i0, int cnt,
                             int stop, pact_act_hook hook, void *ctx, pass_buf *pb,
                             pact_error *err)
{
    size_t in_n = (size_t)cnt * (size_t)m->input_size;
    int split = stop >= 0 && stop + 1 < m->n_act && m->state_size && m->forward_to;
    size_t out_n = (size_t)cnt * (split ? m->state_size(m->ctx, stop + 1) : (size_t)m->n_classes);
    if (pb->input_cap < in_n) {
        float *p = realloc(pb->input, in_n * sizeof *p);
        if (!p)
            return pact_fail(err, PACT_ENOMEM, "fit: out of memory for %d images", cnt);
        pb->input = p;
        pb->input_cap = in_n;
    }
    if (pb->out_cap < out_n) {
        float *p = realloc(pb->out, out_n * sizeof *p);
        if (!p)
            return pact_fail(err, PACT_ENOMEM, "fit: out of memory for %d states", cnt);
        pb->out = p;
        pb->out_cap = out_n;
    }
    pact_status st = pact_dataset_images_f32(data, i0, (size_t)cnt, pb->input, err);
    if (st != PACT_OK)
        return st;
    if (split)
        return m->forward_to(m->ctx, pb->input, cnt, stop + 1, hook, ctx, pb->out, err);
    return m->forward(m->ctx, pb->input, cnt, hook, ctx, pb->out, err);
}

static void pass_buf_free(pass_buf *pb)
{
    free(pb->input);
    free(pb->out);
}

/* ---- exact ranges and bins ---- */

void pact_act_ranges_free(pact_act_ranges *r)
{
    for (int l = 0; l < r->n_layers; l++) {
        free(r->lo ? r->lo[l] : NULL);
        free(r->hi ? r->hi[l] : NULL);
    }
    free(r->lo);
    free(r->hi);
    free(r->channels);
    memset(r, 0, sizeof *r);
}

typedef struct {
    const pact_model *model;
    pact_act_ranges *r;
    pact_bins *bins;
} exact_ctx;

static pact_status check_channels(pact_act_ranges *r, int layer, int channels, pact_error *err)
{
    if (r->channels[layer] == 0) {
        r->lo[layer] = malloc((size_t)channels * sizeof(double));
        r->hi[layer] = malloc((size_t)channels * sizeof(double));
        if (!r->lo[layer] || !r->hi[layer])
            return pact_fail(err, PACT_ENOMEM, "fit: out of memory (layer %d)", layer);
        for (int c = 0; c < channels; c++) {
            r->lo[layer][c] = INFINITY;
            r->hi[layer][c] = -INFINITY;
        }
        r->channels[layer] = channels;
    } else if (r->channels[layer] != channels) {
        return pact_fail(err, PACT_EMISMATCH, "fit: layer %d passed %d channels, then %d", layer,
                         r->channels[layer], channels);
    }
    return PACT_OK;
}

static pact_status ranges_hook(void *vctx, int layer, float *x, int batch, int channels,
                               int spatial, pact_error *err)
{
    exact_ctx *cx = vctx;
    if (channels < 1 || batch < 0 || spatial < 0)
        return pact_fail(err, PACT_EINVAL, "fit: layer %d passed %d x %d x %d values", layer, batch,
                         channels, spatial);
    pact_status st = check_channels(cx->r, layer, channels, err);
    if (st != PACT_OK)
        return st;
    double *lo = cx->r->lo[layer], *hi = cx->r->hi[layer];
    for (int im = 0; im < batch; im++)
        for (int c = 0; c < channels; c++) {
            const float *v = x + ((size_t)im * (size_t)channels + (size_t)c) * (size_t)spatial;
            for (int s = 0; s < spatial; s++) {
                if (!isfinite(v[s]))
                    continue;
                lo[c] = fmin(lo[c], v[s]);
                hi[c] = fmax(hi[c], v[s]);
            }
        }
    pact_func_apply_f32(cx->model->act_funcs[layer], x, (size_t)batch * (size_t)channels * (size_t)spatial);
    return PACT_OK;
}

static pact_status bins_hook(void *vctx, int layer, float *x, int batch, int channels,
                             int spatial, pact_error *err)
{
    exact_ctx *cx = vctx;
    if (channels < 1 || batch < 0 || spatial < 0)
        return pact_fail(err, PACT_EINVAL, "fit: layer %d passed %d x %d x %d values", layer, batch,
                         channels, spatial);
    if (cx->bins[layer].groups > 1 && cx->bins[layer].groups != channels)
        return pact_fail(err, PACT_EMISMATCH, "fit: layer %d passed %d channels, then %d", layer,
                         cx->bins[layer].groups, channels);
    pact_bins_add(&cx->bins[layer], x, NULL, (size_t)(batch > 0 ? batch : 0), channels,
                  (size_t)(spatial > 0 ? spatial : 0));
    pact_func_apply_f32(cx->model->act_funcs[layer], x, (size_t)batch * (size_t)channels * (size_t)spatial);
    return PACT_OK;
}

static pact_status exact_pass(const pact_model *m, const pact_dataset *data, size_t images,
                              int batch, pact_act_hook hook, exact_ctx *cx, pact_error *err)
{
    pass_buf pb = {0};
    pact_status st = PACT_OK;
    for (size_t i = 0; st == PACT_OK && i < images; i += (size_t)batch) {
        int cnt = (int)(images - i < (size_t)batch ? images - i : (size_t)batch);
        st = run_batch(m, data, i, cnt, -1, hook, cx, &pb, err);
    }
    pass_buf_free(&pb);
    return st;
}

pact_status pact_act_ranges_measure(const pact_model *model, const pact_dataset *data,
                                    size_t images, int batch, pact_act_ranges *r,
                                    pact_error *err)
{
    memset(r, 0, sizeof *r);
    int n = model->n_act;
    r->channels = calloc((size_t)n, sizeof *r->channels);
    r->lo = calloc((size_t)n, sizeof *r->lo);
    r->hi = calloc((size_t)n, sizeof *r->hi);
    r->n_layers = n;
    if (!r->channels || !r->lo || !r->hi) {
        pact_act_ranges_free(r);
        return pact_fail(err, PACT_ENOMEM, "fit: out of memory");
    }
    exact_ctx cx = {model, r, NULL};
    pact_status st = exact_pass(model, data, images, batch, ranges_hook, &cx, err);
    for (int l = 0; st == PACT_OK && l < n; l++)
        if (r->channels[l] == 0)
            st = pact_fail(err, PACT_EMISMATCH, "fit: the model never called the hook of layer %d", l);
    if (st != PACT_OK)
        pact_act_ranges_free(r);
    return st;
}

pact_status pact_act_bins_measure(const pact_model *model, const pact_dataset *data,
                                  size_t images, int batch, pact_bins *bins, pact_error *err)
{
    exact_ctx cx = {model, NULL, bins};
    return exact_pass(model, data, images, batch, bins_hook, &cx, err);
}

void pact_channel_interval(double lo, double hi, double layer_lo, double layer_hi, double margin,
                           double *a, double *b)
{
    double lw = layer_hi - layer_lo;
    double min_width = lw > 0.0 ? 0.02 * lw : 1e-3 * fmax(1.0, fabs(layer_lo));
    if (!(lo <= hi)) /* no finite input: the layer's range */
        lo = layer_lo, hi = layer_hi;
    pact_group_interval(lo, hi, margin, min_width, a, b);
}

/* ---- the sequential refit ---- */

typedef struct {
    const pact_model *model;
    int layer;                  /* the layer being refitted */
    const pact_group_poly *polys; /* NULL: exact everywhere (the reference pass) */
    float *cap;                 /* layer's inputs, image after image */
    size_t cap_n, cap_size;
    int channels, spatial;
} refit_ctx;

static pact_status refit_hook(void *vctx, int layer, float *x, int batch, int channels,
                              int spatial, pact_error *err)
{
    refit_ctx *cx = vctx;
    size_t n = (size_t)batch * (size_t)channels * (size_t)spatial;
    if (layer < cx->layer && cx->polys) {
        pact_group_poly_apply(&cx->polys[layer], x, (size_t)batch, channels, (size_t)spatial);
        return PACT_OK;
    }
    if (layer == cx->layer) {
        if (cx->channels && (cx->channels != channels || cx->spatial != spatial))
            return pact_fail(err, PACT_EMISMATCH, "refit: layer %d passed %d x %d values, then %d x %d",
                             layer, cx->channels, cx->spatial, channels, spatial);
        cx->channels = channels;
        cx->spatial = spatial;
        if (cx->cap_n + n > cx->cap_size) {
            size_t size = cx->cap_size ? cx->cap_size : n;
            while (size < cx->cap_n + n)
                size *= 2;
            float *p = realloc(cx->cap, size * sizeof *p);
            if (!p)
                return pact_fail(err, PACT_ENOMEM, "refit: out of memory for layer %d's inputs (%zu values)",
                                 layer, size);
            cx->cap = p;
            cx->cap_size = size;
        }
        memcpy(cx->cap + cx->cap_n, x, n * sizeof *x);
        cx->cap_n += n;
    }
    pact_func_apply_f32(cx->model->act_funcs[layer], x, n);
    return PACT_OK;
}

/* Captures layer k's inputs of every image: in the PANN of polys (layers < k)
 * or, polys NULL, in the exact network. */
static pact_status capture(const pact_model *m, const pact_dataset *data, size_t images, int batch,
                           int k, const pact_group_poly *polys, refit_ctx *cx, pass_buf *pb,
                           pact_error *err)
{
    cx->layer = k;
    cx->polys = polys;
    cx->cap_n = 0;
    pact_status st = PACT_OK;
    for (size_t i = 0; st == PACT_OK && i < images; i += (size_t)batch) {
        int cnt = (int)(images - i < (size_t)batch ? images - i : (size_t)batch);
        st = run_batch(m, data, i, cnt, k, refit_hook, cx, pb, err);
    }
    if (st == PACT_OK && images > 0 && cx->channels == 0)
        st = pact_fail(err, PACT_EMISMATCH, "refit: the model never called the hook of layer %d", k);
    if (st == PACT_OK && cx->cap_n != images * (size_t)cx->channels * (size_t)cx->spatial)
        st = pact_fail(err, PACT_EMISMATCH, "refit: layer %d: %zu values captured for %zu images",
                       k, cx->cap_n, images);
    return st;
}

/* Fits layer k's polynomials from the PANN's inputs xp and the exact inputs
 * xe (turned into the exact outputs here). */
static pact_status fit_layer(int layer, pact_func f, const float *xp, float *xe, size_t images, int channels,
                             int spatial, int degree, double floor, int per_channel, double margin,
                             const pact_group_poly *cover, pact_group_poly *gp, pact_error *err)
{
    int groups = per_channel ? channels : 1;
    size_t n = images * (size_t)channels * (size_t)spatial;
    double *lo = malloc((size_t)groups * sizeof *lo), *hi = malloc((size_t)groups * sizeof *hi);
    double *a = malloc((size_t)groups * sizeof *a), *b = malloc((size_t)groups * sizeof *b);
    pact_status st = lo && hi && a && b ? PACT_OK : pact_fail(err, PACT_ENOMEM, "refit: out of memory");
    pact_bins bins = {0};
    double llo = INFINITY, lhi = -INFINITY;
    for (int g = 0; st == PACT_OK && g < groups; g++)
        lo[g] = INFINITY, hi[g] = -INFINITY;
    for (size_t im = 0; st == PACT_OK && im < images; im++)
        for (int c = 0; c < channels; c++) {
            int g = per_channel ? c : 0;
            const float *v = xp + (im * (size_t)channels + (size_t)c) * (size_t)spatial;
            for (int s = 0; s < spatial; s++)
                if (isfinite(v[s])) {
                    lo[g] = fmin(lo[g], v[s]);
                    hi[g] = fmax(hi[g], v[s]);
                }
        }
    for (int g = 0; st == PACT_OK && g < groups; g++)
        if (lo[g] <= hi[g]) {
            llo = fmin(llo, lo[g]);
            lhi = fmax(lhi, hi[g]);
        }
    if (st == PACT_OK && !(llo <= lhi))
        st = pact_fail(err, PACT_ENUMERIC, "refit: layer %d: no finite input in the PANN", layer);
    for (int g = 0; st == PACT_OK && g < groups; g++) {
        pact_channel_interval(lo[g], hi[g], llo, lhi, margin, &a[g], &b[g]);
        if (cover && cover->groups == groups) {
            a[g] = fmin(a[g], cover->a[g]);
            b[g] = fmax(b[g], cover->b[g]);
        }
    }
    if (st == PACT_OK)
        st = pact_bins_init(&bins, groups, PACT_REFIT_BINS, a, b, err);
    if (st == PACT_OK) {
        pact_func_apply_f32(f, xe, n);
        pact_bins_add(&bins, xp, xe, images, channels, (size_t)spatial);
        st = pact_group_poly_init(gp, groups, degree, err);
    }
    for (int g = 0; st == PACT_OK && g < groups; g++) {
        pact_moments mo;
        st = pact_bins_moments(&bins, g, f, 1, degree, &mo, err);
        if (st == PACT_OK)
            st = pact_moments_solve(&mo, degree, floor, gp->cheb + (size_t)g * ((size_t)degree + 1), err);
        pact_moments_free(&mo);
        gp->a[g] = a[g];
        gp->b[g] = b[g];
    }
    pact_bins_free(&bins);
    free(lo);
    free(hi);
    free(a);
    free(b);
    return st;
}

pact_status pact_refit(const pact_model *model, const pact_dataset *data, size_t images,
                       int batch, const int *degrees, const double *floors, int per_channel,
                       double margin, const pact_group_poly *const *cover,
                       pact_group_poly *polys, pact_error *err)
{
    const int n = model->n_act;
    for (int l = 0; l < n; l++)
        memset(&polys[l], 0, sizeof polys[l]);
    refit_ctx pc = {.model = model}, ec = {.model = model};
    pass_buf pb = {0};
    pact_status st = PACT_OK;
    for (int k = 0; st == PACT_OK && k < n; k++) {
        pc.channels = pc.spatial = ec.channels = ec.spatial = 0;
        st = capture(model, data, images, batch, k, polys, &pc, &pb, err);
        if (st == PACT_OK)
            st = capture(model, data, images, batch, k, NULL, &ec, &pb, err);
        if (st == PACT_OK)
            st = fit_layer(k, model->act_funcs[k], pc.cap, ec.cap, images, pc.channels, pc.spatial,
                           degrees[k], floors[k], per_channel, margin, cover ? cover[k] : NULL,
                           &polys[k], err);
    }
    free(pc.cap);
    free(ec.cap);
    pass_buf_free(&pb);
    if (st != PACT_OK)
        for (int l = 0; l < n; l++)
            pact_group_poly_free(&polys[l]);
    return st;
}
