/* Accuracy of a network and of its PANN on a data set, through the model
 * interface: both run on the same chunk of images, then are compared. */
#define _POSIX_C_SOURCE 200809L
#include "../internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void pact_pann_eval_opts_default(pact_pann_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 64;
}

void pact_pann_report_free(pact_pann_report *r)
{
    if (!r)
        return;
    free(r->layers);
    r->layers = NULL;
}

/* Index of the largest logit (first on ties); -1 if any logit is not finite. */
static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return -1;
        if (v[i] > v[best])
            best = i;
    }
    return best;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- chunks and their partial results ---- */

/* Images evaluated: the data set, or its first max_images. */
static size_t eval_images(const pact_dataset *data, const pact_pann_eval_opts *o)
{
    size_t total = pact_dataset_count(data);
    return o->max_images && o->max_images < total ? o->max_images : total;
}

static pact_status check_eval(const pact_model *model, const pact_dataset *data,
                              const pact_pann_eval_opts *o, pact_error *err)
{
    if (o->batch < 1 || o->batch > 4096)
        return pact_fail(err, PACT_EINVAL, "eval: batch %d outside 1..4096", o->batch);
    if (model->n_classes < 1 || model->input_size < 1 || !model->forward)
        return pact_fail(err, PACT_EINVAL, "eval: model has no forward function, inputs or classes");
    if (eval_images(data, o) == 0)
        return pact_fail(err, PACT_EINVAL, "eval: the data set holds no images");
    return PACT_OK;
}

size_t pact_pann_eval_chunk_count(const pact_dataset *data, const pact_pann_eval_opts *opts)
{
    pact_pann_eval_opts o;
    if (opts)
        o = *opts;
    else
        pact_pann_eval_opts_default(&o);
    if (o.batch < 1)
        return 0;
    return (eval_images(data, &o) + (size_t)o.batch - 1) / (size_t)o.batch;
}

static void layer_stats_empty(pact_layer_stats *s)
{
    memset(s, 0, sizeof *s);
    s->min_input = INFINITY;
    s->max_input = -INFINITY;
}

pact_status pact_pann_partial_init(pact_pann_partial *p, int n_layers, int n_classes,
                                   pact_error *err)
{
    memset(p, 0, sizeof *p);
    if (n_layers < 0 || n_classes < 1)
        return pact_fail(err, PACT_EINVAL, "eval partial: %d layers, %d classes", n_layers,
                         n_classes);
    p->n_classes = n_classes;
    if (n_layers > 0) {
        p->layers = malloc((size_t)n_layers * sizeof *p->layers);
        if (!p->layers)
            return pact_fail(err, PACT_ENOMEM, "eval partial: out of memory");
    }
    p->n_layers = n_layers;
    for (int i = 0; i < n_layers; i++)
        layer_stats_empty(&p->layers[i]);
    return PACT_OK;
}

void pact_pann_partial_free(pact_pann_partial *p)
{
    if (!p)
        return;
    free(p->layers);
    p->layers = NULL;
    p->n_layers = 0;
}

/* Clears the counts, keeps the shape. */
static void partial_clear(pact_pann_partial *p)
{
    pact_layer_stats *layers = p->layers;
    int n_layers = p->n_layers, nc = p->n_classes;
    memset(p, 0, sizeof *p);
    p->layers = layers;
    p->n_layers = n_layers;
    p->n_classes = nc;
    for (int i = 0; i < n_layers; i++)
        layer_stats_empty(&layers[i]);
}

pact_status pact_pann_partial_merge(pact_pann_partial *into, const pact_pann_partial *part,
                                    pact_error *err)
{
    if (into->n_layers != part->n_layers || into->n_classes != part->n_classes)
        return pact_fail(err, PACT_EMISMATCH,
                         "eval partial: merging %d layers / %d classes into %d / %d",
                         part->n_layers, part->n_classes, into->n_layers, into->n_classes);
    into->images += part->images;
    into->correct += part->correct;
    into->backbone_correct += part->backbone_correct;
    into->agree += part->agree;
    into->nonfinite_images += part->nonfinite_images;
    into->sum_logit_diff += part->sum_logit_diff;
    if (part->max_logit_diff > into->max_logit_diff)
        into->max_logit_diff = part->max_logit_diff;
    for (int i = 0; i < into->n_layers; i++) {
        pact_layer_stats *a = &into->layers[i];
        const pact_layer_stats *b = &part->layers[i];
        a->inputs += b->inputs;
        a->out_of_range += b->out_of_range;
        if (b->worst_excursion > a->worst_excursion)
            a->worst_excursion = b->worst_excursion;
        if (b->min_input < a->min_input)
            a->min_input = b->min_input;
        if (b->max_input > a->max_input)
            a->max_input = b->max_input;
    }
    return PACT_OK;
}

size_t pact_pann_partial_row_size(int n_layers)
{
    return PACT_PANN_PARTIAL_HEAD + PACT_PANN_PARTIAL_LAYER * (size_t)(n_layers > 0 ? n_layers : 0);
}

void pact_pann_partial_pack(const pact_pann_partial *p, double *row)
{
    row[0] = (double)p->images;
    row[1] = (double)p->correct;
    row[2] = (double)p->backbone_correct;
    row[3] = (double)p->agree;
    row[4] = (double)p->nonfinite_images;
    row[5] = p->max_logit_diff;
    row[6] = p->sum_logit_diff;
    for (int i = 0; i < p->n_layers; i++) {
        double *r = row + PACT_PANN_PARTIAL_HEAD + PACT_PANN_PARTIAL_LAYER * (size_t)i;
        const pact_layer_stats *s = &p->layers[i];
        r[0] = (double)s->inputs;
        r[1] = (double)s->out_of_range;
        r[2] = s->worst_excursion;
        r[3] = s->min_input;
        r[4] = s->max_input;
    }
}

/* A count carried in a double: a whole number in 0..2^53. */
static int row_count(double v, uint64_t *out)
{
    if (!(v >= 0.0 && v <= 9007199254740992.0) || v != floor(v))
        return 0;
    *out = (uint64_t)v;
    return 1;
}

pact_status pact_pann_partial_unpack(const double *row, size_t len, pact_pann_partial *p,
                                     pact_error *err)
{
    if (len != pact_pann_partial_row_size(p->n_layers))
        return pact_fail(err, PACT_EFORMAT, "eval partial: row of %zu numbers, expected %zu",
                         len, pact_pann_partial_row_size(p->n_layers));
    uint64_t c[5];
    for (int k = 0; k < 5; k++)
        if (!row_count(row[k], &c[k]))
            return pact_fail(err, PACT_EFORMAT, "eval partial: count %d is %g, not a whole number",
                             k, row[k]);
    if (c[1] > c[0] || c[2] > c[0] || c[3] > c[0] || c[4] > c[0])
        return pact_fail(err, PACT_EFORMAT, "eval partial: counts exceed the %llu images",
                         (unsigned long long)c[0]);
    if (!(row[5] >= 0.0) || !(row[6] >= 0.0) || isinf(row[5]) || isinf(row[6]))
        return pact_fail(err, PACT_EFORMAT, "eval partial: logit differences %g, %g", row[5],
                         row[6]);
    p->images = (size_t)c[0];
    p->correct = (size_t)c[1];
    p->backbone_correct = (size_t)c[2];
    p->agree = (size_t)c[3];
    p->nonfinite_images = (size_t)c[4];
    p->max_logit_diff = row[5];
    p->sum_logit_diff = row[6];
    for (int i = 0; i < p->n_layers; i++) {
        const double *r = row + PACT_PANN_PARTIAL_HEAD + PACT_PANN_PARTIAL_LAYER * (size_t)i;
        pact_layer_stats *s = &p->layers[i];
        uint64_t in, out;
        if (!row_count(r[0], &in) || !row_count(r[1], &out) || out > in ||
            !(r[2] >= 0.0) || isnan(r[3]) || isnan(r[4]))
            return pact_fail(err, PACT_EFORMAT, "eval partial: layer %d statistics malformed", i);
        s->inputs = in;
        s->out_of_range = out;
        s->worst_excursion = r[2];
        s->min_input = r[3];
        s->max_input = r[4];
    }
    return PACT_OK;
}

pact_status pact_pann_partial_report(const pact_pann_partial *p, pact_pann_report *rep,
                                     pact_error *err)
{
    memset(rep, 0, sizeof *rep);
    rep->images = p->images;
    rep->correct = p->correct;
    rep->backbone_correct = p->backbone_correct;
    rep->agree = p->agree;
    rep->nonfinite_images = p->nonfinite_images;
    rep->max_logit_diff = p->max_logit_diff;
    size_t finite = p->images - p->nonfinite_images;
    if (p->n_layers > 0 && finite)
        rep->mean_logit_diff = p->sum_logit_diff / ((double)finite * (double)p->n_classes);
    if (p->n_layers > 0) {
        rep->layers = malloc((size_t)p->n_layers * sizeof *rep->layers);
        if (!rep->layers)
            return pact_fail(err, PACT_ENOMEM, "eval: out of memory");
        memcpy(rep->layers, p->layers, (size_t)p->n_layers * sizeof *rep->layers);
        rep->n_layers = p->n_layers;
    }
    return PACT_OK;
}

pact_status pact_pann_eval_chunk(const pact_model *model, const pact_dataset *data,
                                 pact_pann *pann, const pact_pann_eval_opts *opts, size_t chunk,
                                 pact_pann_partial *part, pact_error *err)
{
    pact_pann_eval_opts o;
    if (opts)
        o = *opts;
    else
        pact_pann_eval_opts_default(&o);
    pact_status st = check_eval(model, data, &o, err);
    if (st != PACT_OK)
        return st;
    if (part->n_classes != model->n_classes || part->n_layers != (pann ? model->n_act : 0))
        return pact_fail(err, PACT_EMISMATCH,
                         "eval chunk: partial of %d layers / %d classes for a model of %d / %d%s",
                         part->n_layers, part->n_classes, model->n_act, model->n_classes,
                         pann ? "" : " (no plan: 0 layers)");
    size_t total = eval_images(data, &o), bs = (size_t)o.batch;
    if (chunk >= (total + bs - 1) / bs)
        return pact_fail(err, PACT_EINVAL, "eval chunk %zu outside the %zu chunks", chunk,
                         (total + bs - 1) / bs);
    size_t first = chunk * bs;
    int cnt = (int)(total - first < bs ? total - first : bs);
    size_t nc = (size_t)model->n_classes;
    float *input = malloc((size_t)cnt * (size_t)model->input_size * sizeof *input);
    float *lb = malloc((size_t)cnt * nc * sizeof *lb), *lp = malloc((size_t)cnt * nc * sizeof *lp);
    if (!input || !lb || !lp)
        st = pact_fail(err, PACT_ENOMEM, "eval: out of memory for a chunk of %d images", cnt);
    if (st == PACT_OK)
        st = pact_dataset_images_f32(data, first, (size_t)cnt, input, err);
    if (st == PACT_OK)
        st = model->forward(model->ctx, input, cnt, NULL, NULL, lb, err);
    if (st == PACT_OK && pann) {
        pact_pann_reset_stats(pann);
        pact_pann_set_stream(pann, chunk);
        st = model->forward(model->ctx, input, cnt, pact_pann_hook, pann, lp, err);
    }
    if (st == PACT_OK) {
        partial_clear(part);
        for (int i = 0; i < cnt; i++) {
            int label = pact_dataset_label(data, first + (size_t)i);
            int pb = argmax(lb + (size_t)i * nc, (int)nc);
            part->backbone_correct += pb == label;
            if (!pann) {
                part->correct += pb == label;
                continue;
            }
            int pp = argmax(lp + (size_t)i * nc, (int)nc);
            part->correct += pp == label;
            part->agree += pp == pb;
            if (pp < 0) {
                part->nonfinite_images++;
                continue;
            }
            for (size_t k = 0; k < nc; k++) {
                double d = fabs((double)lp[(size_t)i * nc + k] - (double)lb[(size_t)i * nc + k]);
                part->sum_logit_diff += d;
                if (d > part->max_logit_diff)
                    part->max_logit_diff = d;
            }
        }
        part->images = (size_t)cnt;
        for (int l = 0; pann && l < part->n_layers; l++)
            part->layers[l] = *pact_pann_layer_stats(pann, l);
    }
    free(input);
    free(lb);
    free(lp);
    return st;
}

pact_status pact_pann_evaluate(const pact_model *model, const pact_dataset *data,
                               const pact_plan *plan, const pact_pann_eval_opts *opts,
                               pact_pann_report *rep, pact_error *err)
{
    memset(rep, 0, sizeof *rep);
    pact_pann_eval_opts o;
    if (opts)
        o = *opts;
    else
        pact_pann_eval_opts_default(&o);
    pact_status st = check_eval(model, data, &o, err);
    if (st == PACT_OK && plan)
        st = pact_plan_check_model(plan, model, NULL, err);
    if (st != PACT_OK)
        return st;
    size_t total = eval_images(data, &o), n_chunks = pact_pann_eval_chunk_count(data, &o);
    int n_layers = plan ? model->n_act : 0;
    pact_pann *pann = NULL;
    pact_pann_partial sum, part;
    memset(&part, 0, sizeof part);
    st = pact_pann_partial_init(&sum, n_layers, model->n_classes, err);
    if (st == PACT_OK)
        st = pact_pann_partial_init(&part, n_layers, model->n_classes, err);
    if (st == PACT_OK && plan)
        st = pact_pann_create(plan, &o.arith, &pann, err);
    double t0 = now_seconds();
    /* chunk by chunk, merged in chunk order: the same numbers as any split of
     * the chunks over threads or processes merged in that order */
    for (size_t c = 0; st == PACT_OK && c < n_chunks; c++) {
        st = pact_pann_eval_chunk(model, data, pann, &o, c, &part, err);
        if (st == PACT_OK)
            st = pact_pann_partial_merge(&sum, &part, err);
        if (st == PACT_OK && o.progress)
            o.progress(o.progress_ctx, sum.images, total);
    }
    if (st == PACT_OK)
        st = pact_pann_partial_report(&sum, rep, err);
    rep->seconds = now_seconds() - t0;
    pact_pann_free(pann);
    pact_pann_partial_free(&sum);
    pact_pann_partial_free(&part);
    if (st != PACT_OK)
        pact_pann_report_free(rep);
    return st;
}
