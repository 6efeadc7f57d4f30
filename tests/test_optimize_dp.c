/* The optimizer's dynamic program against exhaustive enumeration.
 *
 * Random small instances (random profiles, random layouts with residual
 * blocks and shortcut ops, 4-7 slots, 2-4 candidates each, random depths,
 * impacts that are whole buckets so the discretisation is exact): the
 * brute force enumerates every assignment and every bootstrapping placement
 * with its own walker (level rules re-implemented here, per-polynomial costs
 * from the library), and the DP must find the same least latency within the
 * budget, report infeasibility exactly when there is none, and return a walk
 * that is consistent op by op. Then properties on ResNet-20/110 and the
 * argument checks. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int checks = 0;
static unsigned rng_state = 20240607u;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) % n;
}

/* --- random instances ------------------------------------------------------- */

#define MAX_SLOTS 8
#define MAX_CANDS 4

typedef struct {
    pact_cost_profile *prof;
    pact_cost_layout *net;
    int n_slots;
    int n_cands[MAX_SLOTS];
    pact_opt_candidate cands[MAX_SLOTS][MAX_CANDS];
    pact_opt_slot slots[MAX_SLOTS];
    double budget;
    int buckets;
    int split;
} instance;

static pact_cost_profile *random_profile(int *split)
{
    char text[2048];
    int L = 4 + (int)rnd(10), fresh = L - 1 + (int)rnd(5), stages = 1 + (int)rnd(3);
    char boot[128] = "";
    for (int s = 0; s < stages; s++) {
        size_t n = strlen(boot);
        snprintf(boot + n, sizeof boot - n, "%s%d", s ? "," : "", 50 + (int)rnd(100));
    }
    *split = (int)rnd(2);
    if (rnd(2)) {
        snprintf(text, sizeof text,
                 "{\"format\":\"polyact-cost\",\"version\":1,\"name\":\"rand\","
                 "\"levels\":{\"max\":%d,\"fresh\":%d},"
                 "\"bootstrap\":{\"ms_by_stage\":[%s],\"between_components\":%s},"
                 "\"activation\":{\"model\":\"bsgs\",\"mult_ms_by_level\":{\"level\":[1,%d],"
                 "\"ct_ct\":[%d,%d],\"scalar\":[0.5,%d]},"
                 "\"calibrate\":{\"degrees\":[3],\"level\":3,\"ms\":%d}}}",
                 L, fresh, boot, *split ? "true" : "false", L + 3, 1 + (int)rnd(3),
                 4 + (int)rnd(8), 1 + (int)rnd(2), 2 + (int)rnd(10));
    } else {
        snprintf(text, sizeof text,
                 "{\"format\":\"polyact-cost\",\"version\":1,\"name\":\"rand\","
                 "\"levels\":{\"max\":%d,\"fresh\":%d},"
                 "\"bootstrap\":{\"ms_by_stage\":[%s],\"between_components\":%s},"
                 "\"activation\":{\"model\":\"series\","
                 "\"series_ms_by_degree\":{\"degree\":[2,8,16],\"ms\":[%d,%d,%d]},"
                 "\"levels_by_degree\":{\"max_degree\":[1,2,5,13,27],\"levels\":[1,2,3,4,5]},"
                 "\"mult_ms_by_level\":{\"level\":[1,12],\"ct_ct\":[1,%d],\"scalar\":[0,1]}}}",
                 L, fresh, boot, *split ? "true" : "false", 1 + (int)rnd(3), 4 + (int)rnd(4),
                 8 + (int)rnd(8), 2 + (int)rnd(5));
    }
    pact_cost_profile *p = NULL;
    pact_error err;
    CHECK_OK(pact_cost_profile_parse(text, strlen(text), "random", &p, &err), &err);
    return p;
}

static void add_op(pact_cost_layout *l, pact_cost_op_kind kind, int levels, int stages,
                   int boot_ok)
{
    pact_error err;
    int has_ms = kind == PACT_COST_LINEAR || kind == PACT_COST_SHORTCUT;
    pact_cost_op op = {kind, NULL, levels, has_ms ? 1.0 + rnd(20) : 0.0, 1 + (int)rnd(stages),
                       boot_ok};
    CHECK_OK(pact_cost_layout_add(l, &op, &err), &err);
}

static int random_layout(instance *in, int stages)
{
    pact_error err;
    pact_cost_layout_create(&in->net, &err);
    int want = 4 + (int)rnd(4), slots = 0;
    add_op(in->net, PACT_COST_LINEAR, (int)rnd(3), stages, 0);
    while (slots < want) {
        if (want - slots >= 2 && rnd(2)) { /* a residual block */
            add_op(in->net, PACT_COST_FORK, 0, stages, 0);
            add_op(in->net, PACT_COST_LINEAR, 1 + (int)rnd(2), stages, 0);
            add_op(in->net, PACT_COST_ACT, 0, stages, 0);
            add_op(in->net, PACT_COST_LINEAR, 1 + (int)rnd(2), stages, 0);
            if (rnd(2))
                add_op(in->net, PACT_COST_SHORTCUT, (int)rnd(2), stages, 0);
            add_op(in->net, PACT_COST_ADD, 0, stages, 0);
            add_op(in->net, PACT_COST_ACT, 0, stages, 0);
            slots += 2;
        } else {
            add_op(in->net, PACT_COST_LINEAR, (int)rnd(4), stages, 0);
            add_op(in->net, PACT_COST_ACT, 0, stages, 0);
            slots++;
        }
    }
    add_op(in->net, PACT_COST_LINEAR, 1, stages, 1);
    add_op(in->net, PACT_COST_LINEAR, (int)rnd(2), stages, 1);
    return slots;
}

static void random_act(pact_cost_act *a, int allow_composite)
{
    static const int degrees[] = {1, 2, 3, 4, 5, 7, 8, 13, 15};
    memset(a, 0, sizeof *a);
    if (allow_composite && rnd(3) == 0) {
        a->n_components = 1 + (int)rnd(2);
        for (int j = 0; j < a->n_components; j++)
            a->degrees[j] = degrees[rnd(6)];
        a->relu_product = 1;
    } else {
        a->n_components = 1;
        a->degrees[0] = degrees[rnd(9)];
    }
}

/* --- the brute force ------------------------------------------------------------ */

typedef struct {
    const instance *in;
    int L, depth[MAX_SLOTS][MAX_CANDS][PACT_COST_MAX_COMPONENTS];
    double best;
    long leaves;
} brute;

/* Same rules as the library, written out again: bit 0 before the activation,
 * bit j before component j+1, bit n before the product; x (the product's
 * other operand) keeps the input level unless bit 0 refreshed it. */
static double sim_act(const brute *b, int slot, int c, int level, unsigned mask, int *out,
                      int *boots)
{
    const pact_cost_act *a = &b->in->cands[slot][c].act;
    int x = level, cur = level, n = 0;
    double ms = 0.0, t;
    for (int j = 0; j < a->n_components; j++) {
        if (mask & (1u << j)) {
            cur = b->L;
            n++;
            if (j == 0)
                x = b->L;
        }
        if (cur < b->depth[slot][c][j])
            return -1.0;
        pact_cost_poly_ms(b->in->prof, a->degrees[j], cur, &t, NULL);
        ms += t;
        cur -= b->depth[slot][c][j];
    }
    if (a->relu_product) {
        if (mask & (1u << a->n_components)) {
            cur = b->L;
            n++;
        }
        int v = x < cur ? x : cur;
        if (v < 1)
            return -1.0;
        pact_cost_product_ms(b->in->prof, v, &t, NULL);
        ms += t;
        cur = v - 1;
    }
    *out = cur;
    *boots = n;
    return ms;
}

static void enumerate(brute *b, int k, int slot, int v, int s, double ms, double impact)
{
    const instance *in = b->in;
    if (k == pact_cost_layout_n_ops(in->net)) {
        b->leaves++;
        if (ms < b->best)
            b->best = ms;
        return;
    }
    const pact_cost_op *op = pact_cost_layout_op(in->net, k);
    double boot;
    pact_cost_bootstrap_ms(in->prof, op->stage, &boot, NULL);
    switch (op->kind) {
    case PACT_COST_LINEAR:
        if (v >= op->levels)
            enumerate(b, k + 1, slot, v - op->levels, s, ms + op->ms, impact);
        if (op->bootstrap_before && b->L >= op->levels)
            enumerate(b, k + 1, slot, b->L - op->levels, s, ms + op->ms + boot, impact);
        break;
    case PACT_COST_SHORTCUT:
        if (s >= op->levels)
            enumerate(b, k + 1, slot, v, s - op->levels, ms + op->ms, impact);
        break;
    case PACT_COST_FORK: enumerate(b, k + 1, slot, v, v, ms, impact); break;
    case PACT_COST_ADD: enumerate(b, k + 1, slot, v < s ? v : s, -1, ms, impact); break;
    case PACT_COST_ACT:
        for (int c = 0; c < in->n_cands[slot]; c++) {
            const pact_opt_candidate *cd = &in->cands[slot][c];
            if (impact + cd->impact > in->budget)
                continue;
            const pact_cost_act *a = &cd->act;
            unsigned masks = in->split ? 1u << (a->n_components + a->relu_product) : 2u;
            for (unsigned m = 0; m < masks; m++) {
                int out, n;
                double t = sim_act(b, slot, c, v, m, &out, &n);
                if (t >= 0.0)
                    enumerate(b, k + 1, slot + 1, out, s, ms + t + n * boot, impact + cd->impact);
            }
        }
        break;
    }
}

/* Replays the DP's walk op by op with the brute force's rules. */
static int walk_consistent(const brute *b, const pact_cost_walk *w)
{
    const instance *in = b->in;
    int v = pact_cost_profile_fresh_level(in->prof), s = -1, slot = 0, ok = 1;
    double total = 0.0, impact = 0.0;
    for (int k = 0; k < w->n_steps && ok; k++) {
        const pact_cost_op *op = pact_cost_layout_op(in->net, k);
        const pact_cost_step *st = &w->steps[k];
        double boot;
        pact_cost_bootstrap_ms(in->prof, op->stage, &boot, NULL);
        ok &= st->level_in == v;
        switch (op->kind) {
        case PACT_COST_LINEAR:
            if (st->n_bootstraps)
                v = b->L;
            v -= op->levels;
            ok &= v >= 0 && st->n_bootstraps == (op->bootstrap_before ? st->n_bootstraps : 0);
            total += op->ms + st->n_bootstraps * boot;
            break;
        case PACT_COST_SHORTCUT:
            s -= op->levels;
            ok &= s >= 0;
            total += op->ms;
            break;
        case PACT_COST_FORK: s = v; break;
        case PACT_COST_ADD:
            v = v < s ? v : s;
            s = -1;
            break;
        case PACT_COST_ACT: {
            int out, n, c = st->choice;
            ok &= c >= 0 && c < in->n_cands[slot];
            if (!ok)
                break;
            double t = sim_act(b, slot, c, v, st->boot_mask, &out, &n);
            ok &= t >= 0.0 && n == st->n_bootstraps && fabs(t - st->op_ms) < 1e-9 * (1 + t);
            total += t + n * boot;
            impact += in->cands[slot][c].impact;
            v = out;
            slot++;
            break;
        }
        }
        ok &= st->level_out == v && st->shortcut_level == s;
    }
    ok &= fabs(total - w->total_ms) <= 1e-9 * (1 + total) && fabs(impact - w->impact) < 1e-9 &&
          impact <= in->budget;
    return ok;
}

static void test_random(int n_instances)
{
    int solved = 0, infeasible = 0, with_boot = 0, binding = 0, split_used = 0;
    long leaves = 0;
    for (int t = 0; t < n_instances; t++) {
        instance in;
        memset(&in, 0, sizeof in);
        in.prof = random_profile(&in.split);
        if (!in.prof)
            return;
        int stages = 1;
        for (; stages < 3; stages++) {
            double ms;
            if (pact_cost_bootstrap_ms(in.prof, stages + 1, &ms, NULL) != PACT_OK)
                break;
        }
        in.n_slots = random_layout(&in, stages);
        /* Keep the enumeration small: (candidates x placements)^slots. */
        int max_c = in.n_slots >= 7 ? 2 : in.n_slots >= 6 ? 3 : 4;
        if (in.split)
            max_c = in.n_slots >= 6 ? 2 : 3;
        double q = 0.25; /* impacts and the budget are whole buckets of 0.25 */
        int min_k = 0, max_k = 0;
        for (int i = 0; i < in.n_slots; i++) {
            in.n_cands[i] = 2 + (int)rnd((unsigned)max_c - 1);
            int lo = 1 << 20, hi = 0;
            for (int c = 0; c < in.n_cands[i]; c++) {
                random_act(&in.cands[i][c].act, in.split || rnd(2));
                int k = (int)rnd(12);
                in.cands[i][c].impact = q * k;
                lo = k < lo ? k : lo;
                hi = k > hi ? k : hi;
            }
            min_k += lo;
            max_k += hi;
            in.slots[i].candidates = in.cands[i];
            in.slots[i].n_candidates = in.n_cands[i];
        }
        /* Mostly between the least and the largest sum (the budget binds or
         * not), sometimes below the least (no plan). */
        int kb = rnd(8) == 0 ? (int)rnd((unsigned)min_k + 1)
                             : min_k + (int)rnd((unsigned)(max_k - min_k) + 2);
        in.budget = q * kb;
        in.buckets = kb > 0 ? kb : 1; /* budget / buckets = q exactly */

        brute b = {&in, pact_cost_profile_max_level(in.prof), {{{0}}}, INFINITY, 0};
        for (int i = 0; i < in.n_slots; i++)
            for (int c = 0; c < in.n_cands[i]; c++)
                for (int j = 0; j < in.cands[i][c].act.n_components; j++)
                    pact_cost_poly_depth(in.prof, in.cands[i][c].act.degrees[j],
                                         &b.depth[i][c][j], NULL);
        enumerate(&b, 0, 0, pact_cost_profile_fresh_level(in.prof), -1, 0.0, 0.0);
        leaves += b.leaves;

        pact_error err = {PACT_OK, ""};
        pact_cost_walk *w = NULL, *free_w = NULL;
        pact_opt_dp_opts o = {in.buckets};
        pact_status st = pact_optimize_dp(in.net, in.prof, in.slots, in.n_slots, in.budget, &o,
                                          &w, &err);
        if (isinf(b.best)) {
            CHECK(st == PACT_EMISMATCH && !w,
                  "instance %d: brute force finds no plan, DP %s (%s)", t, pact_status_str(st),
                  err.message);
            infeasible++;
        } else {
            CHECK(st == PACT_OK, "instance %d: DP %s (%s), brute force %.6f", t,
                  pact_status_str(st), err.message, b.best);
            if (w) {
                CHECK(fabs(w->total_ms - b.best) <= 1e-9 * b.best,
                      "instance %d: DP %.9f ms, brute force %.9f ms", t, w->total_ms, b.best);
                CHECK(walk_consistent(&b, w), "instance %d: the DP's walk does not replay", t);
                solved++;
                with_boot += w->n_bootstraps > 0;
                for (int k = 0; k < w->n_steps; k++)
                    split_used += w->steps[k].boot_mask > 1;
                if (pact_optimize_dp(in.net, in.prof, in.slots, in.n_slots, INFINITY, NULL,
                                     &free_w, &err) == PACT_OK)
                    binding += free_w->total_ms < w->total_ms - 1e-9;
            }
        }
        checks += 3;
        pact_cost_walk_free(w);
        pact_cost_walk_free(free_w);
        pact_cost_layout_free(in.net);
        pact_cost_profile_free(in.prof);
    }
    printf("random instances: %d solved exactly as brute force (%ld leaves enumerated), "
           "%d infeasible in both; %d with bootstrappings, %d where the budget binds, %d "
           "bootstrappings inside composites\n",
           solved, leaves, infeasible, with_boot, binding, split_used);
    CHECK(solved > n_instances / 2 && with_boot > n_instances / 4 && binding > n_instances / 10 &&
              infeasible > 0,
          "instances do not exercise the DP: solved %d, with bootstrapping %d, binding %d, "
          "infeasible %d",
          solved, with_boot, binding, infeasible);
    checks++;
}

/* --- properties on the real layouts ------------------------------------------------ */

static void fill_candidates(pact_opt_candidate *c, int *n)
{
    static const struct {
        const char *spec;
        double impact;
    } menu[] = {{"composite:alpha=13", 0.0}, {"composite:alpha=10", 0.5}, {"degree:31", 1.0},
                {"degree:15", 2.0},          {"degree:7", 4.0},           {"degree:5", 5.0},
                {"degree:3", 8.0},           {"degree:2", 12.0}};
    pact_error err;
    *n = (int)(sizeof menu / sizeof menu[0]);
    for (int i = 0; i < *n; i++) {
        pact_cost_act_parse(menu[i].spec, &c[i].act, &err);
        c[i].impact = menu[i].impact;
    }
}

static void test_resnet(const pact_cost_profile *prof, int depth, int sweep)
{
    pact_error err;
    pact_cost_layout *net = NULL;
    CHECK_OK(pact_cost_layout_resnet(prof, depth, &net, &err), &err);
    if (!net)
        return;
    int n = pact_cost_layout_n_slots(net), nc;
    pact_opt_candidate cands[8];
    fill_candidates(cands, &nc);
    pact_opt_slot *slots = malloc((size_t)n * sizeof *slots);
    for (int i = 0; i < n; i++)
        slots[i] = (pact_opt_slot){cands, nc};

    /* Budget 0: only the zero-impact baseline fits; equals pact_cost_evaluate. */
    pact_cost_walk *w = NULL, *base = NULL;
    pact_cost_act *acts = malloc((size_t)n * sizeof *acts);
    for (int i = 0; i < n; i++)
        acts[i] = cands[0].act;
    CHECK_OK(pact_cost_evaluate(net, prof, acts, n, &base, &err), &err);
    CHECK_OK(pact_optimize_dp(net, prof, slots, n, 0.0, NULL, &w, &err), &err);
    CHECK(w && base && fabs(w->total_ms - base->total_ms) < 1e-6 && w->impact == 0.0,
          "budget 0: %.1f ms, baseline %.1f ms", w ? w->total_ms : -1, base ? base->total_ms : -1);
    checks += 3;
    pact_cost_walk_free(w);
    w = NULL;

    /* Latency never rises as the budget grows; the impact stays within it. */
    double prev = INFINITY;
    clock_t t0 = clock();
    int runs = 0;
    for (double budget = 0.0; budget <= (sweep ? 12.0 * n : 0.0); budget += 0.75 * n) {
        CHECK_OK(pact_optimize_dp(net, prof, slots, n, budget, NULL, &w, &err), &err);
        if (!w)
            break;
        CHECK(w->total_ms <= prev + 1e-6 && w->impact <= budget * (1 + 1e-9),
              "budget %g: %.1f ms (previous %.1f), impact %g", budget, w->total_ms, prev,
              w->impact);
        if (sweep)
            printf("profile %s, resnet-%d, impact budget %5.1f: %.1f s, %d bootstrappings, "
                   "impact %.2f, %.2fx vs alpha=13\n",
                   pact_cost_profile_name(prof), depth, budget, w->total_ms / 1000,
                   w->n_bootstraps, w->impact, base->total_ms / w->total_ms);
        prev = w->total_ms;
        pact_cost_walk_free(w);
        w = NULL;
        checks += 2;
        runs++;
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("resnet-%d: %d slots x %d candidates, 2000 buckets: %.3f s per DP run\n", depth, n, nc,
           secs / (runs ? runs : 1));
    free(acts);
    free(slots);
    pact_cost_walk_free(base);
    pact_cost_layout_free(net);
}

/* Each impact is rounded up to whole buckets: just above a boundary costs a
 * bucket more, so the budget is never exceeded. */
static void test_rounding(const pact_cost_profile *prof)
{
    pact_error err;
    pact_cost_layout *net = NULL;
    pact_cost_layout_resnet(prof, 20, &net, &err);
    int n = pact_cost_layout_n_slots(net);
    pact_opt_candidate c[2];
    pact_cost_act_parse("composite:alpha=13", &c[0].act, &err);
    pact_cost_act_parse("degree:3", &c[1].act, &err);
    c[0].impact = 0.0;
    pact_opt_slot slots[19];
    pact_opt_candidate per[19][2];
    for (int i = 0; i < n; i++) {
        per[i][0] = c[0];
        per[i][1] = c[1];
        per[i][1].impact = 1.0;
        slots[i] = (pact_opt_slot){per[i], 2};
    }
    /* Budget 3 in 3 buckets: three exact-1 impacts fit, 1 + 1e-6 each only two. */
    pact_opt_dp_opts o = {3};
    pact_cost_walk *w = NULL;
    int cheap = 0;
    CHECK_OK(pact_optimize_dp(net, prof, slots, n, 3.0, &o, &w, &err), &err);
    for (int k = 0; w && k < w->n_steps; k++)
        cheap += w->steps[k].choice == 1;
    CHECK(cheap == 3 && w->impact == 3.0, "exact impacts: %d cheap slots, impact %g", cheap,
          w ? w->impact : -1);
    pact_cost_walk_free(w);
    w = NULL;
    for (int i = 0; i < n; i++)
        per[i][1].impact = 1.0 + 1e-6;
    /* With 3 buckets each such impact rounds up to 2 buckets: one fits (the
     * documented gap); with 3000 buckets to 1001: two fit, the true optimum. */
    static const int buckets[2] = {3, 3000}, expect[2] = {1, 2};
    for (int t = 0; t < 2; t++) {
        o.impact_buckets = buckets[t];
        CHECK_OK(pact_optimize_dp(net, prof, slots, n, 3.0, &o, &w, &err), &err);
        cheap = 0;
        for (int k = 0; w && k < w->n_steps; k++)
            cheap += w->steps[k].choice == 1;
        CHECK(cheap == expect[t] && w->impact <= 3.0,
              "impacts 1+1e-6, %d buckets: %d cheap slots (expected %d), impact %g", buckets[t],
              cheap, expect[t], w ? w->impact : -1);
        pact_cost_walk_free(w);
        w = NULL;
        checks += 2;
    }
    checks += 4;
    pact_cost_layout_free(net);
}

static void test_errors(const pact_cost_profile *prof)
{
    pact_error err;
    pact_cost_layout *net = NULL, *open = NULL;
    pact_cost_layout_resnet(prof, 20, &net, &err);
    pact_opt_candidate c;
    pact_cost_act_parse("degree:7", &c.act, &err);
    c.impact = 0.0;
    pact_opt_slot slots[19];
    for (int i = 0; i < 19; i++)
        slots[i] = (pact_opt_slot){&c, 1};
    pact_cost_walk *w = NULL;
    CHECK(pact_optimize_dp(net, prof, slots, 18, 1.0, NULL, &w, &err) == PACT_EINVAL && !w,
          "18 slots for 19: %s", err.message);
    CHECK(pact_optimize_dp(net, prof, slots, 19, NAN, NULL, &w, &err) == PACT_EINVAL, "NaN budget");
    CHECK(pact_optimize_dp(net, prof, slots, 19, -1.0, NULL, &w, &err) == PACT_EINVAL,
          "negative budget");
    pact_opt_dp_opts o = {100001};
    CHECK(pact_optimize_dp(net, prof, slots, 19, 1.0, &o, &w, &err) == PACT_EINVAL, "buckets");
    c.impact = -1.0;
    CHECK(pact_optimize_dp(net, prof, slots, 19, 1.0, NULL, &w, &err) == PACT_EINVAL,
          "negative impact");
    c.impact = 2.0;
    CHECK(pact_optimize_dp(net, prof, slots, 19, 1.0, NULL, &w, &err) == PACT_EMISMATCH &&
              strstr(err.message, "budget"),
          "impact over budget: %s", err.message);
    c.impact = 0.0;
    c.act.degrees[0] = 0;
    CHECK(pact_optimize_dp(net, prof, slots, 19, 1.0, NULL, &w, &err) == PACT_EINVAL,
          "degree 0: %s", err.message);
    pact_cost_act_parse("degree:1023", &c.act, &err); /* depth 10: fits L = 16 */
    CHECK(pact_optimize_dp(net, prof, slots, 19, 1.0, NULL, &w, &err) == PACT_OK && w,
          "degree 1023: %s", err.message);
    pact_cost_walk_free(w);
    w = NULL;
    pact_cost_act_parse("composite:27,27,27,27", &c.act, &err); /* depth 21 > 16 */
    CHECK(pact_optimize_dp(net, prof, slots, 19, 1.0, NULL, &w, &err) == PACT_EMISMATCH &&
              strstr(err.message, "levels"),
          "depth 21: %s", err.message);
    slots[3].n_candidates = 0;
    CHECK(pact_optimize_dp(net, prof, slots, 19, 1.0, NULL, &w, &err) == PACT_EINVAL,
          "0 candidates");
    /* A layout built from another profile; an open block; a missing stage. */
    static const char other[] =
        "{\"format\":\"polyact-cost\",\"version\":1,\"name\":\"other\","
        "\"levels\":{\"max\":16,\"fresh\":16},\"bootstrap\":{\"ms_by_stage\":[1]},"
        "\"activation\":{\"model\":\"bsgs\",\"mult_ms_by_level\":{\"level\":[1],"
        "\"ct_ct\":[1],\"scalar\":[0]},\"calibrate\":{\"degrees\":[3],\"level\":3,\"ms\":1}}}";
    pact_cost_profile *p2 = NULL;
    CHECK_OK(pact_cost_profile_parse(other, sizeof other - 1, "other", &p2, &err), &err);
    pact_cost_act acts[19];
    pact_cost_act_parse("degree:7", &acts[0], &err);
    for (int i = 1; i < 19; i++)
        acts[i] = acts[0];
    CHECK(pact_cost_evaluate(net, p2, acts, 19, &w, &err) == PACT_EMISMATCH, "other profile: %s",
          err.message);
    pact_cost_layout_create(&open, &err);
    pact_cost_op fork = {PACT_COST_FORK, "f", 0, 0.0, 1, 0};
    pact_cost_op act = {PACT_COST_ACT, "a", 0, 0.0, 2, 0};
    pact_cost_layout_add(open, &fork, &err);
    CHECK(pact_cost_layout_add(open, &fork, &err) == PACT_EINVAL, "nested FORK: %s", err.message);
    pact_cost_layout_add(open, &act, &err);
    CHECK(pact_cost_evaluate(open, p2, acts, 1, &w, &err) == PACT_EINVAL, "open block: %s",
          err.message);
    pact_cost_op add = {PACT_COST_ADD, "add", 0, 0.0, 1, 0};
    pact_cost_layout_add(open, &add, &err);
    CHECK(pact_cost_evaluate(open, p2, acts, 1, &w, &err) == PACT_EMISMATCH, "stage 2 of 1: %s",
          err.message);
    pact_cost_op badop = {PACT_COST_ACT, "b", 3, 0.0, 1, 0};
    CHECK(pact_cost_layout_add(open, &badop, &err) == PACT_EINVAL, "ACT with levels");
    badop = (pact_cost_op){PACT_COST_ADD, "b", 0, 0.0, 1, 0};
    CHECK(pact_cost_layout_add(open, &badop, &err) == PACT_EINVAL, "ADD without FORK");
    badop = (pact_cost_op){PACT_COST_LINEAR, "b", 1, NAN, 1, 0};
    CHECK(pact_cost_layout_add(open, &badop, &err) == PACT_EINVAL, "NaN ms");
    CHECK(pact_cost_layout_n_ops(open) == 3, "failed adds changed the layout (%d ops)",
          pact_cost_layout_n_ops(open));
    checks += 18;
    pact_cost_layout_free(open);
    pact_cost_profile_free(p2);
    pact_cost_layout_free(net);
}

int main(int argc, char **argv)
{
    /* Optional: instance count and seed, for longer runs by hand. */
    int n = argc > 1 ? atoi(argv[1]) : 300;
    if (argc > 2)
        rng_state = (unsigned)strtoul(argv[2], NULL, 10);
    pact_error err;
    pact_cost_profile *def = NULL, *ofhe = NULL;
    CHECK_OK(pact_cost_profile_default(&def, &err), &err);
    const char *src = getenv("POLYACT_SOURCE");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/profiles/openfhe-n16-2core.json", src ? src : ".");
    CHECK_OK(pact_cost_profile_load(path, &ofhe, &err), &err);
    checks += 2;
    test_random(n);
    if (def) {
        test_resnet(def, 20, 1);
        test_resnet(def, 110, 0);
        test_rounding(def);
        test_errors(def);
    }
    if (ofhe)
        test_resnet(ofhe, 20, 1);
    pact_cost_profile_free(def);
    pact_cost_profile_free(ofhe);
    return pact_test_done("test_optimize_dp", checks);
}
