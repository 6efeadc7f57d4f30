/* ONNX CNN import: an ONNX graph (pact_ox_model) lowered onto polyact's layer
 * graph. Nodes are visited in a topological order of the nodes the output
 * depends on; constants are folded at load time; batch norm is folded into the
 * convolution before it (in double, as the safetensors builder does); the
 * erf-form and tanh-form GELU subgraphs, Sigmoid x Mul (SiLU) and Relu become
 * activation layers (the hook's places); every other supported node becomes
 * one engine op. Runtime tensors live in per-image buffers reused as soon as
 * their last reader has run. Anything else is refused with one line naming
 * the node and its op type. */
#define _POSIX_C_SOURCE 200809L
#include "onnx_builder.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PACT_ONNX_MAX_NODES 65536 /* a CNN for HE has far fewer; bounds the work */

/* --- graph walk -------------------------------------------------------------- */

static pact_status register_values(builder *b)
{
    const pact_ox_model *m = b->m;
    int cap = m->n_init + m->n_inputs + 1;
    for (int k = 0; k < m->n_nodes; k++)
        cap += m->nodes[k].n_out;
    b->v = calloc((size_t)cap, sizeof *b->v);
    if (!b->v)
        return pact_oxb_oom(b);
    for (int k = 0; k < m->n_init; k++) {
        const char *nm = m->init[k].name;
        if (!nm[0] || pact_oxb_map_get(&b->map, nm) >= 0)
            return pact_fail(b->err, PACT_EFORMAT, "%s: initializer '%s' is unnamed or repeated",
                             b->origin, nm);
        b->v[b->n_v] = (value){.name = nm, .kind = V_CONST, .c = &m->init[k], .producer = -1,
                               .buf = -1, .op = -1};
        if (!pact_oxb_map_put(&b->map, nm, b->n_v++))
            return pact_oxb_oom(b);
    }
    for (int k = 0; k < m->n_inputs; k++) {
        const char *nm = m->inputs[k].name;
        if (pact_oxb_map_get(&b->map, nm) >= 0) /* an input with a default (initializer) */
            continue;
        if (!nm[0])
            return pact_fail(b->err, PACT_EFORMAT, "%s: graph input #%d has no name", b->origin, k);
        b->v[b->n_v] = (value){.name = nm, .kind = V_NONE, .producer = -1, .buf = -1, .op = -1};
        if (!pact_oxb_map_put(&b->map, nm, b->n_v++))
            return pact_oxb_oom(b);
    }
    for (int ni = 0; ni < m->n_nodes; ni++)
        for (int o = 0; o < m->nodes[ni].n_out; o++) {
            const char *nm = m->nodes[ni].out[o];
            if (!nm[0])
                continue;
            int prev = pact_oxb_map_get(&b->map, nm);
            if (prev >= 0) {
                char l1[210];
                return pact_fail(b->err, PACT_EFORMAT,
                                 "%s: value '%.200s' is written twice (node '%s' (%.64s) and %s)",
                                 b->origin, nm, pact_oxb_label(b, ni, l1, sizeof l1), m->nodes[ni].op_type,
                                 b->v[prev].producer >= 0 ? "another node" : "an initializer or input");
            }
            b->v[b->n_v] = (value){.name = nm, .kind = V_NONE, .producer = ni, .buf = -1, .op = -1};
            if (!pact_oxb_map_put(&b->map, nm, b->n_v++))
                return pact_oxb_oom(b);
        }
    return PACT_OK;
}

/* Marks the nodes the output depends on (an explicit stack: no recursion on
 * hostile depths) and checks that each of their inputs exists. */
static pact_status mark_live(builder *b)
{
    const pact_ox_model *m = b->m;
    b->live = calloc((size_t)m->n_nodes + 1, 1);
    b->skip = calloc((size_t)m->n_nodes + 1, 1);
    int *stack = malloc(sizeof(int) * ((size_t)m->n_nodes + 1));
    if (!b->live || !b->skip || !stack) {
        free(stack);
        return pact_oxb_oom(b);
    }
    int top = 0, p = b->v[b->out_value].producer;
    if (p >= 0) {
        b->live[p] = 1;
        stack[top++] = p;
    }
    pact_status st = PACT_OK;
    while (top > 0 && st == PACT_OK) {
        int ni = stack[--top];
        const pact_ox_node *nd = &m->nodes[ni];
        for (int i = 0; i < nd->n_in && st == PACT_OK; i++) {
            if (!nd->in[i][0])
                continue;
            int k = pact_oxb_map_get(&b->map, nd->in[i]);
            if (k < 0) {
                st = pact_oxb_node_fail(b, ni, PACT_EFORMAT, "input '%.200s' is not an initializer, a graph "
                               "input or any node's output (missing initializer?)", nd->in[i]);
                break;
            }
            int q = b->v[k].producer;
            if (q >= 0 && !b->live[q]) {
                b->live[q] = 1;
                stack[top++] = q;
            }
        }
    }
    free(stack);
    return st;
}

/* Consumers of every value among the live nodes, and a topological order
 * (the file's order when it is one, as ONNX requires; Kahn's otherwise). */
static pact_status order_nodes(builder *b)
{
    const pact_ox_model *m = b->m;
    b->cstart = calloc((size_t)b->n_v + 2, sizeof *b->cstart);
    size_t edges = 0;
    for (int ni = 0; ni < m->n_nodes; ni++)
        if (b->live[ni])
            edges += (size_t)m->nodes[ni].n_in;
    b->cnode = malloc(sizeof(int) * (edges + 1));
    b->order = malloc(sizeof(int) * ((size_t)m->n_nodes + 1));
    int *indeg = calloc((size_t)m->n_nodes + 1, sizeof *indeg);
    int *fill = calloc((size_t)b->n_v + 1, sizeof *fill);
    if (!b->cstart || !b->cnode || !b->order || !indeg || !fill) {
        free(indeg);
        free(fill);
        return pact_oxb_oom(b);
    }
    for (int ni = 0; ni < m->n_nodes; ni++)
        for (int i = 0; b->live[ni] && i < m->nodes[ni].n_in; i++) {
            int k = value_of(b, m->nodes[ni].in[i]);
            if (k >= 0)
                b->cstart[k + 1]++;
        }
    for (int k = 0; k < b->n_v; k++)
        b->cstart[k + 1] += b->cstart[k];
    int sorted = 1;
    for (int ni = 0; ni < m->n_nodes; ni++)
        for (int i = 0; b->live[ni] && i < m->nodes[ni].n_in; i++) {
            int k = value_of(b, m->nodes[ni].in[i]);
            if (k < 0)
                continue;
            b->cnode[b->cstart[k] + fill[k]++] = ni;
            int p = b->v[k].producer;
            if (p >= 0) {
                indeg[ni]++;
                sorted &= p < ni;
            }
        }
    for (int k = 0; k < b->n_v; k++)
        b->v[k].consumers = b->cstart[k + 1] - b->cstart[k] + (k == b->out_value);
    free(fill);
    b->n_order = 0;
    if (sorted) {
        for (int ni = 0; ni < m->n_nodes; ni++)
            if (b->live[ni])
                b->order[b->n_order++] = ni;
        free(indeg);
        return PACT_OK;
    }
    int head = 0;
    for (int ni = 0; ni < m->n_nodes; ni++)
        if (b->live[ni] && indeg[ni] == 0)
            b->order[b->n_order++] = ni;
    while (head < b->n_order) {
        int ni = b->order[head++];
        for (int o = 0; o < m->nodes[ni].n_out; o++) {
            int k = value_of(b, m->nodes[ni].out[o]);
            for (int c = k >= 0 ? b->cstart[k] : 0; k >= 0 && c < b->cstart[k + 1]; c++)
                if (--indeg[b->cnode[c]] == 0)
                    b->order[b->n_order++] = b->cnode[c];
        }
    }
    pact_status st = PACT_OK;
    for (int ni = 0; ni < m->n_nodes && st == PACT_OK; ni++)
        if (b->live[ni] && indeg[ni] > 0)
            st = pact_oxb_node_fail(b, ni, PACT_EFORMAT, "the graph has a cycle through this node");
    free(indeg);
    return st;
}

static pact_status input_norm(builder *b, pact_op *op)
{
    const pact_net_opts *o = b->opts;
    const char *ms = pact_ox_metadata(b->m, "input_mean"), *ss = pact_ox_metadata(b->m, "input_std");
    double mean[3], std[3];
    if (o && o->input_mean)
        memcpy(mean, o->input_mean, sizeof mean);
    else if (!ms)
        return pact_fail(b->err, PACT_EFORMAT, "%s: no input_mean in metadata_props (give the "
                         "normalisation explicitly, e.g. --input-mean 0,0,0 --input-std 1,1,1 "
                         "when the model normalises itself)", b->origin);
    else if (!pact_parse_triple(ms, mean))
        return pact_fail(b->err, PACT_EFORMAT, "%s: metadata_props input_mean '%.64s' is not A,B,C",
                         b->origin, ms);
    if (o && o->input_std)
        memcpy(std, o->input_std, sizeof std);
    else if (!ss)
        return pact_fail(b->err, PACT_EFORMAT, "%s: no input_std in metadata_props (give the "
                         "normalisation explicitly)", b->origin);
    else if (!pact_parse_triple(ss, std))
        return pact_fail(b->err, PACT_EFORMAT, "%s: metadata_props input_std '%.64s' is not A,B,C",
                         b->origin, ss);
    for (int c = 0; c < 3; c++) {
        if (!isfinite(mean[c]) || !(std[c] > 0.0) || !isfinite(std[c]))
            return pact_fail(b->err, PACT_EINVAL, "%s: input normalisation channel %d: mean %g, "
                             "std %g (need finite, std > 0)", b->origin, c, mean[c], std[c]);
        op->mean[c] = (float)mean[c];
        op->std[c] = (float)std[c];
    }
    return PACT_OK;
}

static pact_status setup_input(builder *b)
{
    const pact_ox_model *m = b->m;
    int found = -1;
    for (int k = 0; k < m->n_inputs; k++) {
        int vk = pact_oxb_map_get(&b->map, m->inputs[k].name);
        if (vk < 0 || b->v[vk].kind == V_CONST || b->v[vk].consumers == 0)
            continue;
        if (found >= 0)
            return pact_fail(b->err, PACT_EUNSUPPORTED, "%s: graph inputs '%s' and '%s' are both "
                             "used; polyact needs exactly one (the image)", b->origin,
                             m->inputs[found].name, m->inputs[k].name);
        found = k;
    }
    if (found < 0)
        return pact_fail(b->err, PACT_EFORMAT, "%s: the output does not depend on any graph input",
                         b->origin);
    const pact_ox_value *in = &m->inputs[found];
    if (!in->has_shape || in->ndim != 4 || (in->elem_type && in->elem_type != PACT_OX_FLOAT))
        return pact_fail(b->err, PACT_EUNSUPPORTED, "%s: graph input '%s' must be a float tensor "
                         "[N, 3, H, W] with a declared shape", b->origin, in->name);
    for (int d = 1; d < 4; d++)
        if (in->dims[d] < 1 || in->dims[d] > 65536 || (d == 1 && in->dims[d] != 3))
            return pact_fail(b->err, PACT_EUNSUPPORTED, "%s: graph input '%s': dimension %d is %lld "
                             "(need [N, 3, H, W], static H and W)", b->origin, in->name, d,
                             (long long)in->dims[d]);
    int vk = pact_oxb_map_get(&b->map, in->name);
    pact_op *op = pact_oxb_emit(b);
    if (!op)
        return pact_oxb_oom(b);
    pact_status st = pact_oxb_set_runtime(b, vk, 4, in->dims + 1, -1, 0);
    if (st != PACT_OK)
        return st;
    op = &b->g->ops[0];
    op->kind = PACT_OP_NORMALIZE;
    op->in = -1;
    op->out = b->v[vk].buf;
    op->in_shape = op->out_shape = shape_of(&b->v[vk]);
    b->g->input_size = (int)floats_of(&b->v[vk]);
    return input_norm(b, op);
}

/* The output: the last op must write it (it writes the logits), else a copy. */
static pact_status finish_output(builder *b)
{
    pact_graph *g = b->g;
    const value *y = &b->v[b->out_value];
    if (y->kind != V_RUNTIME)
        return pact_fail(b->err, PACT_EUNSUPPORTED, "%s: the graph output '%s' does not depend on "
                         "the input", b->origin, y->name);
    size_t n = floats_of(y);
    if (n < 1 || n > 1000000)
        return pact_fail(b->err, PACT_EFORMAT, "%s: output '%s' has %zu values per image",
                         b->origin, y->name, n);
    g->n_classes = (int)n;
    const pact_op *last = &g->ops[g->n_ops - 1];
    if (y->op != g->n_ops - 1 || last->kind == PACT_OP_ACT || last->out != y->buf ||
        last->kind == PACT_OP_NORMALIZE) {
        int buf = pact_oxb_alloc_buf(b, n);
        pact_op *op = buf >= 0 ? pact_oxb_emit(b) : NULL;
        if (!op)
            return pact_oxb_oom(b);
        y = &b->v[b->out_value];
        op->kind = PACT_OP_COPY;
        op->in = y->buf;
        op->out = buf;
        op->in_shape = op->out_shape = shape_of(y);
    }
    const char *nc = pact_ox_metadata(b->m, "num_classes");
    if (nc) {
        char *end;
        errno = 0;
        long v = strtol(nc, &end, 10);
        if (errno || end == nc || *end || v != (long)n)
            return pact_fail(b->err, PACT_EFORMAT, "%s: metadata_props num_classes '%.32s' but "
                             "the output '%s' has %zu values per image", b->origin, nc, y->name, n);
    }
    if (b->opts && b->opts->n_classes && b->opts->n_classes != (int)n)
        return pact_fail(b->err, PACT_EMISMATCH, "%s: %d classes expected, the output '%s' has "
                         "%zu values per image", b->origin, b->opts->n_classes, y->name, n);
    return PACT_OK;
}

/* A name for the network: metadata "arch", else the file's name without its
 * directory and extension, else the graph's name (PyTorch names every graph
 * "torch_jit"). */
static void net_name(const builder *b, char *name, size_t size)
{
    const char *cands[3] = {pact_ox_metadata(b->m, "arch"), NULL, b->m->graph_name};
    const char *base = strrchr(b->origin, '/');
    base = base ? base + 1 : b->origin;
    char stem[64];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    cands[1] = stem;
    for (int i = 0; i < 3; i++) {
        const char *s = cands[i];
        size_t len = s ? strlen(s) : 0;
        int ok = len > 0 && len < size && len < 32;
        for (size_t k = 0; ok && k < len; k++)
            ok = isalnum((unsigned char)s[k]) || strchr("._-+", s[k]);
        if (ok) {
            snprintf(name, size, "%s", s);
            return;
        }
    }
    snprintf(name, size, "onnx");
}

/* Every activation's state must fit the engine's split (pact_net_forward_to):
 * one backward pass counts the buffers read at or after each op before being
 * written again (what pact_graph_state lists). */
static pact_status check_states(builder *b)
{
    const pact_graph *g = b->g;
    char *live = calloc((size_t)g->n_bufs + 1, 1);
    if (!live)
        return pact_oxb_oom(b);
    int count = 0;
    pact_status st = PACT_OK;
    for (int i = g->n_ops - 1; i >= 0 && st == PACT_OK; i--) {
        const pact_op *op = &g->ops[i];
        if (live[op->out]) {
            live[op->out] = 0;
            count--;
        }
        int reads[2] = {op->kind != PACT_OP_NORMALIZE ? op->in : -1,
                        pact_op_reads_res(op) ? op->res : -1};
        for (int r = 0; r < 2; r++)
            if (reads[r] >= 0 && !live[reads[r]]) {
                live[reads[r]] = 1;
                count++;
            }
        if (op->kind == PACT_OP_ACT && count > PACT_GRAPH_MAX_STATE)
            st = pact_fail(b->err, PACT_EUNSUPPORTED, "%s: %d tensors are live at activation %s "
                           "(at most %d)", b->origin, count, g->act_names[op->layer],
                           PACT_GRAPH_MAX_STATE);
    }
    free(live);
    return st;
}

pact_status pact_onnx_build(const pact_ox_model *model, const pact_net_opts *opts, pact_graph *g,
                            char *name, size_t name_size, pact_error *err)
{
    memset(g, 0, sizeof *g);
    builder bd = {.m = model, .origin = model->origin, .opts = opts, .g = g, .err = err,
                  .opset = model->opset ? model->opset : 13, .out_value = -1};
    builder *b = &bd;
    pact_status st = PACT_OK;
    if (opts && (unsigned)opts->act >= PACT_FUNC_COUNT)
        st = pact_fail(err, PACT_EINVAL, "activation function %d is unknown", (int)opts->act);
    if (st == PACT_OK && model->n_nodes > PACT_ONNX_MAX_NODES)
        st = pact_fail(err, PACT_EUNSUPPORTED, "%s: %d nodes (at most %d)", b->origin,
                       model->n_nodes, PACT_ONNX_MAX_NODES);
    if (st == PACT_OK && model->n_outputs != 1)
        st = pact_fail(err, PACT_EUNSUPPORTED, "%s: the graph has %d outputs; polyact needs exactly "
                       "one (the logits)", b->origin, model->n_outputs);
    if (st == PACT_OK)
        st = register_values(b);
    if (st == PACT_OK && (b->out_value = pact_oxb_map_get(&b->map, model->outputs[0].name)) < 0)
        st = pact_fail(err, PACT_EFORMAT, "%s: the graph output '%s' is not written by any node",
                       b->origin, model->outputs[0].name);
    if (st == PACT_OK)
        st = mark_live(b);
    if (st == PACT_OK)
        st = order_nodes(b);
    if (st == PACT_OK)
        st = setup_input(b);
    for (int k = 0; k < b->n_order && st == PACT_OK; k++)
        if (!b->skip[b->order[k]])
            st = pact_oxb_lower_node(b, b->order[k]);
    if (st == PACT_OK)
        st = finish_output(b);
    if (st == PACT_OK && g->n_act == 0)
        st = pact_fail(err, PACT_EUNSUPPORTED, "%s: no activation layer (Relu, GELU, SiLU, "
                       "Sigmoid, Tanh) found", b->origin);
    if (st == PACT_OK) {
        /* the arrays pact_graph_clear frees must exist even when empty */
        for (int k = 0; k < g->n_bufs; k++)
            if (g->buf_floats[k] == 0)
                g->buf_floats[k] = 1;
        st = pact_graph_finish(g, err);
    }
    if (st == PACT_OK)
        st = check_states(b);
    if (st == PACT_OK)
        net_name(b, name, name_size);
    for (int k = 0; k < b->n_v; k++)
        pact_ox_tensor_clear(&b->v[k].owned);
    free(b->v);
    free(b->map.keys);
    free(b->map.vals);
    free(b->act_map.keys);
    free(b->act_map.vals);
    free(b->live);
    free(b->skip);
    free(b->order);
    free(b->cstart);
    free(b->cnode);
    free(b->buf_uses);
    free(b->buf_free);
    if (st != PACT_OK)
        pact_graph_clear(g);
    return st;
}
