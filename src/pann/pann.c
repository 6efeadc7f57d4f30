/* A plan prepared for evaluation: per layer, BSGS evaluators of its parts
 * (composite parts chained with their input maps folded into the previous
 * part's coefficients, as under HE), the arithmetic to simulate, and the
 * statistics of the inputs seen. */
#include "../internal.h"
#include "he_eval.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    pact_func func;
    pact_form form;
    double a, b;        /* POLY: interval; COMPOSITE: [-B, B] */
    double bound;
    double in_scale, in_shift; /* y = in_scale * x + in_shift: input map of part 0 */
    int n_parts;
    pact_he_poly *parts[PACT_PLAN_MAX_PARTS];
    int n_channels;            /* 0, or one polynomial per channel: */
    pact_he_poly **ch_poly;    /* n_channels evaluators on [-1, 1] */
    double *ch_scale, *ch_shift, *ch_a, *ch_b; /* their input maps and intervals */
    pact_layer_stats stats;
} pann_layer;

struct pact_pann {
    int n_layers;
    pann_layer *layers;
    pact_arith arith;
    uint64_t stream;
    double *work;       /* scratch for one call's values, grown on demand */
    size_t work_size;
};

static void layer_free(pann_layer *l)
{
    for (int k = 0; k < l->n_parts; k++)
        pact_he_poly_free(l->parts[k]);
    for (int c = 0; l->ch_poly && c < l->n_channels; c++)
        pact_he_poly_free(l->ch_poly[c]);
    free(l->ch_poly);
    free(l->ch_scale);
    free(l->ch_shift);
    free(l->ch_a);
    free(l->ch_b);
}

void pact_pann_free(pact_pann *p)
{
    if (!p)
        return;
    for (int i = 0; p->layers && i < p->n_layers; i++)
        layer_free(&p->layers[i]);
    free(p->layers);
    free(p->work);
    free(p);
}

static void stats_reset(pact_layer_stats *s)
{
    memset(s, 0, sizeof *s);
    s->min_input = INFINITY;
    s->max_input = -INFINITY;
}

/* A per-channel layer: one evaluator and input map per channel. */
static pact_status prepare_channels(const pact_plan_layer *pl, int index, pann_layer *l,
                                    pact_error *err)
{
    size_t nc = (size_t)pl->n_channels;
    l->ch_poly = calloc(nc, sizeof *l->ch_poly);
    l->ch_scale = malloc(nc * sizeof *l->ch_scale);
    l->ch_shift = malloc(nc * sizeof *l->ch_shift);
    l->ch_a = malloc(nc * sizeof *l->ch_a);
    l->ch_b = malloc(nc * sizeof *l->ch_b);
    if (!l->ch_poly || !l->ch_scale || !l->ch_shift || !l->ch_a || !l->ch_b)
        return pact_fail(err, PACT_ENOMEM, "pann: out of memory (layer %d, %zu channels)", index, nc);
    l->n_channels = pl->n_channels;
    for (size_t c = 0; c < nc; c++) {
        double a = pl->channel_a[c], b = pl->channel_b[c];
        l->ch_a[c] = a;
        l->ch_b[c] = b;
        l->ch_scale[c] = 2.0 / (b - a);
        l->ch_shift[c] = -(a + b) / (b - a);
        pact_status st = pact_he_poly_create(pl->channel_cheb[c], pl->degrees[0], &l->ch_poly[c], err);
        if (st != PACT_OK)
            return st;
    }
    return PACT_OK;
}

/* Part k's coefficients with the next part's input map y' = (2 y - a' - b') /
 * (b' - a') folded in (a scalar map of the coefficients: no level under HE). */
static pact_status prepare_layer(const pact_plan_layer *pl, int index, pann_layer *l,
                                 pact_error *err)
{
    l->func = pl->func;
    l->form = pl->form;
    l->a = pl->a;
    l->b = pl->b;
    l->bound = pl->bound;
    if (pl->n_channels > 0) {
        stats_reset(&l->stats);
        return prepare_channels(pl, index, l, err);
    }
    /* POLY: y = (2x - a - b) / (b - a). COMPOSITE: u = x / B, then part 0's map. */
    double pa0 = pl->part_a[0], pb0 = pl->part_b[0];
    double s0 = 2.0 / (pb0 - pa0), t0 = -(pa0 + pb0) / (pb0 - pa0);
    if (pl->form == PACT_FORM_POLY) {
        l->in_scale = s0;
        l->in_shift = t0;
    } else {
        l->in_scale = s0 / pl->bound;
        l->in_shift = t0;
    }
    stats_reset(&l->stats);
    for (int k = 0; k < pl->n_parts; k++) {
        int d = pl->degrees[k];
        double *c = malloc((size_t)(d + 1) * sizeof *c);
        if (!c)
            return pact_fail(err, PACT_ENOMEM, "pann: out of memory (layer %d)", index);
        memcpy(c, pl->cheb[k], (size_t)(d + 1) * sizeof *c);
        if (k + 1 < pl->n_parts) {
            double na = pl->part_a[k + 1], nb = pl->part_b[k + 1];
            double sc = 2.0 / (nb - na), sh = -(na + nb) / (nb - na);
            for (int j = 0; j <= d; j++)
                c[j] *= sc;
            c[0] += sh;
        }
        pact_status st = pact_he_poly_create(c, d, &l->parts[k], err);
        free(c);
        if (st != PACT_OK)
            return st;
        l->n_parts = k + 1;
    }
    return PACT_OK;
}

pact_status pact_pann_create(const pact_plan *plan, const pact_arith *arith, pact_pann **out,
                             pact_error *err)
{
    *out = NULL;
    pact_arith ar = arith ? *arith : (pact_arith){0};
    if (ar.frac_bits != 0 && (ar.frac_bits < 8 || ar.frac_bits > 52))
        return pact_fail(err, PACT_EINVAL, "pann: fixed-point fraction bits %d outside 8..52",
                         ar.frac_bits);
    if (!(ar.noise_sigma >= 0.0) || !isfinite(ar.noise_sigma))
        return pact_fail(err, PACT_EINVAL, "pann: noise sigma %g must be finite and >= 0",
                         ar.noise_sigma);
    pact_pann *p = calloc(1, sizeof *p);
    if (!p)
        return pact_fail(err, PACT_ENOMEM, "pann: out of memory");
    p->arith = ar;
    p->n_layers = pact_plan_layer_count(plan);
    p->layers = calloc((size_t)p->n_layers, sizeof *p->layers);
    if (!p->layers) {
        pact_pann_free(p);
        return pact_fail(err, PACT_ENOMEM, "pann: out of memory");
    }
    for (int i = 0; i < p->n_layers; i++) {
        pact_plan_layer pl;
        pact_status st = pact_plan_layer_get(plan, i, &pl, err);
        if (st == PACT_OK)
            st = prepare_layer(&pl, i, &p->layers[i], err);
        if (st != PACT_OK) {
            pact_pann_free(p);
            return st;
        }
    }
    *out = p;
    return PACT_OK;
}

void pact_pann_set_stream(pact_pann *p, uint64_t stream)
{
    p->stream = stream;
}

const pact_layer_stats *pact_pann_layer_stats(const pact_pann *p, int layer)
{
    return layer >= 0 && layer < p->n_layers ? &p->layers[layer].stats : NULL;
}

void pact_pann_reset_stats(pact_pann *p)
{
    for (int i = 0; i < p->n_layers; i++)
        stats_reset(&p->layers[i].stats);
}

static void record(pact_layer_stats *s, const float *x, size_t n, double lo, double hi)
{
    double mn = s->min_input, mx = s->max_input, worst = s->worst_excursion;
    uint64_t out = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        if (v < lo || v > hi) {
            out++;
            double e = v < lo ? lo - v : v - hi;
            if (e > worst) worst = e;
        }
    }
    s->min_input = mn;
    s->max_input = mx;
    s->worst_excursion = worst;
    s->out_of_range += out;
    s->inputs += n;
}

static pact_status grow_work(pact_pann *p, size_t n, pact_error *err)
{
    if (p->work_size < 2 * n) {
        double *w = realloc(p->work, 2 * n * sizeof *w);
        if (!w)
            return pact_fail(err, PACT_ENOMEM, "pann: out of memory for %zu values", n);
        p->work = w;
        p->work_size = 2 * n;
    }
    return PACT_OK;
}

/* A per-channel layer on `images` x n_channels x `spatial` values (NCHW):
 * channel after channel, its values gathered from every image, mapped and
 * evaluated by its own polynomial, and put back. */
static pact_status apply_channels(pact_pann *p, int layer, float *x, size_t images,
                                  size_t spatial, pact_error *err)
{
    pann_layer *l = &p->layers[layer];
    size_t nc = (size_t)l->n_channels, n = images * spatial;
    pact_status st = grow_work(p, n, err);
    if (st != PACT_OK)
        return st;
    double *y = p->work;
    pact_fx fx = {.frac_bits = p->arith.frac_bits, .noise_sigma = p->arith.noise_sigma};
    pact_fx_seed(&fx, p->arith.seed, p->stream * 1000003u + (uint64_t)layer);
    for (size_t c = 0; c < nc; c++) {
        const double sc = l->ch_scale[c], sh = l->ch_shift[c], lo = l->ch_a[c], hi = l->ch_b[c];
        for (size_t im = 0; im < images; im++) {
            float *xc = x + (im * nc + c) * spatial;
            record(&l->stats, xc, spatial, lo, hi);
            for (size_t s = 0; s < spatial; s++)
                y[im * spatial + s] = sc * xc[s] + sh;
        }
        if ((st = pact_he_poly_eval(l->ch_poly[c], &fx, y, y, n, err)) != PACT_OK)
            return st;
        for (size_t im = 0; im < images; im++) {
            float *xc = x + (im * nc + c) * spatial;
            for (size_t s = 0; s < spatial; s++) {
                double v = y[im * spatial + s];
                xc[s] = fabs(v) <= FLT_MAX ? (float)v : (float)copysign(INFINITY, v);
            }
        }
    }
    return PACT_OK;
}

pact_status pact_pann_apply(pact_pann *p, int layer, float *x, size_t n, pact_error *err)
{
    if (layer < 0 || layer >= p->n_layers)
        return pact_fail(err, PACT_EINVAL, "pann: layer %d outside 0..%d", layer, p->n_layers - 1);
    pann_layer *l = &p->layers[layer];
    if (l->n_channels > 0) {
        if (n % (size_t)l->n_channels != 0)
            return pact_fail(err, PACT_EMISMATCH,
                             "pann: layer %d has %d per-channel polynomials; %zu values are not one image of them",
                             layer, l->n_channels, n);
        return apply_channels(p, layer, x, 1, n / (size_t)l->n_channels, err);
    }
    record(&l->stats, x, n, l->a, l->b);
    pact_status gst = grow_work(p, n, err);
    if (gst != PACT_OK)
        return gst;
    double *y = p->work, *u = p->work + n;
    pact_fx fx = {.frac_bits = p->arith.frac_bits, .noise_sigma = p->arith.noise_sigma};
    pact_fx_seed(&fx, p->arith.seed, p->stream * 1000003u + (uint64_t)layer);
    /* The input map is folded into the preceding linear layer: computed
     * exactly here, rounded as that layer's output inside the evaluator. */
    for (size_t i = 0; i < n; i++)
        y[i] = l->in_scale * x[i] + l->in_shift;
    if (l->form == PACT_FORM_COMPOSITE && l->func != PACT_SIGN) {
        for (size_t i = 0; i < n; i++) /* u = x / B, also a linear layer's output */
            u[i] = x[i] / l->bound;
        pact_fx_round_block(&fx, u, n);
    }
    for (int k = 0; k < l->n_parts; k++) {
        pact_status st = pact_he_poly_eval(l->parts[k], &fx, y, y, n, err);
        if (st != PACT_OK)
            return st;
    }
    if (l->form == PACT_FORM_COMPOSITE && l->func != PACT_SIGN) {
        /* relu: B u (1 + s) / 2, abs: B u s; one product, the constant factor
         * folds into the next linear layer. */
        double half = l->func == PACT_RELU ? 1.0 : 0.0;
        for (size_t i = 0; i < n; i++)
            y[i] = u[i] * (half + y[i]);
        pact_fx_round_block(&fx, y, n);
        double k = (l->func == PACT_RELU ? 0.5 : 1.0) * l->bound;
        for (size_t i = 0; i < n; i++)
            y[i] *= k;
    }
    for (size_t i = 0; i < n; i++) /* beyond float range: +-inf, explicitly */
        x[i] = fabs(y[i]) <= FLT_MAX ? (float)y[i] : (float)copysign(INFINITY, y[i]);
    return PACT_OK;
}

pact_status pact_pann_hook(void *pann, int layer, float *x, int batch, int channels, int spatial,
                           pact_error *err)
{
    pact_pann *p = pann;
    size_t n = (size_t)batch * (size_t)channels * (size_t)spatial;
    if (layer >= 0 && layer < p->n_layers && p->layers[layer].n_channels > 0) {
        if (channels != p->layers[layer].n_channels || batch < 0 || spatial < 0)
            return pact_fail(err, PACT_EMISMATCH,
                             "pann: layer %d has %d per-channel polynomials, the model passes %d channels",
                             layer, p->layers[layer].n_channels, channels);
        return apply_channels(p, layer, x, (size_t)batch, (size_t)spatial, err);
    }
    return pact_pann_apply(pann, layer, x, n, err);
}
