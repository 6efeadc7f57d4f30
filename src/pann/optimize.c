/* The optimizer: per-layer candidates, their measured impact, the level-exact
 * dynamic program, and a closed loop on the calibration images. */
#include "../internal.h"
#include "fit_layer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int default_degrees[] = {1, 2, 3, 4, 5, 7, 15, 31, 63};
static const double default_floors[] = {0.02, 0.2};

void pact_optimize_opts_default(pact_optimize_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_drop = 0.5;
    o->margin = 0.05;
}

typedef struct {
    pact_poly *poly;
    int degree;
    double floor, max_error, impact;
} candidate;

typedef struct {
    const pact_model *model;
    int layer;                /* the one layer replaced */
    const pact_poly *poly;    /* its polynomial (exact double evaluation) */
} single_ctx;

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

static pact_status single_hook(void *vctx, int layer, float *x, int batch, int channels,
                               int spatial, pact_error *err)
{
    (void)err;
    single_ctx *cx = vctx;
    size_t n = (size_t)batch * (size_t)channels * (size_t)spatial;
    if (layer != cx->layer) {
        apply_exact(cx->model->act_funcs[layer], x, n);
        return PACT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        double y = pact_poly_eval(cx->poly, x[i]);
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

typedef struct {
    const pact_model *model;
    const pact_dataset *data;
    const pact_calib *calib;
    const pact_cost_layout *layout;
    const pact_cost_profile *profile;
    pact_optimize_opts o;
    const char *name, *sha;
    int n_layers;
    candidate **cands; /* per layer */
    int *n_cands;
    pact_error *err;
} optimizer;

static void stage(optimizer *op, const char *what, size_t done, size_t total)
{
    if (op->o.progress)
        op->o.progress(op->o.progress_ctx, what, done, total);
}

static pact_status fit_candidates(optimizer *op)
{
    const pact_model *m = op->model;
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

static pact_status measure_impacts(optimizer *op)
{
    const pact_model *m = op->model;
    size_t imgs = pact_dataset_count(op->data);
    if (op->o.impact_images < imgs)
        imgs = op->o.impact_images;
    int nc = m->n_classes, split = m->state_size && m->forward_to && m->forward_from;
    size_t bs = (size_t)op->o.batch;
    float *input = malloc(imgs * (size_t)m->input_size * sizeof *input);
    float *ref = malloc(imgs * (size_t)nc * sizeof *ref);
    float *got = malloc(imgs * (size_t)nc * sizeof *got);
    pact_status st = PACT_OK;
    if (!input || !ref || !got)
        st = pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory for %zu images", imgs);
    if (st == PACT_OK)
        st = pact_dataset_images_f32(op->data, 0, imgs, input, op->err);
    for (size_t i = 0; st == PACT_OK && i < imgs; i += bs) {
        int cnt = (int)(imgs - i < bs ? imgs - i : bs);
        st = m->forward(m->ctx, input + i * (size_t)m->input_size, cnt, NULL, NULL,
                        ref + i * (size_t)nc, op->err);
    }
    size_t total = 0, done = 0;
    for (int l = 0; l < m->n_act; l++)
        total += (size_t)op->n_cands[l];
    float *state = NULL;
    for (int l = 0; st == PACT_OK && l < m->n_act; l++) {
        size_t ss = split ? m->state_size(m->ctx, l) : 0;
        if (split) {
            free(state);
            state = malloc(imgs * ss * sizeof *state);
            if (!state) {
                st = pact_fail(op->err, PACT_ENOMEM, "optimize: out of memory for layer %d states", l);
                break;
            }
            for (size_t i = 0; st == PACT_OK && i < imgs; i += bs) {
                int cnt = (int)(imgs - i < bs ? imgs - i : bs);
                st = m->forward_to(m->ctx, input + i * (size_t)m->input_size, cnt, l, NULL, NULL,
                                   state + i * ss, op->err);
            }
        }
        for (int c = 0; st == PACT_OK && c < op->n_cands[l]; c++) {
            candidate *cd = &op->cands[l][c];
            single_ctx sc = {m, l, cd->poly};
            for (size_t i = 0; st == PACT_OK && i < imgs; i += bs) {
                int cnt = (int)(imgs - i < bs ? imgs - i : bs);
                if (split)
                    st = m->forward_from(m->ctx, l, state + i * ss, cnt, single_hook, &sc,
                                         got + i * (size_t)nc, op->err);
                else
                    st = m->forward(m->ctx, input + i * (size_t)m->input_size, cnt, single_hook,
                                    &sc, got + i * (size_t)nc, op->err);
            }
            cd->impact = mean_kl(ref, got, imgs, nc);
            stage(op, "impact", ++done, total);
        }
    }
    free(state);
    free(input);
    free(ref);
    free(got);
    return st;
}

/* Runs the DP at `budget`; out *walk. */
static pact_status solve(optimizer *op, double budget, pact_cost_walk **walk)
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
        int k = 0;
        for (int c = 0; c < op->n_cands[l]; c++) {
            const candidate *cd = &op->cands[l][c];
            /* an exploding candidate (non-finite output) is no candidate; a
             * finite one keeps its index for the walk's choice */
            oc[l][k].act = (pact_cost_act){1, {cd->degree}, 0};
            oc[l][k].impact = isfinite(cd->impact) ? cd->impact : 1e30;
            k++;
        }
        slots[l].candidates = oc[l];
        slots[l].n_candidates = k;
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

/* The plan of a walk's choices. */
static pact_status plan_of(optimizer *op, const pact_cost_walk *walk, pact_plan **out)
{
    pact_plan *plan = NULL;
    pact_status st = pact_plan_create(op->name, op->sha, op->n_layers, &plan, op->err);
    for (int l = 0; st == PACT_OK && l < op->n_layers; l++) {
        int c = walk->steps[pact_cost_layout_slot_op(op->layout, l)].choice;
        const candidate *cd = &op->cands[l][c];
        double a, b;
        pact_poly_interval(cd->poly, &a, &b);
        int d = cd->degree;
        const double *cheb = pact_poly_cheb(cd->poly);
        pact_plan_layer pl = {.name = op->model->act_names[l], .func = op->model->act_funcs[l],
                              .form = PACT_FORM_POLY, .a = a, .b = b, .n_parts = 1,
                              .degrees = &d, .cheb = &cheb, .max_error = cd->max_error,
                              .impact = cd->impact};
        st = pact_plan_set_layer(plan, l, &pl, op->err);
    }
    if (st != PACT_OK) {
        pact_plan_free(plan);
        return st;
    }
    *out = plan;
    return PACT_OK;
}

/* Top-1 accuracy of the plan's PANN (and of the backbone) on the
 * verification images, and their agreement, in percent. */
static pact_status verify(optimizer *op, const pact_plan *plan, double *acc, double *backbone,
                          double *agree)
{
    pact_pann_eval_opts eo;
    pact_pann_eval_opts_default(&eo);
    eo.max_images = op->o.verify_images;
    eo.batch = op->o.batch;
    pact_pann_report r;
    pact_status st = pact_pann_evaluate(op->model, op->data, plan, &eo, &r, op->err);
    if (st != PACT_OK)
        return st;
    *acc = 100.0 * (double)r.correct / (double)r.images;
    *backbone = 100.0 * (double)r.backbone_correct / (double)r.images;
    *agree = 100.0 * (double)r.agree / (double)r.images;
    pact_pann_report_free(&r);
    return PACT_OK;
}

static pact_status check_inputs(optimizer *op)
{
    const pact_model *m = op->model;
    pact_optimize_opts *o = &op->o;
    if (!(o->max_drop >= 0.0 && o->max_drop <= 100.0))
        return pact_fail(op->err, PACT_EINVAL, "optimize: max drop %g outside 0..100", o->max_drop);
    if (!(o->min_agreement >= 0.0 && o->min_agreement <= 100.0))
        return pact_fail(op->err, PACT_EINVAL, "optimize: min agreement %g outside 0..100",
                         o->min_agreement);
    if (!(o->margin >= 0.0 && o->margin <= 10.0))
        return pact_fail(op->err, PACT_EINVAL, "optimize: margin %g outside 0..10", o->margin);
    if (o->n_degrees < 0 || o->n_degrees > 32 || o->n_floors < 0 || o->n_floors > 8)
        return pact_fail(op->err, PACT_EINVAL, "optimize: 0..32 degrees and 0..8 floors");
    if (o->n_degrees == 0) {
        o->n_degrees = (int)(sizeof default_degrees / sizeof *default_degrees);
        memcpy(o->degrees, default_degrees, sizeof default_degrees);
    }
    if (o->n_floors == 0) {
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
    if (o->impact_images == 0)
        o->impact_images = 256;
    if (o->batch == 0)
        o->batch = 64;
    if (o->batch < 1 || o->batch > 4096)
        return pact_fail(op->err, PACT_EINVAL, "optimize: batch %d outside 1..4096", o->batch);
    if (pact_cost_layout_n_slots(op->layout) != m->n_act)
        return pact_fail(op->err, PACT_EMISMATCH, "optimize: the cost layout has %d activation slots, the model %d",
                         pact_cost_layout_n_slots(op->layout), m->n_act);
    if (pact_calib_layer_count(op->calib) != m->n_act)
        return pact_fail(op->err, PACT_EMISMATCH, "optimize: the calibration has %d layers, the model %d",
                         pact_calib_layer_count(op->calib), m->n_act);
    for (int i = 0; i < m->n_act; i++) {
        pact_calib_layer cl = *pact_calib_layer_at(op->calib, i);
        const char *slot = pact_cost_layout_slot_name(op->layout, i);
        if (strcmp(cl.name, m->act_names[i]) != 0 || strcmp(slot, m->act_names[i]) != 0)
            return pact_fail(op->err, PACT_EMISMATCH,
                             "optimize: layer %d is '%s' in the model, '%s' in the calibration, '%s' in the cost layout",
                             i, m->act_names[i], cl.name, slot);
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
static pact_status summarise(optimizer *op, pact_plan *plan, const pact_cost_walk *walk, double acc,
                             double backbone, double agree)
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
        {"calib_accuracy", acc},
        {"calib_backbone_accuracy", backbone},
        {"calib_agreement", agree},
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
    return st;
}

pact_status pact_optimize(const pact_model *model, const pact_dataset *data, const pact_calib *calib,
                          const pact_cost_layout *layout, const pact_cost_profile *profile,
                          const pact_optimize_opts *opts, const char *model_name,
                          const char *model_sha256, pact_plan **out, pact_error *err)
{
    *out = NULL;
    optimizer op = {.model = model, .data = data, .calib = calib, .layout = layout,
                    .profile = profile, .name = model_name, .sha = model_sha256,
                    .n_layers = model->n_act, .err = err};
    if (opts)
        op.o = *opts;
    else
        pact_optimize_opts_default(&op.o);
    pact_status st = check_inputs(&op);
    if (st != PACT_OK)
        return st;
    op.cands = calloc((size_t)op.n_layers, sizeof *op.cands);
    op.n_cands = calloc((size_t)op.n_layers, sizeof *op.n_cands);
    if (!op.cands || !op.n_cands)
        st = pact_fail(err, PACT_ENOMEM, "optimize: out of memory");
    if (st == PACT_OK)
        st = fit_candidates(&op);
    if (st == PACT_OK)
        st = measure_impacts(&op);

    /* Closed loop: the smallest summed impact is the most accurate plan; the
     * largest allowed budget whose PANN keeps the accuracy is searched
     * geometrically between it and the sum of the worst finite impacts. */
    double lo = 0.0, hi = 0.0;
    for (int l = 0; st == PACT_OK && l < op.n_layers; l++) {
        double mn = INFINITY, mx = 0.0;
        for (int c = 0; c < op.n_cands[l]; c++) {
            double v = op.cands[l][c].impact;
            if (!isfinite(v))
                continue;
            mn = fmin(mn, v);
            mx = fmax(mx, v);
        }
        if (!isfinite(mn)) {
            st = pact_fail(err, PACT_ENUMERIC, "optimize: every candidate of layer %d (%s) explodes",
                           l, model->act_names[l]);
            break;
        }
        lo += mn;
        hi += mx;
    }
    pact_cost_walk *best = NULL;
    double best_acc = 0.0, backbone = 0.0, best_agree = 0.0;
    int steps = 12;
    if (st == PACT_OK) {
        /* the most accurate plan first: if it fails, nothing will pass */
        /* each impact is rounded up to a bucket of budget / buckets: leave room
         * for one bucket per layer so the least-impact choices fit */
        int buckets = op.o.impact_buckets ? op.o.impact_buckets : 2000;
        double b0 = lo / (1.0 - 2.0 * op.n_layers / (double)buckets) + 1e-12;
        pact_plan *plan = NULL;
        st = solve(&op, b0, &best);
        if (st == PACT_OK)
            st = plan_of(&op, best, &plan);
        if (st == PACT_OK)
            st = verify(&op, plan, &best_acc, &backbone, &best_agree);
        stage(&op, "verify", 1, (size_t)steps + 1);
        pact_plan_free(plan);
        if (st == PACT_OK && (backbone - best_acc > op.o.max_drop ||
                              best_agree < op.o.min_agreement))
            st = PACT_ETOL;
        double good = b0, bad = fmax(hi, b0 * 2.0);
        for (int it = 0; st == PACT_OK && it < steps; it++) {
            double mid = sqrt(good * bad);
            pact_cost_walk *w = NULL;
            double acc = 0.0, bb = 0.0, ag = 0.0;
            st = solve(&op, mid, &w);
            if (st == PACT_OK && w->total_ms >= best->total_ms) {
                good = mid; /* no faster plan at this budget: nothing to verify */
            } else if (st == PACT_OK) {
                st = plan_of(&op, w, &plan);
                if (st == PACT_OK)
                    st = verify(&op, plan, &acc, &bb, &ag);
                pact_plan_free(plan);
                if (st == PACT_OK && bb - acc <= op.o.max_drop && ag >= op.o.min_agreement) {
                    good = mid;
                    pact_cost_walk_free(best);
                    best = w;
                    w = NULL;
                    best_acc = acc;
                    best_agree = ag;
                } else if (st == PACT_OK) {
                    bad = mid;
                }
            }
            pact_cost_walk_free(w);
            stage(&op, "verify", (size_t)it + 2, (size_t)steps + 1);
        }
    }
    pact_plan *plan = NULL;
    pact_status final = st;
    if ((st == PACT_OK || st == PACT_ETOL) && best) {
        pact_status s2 = plan_of(&op, best, &plan);
        if (s2 == PACT_OK)
            s2 = summarise(&op, plan, best, best_acc, backbone, best_agree);
        if (s2 != PACT_OK) {
            final = s2;
            pact_plan_free(plan);
            plan = NULL;
        } else if (st == PACT_ETOL) {
            if (backbone - best_acc > op.o.max_drop)
                pact_fail(err, PACT_ETOL,
                          "optimize: even the most accurate candidates lose %.2f points on the calibration "
                          "images (%.2f%% vs %.2f%%), more than --max-drop %g",
                          backbone - best_acc, best_acc, backbone, op.o.max_drop);
            else
                pact_fail(err, PACT_ETOL,
                          "optimize: even the most accurate candidates agree with the network on "
                          "%.2f%% of the calibration images, less than --min-agreement %g",
                          best_agree, op.o.min_agreement);
        }
    }
    pact_cost_walk_free(best);
    for (int l = 0; op.cands && l < op.n_layers; l++) {
        for (int c = 0; op.cands[l] && c < op.n_cands[l]; c++)
            pact_poly_free(op.cands[l][c].poly);
        free(op.cands[l]);
    }
    free(op.cands);
    free(op.n_cands);
    *out = plan;
    return final;
}
