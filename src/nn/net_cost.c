/* The engine's graph under the HE cost model: pact_net_cost_layout walks the
 * ops in execution order and emits the cost layout's ops, finding residual
 * blocks (a branch point, a branch with activations, a branch without) from
 * the buffers the ops read. Costs come from the profile's cifar_resnet
 * section by stage; see polyact.h for what is exact and what approximate. */
#include "graph.h"
#include "net_internal.h"
#include "../pann/cost_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const pact_graph *g;
    const pact_cost_profile *p;
    int *src_in, *src_res;  /* op that wrote what op i reads (-1: none) */
    int *shortcut;          /* 1: the op is on a residual block's shortcut branch */
    int *fork_stage;        /* > 0: a FORK follows op i, in this stage */
    int *add_shortcut;      /* per add point: 1 when its shortcut computes something */
    int *mark;
    int input_h;
    pact_error *err;
} walker;

static int writer(const pact_graph *g, int op, int buf)
{
    for (int j = op - 1; j >= 0; j--)
        if (g->ops[j].out == buf)
            return j;
    return -1;
}

/* Stage of a tensor of height h: 1 + log2(input height / h), in 1..3. */
static int stage_of(const walker *w, int h)
{
    int s = 1;
    for (int r = w->input_h; r > h && s < 3; r /= 2)
        s++;
    return s;
}

/* Marks op p and the ops it reads through `in`, back to the start, with `stamp`. */
static void mark_chain(walker *w, int p, int stamp)
{
    for (; p >= 0; p = w->src_in[p])
        w->mark[p] = stamp;
}

/* Walks back from `main` to the first op marked `stamp`: the branch point. */
static int branch_point(const walker *w, int main, int stamp)
{
    for (; main >= 0; main = w->src_in[main])
        if (w->mark[main] == stamp)
            return main;
    return -1;
}

static int chain_has_act(const walker *w, int from, int to)
{
    for (int p = from; p >= 0 && p != to; p = w->src_in[p])
        if (w->g->ops[p].kind == PACT_OP_ACT)
            return 1;
    return 0;
}

/* The residual block ending at op i (an ADD, or a CONV with a shortcut). */
static pact_status find_block(walker *w, int i, int stage)
{
    const pact_graph *g = w->g;
    const pact_op *op = &g->ops[i];
    int a = op->kind == PACT_OP_CONV ? i : w->src_in[i], b = w->src_res[i];
    if (a < 0 || b < 0)
        return pact_fail(w->err, PACT_EUNSUPPORTED, "cost layout: op %d adds a tensor no op wrote", i);
    int stamp = i + 1;
    mark_chain(w, b, stamp);
    int fork = branch_point(w, op->kind == PACT_OP_CONV ? w->src_in[i] : a, stamp);
    if (fork < 0)
        return pact_fail(w->err, PACT_EUNSUPPORTED,
                         "cost layout: the two branches added at op %d have no common start", i);
    int act_a = chain_has_act(w, a, fork), act_b = chain_has_act(w, b, fork);
    if (act_a && act_b)
        return pact_fail(w->err, PACT_EUNSUPPORTED,
                         "cost layout: both branches added at op %d hold activations (not a "
                         "residual block)", i);
    int sc = act_b ? a : b; /* the shortcut: the branch without activations */
    if (op->kind == PACT_OP_CONV && sc == i)
        return pact_fail(w->err, PACT_EUNSUPPORTED,
                         "cost layout: op %d adds its input's branch to itself", i);
    int computes = op->kind == PACT_OP_CONV && op->res_kind == PACT_SHORTCUT_SUBSAMPLE_PAD;
    for (int p = sc; p >= 0 && p != fork; p = w->src_in[p]) {
        w->shortcut[p] = 1;
        computes = 1;
    }
    w->add_shortcut[i] = computes;
    if (w->fork_stage[fork] > 0)
        return pact_fail(w->err, PACT_EUNSUPPORTED,
                         "cost layout: op %d starts two residual blocks (not modelled)", fork);
    w->fork_stage[fork] = stage;
    return PACT_OK;
}

static pact_status add_op(walker *w, pact_cost_layout *l, pact_cost_op_kind kind,
                          const char *name, const pact_cost_linear *lin, int stage,
                          int bootstrap_before)
{
    pact_cost_op op = {kind, name, lin ? lin->levels : 0, lin ? lin->ms : 0.0, stage,
                       bootstrap_before};
    pact_status st = pact_cost_layout_add(l, &op, w->err);
    if (st == PACT_EINVAL) /* a structural refusal (nested blocks): not the caller's argument */
        st = w->err ? (w->err->status = PACT_EUNSUPPORTED) : PACT_EUNSUPPORTED;
    return st;
}

static pact_status emit_all(walker *w, pact_cost_layout *l)
{
    const pact_graph *g = w->g;
    const pact_cost_profile *p = w->p;
    int first_conv = 1, n_conv = 0;
    char name[64];
    pact_status st = PACT_OK;
    if (w->fork_stage[0] > 0) /* a block starting at the (normalised) input */
        st = add_op(w, l, PACT_COST_FORK, "fork", NULL, w->fork_stage[0], 0);
    for (int i = 1; i < g->n_ops && st == PACT_OK; i++) {
        const pact_op *op = &g->ops[i];
        int stage = stage_of(w, op->out_shape.h);
        if (!w->shortcut[i]) {
            switch (op->kind) {
            case PACT_OP_CONV: {
                const pact_cost_linear *conv, *bn;
                if (first_conv) {
                    conv = &p->stem_conv;
                    bn = &p->stem_bn;
                    stage = 1;
                } else {
                    const pact_cost_resnet_stage *rs = &p->stages[stage - 1];
                    conv = op->out_shape.h < op->in_shape.h && stage > 1 ? &rs->conv_downsample
                                                                         : &rs->conv;
                    bn = &rs->bn;
                }
                first_conv = 0;
                snprintf(name, sizeof name, "conv%d", n_conv);
                st = add_op(w, l, PACT_COST_LINEAR, name, conv, stage, 0);
                snprintf(name, sizeof name, "bn%d", n_conv++);
                if (st == PACT_OK)
                    st = add_op(w, l, PACT_COST_LINEAR, name, bn, stage, 0);
                break;
            }
            case PACT_OP_ACT:
                st = add_op(w, l, PACT_COST_ACT, g->act_names[op->layer], NULL,
                            stage_of(w, op->in_shape.h), 0);
                break;
            case PACT_OP_AFFINE:
                snprintf(name, sizeof name, "affine%d", i);
                st = add_op(w, l, PACT_COST_LINEAR, name, &p->stages[stage - 1].bn, stage, 0);
                break;
            case PACT_OP_AVGPOOL:
                snprintf(name, sizeof name, "avgpool%d", i);
                st = add_op(w, l, PACT_COST_LINEAR, name, &p->pool, stage, 0);
                break;
            case PACT_OP_GAP:
                st = add_op(w, l, PACT_COST_LINEAR, "avgpool", &p->pool, 3, 1);
                break;
            case PACT_OP_LINEAR:
                st = add_op(w, l, PACT_COST_LINEAR, "linear", &p->fc, 3, 1);
                break;
            case PACT_OP_MAXPOOL:
                st = pact_fail(w->err, PACT_EUNSUPPORTED,
                               "cost layout: op %d is max pooling, which has no HE cost model "
                               "(replace it by average pooling or a strided convolution)", i);
                break;
            default: /* NORMALIZE, ADD (below), PAD, SLICE, CONCAT, COPY: free */
                break;
            }
        }
        int is_add = op->kind == PACT_OP_ADD || (op->kind == PACT_OP_CONV && op->res >= 0);
        if (st == PACT_OK && is_add) {
            if (w->add_shortcut[i])
                st = add_op(w, l, PACT_COST_SHORTCUT, "shortcut",
                            &p->stages[stage - 1].shortcut_downsample, stage, 0);
            if (st == PACT_OK)
                st = add_op(w, l, PACT_COST_ADD, "add", NULL, stage, 0);
        }
        if (st == PACT_OK && w->fork_stage[i] > 0)
            st = add_op(w, l, PACT_COST_FORK, "fork", NULL, w->fork_stage[i], 0);
    }
    return st;
}

pact_status pact_net_cost_layout(const pact_net *net, const pact_cost_profile *profile,
                                 pact_cost_layout **layout, pact_error *err)
{
    if (!net || !profile || !layout)
        return pact_fail(err, PACT_EINVAL, "cost layout: NULL argument");
    *layout = NULL;
    if (!profile->has_resnet || profile->n_stages < 3)
        return pact_fail(err, PACT_EFORMAT,
                         "profile %s: no cifar_resnet section with 3 stages (the costs of "
                         "convolutions by stage)",
                         profile->name);
    const pact_graph *g = pact_net_graph(net);
    const size_t n = (size_t)g->n_ops + 1;
    walker w = {.g = g, .p = profile, .err = err, .input_h = g->ops[0].out_shape.h};
    w.src_in = malloc(sizeof(int) * n);
    w.src_res = malloc(sizeof(int) * n);
    w.shortcut = calloc(n, sizeof(int));
    w.fork_stage = calloc(n, sizeof(int));
    w.add_shortcut = calloc(n, sizeof(int));
    w.mark = calloc(n, sizeof(int));
    pact_status st = PACT_OK;
    if (!w.src_in || !w.src_res || !w.shortcut || !w.fork_stage || !w.add_shortcut || !w.mark)
        st = pact_fail(err, PACT_ENOMEM, "cost layout: out of memory");
    for (int i = 0; st == PACT_OK && i < g->n_ops; i++) {
        const pact_op *op = &g->ops[i];
        w.src_in[i] = op->kind == PACT_OP_NORMALIZE ? -1 : writer(g, i, op->in);
        w.src_res[i] = pact_op_reads_res(op) ? writer(g, i, op->res) : -1;
    }
    /* residual blocks, last first so that a shortcut op of a later block is
     * known before an earlier one's walk could cross it */
    for (int i = g->n_ops - 1; st == PACT_OK && i >= 0; i--) {
        const pact_op *op = &g->ops[i];
        if (op->kind == PACT_OP_ADD || (op->kind == PACT_OP_CONV && op->res >= 0))
            st = find_block(&w, i, stage_of(&w, op->out_shape.h));
    }
    pact_cost_layout *l = NULL;
    if (st == PACT_OK)
        st = pact_cost_layout_create(&l, err);
    if (st == PACT_OK)
        st = emit_all(&w, l);
    if (st == PACT_OK && pact_cost_layout_n_slots(l) != g->n_act)
        st = pact_fail(err, PACT_EUNSUPPORTED,
                       "cost layout: %d activation slots for %d activation layers (an "
                       "activation on a shortcut branch)",
                       pact_cost_layout_n_slots(l), g->n_act);
    if (st == PACT_OK && pact_cost_layout_is_open(l))
        st = pact_fail(err, PACT_EUNSUPPORTED, "cost layout: a residual block is never closed");
    if (st == PACT_OK) {
        pact_cost_layout_set_profile(l, profile->name);
        *layout = l;
    } else {
        pact_cost_layout_free(l);
    }
    free(w.src_in);
    free(w.src_res);
    free(w.shortcut);
    free(w.fork_stage);
    free(w.add_shortcut);
    free(w.mark);
    return st;
}
