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

pact_status pact_pann_evaluate(const pact_model *model, const pact_dataset *data, const pact_plan *plan,
                      const pact_pann_eval_opts *opts, pact_pann_report *rep, pact_error *err)
{
    memset(rep, 0, sizeof *rep);
    pact_pann_eval_opts o;
    if (opts)
        o = *opts;
    else
        pact_pann_eval_opts_default(&o);
    if (o.batch < 1 || o.batch > 4096)
        return pact_fail(err, PACT_EINVAL, "eval: batch %d outside 1..4096", o.batch);
    if (model->n_classes < 1 || model->input_size < 1 || !model->forward)
        return pact_fail(err, PACT_EINVAL, "eval: model has no forward function, inputs or classes");
    size_t total = pact_dataset_count(data);
    if (o.max_images && o.max_images < total)
        total = o.max_images;
    if (total == 0)
        return pact_fail(err, PACT_EINVAL, "eval: the data set holds no images");
    pact_status st = PACT_OK;
    if (plan)
        st = pact_plan_check_model(plan, model, NULL, err);
    if (st != PACT_OK)
        return st;

    size_t nc = (size_t)model->n_classes, bs = (size_t)o.batch;
    float *input = malloc(bs * (size_t)model->input_size * sizeof *input);
    float *lb = malloc(bs * nc * sizeof *lb), *lp = malloc(bs * nc * sizeof *lp);
    pact_pann *pann = NULL;
    if (!input || !lb || !lp)
        st = pact_fail(err, PACT_ENOMEM, "eval: out of memory for a batch of %d images", o.batch);
    if (st == PACT_OK && plan)
        st = pact_pann_create(plan, &o.arith, &pann, err);

    double t0 = now_seconds(), diff_sum = 0.0;
    for (size_t first = 0, chunk = 0; st == PACT_OK && first < total; first += bs, chunk++) {
        int cnt = (int)(total - first < bs ? total - first : bs);
        st = pact_dataset_images_f32(data, first, (size_t)cnt, input, err);
        if (st == PACT_OK)
            st = model->forward(model->ctx, input, cnt, NULL, NULL, lb, err);
        if (st == PACT_OK && pann) {
            pact_pann_set_stream(pann, chunk);
            st = model->forward(model->ctx, input, cnt, pact_pann_hook, pann, lp, err);
        }
        if (st != PACT_OK)
            break;
        for (int i = 0; i < cnt; i++) {
            int label = pact_dataset_label(data, first + (size_t)i);
            int pb = argmax(lb + (size_t)i * nc, (int)nc);
            rep->backbone_correct += pb == label;
            if (!pann) {
                rep->correct += pb == label;
                continue;
            }
            int pp = argmax(lp + (size_t)i * nc, (int)nc);
            rep->correct += pp == label;
            rep->agree += pp == pb;
            if (pp < 0) {
                rep->nonfinite_images++;
                continue;
            }
            for (size_t k = 0; k < nc; k++) {
                double d = fabs((double)lp[(size_t)i * nc + k] - (double)lb[(size_t)i * nc + k]);
                diff_sum += d;
                if (d > rep->max_logit_diff)
                    rep->max_logit_diff = d;
            }
        }
        rep->images += (size_t)cnt;
        if (o.progress)
            o.progress(o.progress_ctx, rep->images, total);
    }
    rep->seconds = now_seconds() - t0;
    size_t finite = rep->images - rep->nonfinite_images;
    if (pann && finite)
        rep->mean_logit_diff = diff_sum / ((double)finite * (double)nc);
    if (st == PACT_OK && pann) {
        rep->n_layers = model->n_act;
        rep->layers = malloc((size_t)model->n_act * sizeof *rep->layers);
        if (!rep->layers)
            st = pact_fail(err, PACT_ENOMEM, "eval: out of memory");
        for (int i = 0; rep->layers && i < model->n_act; i++)
            rep->layers[i] = *pact_pann_layer_stats(pann, i);
    }
    pact_pann_free(pann);
    free(input);
    free(lb);
    free(lp);
    if (st != PACT_OK)
        pact_pann_report_free(rep);
    return st;
}
