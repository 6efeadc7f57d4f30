/* The optimizer: per-layer candidates, their measured impact, the level-exact
 * dynamic program, and a closed loop on the calibration images. The work is
 * exposed in pieces (impact items, plans to verify) so that a driver can
 * spread it over processes; pact_optimize runs the pieces in order. */
#include "../internal.h"
#include "fit_layer.h"
#include "refit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int default_degrees[] = {1, 2, 3, 4, 5, 7, 15, 31, 63};
static const double default_floors[] = {0.02, 0.2};
/* per channel: no degree 1 or 2 (their single-layer impacts add up badly), no
 * degree above 15 (a channel's interval is narrow: inputs beyond it explode
 * high degrees), smaller floors (a channel's data pins its polynomial) */
static const int channel_degrees[] = {3, 4, 5, 7, 15};
static const double channel_floors[] = {0.002, 0.03};

void pact_optimize_opts_default(pact_optimize_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_drop = 0.5;
    o->margin = 0.05;
}

typedef struct {
    pact_poly *poly;          /* one polynomial for the layer, or */
    pact_group_poly gp;       /* per channel (opts.per_channel) */
    int degree;
    double floor, max_error, impact;
} candidate;

typedef struct {
    const pact_model *model;
    int layer;                /* the one layer replaced */
    const candidate *cand;    /* its polynomial(s) (exact double evaluation) */
} single_ctx;

static pact_status single_hook(void *vctx, int layer, float *x, int batch, int channels,
                               int spatial, pact_error *err)
{
    single_ctx *cx = vctx;
    size_t n = (size_t)batch * (size_t)channels * (size_t)spatial;
    if (layer != cx->layer) {
        pact_func_apply_f32(cx->model->act_funcs[layer], x, n);
        return PACT_OK;
    }
    if (!cx->cand->poly) {
        if (channels != cx->cand->gp.groups)
            return pact_fail(err, PACT_EMISMATCH, "optimize: layer %d passed %d channels, calibrated %d",
                             layer, channels, cx->cand->gp.groups);
        pact_group_poly_apply(&cx->cand->gp, x, (size_t)batch, channels, (size_t)spatial);
        return PACT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        double y = pact_poly_eval(cx->cand->poly, x[i]);
        x[i] = fabs(y) <= 3.0e38 ? (float)y : (float)copysign(INFINITY, y);
    }
    return PACT_OK;
}

/* Mean KL(softmax(ref) || softmax(got)) over images; INFINITY if any logit
 * is not finite. */
static double mean_kl(const float *ref, const float *got, size_t images, int nc)
{
    double total = 0.0;
    for (size_t i = 0; i < images; i++) {
        const float *r = ref + i * (size_t)nc, *g = got + i * (size_t)nc;
        double mr = -INFINITY, mg = -INFINITY;
        for (int k = 0; k < nc; k++) {
            if (!isfinite(g[k]))
                return INFINITY;
            mr = fmax(mr, r[k]);
            mg = fmax(mg, g[k]);
        }
        double zr = 0.0, zg = 0.0;
        for (int k = 0; k < nc; k++) {
            zr += exp(r[k] - mr);
            zg += exp(g[k] - mg);
        }
        double kl = 0.0;
        for (int k = 0; k < nc; k++) {
            double lr = r[k] - mr - log(zr), lg = g[k] - mg - log(zg);
            kl += exp(lr) * (lr - lg);
        }
        total += fmax(kl, 0.0);
    }
    return total / (double)images;
}

pact_status pact_plan_cost(const pact_plan *plan, const pact_cost_layout *layout,
                           const pact_cost_profile *profile, pact_cost_walk **walk, pact_error *err)
{
    int n = pact_plan_layer_count(plan);
    pact_cost_act *acts = calloc((size_t)n, sizeof *acts);
    if (!acts)
        return pact_fail(err, PACT_ENOMEM, "plan cost: out of memory");
    pact_status st = PACT_OK;
    for (int i = 0; st == PACT_OK && i < n; i++) {
        pact_plan_layer l;
        st = pact_plan_layer_get(plan, i, &l, err);
        if (st != PACT_OK)
            break;
        if (l.n_parts > PACT_COST_MAX_COMPONENTS) {
            st = pact_fail(err, PACT_EINVAL, "plan layer %d: %d parts", i, l.n_parts);
            break;
        }
        acts[i].n_components = l.n_parts;
        memcpy(acts[i].degrees, l.degrees, (size_t)l.n_parts * sizeof(int));
        acts[i].relu_product = l.form == PACT_FORM_COMPOSITE && l.func != PACT_SIGN;
    }
    if (st == PACT_OK)
        st = pact_cost_evaluate(layout, profile, acts, n, walk, err);
    free(acts);
    return st;
}

pact_status pact_cost_uniform(const pact_cost_layout *layout, const pact_cost_profile *profile,
                              const char *spec, pact_cost_walk **walk, pact_error *err)
{
    pact_cost_act act;
    pact_status st = pact_cost_act_parse(spec, &act, err);
    if (st != PACT_OK)
        return st;
    int n = pact_cost_layout_n_slots(layout);
    pact_cost_act *acts = calloc((size_t)(n > 0 ? n : 1), sizeof *acts);
    if (!acts)
        return pact_fail(err, PACT_ENOMEM, "cost: out of memory");
    for (int i = 0; i < n; i++)
        acts[i] = act;
    st = pact_cost_evaluate(layout, profile, acts, n, walk, err);
    free(acts);
    return st;
}

typedef enum { LOOP_START, LOOP_WAIT_FIRST, LOOP_SEARCH, LOOP_WAIT_STEP, LOOP_DONE } loop_state;

#define LOOP_STEPS 12

struct pact_optimizer {
    const pact_model *model;
    const pact_dataset *data;
    const pact_calib *calib;
    const pact_cost_layout *layout;
    const pact_cost_profile *profile;
    pact_optimize_opts o;
    char *name, *sha;
    int n_layers;
    candidate **cands; /* per layer */
    int *n_cands;
    size_t n_items;    /* impact items: (layer, candidate), layer-major */
    int impacts_set;
    pact_error *err;   /* the current call's; NULL between calls */

    /* impact measurement, cached between items */
    size_t imgs;
    float *input, *ref, *got, *state;
    int state_layer;

    /* the closed loop */
    loop_state loop;
    int it;
    double b0, hi, good, bad, mid, best_acc, backbone, best_agree;
    pact_cost_walk *best, *pending;
    int failed_drop;   /* the most accurate plan already loses too much */
};

static void stage(pact_optimizer *op, const char *what, size_t done, size_t total)
{
    if (op->o.progress)
        op->o.progress(op->o.progress_ctx, what, done, total);
}

/* Calibration images the candidates and the closed loop use. */
static size_t calib_images(const pact_optimizer *op)
{
    size_t n = pact_dataset_count(op->data);
    return op->o.verify_images && op->o.verify_images < n ? op->o.verify_images : n;
}

/* Per-channel candidates: every channel's inputs over the calibration images
 * are measured (range, then bins on its interval) and fitted per candidate. */
static pact_status fit_channel_candidates(pact_optimizer *op)
{
    const pact_model *m = op->model;
    const int n = m->n_act, per = op->o.n_degrees * op->o.n_floors;
    size_t images = calib_images(op), total = (size_t)n * (size_t)per, done = 0;
    int max_degree = 0;
    for (int d = 0; d < op->o.n_degrees; d++)
        max_degree = op->o.degrees[d] > max_degree ? op->o.degrees[d] : max_degree;
    pact_act_ranges r;
    pact_status st = pact_act_ranges_measure(m, op->data, images, op->o.batch, &r, op->err);
    if (st != PACT_OK)
        return st;
    pact_bins *bins = calloc((size_t)n, sizeof *bins);
    double *a = NULL, *b = NULL;
    if (!bins)
        st = pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory");
    for (int l = 0; st == PACT_OK && l < n; l++) {
        int C = r.channels[l];
        double llo = INFINITY, lhi = -INFINITY;
        for (int c = 0; c < C; c++)
            if (r.lo[l][c] <= r.hi[l][c]) {
                llo = fmin(llo, r.lo[l][c]);
                lhi = fmax(lhi, r.hi[l][c]);
            }
        if (!(llo <= lhi)) {
            st = pact_fail(op->err, PACT_ENUMERIC, "optimize: layer %d (%s) saw no finite input", l,
                           m->act_names[l]);
            break;
        }
        free(a);
        free(b);
        a = malloc((size_t)C * sizeof *a);
        b = malloc((size_t)C * sizeof *b);
        if (!a || !b) {
            st = pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory");
            break;
        }
        for (int c = 0; c < C; c++)
            pact_channel_interval(r.lo[l][c], r.hi[l][c], llo, lhi, op->o.channel_margin, &a[c], &b[c]);
        st = pact_bins_init(&bins[l], C, PACT_REFIT_BINS, a, b, op->err);
    }
    if (st == PACT_OK)
        st = pact_act_bins_measure(m, op->data, images, op->o.batch, bins, op->err);
    for (int l = 0; st == PACT_OK && l < n; l++) {
        int C = r.channels[l];
        op->cands[l] = calloc((size_t)per, sizeof(candidate));
        if (!op->cands[l]) {
            st = pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory");
            break;
        }
        for (int d = 0; st == PACT_OK && d < op->o.n_degrees; d++)
            for (int f = 0; st == PACT_OK && f < op->o.n_floors; f++) {
                candidate *cd = &op->cands[l][op->n_cands[l]];
                cd->degree = op->o.degrees[d];
                cd->floor = op->o.floors[f];
                cd->impact = NAN;
                st = pact_group_poly_init(&cd->gp, C, cd->degree, op->err);
                if (st == PACT_OK)
                    op->n_cands[l]++;
            }
        for (int c = 0; st == PACT_OK && c < C; c++) {
            pact_moments mo;
            st = pact_bins_moments(&bins[l], c, m->act_funcs[l], 0, max_degree, &mo, op->err);
            for (int k = 0; st == PACT_OK && k < op->n_cands[l]; k++) {
                candidate *cd = &op->cands[l][k];
                cd->gp.a[c] = bins[l].a[c];
                cd->gp.b[c] = bins[l].b[c];
                st = pact_moments_solve(&mo, cd->degree, cd->floor,
                                        cd->gp.cheb + (size_t)c * ((size_t)cd->degree + 1), op->err);
            }
            pact_moments_free(&mo);
        }
        for (int k = 0; st == PACT_OK && k < op->n_cands[l]; k++) {
            candidate *cd = &op->cands[l][k];
            cd->max_error = pact_group_poly_max_error(&cd->gp, m->act_funcs[l]);
            stage(op, "fit", ++done, total);
        }
    }
    for (int l = 0; bins && l < n; l++)
        pact_bins_free(&bins[l]);
    free(bins);
    free(a);
    free(b);
    pact_act_ranges_free(&r);
    return st;
}

static pact_status fit_candidates(pact_optimizer *op)
{
    const pact_model *m = op->model;
    if (op->o.per_channel)
        return fit_channel_candidates(op);
    size_t total = (size_t)m->n_act * (size_t)op->o.n_degrees * (size_t)op->o.n_floors, done = 0;
    for (int l = 0; l < m->n_act; l++) {
        pact_calib_layer cl = *pact_calib_layer_at(op->calib, l);
        pact_status st;
        double a, b;
        pact_layer_interval(&cl, op->o.margin, &a, &b);
        op->cands[l] = calloc((size_t)(op->o.n_degrees * op->o.n_floors), sizeof(candidate));
        if (!op->cands[l])
            return pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory");
        for (int d = 0; d < op->o.n_degrees; d++)
            for (int f = 0; f < op->o.n_floors; f++) {
                candidate *c = &op->cands[l][op->n_cands[l]];
                c->degree = op->o.degrees[d];
                c->floor = op->o.floors[f];
                c->impact = NAN;
                st = pact_fit_layer_lsq(&cl, m->act_funcs[l], a, b, c->degree, c->floor, &c->poly,
                                        &c->max_error, op->err);
                if (st != PACT_OK)
                    return st;
                op->n_cands[l]++;
                stage(op, "fit", ++done, total);
            }
    }
    return PACT_OK;
}

/* Layer and candidate of impact item `item` (layer-major order). */
static void item_of(const pact_optimizer *op, size_t item, int *layer, int *cand)
{
    int per = op->o.n_degrees * op->o.n_floors;
    *layer = (int)(item / (size_t)per);
    *cand = (int)(item % (size_t)per);
}

/* The images and the exact network's logits every impact item compares with. */
static pact_status impact_setup(pact_optimizer *op)
{
    const pact_model *m = op->model;
    size_t imgs = pact_dataset_count(op->data);
    if (op->o.impact_images < imgs)
        imgs = op->o.impact_images;
    int nc = m->n_classes;
    size_t bs = (size_t)op->o.batch;
    op->imgs = imgs;
    op->state_layer = -1;
    op->input = malloc(imgs * (size_t)m->input_size * sizeof *op->input);
    op->ref = malloc(imgs * (size_t)nc * sizeof *op->ref);
    op->got = malloc(imgs * (size_t)nc * sizeof *op->got);
    pact_status st = PACT_OK;
    if (!op->input || !op->ref || !op->got)
        st = pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory for %zu images", imgs);
    if (st == PACT_OK)
        st = pact_dataset_images_f32(op->data, 0, imgs, op->input, op->err);
    for (size_t i = 0; st == PACT_OK && i < imgs; i += bs) {
        int cnt = (int)(imgs - i < bs ? imgs - i : bs);
        st = m->forward(m->ctx, op->input + i * (size_t)m->input_size, cnt, NULL, NULL,
                        op->ref + i * (size_t)nc, op->err);
    }
    if (st != PACT_OK) {
        free(op->input);
        free(op->ref);
        free(op->got);
        op->input = NULL;
        op->ref = op->got = NULL;
    }
    return st;
}

static void impact_release(pact_optimizer *op)
{
    free(op->input);
    free(op->ref);
    free(op->got);
    free(op->state);
    op->input = op->ref = op->got = op->state = NULL;
    op->state_layer = -1;
}

/* The states at layer l of the impact images (when the model can split). */
static pact_status impact_state(pact_optimizer *op, int l)
{
    const pact_model *m = op->model;
    size_t ss = m->state_size(m->ctx, l), bs = (size_t)op->o.batch;
    free(op->state);
    op->state_layer = -1;
    op->state = malloc(op->imgs * ss * sizeof *op->state);
    if (!op->state)
        return pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory for layer %d states", l);
    pact_status st = PACT_OK;
    for (size_t i = 0; st == PACT_OK && i < op->imgs; i += bs) {
        int cnt = (int)(op->imgs - i < bs ? op->imgs - i : bs);
        st = m->forward_to(m->ctx, op->input + i * (size_t)m->input_size, cnt, l, NULL, NULL,
                           op->state + i * ss, op->err);
    }
    if (st == PACT_OK)
        op->state_layer = l;
    return st;
}

static pact_status impact_call(pact_optimizer *op, size_t item, double *impact, pact_error *err)
{
    if (item >= op->n_items)
        return pact_fail(err, PACT_EINVAL, "optimize: impact item %zu outside 0..%zu", item,
                         op->n_items - 1);
    const pact_model *m = op->model;
    int l, c, nc = m->n_classes, split = m->state_size && m->forward_to && m->forward_from;
    item_of(op, item, &l, &c);
    pact_status st = PACT_OK;
    if (!op->input)
        st = impact_setup(op);
    if (st == PACT_OK && split && op->state_layer != l)
        st = impact_state(op, l);
    size_t ss = split ? m->state_size(m->ctx, l) : 0, bs = (size_t)op->o.batch;
    single_ctx sc = {m, l, &op->cands[l][c]};
    for (size_t i = 0; st == PACT_OK && i < op->imgs; i += bs) {
        int cnt = (int)(op->imgs - i < bs ? op->imgs - i : bs);
        if (split)
            st = m->forward_from(m->ctx, l, op->state + i * ss, cnt, single_hook, &sc,
                                 op->got + i * (size_t)nc, err);
        else
            st = m->forward(m->ctx, op->input + i * (size_t)m->input_size, cnt, single_hook, &sc,
                            op->got + i * (size_t)nc, err);
    }
    if (st == PACT_OK)
        *impact = mean_kl(op->ref, op->got, op->imgs, nc);
    return st;
}

/* op->err is the current call's error only: set on entry, cleared on return,
 * so the optimizer keeps no pointer to the caller's memory between calls. */
pact_status pact_optimizer_impact(pact_optimizer *op, size_t item, double *impact, pact_error *err)
{
    op->err = err;
    pact_status st = impact_call(op, item, impact, err);
    op->err = NULL;
    return st;
}

size_t pact_optimizer_item_count(const pact_optimizer *op) { return op->n_items; }

int pact_optimizer_layer_count(const pact_optimizer *op) { return op->n_layers; }

pact_status pact_optimizer_item(const pact_optimizer *op, size_t item, int *layer, int *degree,
                                double *floor_weight, pact_error *err)
{
    if (item >= op->n_items)
        return pact_fail(err, PACT_EINVAL, "optimize: impact item %zu outside 0..%zu", item,
                         op->n_items - 1);
    int l, c;
    item_of(op, item, &l, &c);
    if (layer)
        *layer = l;
    if (degree)
        *degree = op->cands[l][c].degree;
    if (floor_weight)
        *floor_weight = op->cands[l][c].floor;
    return PACT_OK;
}

pact_status pact_optimizer_set_impacts(pact_optimizer *op, const double *impacts, size_t n,
                                       pact_error *err)
{
    if (op->loop != LOOP_START)
        return pact_fail(err, PACT_EINVAL, "optimize: impacts set after the closed loop began");
    if (n != op->n_items)
        return pact_fail(err, PACT_EMISMATCH, "optimize: %zu impacts for %zu items", n, op->n_items);
    for (size_t i = 0; i < n; i++)
        if (!(impacts[i] >= 0.0)) /* NaN and negatives; +inf marks an exploding candidate */
            return pact_fail(err, PACT_EINVAL, "optimize: impact of item %zu is %g, not >= 0", i,
                             impacts[i]);
    for (size_t i = 0; i < n; i++) {
        int l, c;
        item_of(op, i, &l, &c);
        op->cands[l][c].impact = impacts[i];
    }
    op->impacts_set = 1;
    impact_release(op);
    return PACT_OK;
}

/* Runs the DP at `budget`; out *walk. */
static pact_status solve(pact_optimizer *op, double budget, pact_cost_walk **walk)
{
    int n = op->n_layers;
    pact_opt_slot *slots = calloc((size_t)n, sizeof *slots);
    pact_opt_candidate **oc = calloc((size_t)n, sizeof *oc);
    pact_status st = slots && oc ? PACT_OK : pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory");
    for (int l = 0; st == PACT_OK && l < n; l++) {
        oc[l] = calloc((size_t)op->n_cands[l], sizeof **oc);
        if (!oc[l]) {
            st = pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory");
            break;
        }
        for (int c = 0; c < op->n_cands[l]; c++) {
            const candidate *cd = &op->cands[l][c];
            /* an exploding candidate (non-finite output) stays in its place, so
             * indices match the walk's choice, with an impact no finite budget
             * admits */
            oc[l][c].act = (pact_cost_act){1, {cd->degree}, 0};
            oc[l][c].impact = isfinite(cd->impact) ? cd->impact : 1e30;
        }
        slots[l].candidates = oc[l];
        slots[l].n_candidates = op->n_cands[l];
    }
    pact_opt_dp_opts dpo = {op->o.impact_buckets};
    if (st == PACT_OK)
        st = pact_optimize_dp(op->layout, op->profile, slots, n, budget, &dpo, walk, op->err);
    for (int l = 0; oc && l < n; l++)
        free(oc[l]);
    free(oc);
    free(slots);
    return st;
}

static void choices_of(const pact_optimizer *op, const pact_cost_walk *walk, int *choices)
{
    for (int l = 0; l < op->n_layers; l++)
        choices[l] = walk->steps[pact_cost_layout_slot_op(op->layout, l)].choice;
}

/* Layer l of a plan from per-group polynomials (per channel, or one group:
 * a plain polynomial layer). */
static pact_status set_group_layer(const pact_optimizer *op, pact_plan *plan, int l,
                                   const pact_group_poly *gp, double max_error, double impact,
                                   pact_error *err)
{
    int d = gp->degree;
    pact_plan_layer pl = {.name = op->model->act_names[l], .func = op->model->act_funcs[l],
                          .form = PACT_FORM_POLY, .a = gp->a[0], .b = gp->b[0], .n_parts = 1,
                          .degrees = &d, .max_error = max_error, .impact = impact};
    const double *cheb0 = gp->cheb;
    const double **rows = NULL;
    if (op->o.per_channel) {
        rows = malloc((size_t)gp->groups * sizeof *rows);
        if (!rows)
            return pact_fail(err, PACT_ENOMEM, "optimize: out of memory");
        for (int g = 0; g < gp->groups; g++)
            rows[g] = gp->cheb + (size_t)g * ((size_t)d + 1);
        pl.n_channels = gp->groups;
        pl.channel_a = gp->a;
        pl.channel_b = gp->b;
        pl.channel_cheb = (const double *const *)rows;
    } else {
        pl.cheb = &cheb0;
    }
    pact_status st = pact_plan_set_layer(plan, l, &pl, err);
    free(rows);
    return st;
}

/* The refit of `choices` (opts.refit) as a plan. */
static pact_status refit_plan(const pact_optimizer *op, const int *choices, pact_plan *plan,
                              pact_error *err)
{
    const int n = op->n_layers;
    int *deg = malloc((size_t)n * sizeof *deg);
    double *fl = malloc((size_t)n * sizeof *fl);
    pact_group_poly *gp = calloc((size_t)n, sizeof *gp);
    pact_status st = deg && fl && gp ? PACT_OK : pact_fail(err, PACT_ENOMEM, "optimize: out of memory");
    for (int l = 0; st == PACT_OK && l < n; l++) {
        deg[l] = op->cands[l][choices[l]].degree;
        fl[l] = op->cands[l][choices[l]].floor;
    }
    size_t images = op->o.refit_images ? op->o.refit_images : op->o.impact_images;
    if (images > calib_images(op))
        images = calib_images(op);
    /* the refit intervals cover the candidates' (measured on every calibration image) */
    const pact_group_poly **cover = calloc((size_t)n, sizeof *cover);
    pact_group_poly *scalar = calloc((size_t)n, sizeof *scalar);
    if (st == PACT_OK && (!cover || !scalar))
        st = pact_fail(err, PACT_ENOMEM, "optimize: out of memory");
    for (int l = 0; st == PACT_OK && l < n; l++) {
        const candidate *cd = &op->cands[l][choices[l]];
        if (!cd->poly) {
            cover[l] = &cd->gp;
            continue;
        }
        st = pact_group_poly_init(&scalar[l], 1, 0, err);
        if (st == PACT_OK)
            pact_poly_interval(cd->poly, &scalar[l].a[0], &scalar[l].b[0]);
        cover[l] = &scalar[l];
    }
    if (st == PACT_OK)
        st = pact_refit(op->model, op->data, images, op->o.batch, deg, fl, op->o.per_channel,
                        op->o.per_channel ? op->o.channel_margin : op->o.margin, cover, gp, err);
    for (int l = 0; scalar && l < n; l++)
        pact_group_poly_free(&scalar[l]);
    free(scalar);
    free(cover);
    for (int l = 0; st == PACT_OK && l < n; l++)
        st = set_group_layer(op, plan, l, &gp[l],
                             pact_group_poly_max_error(&gp[l], op->model->act_funcs[l]),
                             op->cands[l][choices[l]].impact, err);
    for (int l = 0; gp && l < n; l++)
        pact_group_poly_free(&gp[l]);
    free(gp);
    free(deg);
    free(fl);
    return st;
}

pact_status pact_optimizer_plan(const pact_optimizer *op, const int *choices, pact_plan **out,
                                pact_error *err)
{
    *out = NULL;
    for (int l = 0; l < op->n_layers; l++)
        if (choices[l] < 0 || choices[l] >= op->n_cands[l])
            return pact_fail(err, PACT_EINVAL, "optimize: choice %d of layer %d outside 0..%d",
                             choices[l], l, op->n_cands[l] - 1);
    pact_plan *plan = NULL;
    pact_status st = pact_plan_create(op->name, op->sha, op->n_layers, &plan, err);
    if (st == PACT_OK && op->o.refit) {
        st = refit_plan(op, choices, plan, err);
        if (st != PACT_OK) {
            pact_plan_free(plan);
            return st;
        }
        *out = plan;
        return PACT_OK;
    }
    for (int l = 0; st == PACT_OK && l < op->n_layers; l++) {
        const candidate *cd = &op->cands[l][choices[l]];
        if (!cd->poly) {
            st = set_group_layer(op, plan, l, &cd->gp, cd->max_error, cd->impact, err);
            continue;
        }
        double a, b;
        pact_poly_interval(cd->poly, &a, &b);
        int d = cd->degree;
        const double *cheb = pact_poly_cheb(cd->poly);
        pact_plan_layer pl = {.name = op->model->act_names[l], .func = op->model->act_funcs[l],
                              .form = PACT_FORM_POLY, .a = a, .b = b, .n_parts = 1,
                              .degrees = &d, .cheb = &cheb, .max_error = cd->max_error,
                              .impact = cd->impact};
        st = pact_plan_set_layer(plan, l, &pl, err);
    }
    if (st != PACT_OK) {
        pact_plan_free(plan);
        return st;
    }
    *out = plan;
    return PACT_OK;
}

static pact_status check_inputs(pact_optimizer *op)
{
    const pact_model *m = op->model;
    pact_optimize_opts *o = &op->o;
    if (!(o->max_drop >= 0.0 && o->max_drop <= 100.0))
        return pact_fail(op->err, PACT_EINVAL, "optimize: max drop %g outside 0..100", o->max_drop);
    if (!(o->margin >= 0.0 && o->margin <= 10.0))
        return pact_fail(op->err, PACT_EINVAL, "optimize: margin %g outside 0..10", o->margin);
    if (o->n_degrees < 0 || o->n_degrees > 32 || o->n_floors < 0 || o->n_floors > 8)
        return pact_fail(op->err, PACT_EINVAL, "optimize: %d degrees and %d floors (0..32 and 0..8)",
                         o->n_degrees, o->n_floors);
    if (o->n_degrees == 0 && o->per_channel) {
        o->n_degrees = (int)(sizeof channel_degrees / sizeof *channel_degrees);
        memcpy(o->degrees, channel_degrees, sizeof channel_degrees);
    } else if (o->n_degrees == 0) {
        o->n_degrees = (int)(sizeof default_degrees / sizeof *default_degrees);
        memcpy(o->degrees, default_degrees, sizeof default_degrees);
    }
    if (o->n_floors == 0 && o->per_channel) {
        o->n_floors = (int)(sizeof channel_floors / sizeof *channel_floors);
        memcpy(o->floors, channel_floors, sizeof channel_floors);
    } else if (o->n_floors == 0) {
        o->n_floors = (int)(sizeof default_floors / sizeof *default_floors);
        memcpy(o->floors, default_floors, sizeof default_floors);
    }
    for (int i = 0; i < o->n_degrees; i++)
        if (o->degrees[i] < 1 || o->degrees[i] > PACT_FIT_MAX_DEGREE)
            return pact_fail(op->err, PACT_EINVAL, "optimize: degree %d outside 1..%d", o->degrees[i],
                             PACT_FIT_MAX_DEGREE);
    for (int i = 0; i < o->n_floors; i++)
        if (!(o->floors[i] >= 0.0 && o->floors[i] <= 1.0))
            return pact_fail(op->err, PACT_EINVAL, "optimize: floor %g outside 0..1", o->floors[i]);
    if (o->channel_margin == 0.0)
        o->channel_margin = 0.25;
    if (!(o->channel_margin > 0.0 && o->channel_margin <= 10.0))
        return pact_fail(op->err, PACT_EINVAL, "optimize: channel margin %g outside 0..10",
                         o->channel_margin);
    if (o->impact_images == 0)
        o->impact_images = 256;
    if (o->batch == 0)
        o->batch = 64;
    if (o->batch < 1 || o->batch > 4096)
        return pact_fail(op->err, PACT_EINVAL, "optimize: batch %d outside 1..4096", o->batch);
    /* loop_start reserves 2 buckets per layer for the least-impact plan: with
     * fewer its first budget is infinite or negative */
    int buckets = o->impact_buckets ? o->impact_buckets : 2000;
    if (buckets <= 2 * m->n_act || buckets > 100000)
        return pact_fail(op->err, PACT_EINVAL,
                         "optimize: impact_buckets %d outside %d..100000 (more than 2 per layer)",
                         buckets, 2 * m->n_act + 1);
    if (pact_cost_layout_n_slots(op->layout) != m->n_act)
        return pact_fail(op->err, PACT_EMISMATCH, "optimize: the cost layout has %d activation slots, the model %d",
                         pact_cost_layout_n_slots(op->layout), m->n_act);
    pact_status st = pact_calib_check_model(op->calib, m, NULL, op->err);
    if (st != PACT_OK)
        return st;
    for (int i = 0; i < m->n_act; i++) {
        const char *slot = pact_cost_layout_slot_name(op->layout, i);
        if (strcmp(slot, m->act_names[i]) != 0)
            return pact_fail(op->err, PACT_EMISMATCH,
                             "optimize: layer %d is '%s' in the model, '%s' in the cost layout", i,
                             m->act_names[i], slot);
    }
    if (pact_dataset_count(op->data) == 0)
        return pact_fail(op->err, PACT_EINVAL, "optimize: no calibration images");
    return PACT_OK;
}

/* The uniform plan a speed-up is measured against: the alpha=13 composite
 * ReLU when every activation is a ReLU, else a degree-63 polynomial in every
 * layer (a high-degree fit of the network's own function: OLA's kind of GELU
 * baseline, at a degree whose error is far below what the network notices). */
static const char *baseline_spec(const pact_model *model)
{
    for (int i = 0; i < model->n_act; i++)
        if (model->act_funcs[i] != PACT_RELU)
            return "degree:63";
    return "composite:alpha=13";
}

/* Fills the plan's summary with its cost and the baseline's. */
static pact_status summarise(pact_optimizer *op, pact_plan *plan, const pact_cost_walk *walk)
{
    pact_cost_walk *bw = NULL;
    const char *base = baseline_spec(op->model);
    pact_status st = pact_cost_uniform(op->layout, op->profile, base, &bw, op->err);
    if (st != PACT_OK)
        return st;
    struct { const char *k; double v; } s[] = {
        {"latency_s", walk->total_ms / 1000.0},
        {"bootstraps", walk->n_bootstraps},
        {"baseline_latency_s", bw->total_ms / 1000.0},
        {"baseline_bootstraps", bw->n_bootstraps},
        {"speedup", bw->total_ms / walk->total_ms},
        {"calib_accuracy", op->best_acc},
        {"calib_backbone_accuracy", op->backbone},
        {"calib_agreement", op->best_agree},
        {"max_drop", op->o.max_drop},
        {"impact_sum", walk->impact},
    };
    pact_cost_walk_free(bw);
    for (size_t i = 0; st == PACT_OK && i < sizeof s / sizeof s[0]; i++)
        st = pact_plan_set_summary(plan, s[i].k, s[i].v, op->err);
    if (st == PACT_OK)
        st = pact_plan_set_note(plan, "cost_profile", pact_cost_profile_name(op->profile), op->err);
    if (st == PACT_OK)
        st = pact_plan_set_note(plan, "baseline", base, op->err);
    /* how the polynomials were made, when not the plain per-layer fits */
    if (st == PACT_OK && op->o.per_channel)
        st = pact_plan_set_note(plan, "candidates", "per-channel least squares", op->err);
    if (st == PACT_OK && op->o.refit) {
        size_t images = op->o.refit_images ? op->o.refit_images : op->o.impact_images;
        if (images > calib_images(op))
            images = calib_images(op);
        st = pact_plan_set_summary(plan, "refit_images", (double)images, op->err);
    }
    return st;
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

void pact_optimizer_free(pact_optimizer *op)
{
    if (!op)
        return;
    impact_release(op);
    pact_cost_walk_free(op->best);
    pact_cost_walk_free(op->pending);
    for (int l = 0; op->cands && l < op->n_layers; l++) {
        for (int c = 0; op->cands[l] && c < op->n_cands[l]; c++) {
            pact_poly_free(op->cands[l][c].poly);
            pact_group_poly_free(&op->cands[l][c].gp);
        }
        free(op->cands[l]);
    }
    free(op->cands);
    free(op->n_cands);
    free(op->name);
    free(op->sha);
    free(op);
}

pact_status pact_optimizer_create(const pact_model *model, const pact_dataset *data,
                                  const pact_calib *calib, const pact_cost_layout *layout,
                                  const pact_cost_profile *profile, const pact_optimize_opts *opts,
                                  const char *model_name, const char *model_sha256,
                                  pact_optimizer **out, pact_error *err)
{
    *out = NULL;
    pact_optimizer *op = calloc(1, sizeof *op);
    if (!op)
        return pact_fail(err, PACT_ENOMEM, "optimize: out of memory");
    *op = (pact_optimizer){.model = model, .data = data, .calib = calib, .layout = layout,
                           .profile = profile, .n_layers = model->n_act, .err = err,
                           .state_layer = -1, .loop = LOOP_START};
    if (opts)
        op->o = *opts;
    else
        pact_optimize_opts_default(&op->o);
    pact_status st = check_inputs(op);
    if (st == PACT_OK) {
        op->name = copy_string(model_name);
        op->sha = copy_string(model_sha256);
        op->cands = calloc((size_t)op->n_layers, sizeof *op->cands);
        op->n_cands = calloc((size_t)op->n_layers, sizeof *op->n_cands);
        if (!op->name || !op->sha || !op->cands || !op->n_cands)
            st = pact_fail(err, PACT_ENOMEM, "optimize: out of memory");
    }
    if (st == PACT_OK)
        st = fit_candidates(op);
    if (st != PACT_OK) {
        pact_optimizer_free(op);
        return st;
    }
    op->n_items = (size_t)op->n_layers * (size_t)(op->o.n_degrees * op->o.n_floors);
    op->err = NULL;
    *out = op;
    return PACT_OK;
}

void pact_optimizer_verify_opts(const pact_optimizer *op, pact_pann_eval_opts *eo)
{
    pact_pann_eval_opts_default(eo);
    eo->max_images = op->o.verify_images;
    eo->batch = op->o.batch;
}

/* Closed loop: the smallest summed impact is the most accurate plan; the
 * largest allowed budget whose PANN keeps the accuracy is searched
 * geometrically between it and the sum of the worst finite impacts. */
static pact_status loop_start(pact_optimizer *op)
{
    double lo = 0.0, hi = 0.0;
    for (int l = 0; l < op->n_layers; l++) {
        double mn = INFINITY, mx = 0.0;
        for (int c = 0; c < op->n_cands[l]; c++) {
            double v = op->cands[l][c].impact;
            if (!isfinite(v))
                continue;
            mn = fmin(mn, v);
            mx = fmax(mx, v);
        }
        if (!isfinite(mn))
            return pact_fail(op->err, PACT_ENUMERIC, "optimize: every candidate of layer %d (%s) explodes",
                             l, op->model->act_names[l]);
        lo += mn;
        hi += mx;
    }
    /* the most accurate plan first: if it fails, nothing will pass. Each
     * impact is rounded up to a bucket of budget / buckets: leave room for two
     * buckets per layer so the least-impact choices fit */
    int buckets = op->o.impact_buckets ? op->o.impact_buckets : 2000;
    op->b0 = lo / (1.0 - 2.0 * op->n_layers / (double)buckets) + 1e-12;
    op->hi = hi;
    return solve(op, op->b0, &op->pending);
}

static pact_status next_call(pact_optimizer *op, int *choices, int *done, pact_error *err)
{
    *done = 0;
    if (!op->impacts_set)
        return pact_fail(err, PACT_EINVAL, "optimize: the impacts are not set");
    if (op->loop == LOOP_WAIT_FIRST || op->loop == LOOP_WAIT_STEP)
        return pact_fail(err, PACT_EINVAL, "optimize: the last plan's accuracy was not reported");
    if (op->loop == LOOP_START) {
        pact_status st = loop_start(op);
        if (st != PACT_OK)
            return st;
        op->loop = LOOP_WAIT_FIRST;
        choices_of(op, op->pending, choices);
        return PACT_OK;
    }
    while (op->loop == LOOP_SEARCH && op->it < LOOP_STEPS) {
        op->mid = sqrt(op->good * op->bad);
        pact_cost_walk *w = NULL;
        pact_status st = solve(op, op->mid, &w);
        if (st != PACT_OK)
            return st;
        if (w->total_ms < op->best->total_ms) {
            op->pending = w;
            op->loop = LOOP_WAIT_STEP;
            choices_of(op, w, choices);
            return PACT_OK;
        }
        op->good = op->mid; /* no faster plan at this budget: nothing to verify */
        pact_cost_walk_free(w);
        op->it++;
        stage(op, "verify", (size_t)op->it + 1, LOOP_STEPS + 1);
    }
    op->loop = LOOP_DONE;
    *done = 1;
    return PACT_OK;
}

pact_status pact_optimizer_next(pact_optimizer *op, int *choices, int *done, pact_error *err)
{
    op->err = err;
    pact_status st = next_call(op, choices, done, err);
    op->err = NULL;
    return st;
}

/* Whether a verified plan meets the accuracy conditions. */
static int acceptable(const pact_optimizer *op, double accuracy, double backbone, double agreement)
{
    return backbone - accuracy <= op->o.max_drop && agreement >= op->o.min_agreement;
}

pact_status pact_optimizer_tell(pact_optimizer *op, double accuracy, double backbone_accuracy,
                                double agreement, pact_error *err)
{
    if (op->loop != LOOP_WAIT_FIRST && op->loop != LOOP_WAIT_STEP)
        return pact_fail(err, PACT_EINVAL, "optimize: no plan is waiting for its accuracy");
    if (op->loop == LOOP_WAIT_FIRST) {
        op->best = op->pending;
        op->pending = NULL;
        op->best_acc = accuracy;
        op->best_agree = agreement;
        op->backbone = backbone_accuracy;
        stage(op, "verify", 1, LOOP_STEPS + 1);
        if (!acceptable(op, accuracy, backbone_accuracy, agreement)) {
            op->failed_drop = 1;
            op->loop = LOOP_DONE;
            return PACT_OK;
        }
        op->good = op->b0;
        op->bad = fmax(op->hi, op->b0 * 2.0);
        op->loop = LOOP_SEARCH;
        return PACT_OK;
    }
    if (acceptable(op, accuracy, backbone_accuracy, agreement)) {
        op->good = op->mid;
        pact_cost_walk_free(op->best);
        op->best = op->pending;
        op->best_acc = accuracy;
        op->best_agree = agreement;
    } else {
        op->bad = op->mid;
        pact_cost_walk_free(op->pending);
    }
    op->pending = NULL;
    op->it++;
    stage(op, "verify", (size_t)op->it + 1, LOOP_STEPS + 1);
    op->loop = LOOP_SEARCH;
    return PACT_OK;
}

static pact_status result_call(pact_optimizer *op, pact_plan **out, pact_error *err)
{
    *out = NULL;
    if (op->loop != LOOP_DONE || !op->best)
        return pact_fail(err, PACT_EINVAL, "optimize: the closed loop has not finished");
    int *choices = malloc((size_t)op->n_layers * sizeof *choices);
    if (!choices)
        return pact_fail(err, PACT_ENOMEM, "optimize: out of memory");
    choices_of(op, op->best, choices);
    pact_plan *plan = NULL;
    pact_status st = pact_optimizer_plan(op, choices, &plan, err);
    free(choices);
    if (st == PACT_OK)
        st = summarise(op, plan, op->best);
    if (st != PACT_OK) {
        pact_plan_free(plan);
        return st;
    }
    *out = plan;
    if (op->failed_drop)
        return pact_fail(err, PACT_ETOL,
                         "optimize: even the most accurate candidates lose %.2f points on the calibration "
                         "images (%.2f%% vs %.2f%%, agreement %.2f%%), more than --max-drop %g "
                         "(or agree less than --min-agreement %g)",
                         op->backbone - op->best_acc, op->best_acc, op->backbone, op->best_agree,
                         op->o.max_drop, op->o.min_agreement);
    return PACT_OK;
}

pact_status pact_optimizer_result(pact_optimizer *op, pact_plan **out, pact_error *err)
{
    op->err = err;
    pact_status st = result_call(op, out, err);
    op->err = NULL;
    return st;
}

pact_status pact_optimize(const pact_model *model, const pact_dataset *data, const pact_calib *calib,
                          const pact_cost_layout *layout, const pact_cost_profile *profile,
                          const pact_optimize_opts *opts, const char *model_name,
                          const char *model_sha256, pact_plan **out, pact_error *err)
{
    *out = NULL;
    pact_optimizer *op = NULL;
    pact_status st = pact_optimizer_create(model, data, calib, layout, profile, opts, model_name,
                                           model_sha256, &op, err);
    if (st != PACT_OK)
        return st;
    size_t n = pact_optimizer_item_count(op);
    double *impacts = malloc((n ? n : 1) * sizeof *impacts);
    int *choices = malloc((size_t)op->n_layers * sizeof *choices);
    if (!impacts || !choices)
        st = pact_fail(err, PACT_ENOMEM, "optimize: out of memory");
    if (op->o.impacts) {
        if (st == PACT_OK)
            st = pact_optimizer_set_impacts(op, op->o.impacts, op->o.n_impacts, err);
    } else {
        for (size_t i = 0; st == PACT_OK && i < n; i++) {
            st = pact_optimizer_impact(op, i, &impacts[i], err);
            stage(op, "impact", i + 1, n);
        }
        if (st == PACT_OK)
            st = pact_optimizer_set_impacts(op, impacts, n, err);
    }
    pact_pann_eval_opts eo;
    pact_optimizer_verify_opts(op, &eo);
    for (int done = 0; st == PACT_OK;) {
        st = pact_optimizer_next(op, choices, &done, err);
        if (st != PACT_OK || done)
            break;
        pact_plan *plan = NULL;
        pact_pann_report r;
        st = pact_optimizer_plan(op, choices, &plan, err);
        if (st == PACT_OK)
            st = pact_pann_evaluate(model, data, plan, &eo, &r, err);
        pact_plan_free(plan);
        if (st != PACT_OK)
            break;
        st = pact_optimizer_tell(op, 100.0 * (double)r.correct / (double)r.images,
                                 100.0 * (double)r.backbone_correct / (double)r.images,
                                 100.0 * (double)r.agree / (double)r.images, err);
        pact_pann_report_free(&r);
    }
    if (st == PACT_OK)
        st = pact_optimizer_result(op, out, err);
    free(impacts);
    free(choices);
    pact_optimizer_free(op);
    return st;
}
