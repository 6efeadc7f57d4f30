/* The dynamic program over (op, main-path level, shortcut level, impact
 * used) behind both pact_cost_evaluate (one candidate per slot: it places the
 * bootstrappings) and pact_optimize_dp (it also picks the candidates).
 *
 * Three passes over the layout:
 *   1. forward: which (level, shortcut level) pairs can be reached at each
 *      point between ops, whatever the choices (an empty set = infeasible);
 *   2. backward: J_k[pair][r] = least latency from point k to the end with r
 *      impact buckets left, over the reachable pairs only; the choice made at
 *      each activation (and each optional bootstrapping) is recorded per
 *      (pair, r) of the point before it;
 *   3. forward again from (fresh level, no shortcut, r = buckets), following
 *      the recorded choices, filling the walk.
 * Storing choices at the states *before* each decision keeps memory at
 * slots x (level pairs reachable there, few) x buckets. */
#include "cost_internal.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BUCKETS 2000
#define MAX_BUCKETS 100000
#define MEMORY_CAP ((size_t)2 << 30)
#define NO_CHOICE UINT32_MAX

/* One candidate, prepared: depths, cost of each component by input level. */
typedef struct {
    const pact_cost_act *act;
    double impact;
    int weight;     /* impact in buckets, rounded up; > B: never allowed */
    int depth[PACT_COST_MAX_COMPONENTS];
    double *ms;     /* [component][level] (NAN where the component cannot run) */
} cand;

typedef struct {
    int out_level;
    unsigned mask;
    int n_boot;
    double act_ms, boot_ms;
} act_option;

/* Options of every candidate of one activation op, for every input level:
 * the cheapest bootstrapping placement per output level. */
typedef struct {
    int *start; /* [cand * nl + level], n_cands * nl + 1 entries */
    act_option *items;
    int n_items, cap;
} option_set;

typedef struct {
    const pact_cost_layout *layout;
    const pact_cost_profile *prof;
    int n_ops;
    int L, nl, ns, np; /* levels 0..nl-1; shortcut -1..nl-1; pairs nl * ns */
    int B;             /* impact buckets: r in 0..B */
    int n_slots;
    cand **cands;      /* per slot */
    int *n_cands;
    double prod_ms[PACT_COST_MAX_LEVEL + 1];
    unsigned char *reach; /* (n_ops + 1) x np */
    int max_pairs;        /* most reachable pairs at one point */
} engine;

static int pair_id(const engine *e, int level, int shortcut)
{
    return level * e->ns + shortcut + 1;
}

/* --- candidates and their options ---------------------------------------- */

static pact_status prepare_cand(engine *e, cand *c, const pact_cost_act *act, double impact,
                                double budget, const char *slot_name, pact_error *err)
{
    char what[192];
    snprintf(what, sizeof what, "slot '%s'", slot_name);
    pact_status st = pact_cost_act_check(act, what, err);
    if (st != PACT_OK)
        return st;
    c->act = act;
    c->impact = impact;
    if (!isfinite(impact) || impact < 0.0)
        return pact_fail(err, PACT_EINVAL, "%s: impact %g is not finite and >= 0", what, impact);
    if (e->B == 0 || impact == 0.0) {
        c->weight = 0;
    } else if (budget == 0.0) {
        c->weight = e->B + 1;
    } else {
        /* Round up to whole buckets; the 1e-9 keeps an impact that is a bucket
         * multiple up to floating-point noise on that multiple. */
        double x = impact / (budget / e->B);
        c->weight = x > e->B + 1.0 ? e->B + 1 : (int)ceil(x * (1.0 - 1e-9));
        if (c->weight > e->B)
            c->weight = e->B + 1;
    }
    c->ms = malloc((size_t)act->n_components * e->nl * sizeof *c->ms);
    if (!c->ms)
        return pact_fail(err, PACT_ENOMEM, "optimizer: out of memory");
    for (int j = 0; j < act->n_components; j++) {
        st = pact_cost_poly_depth(e->prof, act->degrees[j], &c->depth[j], err);
        if (st != PACT_OK)
            return st;
        for (int v = 0; v < e->nl; v++) {
            double ms = NAN;
            if (v >= c->depth[j]) {
                st = pact_cost_poly_ms(e->prof, act->degrees[j], v, &ms, err);
                if (st != PACT_OK)
                    return st;
            }
            c->ms[j * e->nl + v] = ms;
        }
    }
    return PACT_OK;
}

/* The activation run from level_in with bootstrappings at `mask` (bit 0
 * before it, bit j before component j+1, bit n before the product). x, the
 * ReLU product's other operand, stays at the activation's input level unless
 * bit 0 refreshed it. Returns 0 if some step lacks levels. */
static int simulate_act(const engine *e, const cand *c, int level_in, unsigned mask,
                        double boot_cost, act_option *o)
{
    const pact_cost_act *a = c->act;
    int x = level_in, cur = level_in, boots = 0;
    double ms = 0.0;
    for (int j = 0; j < a->n_components; j++) {
        if (mask & (1u << j)) {
            cur = e->L;
            boots++;
            if (j == 0)
                x = e->L;
        }
        if (cur < c->depth[j])
            return 0;
        ms += c->ms[j * e->nl + cur];
        cur -= c->depth[j];
    }
    if (a->relu_product) {
        if (mask & (1u << a->n_components)) {
            cur = e->L;
            boots++;
        }
        int v = x < cur ? x : cur;
        if (v < 1)
            return 0;
        ms += e->prod_ms[v];
        cur = v - 1;
    }
    o->out_level = cur;
    o->mask = mask;
    o->n_boot = boots;
    o->act_ms = ms;
    o->boot_ms = boots * boot_cost;
    return 1;
}

static unsigned mask_count(const engine *e, const cand *c)
{
    if (!e->prof->split_composites)
        return 2; /* before the activation or not */
    return 1u << (c->act->n_components + c->act->relu_product);
}

static pact_status push_option(option_set *s, const act_option *o, pact_error *err)
{
    if (s->n_items == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        act_option *items = realloc(s->items, (size_t)cap * sizeof *items);
        if (!items)
            return pact_fail(err, PACT_ENOMEM, "optimizer: out of memory");
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n_items++] = *o;
    return PACT_OK;
}

static void free_options(option_set *s)
{
    free(s->start);
    free(s->items);
    memset(s, 0, sizeof *s);
}

static pact_status build_options(const engine *e, int slot, int stage, option_set *s,
                                 pact_error *err)
{
    int nc = e->n_cands[slot];
    memset(s, 0, sizeof *s);
    s->start = malloc(((size_t)nc * e->nl + 1) * sizeof *s->start);
    if (!s->start)
        return pact_fail(err, PACT_ENOMEM, "optimizer: out of memory");
    double boot_cost = e->prof->bootstrap_ms[stage - 1];
    act_option best[PACT_COST_MAX_LEVEL + 1];
    int have[PACT_COST_MAX_LEVEL + 1];
    for (int ci = 0; ci < nc; ci++) {
        const cand *c = &e->cands[slot][ci];
        unsigned masks = mask_count(e, c);
        for (int v = 0; v < e->nl; v++) {
            /* Candidates over the budget stay: reachability is about levels
             * (the backward pass never lets them spend more than r). */
            s->start[ci * e->nl + v] = s->n_items;
            memset(have, 0, sizeof have);
            for (unsigned m = 0; m < masks; m++) {
                act_option o;
                if (!simulate_act(e, c, v, m, boot_cost, &o))
                    continue;
                act_option *b = &best[o.out_level];
                double cost = o.act_ms + o.boot_ms;
                double bcost = have[o.out_level] ? b->act_ms + b->boot_ms : INFINITY;
                if (cost < bcost || (cost == bcost && o.n_boot < b->n_boot)) {
                    *b = o;
                    have[o.out_level] = 1;
                }
            }
            for (int out = 0; out < e->nl; out++)
                if (have[out]) {
                    pact_status st = push_option(s, &best[out], err);
                    if (st != PACT_OK)
                        return st;
                }
        }
    }
    s->start[nc * e->nl] = s->n_items;
    return PACT_OK;
}

/* --- pass 1: reachable (level, shortcut) pairs ---------------------------- */

static const char *op_kind_str(pact_cost_op_kind k)
{
    switch (k) {
    case PACT_COST_LINEAR: return "linear";
    case PACT_COST_ACT: return "activation";
    case PACT_COST_FORK: return "fork";
    case PACT_COST_SHORTCUT: return "shortcut";
    case PACT_COST_ADD: return "add";
    }
    return "?";
}

static pact_status unreachable(const engine *e, int k, pact_error *err)
{
    const pact_cost_op *op = pact_cost_layout_op(e->layout, k);
    char what[160] = "";
    if (op->kind == PACT_COST_LINEAR || op->kind == PACT_COST_SHORTCUT)
        snprintf(what, sizeof what, ", needs %d levels", op->levels);
    const char *prev = NULL;
    int slot = 0;
    for (int i = 0; i < k; i++)
        if (pact_cost_layout_op(e->layout, i)->kind == PACT_COST_ACT)
            slot++;
    if (op->kind == PACT_COST_ACT) {
        int least = INT_MAX;
        for (int c = 0; c < e->n_cands[slot]; c++) {
            const cand *cd = &e->cands[slot][c];
            int d = cd->act->relu_product;
            for (int j = 0; j < cd->act->n_components; j++)
                d += cd->depth[j];
            if (d < least)
                least = d;
        }
        snprintf(what, sizeof what, ", needs %d levels at least", least);
    } else {
        /* Name the last activation before it: its depth is usually the cause. */
        for (int i = k - 1; i >= 0 && !prev; i--) {
            const pact_cost_op *p = pact_cost_layout_op(e->layout, i);
            if (p->kind == PACT_COST_ACT)
                prev = p->name;
        }
    }
    return pact_fail(err, PACT_EMISMATCH,
                     "profile %s: the plan does not fit the levels (max %d, fresh %d): no "
                     "bootstrapping placement gets past op %d '%s' (%s%s)%s%s%s",
                     e->prof->name, e->L, e->prof->fresh_level, k, op->name,
                     op_kind_str(op->kind), what, prev ? " after activation '" : "",
                     prev ? prev : "", prev ? "'" : "");
}

static pact_status forward_reach(engine *e, pact_error *err)
{
    memset(e->reach, 0, (size_t)(e->n_ops + 1) * e->np);
    e->reach[pair_id(e, e->prof->fresh_level, -1)] = 1;
    int slot = 0;
    for (int k = 0; k < e->n_ops; k++) {
        const pact_cost_op *op = pact_cost_layout_op(e->layout, k);
        const unsigned char *in = e->reach + (size_t)k * e->np;
        unsigned char *out = e->reach + (size_t)(k + 1) * e->np;
        option_set os = {0};
        if (op->kind == PACT_COST_ACT) {
            pact_status st = build_options(e, slot, op->stage, &os, err);
            if (st != PACT_OK) {
                free_options(&os);
                return st;
            }
        }
        int any = 0;
        for (int v = 0; v < e->nl; v++)
            for (int s = -1; s < e->nl; s++) {
                if (!in[pair_id(e, v, s)])
                    continue;
                switch (op->kind) {
                case PACT_COST_LINEAR:
                    if (v >= op->levels)
                        out[pair_id(e, v - op->levels, s)] = 1;
                    if (op->bootstrap_before && e->L >= op->levels)
                        out[pair_id(e, e->L - op->levels, s)] = 1;
                    break;
                case PACT_COST_SHORTCUT:
                    if (s >= op->levels)
                        out[pair_id(e, v, s - op->levels)] = 1;
                    break;
                case PACT_COST_FORK: out[pair_id(e, v, v)] = 1; break;
                case PACT_COST_ADD: out[pair_id(e, v < s ? v : s, -1)] = 1; break;
                case PACT_COST_ACT:
                    for (int ci = 0; ci < e->n_cands[slot]; ci++)
                        for (int i = os.start[ci * e->nl + v]; i < os.start[ci * e->nl + v + 1];
                             i++)
                            out[pair_id(e, os.items[i].out_level, s)] = 1;
                    break;
                }
            }
        for (int i = 0; i < e->np; i++)
            any |= out[i];
        if (op->kind == PACT_COST_ACT)
            slot++;
        free_options(&os);
        if (!any)
            return unreachable(e, k, err);
    }
    return PACT_OK;
}

/* Compact indices of the reachable pairs at point k; returns their count. */
static int index_point(const engine *e, int k, int *idx)
{
    const unsigned char *r = e->reach + (size_t)k * e->np;
    int n = 0;
    for (int i = 0; i < e->np; i++)
        idx[i] = r[i] ? n++ : -1;
    return n;
}

/* --- pass 2: cost-to-go and choices --------------------------------------- */

typedef struct {
    uint32_t **choice; /* per op: [pair index * (B + 1) + r], or NULL */
    double start_cost;
} dp_tables;

static void relax(double *row, uint32_t *dec, const double *next, int B, int w, double cost,
                  uint32_t code)
{
    for (int r = w; r <= B; r++) {
        double v = cost + next[r - w];
        if (v < row[r]) {
            row[r] = v;
            if (dec)
                dec[r] = code;
        }
    }
}

static pact_status backward(engine *e, dp_tables *t, pact_error *err)
{
    size_t width = (size_t)e->B + 1;
    int *idx_cur = malloc((size_t)e->np * sizeof *idx_cur);
    int *idx_next = malloc((size_t)e->np * sizeof *idx_next);
    double *jcur = malloc((size_t)e->max_pairs * width * sizeof *jcur);
    double *jnext = malloc((size_t)e->max_pairs * width * sizeof *jnext);
    pact_status st = PACT_OK;
    if (!idx_cur || !idx_next || !jcur || !jnext) {
        st = pact_fail(err, PACT_ENOMEM, "optimizer: out of memory (%d pairs x %zu buckets)",
                       e->max_pairs, width);
        goto done;
    }
    int n_next = index_point(e, e->n_ops, idx_next);
    for (size_t i = 0; i < (size_t)n_next * width; i++)
        jnext[i] = 0.0; /* every reachable end state is complete */
    int slot = e->n_slots;
    for (int k = e->n_ops - 1; k >= 0; k--) {
        const pact_cost_op *op = pact_cost_layout_op(e->layout, k);
        int n_cur = index_point(e, k, idx_cur);
        int decides = op->kind == PACT_COST_ACT ||
                      (op->kind == PACT_COST_LINEAR && op->bootstrap_before);
        uint32_t *dec = NULL;
        if (decides) {
            dec = malloc((size_t)n_cur * width * sizeof *dec);
            if (!dec) {
                st = pact_fail(err, PACT_ENOMEM, "optimizer: out of memory");
                goto done;
            }
            t->choice[k] = dec;
            for (size_t i = 0; i < (size_t)n_cur * width; i++)
                dec[i] = NO_CHOICE;
        }
        for (size_t i = 0; i < (size_t)n_cur * width; i++)
            jcur[i] = INFINITY;
        option_set os = {0};
        if (op->kind == PACT_COST_ACT) {
            slot--;
            st = build_options(e, slot, op->stage, &os, err);
            if (st != PACT_OK) {
                free_options(&os);
                goto done;
            }
        }
        double boot = e->prof->bootstrap_ms[op->stage - 1];
        for (int v = 0; v < e->nl; v++)
            for (int s = -1; s < e->nl; s++) {
                int pi = idx_cur[pair_id(e, v, s)];
                if (pi < 0)
                    continue;
                double *row = jcur + (size_t)pi * width;
                uint32_t *drow = dec ? dec + (size_t)pi * width : NULL;
#define NEXT(level, sc) (jnext + (size_t)idx_next[pair_id(e, level, sc)] * width)
                switch (op->kind) {
                case PACT_COST_LINEAR:
                    if (v >= op->levels)
                        relax(row, drow, NEXT(v - op->levels, s), e->B, 0, op->ms, 0);
                    if (op->bootstrap_before && e->L >= op->levels)
                        relax(row, drow, NEXT(e->L - op->levels, s), e->B, 0, op->ms + boot, 1);
                    break;
                case PACT_COST_SHORTCUT:
                    if (s >= op->levels)
                        relax(row, NULL, NEXT(v, s - op->levels), e->B, 0, op->ms, 0);
                    break;
                case PACT_COST_FORK: relax(row, NULL, NEXT(v, v), e->B, 0, op->ms, 0); break;
                case PACT_COST_ADD:
                    relax(row, NULL, NEXT(v < s ? v : s, -1), e->B, 0, op->ms, 0);
                    break;
                case PACT_COST_ACT:
                    for (int ci = 0; ci < e->n_cands[slot]; ci++) {
                        int w = e->cands[slot][ci].weight;
                        for (int i = os.start[ci * e->nl + v]; i < os.start[ci * e->nl + v + 1];
                             i++) {
                            const act_option *o = &os.items[i];
                            relax(row, drow, NEXT(o->out_level, s), e->B, w,
                                  o->act_ms + o->boot_ms, (uint32_t)ci | (uint32_t)o->mask << 16);
                        }
                    }
                    break;
                }
#undef NEXT
            }
        free_options(&os);
        double *tmp = jcur;
        jcur = jnext;
        jnext = tmp;
        int *itmp = idx_cur;
        idx_cur = idx_next;
        idx_next = itmp;
    }
    t->start_cost = jnext[(size_t)idx_next[pair_id(e, e->prof->fresh_level, -1)] * width + e->B];
done:
    free(idx_cur);
    free(idx_next);
    free(jcur);
    free(jnext);
    return st;
}

/* --- pass 3: follow the choices, fill the walk ---------------------------- */

static pact_status reconstruct(const engine *e, const dp_tables *t, pact_cost_walk *w,
                               pact_error *err)
{
    int *idx = malloc((size_t)e->np * sizeof *idx);
    if (!idx)
        return pact_fail(err, PACT_ENOMEM, "optimizer: out of memory");
    int v = e->prof->fresh_level, s = -1, r = e->B, slot = 0;
    for (int k = 0; k < e->n_ops; k++) {
        const pact_cost_op *op = pact_cost_layout_op(e->layout, k);
        pact_cost_step *st = &w->steps[k];
        memset(st, 0, sizeof *st);
        st->level_in = v;
        st->choice = -1;
        uint32_t code = 0;
        if (t->choice[k]) {
            index_point(e, k, idx);
            code = t->choice[k][(size_t)idx[pair_id(e, v, s)] * ((size_t)e->B + 1) + r];
            if (code == NO_CHOICE) { /* cannot happen when the start cost is finite */
                free(idx);
                return pact_fail(err, PACT_ENUMERIC, "optimizer: internal error at op %d", k);
            }
        }
        double boot = e->prof->bootstrap_ms[op->stage - 1];
        switch (op->kind) {
        case PACT_COST_LINEAR:
            if (code == 1) {
                st->n_bootstraps = 1;
                st->boot_mask = 1;
                st->bootstrap_ms = boot;
                v = e->L;
            }
            v -= op->levels;
            st->op_ms = op->ms;
            w->linear_ms += op->ms;
            break;
        case PACT_COST_SHORTCUT:
            s -= op->levels;
            st->op_ms = op->ms;
            w->linear_ms += op->ms;
            break;
        case PACT_COST_FORK: s = v; break;
        case PACT_COST_ADD:
            v = v < s ? v : s;
            s = -1;
            st->op_ms = op->ms;
            w->linear_ms += op->ms;
            break;
        case PACT_COST_ACT: {
            const cand *c = &e->cands[slot][code & 0xffffu];
            act_option o = {0};
            if (!simulate_act(e, c, v, code >> 16, boot, &o)) {
                free(idx);
                return pact_fail(err, PACT_ENUMERIC, "optimizer: internal error at op %d", k);
            }
            st->choice = (int)(code & 0xffffu);
            st->boot_mask = o.mask;
            st->n_bootstraps = o.n_boot;
            st->bootstrap_ms = o.boot_ms;
            st->op_ms = o.act_ms;
            w->activation_ms += o.act_ms;
            w->impact += c->impact;
            r -= c->weight;
            v = o.out_level;
            slot++;
            break;
        }
        }
        st->level_out = v;
        st->shortcut_level = s;
        w->n_bootstraps += st->n_bootstraps;
        w->bootstrap_ms += st->bootstrap_ms;
    }
    w->total_ms = w->bootstrap_ms + w->activation_ms + w->linear_ms;
    free(idx);
    return PACT_OK;
}

/* --- entry points ---------------------------------------------------------- */

void pact_cost_walk_free(pact_cost_walk *walk)
{
    if (!walk)
        return;
    free(walk->steps);
    free(walk);
}

static pact_status check_inputs(const pact_cost_layout *layout, const pact_cost_profile *prof,
                                int n_slots, pact_error *err)
{
    const char *built = pact_cost_layout_profile_name(layout);
    if (built[0] && strcmp(built, prof->name) != 0)
        return pact_fail(err, PACT_EMISMATCH,
                         "cost layout built from profile %s, evaluated under %s: rebuild it "
                         "from the profile in use",
                         built, prof->name);
    if (pact_cost_layout_is_open(layout))
        return pact_fail(err, PACT_EINVAL, "cost layout ends inside a residual block (FORK "
                                           "without ADD)");
    if (n_slots != pact_cost_layout_n_slots(layout))
        return pact_fail(err, PACT_EINVAL, "%d activations given, the layout has %d slots",
                         n_slots, pact_cost_layout_n_slots(layout));
    for (int k = 0; k < pact_cost_layout_n_ops(layout); k++) {
        const pact_cost_op *op = pact_cost_layout_op(layout, k);
        if (op->stage > prof->n_stages)
            return pact_fail(err, PACT_EMISMATCH,
                             "cost layout op %d '%s': stage %d, profile %s has %d stages", k,
                             op->name, op->stage, prof->name, prof->n_stages);
    }
    return PACT_OK;
}

/* Refuses tables beyond MEMORY_CAP: choices at decision ops over their
 * reachable pairs, and two cost-to-go tables for the largest point. */
static pact_status check_memory(engine *e, pact_error *err)
{
    size_t width = (size_t)e->B + 1, choices = 0, widest = 0;
    for (int k = 0; k <= e->n_ops; k++) {
        size_t n = 0;
        for (int i = 0; i < e->np; i++)
            n += e->reach[(size_t)k * e->np + i];
        if (n > widest)
            widest = n;
        const pact_cost_op *op = pact_cost_layout_op(e->layout, k);
        if (op && (op->kind == PACT_COST_ACT || op->bootstrap_before))
            choices += n;
    }
    e->max_pairs = (int)widest;
    double need = (double)width * ((double)choices * sizeof(uint32_t) +
                                   2.0 * (double)widest * sizeof(double));
    if (need > (double)MEMORY_CAP)
        return pact_fail(err, PACT_ENOMEM,
                         "optimizer: %.0f MiB of tables for %d ops x %d buckets: use fewer "
                         "impact buckets",
                         need / (1 << 20), e->n_ops, e->B);
    return PACT_OK;
}

/* Runs the three passes; `budget` < 0 means: ignore impacts. */
static pact_status run(const pact_cost_layout *layout, const pact_cost_profile *prof,
                       const pact_opt_slot *slots, int n_slots, double budget, int buckets,
                       pact_cost_walk **out, pact_error *err)
{
    pact_status st = check_inputs(layout, prof, n_slots, err);
    if (st != PACT_OK)
        return st;
    engine e;
    memset(&e, 0, sizeof e);
    e.layout = layout;
    e.prof = prof;
    e.n_ops = pact_cost_layout_n_ops(layout);
    e.L = prof->max_level;
    e.nl = (prof->fresh_level > e.L ? prof->fresh_level : e.L) + 1;
    e.ns = e.nl + 1;
    e.np = e.nl * e.ns;
    e.B = budget < 0.0 ? 0 : buckets;
    e.n_slots = n_slots;
    for (int v = 1; v < e.nl; v++)
        pact_cost_product_ms(prof, v, &e.prod_ms[v], NULL);

    dp_tables t = {0};
    pact_cost_walk *w = NULL;
    e.cands = calloc((size_t)n_slots + 1, sizeof *e.cands);
    e.n_cands = calloc((size_t)n_slots + 1, sizeof *e.n_cands);
    e.reach = malloc((size_t)(e.n_ops + 1) * e.np);
    t.choice = calloc((size_t)e.n_ops + 1, sizeof *t.choice);
    if (!e.cands || !e.n_cands || !e.reach || !t.choice) {
        st = pact_fail(err, PACT_ENOMEM, "optimizer: out of memory");
        goto done;
    }
    for (int i = 0; i < n_slots && st == PACT_OK; i++) {
        const char *name = pact_cost_layout_slot_name(layout, i);
        if (slots[i].n_candidates < 1 || slots[i].n_candidates > 65535 || !slots[i].candidates) {
            st = pact_fail(err, PACT_EINVAL, "slot %d '%s': %d candidates, need 1..65535", i,
                           name, slots[i].n_candidates);
            break;
        }
        e.cands[i] = calloc((size_t)slots[i].n_candidates, sizeof(cand));
        if (!e.cands[i]) {
            st = pact_fail(err, PACT_ENOMEM, "optimizer: out of memory");
            break;
        }
        e.n_cands[i] = slots[i].n_candidates;
        for (int c = 0; c < slots[i].n_candidates && st == PACT_OK; c++)
            st = prepare_cand(&e, &e.cands[i][c], &slots[i].candidates[c].act,
                              slots[i].candidates[c].impact, budget, name, err);
    }
    if (st == PACT_OK)
        st = forward_reach(&e, err);
    if (st == PACT_OK)
        st = check_memory(&e, err);
    if (st == PACT_OK)
        st = backward(&e, &t, err);
    if (st == PACT_OK && !isfinite(t.start_cost)) {
        double least = 0.0;
        for (int i = 0; i < n_slots; i++) {
            double m = INFINITY;
            for (int c = 0; c < e.n_cands[i]; c++)
                if (e.cands[i][c].impact < m)
                    m = e.cands[i][c].impact;
            least += m;
        }
        st = pact_fail(err, PACT_EMISMATCH,
                       "no plan within the impact budget %g (%d buckets): the least-impact "
                       "choices sum to %g, and the level budget may exclude some of them",
                       budget, e.B, least);
    }
    if (st == PACT_OK) {
        w = calloc(1, sizeof *w);
        if (w)
            w->steps = calloc((size_t)e.n_ops + 1, sizeof *w->steps);
        if (!w || !w->steps) {
            st = pact_fail(err, PACT_ENOMEM, "optimizer: out of memory");
        } else {
            snprintf(w->profile, sizeof w->profile, "%s", prof->name);
            w->n_steps = e.n_ops;
            st = reconstruct(&e, &t, w, err);
        }
    }
    if (st == PACT_OK)
        *out = w;
    else
        pact_cost_walk_free(w);
done:
    if (e.cands)
        for (int i = 0; i < n_slots; i++)
            if (e.cands[i]) {
                for (int c = 0; c < e.n_cands[i]; c++)
                    free(e.cands[i][c].ms);
                free(e.cands[i]);
            }
    free(e.cands);
    free(e.n_cands);
    free(e.reach);
    if (t.choice)
        for (int k = 0; k <= e.n_ops; k++)
            free(t.choice[k]);
    free(t.choice);
    return st;
}

pact_status pact_cost_evaluate(const pact_cost_layout *layout, const pact_cost_profile *profile,
                               const pact_cost_act *acts, int n_acts, pact_cost_walk **walk,
                               pact_error *err)
{
    if (!layout || !profile || !walk || (n_acts > 0 && !acts))
        return pact_fail(err, PACT_EINVAL, "cost evaluate: NULL argument");
    *walk = NULL;
    if (n_acts < 0)
        return pact_fail(err, PACT_EINVAL, "cost evaluate: %d activations", n_acts);
    pact_opt_candidate *cands = calloc((size_t)n_acts + 1, sizeof *cands);
    pact_opt_slot *slots = calloc((size_t)n_acts + 1, sizeof *slots);
    pact_status st;
    if (!cands || !slots) {
        st = pact_fail(err, PACT_ENOMEM, "cost evaluate: out of memory");
    } else {
        for (int i = 0; i < n_acts; i++) {
            cands[i].act = acts[i];
            slots[i].candidates = &cands[i];
            slots[i].n_candidates = 1;
        }
        st = run(layout, profile, slots, n_acts, -1.0, 0, walk, err);
    }
    free(cands);
    free(slots);
    return st;
}

pact_status pact_optimize_dp(const pact_cost_layout *layout, const pact_cost_profile *profile,
                             const pact_opt_slot *slots, int n_slots, double impact_budget,
                             const pact_opt_dp_opts *opts, pact_cost_walk **plan,
                             pact_error *err)
{
    if (!layout || !profile || !plan || (n_slots > 0 && !slots))
        return pact_fail(err, PACT_EINVAL, "optimizer: NULL argument");
    *plan = NULL;
    if (isnan(impact_budget) || impact_budget < 0.0)
        return pact_fail(err, PACT_EINVAL, "optimizer: impact budget %g is not >= 0",
                         impact_budget);
    int buckets = opts && opts->impact_buckets ? opts->impact_buckets : DEFAULT_BUCKETS;
    if (buckets < 1 || buckets > MAX_BUCKETS)
        return pact_fail(err, PACT_EINVAL, "optimizer: impact_buckets %d outside 1..%d", buckets,
                         MAX_BUCKETS);
    /* An infinite budget constrains nothing: impacts are only summed. */
    return run(layout, profile, slots, n_slots, isinf(impact_budget) ? -1.0 : impact_budget,
               buckets, plan, err);
}
