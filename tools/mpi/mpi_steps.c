/* The heavy steps over MPI: calibration, evaluation and optimisation as items
 * of the library's scale-out API, merged on rank 0 in item order, so every
 * number is the one a single process computes. */
#include "../cli.h"
#include "../cli_backend.h"
#include "mpi_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- calibration: pass 1 (chunk statistics, merged in chunk order), pass 2
 * (histogram counts, summed: integers) ---- */

typedef struct {
    const pact_model *model;
    const pact_dataset *ds;
    pact_calib_opts opts;    /* without progress: items run anywhere */
    const double *totals;
    uint64_t *counts;
} calib_ctx;

static pact_status stats_item(void *vctx, size_t chunk, double *row, pact_error *err)
{
    calib_ctx *c = vctx;
    return pact_calib_stats_chunk(c->model, c->ds, &c->opts, chunk, row, err);
}

static pact_status hist_item(void *vctx, size_t chunk, double *row, pact_error *err)
{
    (void)row;
    calib_ctx *c = vctx;
    return pact_calib_hist_chunk(c->model, c->ds, &c->opts, c->totals, chunk, c->counts, err);
}

pact_status cli_calibrate(const pact_model *model, const pact_dataset *ds,
                          const pact_calib_opts *opts, pact_calib **calib, pact_error *err)
{
    *calib = NULL;
    calib_ctx c = {.model = model, .ds = ds};
    if (opts)
        c.opts = *opts;
    c.opts.progress = NULL;
    const int bins = c.opts.bins ? c.opts.bins : 2048;
    const size_t n_chunks = pact_calib_chunk_count(ds, &c.opts);
    const size_t per = (size_t)model->n_act * PACT_CALIB_STATS;
    const size_t n_counts = (size_t)model->n_act * (size_t)(bins > 0 ? bins : 1);
    size_t images = pact_dataset_count(ds);
    if (c.opts.max_images && c.opts.max_images < images)
        images = c.opts.max_images;
    /* the library's own checks, the same on every rank */
    pact_status st = PACT_OK;
    if (n_chunks == 0 || model->n_act < 1 || bins < 1 || bins > PACT_CALIB_MAX_BINS)
        st = pact_calibrate(model, ds, &c.opts, calib, err); /* fails with its message */
    if (st != PACT_OK || n_chunks == 0)
        return st;
    double *table = mpi_rank() == 0 ? malloc(per * n_chunks * sizeof *table) : NULL;
    double *totals = malloc(per * sizeof *totals);
    c.counts = calloc(n_counts, sizeof *c.counts);
    if ((mpi_rank() == 0 && !table) || !totals || !c.counts)
        st = cli_fail(err, PACT_ENOMEM, "out of memory for %zu chunks", n_chunks);
    st = mpi_agree(st, err);
    if (st == PACT_OK) {
        mpi_items job = {"calibrate pass 1", n_chunks, per, 0, stats_item, &c};
        st = mpi_run_items(&job, table, NULL, err);
    }
    if (st == PACT_OK) {
        if (mpi_rank() == 0)
            pact_calib_merge_stats(model->n_act, n_chunks, table, totals);
        mpi_bcast_doubles(totals, per);
        c.totals = totals;
        mpi_items job = {"calibrate pass 2", n_chunks, 0, 0, hist_item, &c};
        st = mpi_run_items(&job, NULL, NULL, err);
    }
    if (st == PACT_OK) {
        mpi_allreduce_counts(c.counts, n_counts);
        st = mpi_agree(pact_calib_build(model, &c.opts, images, totals, c.counts, calib, err), err);
    }
    if (st != PACT_OK) {
        pact_calib_free(*calib);
        *calib = NULL;
    }
    free(table);
    free(totals);
    free(c.counts);
    return st;
}

/* ---- evaluation: chunk partials, merged in chunk order on rank 0 ---- */

typedef struct {
    const pact_model *model;
    const pact_dataset *ds;
    pact_pann_eval_opts opts;
    pact_pann *pann;          /* this rank's */
    pact_pann_partial part;
} eval_ctx;

static pact_status eval_item(void *vctx, size_t chunk, double *row, pact_error *err)
{
    eval_ctx *c = vctx;
    pact_status st = pact_pann_eval_chunk(c->model, c->ds, c->pann, &c->opts, chunk, &c->part, err);
    if (st == PACT_OK)
        pact_pann_partial_pack(&c->part, row);
    return st;
}

/* Evaluates `plan` (NULL: the backbone) over the ranks; every rank gets the
 * report. `phase` names the progress line. */
static pact_status evaluate(const pact_model *model, const pact_dataset *ds, const pact_plan *plan,
                            const pact_pann_eval_opts *opts, const char *phase,
                            pact_pann_report *rep, pact_error *err)
{
    memset(rep, 0, sizeof *rep);
    eval_ctx c = {.model = model, .ds = ds};
    if (opts)
        c.opts = *opts;
    else
        pact_pann_eval_opts_default(&c.opts);
    c.opts.progress = NULL;
    int n_layers = plan ? model->n_act : 0;
    size_t n_chunks = pact_pann_eval_chunk_count(ds, &c.opts);
    size_t row_size = pact_pann_partial_row_size(n_layers);
    pact_status st = PACT_OK;
    if (n_chunks == 0 || c.opts.batch < 1 || c.opts.batch > 4096 || !model->forward ||
        model->n_classes < 1)
        st = pact_pann_evaluate(model, ds, plan, &c.opts, rep, err); /* its message */
    else if (plan)
        st = pact_plan_check_model(plan, model, NULL, err);
    if (st != PACT_OK || n_chunks == 0)
        return st;
    pact_pann_partial sum;
    memset(&sum, 0, sizeof sum);
    double *table = mpi_rank() == 0 ? malloc(row_size * n_chunks * sizeof *table) : NULL;
    double *merged = malloc(row_size * sizeof *merged);
    st = pact_pann_partial_init(&c.part, n_layers, model->n_classes, err);
    if (st == PACT_OK)
        st = pact_pann_partial_init(&sum, n_layers, model->n_classes, err);
    if (st == PACT_OK && ((mpi_rank() == 0 && !table) || !merged))
        st = cli_fail(err, PACT_ENOMEM, "out of memory for %zu chunks", n_chunks);
    if (st == PACT_OK && plan)
        st = pact_pann_create(plan, &c.opts.arith, &c.pann, err);
    st = mpi_agree(st, err);
    double seconds = 0.0;
    if (st == PACT_OK) {
        mpi_items job = {phase, n_chunks, row_size, 0, eval_item, &c};
        st = mpi_run_items(&job, table, &seconds, err);
    }
    const int items_done = st == PACT_OK; /* the same on every rank */
    if (items_done && mpi_rank() == 0) {
        /* chunk order: the sum of logit differences as one process adds it */
        for (size_t k = 0; st == PACT_OK && k < n_chunks; k++) {
            st = pact_pann_partial_unpack(table + k * row_size, row_size, &c.part, err);
            if (st == PACT_OK)
                st = pact_pann_partial_merge(&sum, &c.part, err);
        }
        if (st == PACT_OK)
            pact_pann_partial_pack(&sum, merged);
    }
    if (items_done)
        st = mpi_agree(st, err);
    if (st == PACT_OK) {
        mpi_bcast_doubles(merged, row_size);
        mpi_bcast_doubles(&seconds, 1);
        st = pact_pann_partial_unpack(merged, row_size, &sum, err);
        if (st == PACT_OK)
            st = pact_pann_partial_report(&sum, rep, err);
        rep->seconds = seconds;
        st = mpi_agree(st, err);
    }
    if (st != PACT_OK)
        pact_pann_report_free(rep);
    pact_pann_free(c.pann);
    pact_pann_partial_free(&c.part);
    pact_pann_partial_free(&sum);
    free(table);
    free(merged);
    return st;
}

pact_status cli_evaluate(const pact_model *model, const pact_dataset *ds, const pact_plan *plan,
                         const pact_pann_eval_opts *opts, pact_pann_report *report,
                         pact_error *err)
{
    return evaluate(model, ds, plan, opts, "eval", report, err);
}

/* ---- optimisation: impact items (kept to one layer per rank while they
 * last, so layer states are computed few times), then the closed loop with
 * each verification's chunks spread out ---- */

static pact_status impact_item(void *vctx, size_t item, double *row, pact_error *err)
{
    return pact_optimizer_impact(vctx, item, row, err);
}

pact_status cli_optimize(const pact_model *model, const pact_dataset *ds, const pact_calib *calib,
                         const pact_cost_layout *layout, const pact_cost_profile *profile,
                         const pact_optimize_opts *opts, const char *model_name,
                         const char *model_sha256, pact_plan **plan, pact_error *err)
{
    *plan = NULL;
    pact_optimize_opts o;
    if (opts)
        o = *opts;
    else
        pact_optimize_opts_default(&o);
    if (mpi_rank() != 0)
        o.progress = NULL;
    pact_optimizer *op = NULL;
    /* every rank fits the candidates itself (deterministic, a few seconds) */
    pact_status st = pact_optimizer_create(model, ds, calib, layout, profile, &o, model_name,
                                           model_sha256, &op, err);
    st = mpi_agree(st, err);
    if (st != PACT_OK) {
        pact_optimizer_free(op);
        return st;
    }
    size_t n = pact_optimizer_item_count(op);
    int n_layers = pact_optimizer_layer_count(op);
    double *impacts = malloc((n ? n : 1) * sizeof *impacts);
    int *msg = malloc((size_t)(n_layers + 2) * sizeof *msg); /* status, done, choices */
    if (!impacts || !msg)
        st = cli_fail(err, PACT_ENOMEM, "optimize: out of memory");
    st = mpi_agree(st, err);
    if (st == PACT_OK && o.impacts) {
        st = o.n_impacts == n ? PACT_OK
                              : cli_fail(err, PACT_EMISMATCH, "optimize: %zu impacts for %zu items",
                                         o.n_impacts, n);
        if (st == PACT_OK)
            memcpy(impacts, o.impacts, n * sizeof *impacts);
    } else if (st == PACT_OK) {
        mpi_items job = {"impacts", n, 1, n / (size_t)n_layers, impact_item, op};
        st = mpi_run_items(&job, impacts, NULL, err);
        if (st == PACT_OK)
            mpi_bcast_doubles(impacts, n);
    }
    if (st == PACT_OK)
        st = mpi_agree(pact_optimizer_set_impacts(op, impacts, n, err), err);
    pact_pann_eval_opts eo;
    pact_optimizer_verify_opts(op, &eo);
    for (int step = 1; st == PACT_OK; step++) {
        /* rank 0 decides; everyone evaluates the proposed plan */
        int done = 0;
        if (mpi_rank() == 0)
            msg[0] = pact_optimizer_next(op, msg + 2, &done, err);
        msg[1] = done;
        mpi_bcast_ints(msg, (size_t)n_layers + 2);
        st = mpi_agree(mpi_rank() == 0 ? (pact_status)msg[0] : PACT_OK, err);
        if (st != PACT_OK || msg[1])
            break;
        pact_plan *candidate = NULL;
        pact_pann_report r;
        char phase[32];
        snprintf(phase, sizeof phase, "verify %d", step);
        st = mpi_agree(pact_optimizer_plan(op, msg + 2, &candidate, err), err);
        if (st == PACT_OK)
            st = evaluate(model, ds, candidate, &eo, phase, &r, err);
        pact_plan_free(candidate);
        if (st != PACT_OK)
            break;
        if (mpi_rank() == 0)
            st = pact_optimizer_tell(op, 100.0 * (double)r.correct / (double)r.images,
                                     100.0 * (double)r.backbone_correct / (double)r.images,
                                     100.0 * (double)r.agree / (double)r.images, err);
        pact_pann_report_free(&r);
        st = mpi_agree(st, err);
    }
    if (st == PACT_OK && mpi_rank() == 0)
        st = pact_optimizer_result(op, plan, err);
    /* PACT_ETOL keeps its plan (rank 0), like pact_optimize */
    pact_status all = mpi_agree(st, err);
    if (all != PACT_OK && all != PACT_ETOL) {
        pact_plan_free(*plan);
        *plan = NULL;
    }
    free(impacts);
    free(msg);
    pact_optimizer_free(op);
    return all;
}
