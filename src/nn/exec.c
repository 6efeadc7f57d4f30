/* Runs a layer graph on a batch, slice by slice, calling the activation hook at
 * every activation layer. */
#include "graph.h"
#include "../internal.h"

#include <stdlib.h>
#include <string.h>

void pact_graph_clear(pact_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_ops; i++) {
        free(g->ops[i].weight);
        free(g->ops[i].bias);
        free(g->ops[i].wino);
    }
    for (int i = 0; i < g->n_act; i++)
        free(g->act_names ? g->act_names[i] : NULL);
    free(g->ops);
    free(g->buf_floats);
    free(g->act_names);
    free(g->act_funcs);
    free(g->act_op);
    memset(g, 0, sizeof *g);
}

static size_t shape_floats(pact_shape s) { return (size_t)s.c * s.h * s.w; }

static int reads(const pact_op *op, int buf)
{
    return (op->kind != PACT_OP_NORMALIZE && op->in == buf) || (op->kind == PACT_OP_CONV && op->res == buf);
}

/* Per-image floats of what buffer `buf` holds when op `op` starts: the output of
 * the last op before it that wrote `buf`. */
static size_t held_floats(const pact_graph *g, int op, int buf)
{
    for (int i = op - 1; i >= 0; i--)
        if (g->ops[i].out == buf)
            return shape_floats(g->ops[i].out_shape);
    return 0;
}

int pact_graph_state(const pact_graph *g, int op, int *ids, size_t *floats, int max_ids,
                     size_t *total)
{
    int n = 0;
    *total = 0;
    /* the activation's own buffer first, so that the state begins with its input */
    int first = op < g->n_ops && g->ops[op].kind == PACT_OP_ACT ? g->ops[op].in : -1;
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < g->n_bufs; b++) {
            if ((pass == 0) != (b == first))
                continue;
            int live = 0;
            for (int i = op; i < g->n_ops; i++) {
                if (reads(&g->ops[i], b)) {
                    live = 1;
                    break;
                }
                if (g->ops[i].out == b)
                    break;
            }
            if (live && n < max_ids) {
                ids[n] = b;
                floats[n] = held_floats(g, op, b);
                *total += floats[n++];
            }
        }
    return n;
}

pact_status pact_graph_finish(pact_graph *g, pact_error *err)
{
    g->act_op = malloc(sizeof(int) * (size_t)(g->n_act > 0 ? g->n_act : 1));
    if (!g->act_op)
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    for (int l = 0; l < g->n_act; l++)
        g->act_op[l] = -1;
    for (int i = 0; i < g->n_ops; i++) {
        const pact_op *op = &g->ops[i];
        int bad = op->out < 0 || op->out >= g->n_bufs ||
                  (op->kind != PACT_OP_NORMALIZE && (op->in < 0 || op->in >= g->n_bufs)) ||
                  (op->kind == PACT_OP_CONV && op->res >= g->n_bufs) ||
                  shape_floats(op->out_shape) > g->buf_floats[op->out];
        if (op->kind == PACT_OP_ACT) {
            bad = bad || op->layer < 0 || op->layer >= g->n_act || g->act_op[op->layer] >= 0;
            if (!bad)
                g->act_op[op->layer] = i;
        }
        if (bad)
            return pact_fail(err, PACT_EFORMAT, "internal: malformed graph at op %d", i);
    }
    for (int l = 0; l < g->n_act; l++)
        if (g->act_op[l] < 0)
            return pact_fail(err, PACT_EFORMAT, "internal: activation layer %d has no op", l);
    for (int i = 0; i < g->n_ops; i++)
        if (pact_wino_eligible(&g->ops[i]) && !g->ops[i].wino &&
            pact_wino_prepare(&g->ops[i]) != PACT_OK)
            return pact_fail(err, PACT_ENOMEM, "out of memory");
    return PACT_OK;
}

static void normalize(const pact_op *op, const float *in, float *out, int batch)
{
    const size_t plane = (size_t)op->out_shape.h * op->out_shape.w;
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < op->out_shape.c; c++) {
            const float *x = in + ((size_t)b * op->out_shape.c + c) * plane;
            float *y = out + ((size_t)b * op->out_shape.c + c) * plane;
            const float m = op->mean[c], s = op->std[c];
            for (size_t p = 0; p < plane; p++)
                y[p] = (x[p] - m) / s;
        }
}

static void global_avg_pool(const pact_op *op, const float *in, float *out, int batch)
{
    const size_t plane = (size_t)op->in_shape.h * op->in_shape.w;
    const int c_n = op->in_shape.c;
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < c_n; c++) {
            const float *x = in + ((size_t)b * c_n + c) * plane;
            float s = 0.0f;
            for (size_t p = 0; p < plane; p++)
                s += x[p];
            out[(size_t)b * c_n + c] = s / (float)plane;
        }
}

static void linear(const pact_op *op, const float *in, float *out, int batch)
{
    const int n_in = op->in_shape.c, n_out = op->out_shape.c;
    for (int b = 0; b < batch; b++)
        for (int o = 0; o < n_out; o++) {
            const float *w = op->weight + (size_t)o * n_in;
            const float *x = in + (size_t)b * n_in;
            float s = 0.0f;
            for (int i = 0; i < n_in; i++)
                s += w[i] * x[i];
            out[(size_t)b * n_out + o] = s + op->bias[o];
        }
}

static pact_status run_act(const pact_graph *g, const pact_op *op, float *x, int nb,
                           const pact_graph_io *io, pact_error *err)
{
    const int channels = op->in_shape.c, spatial = op->in_shape.h * op->in_shape.w;
    if (!io->hook) {
        pact_act_apply(g->act_funcs[op->layer], x, (size_t)nb * channels * spatial);
        return PACT_OK;
    }
    pact_error_clear(err);
    pact_status st = io->hook(io->hook_ctx, op->layer, x, nb, channels, spatial, err);
    if (st != PACT_OK && (!err || !err->message[0]))
        return pact_fail(err, st, "activation hook failed at layer %d (%s): %s", op->layer,
                         g->act_names[op->layer], pact_status_str(st));
    return st;
}

pact_status pact_graph_run(const pact_graph *g, int first, int last, int batch, int max_batch,
                           const pact_graph_io *io, pact_error *err)
{
    if (batch <= 0)
        return batch == 0 ? PACT_OK : pact_fail(err, PACT_EINVAL, "batch %d < 0", batch);
    if (first < 0 || last > g->n_ops || first >= last)
        return pact_fail(err, PACT_EINVAL, "op range [%d, %d) outside the graph's %d ops", first,
                         last, g->n_ops);
    int nb_max = max_batch > 0 && max_batch < batch ? max_batch : batch;

    int in_ids[PACT_GRAPH_MAX_STATE], out_ids[PACT_GRAPH_MAX_STATE];
    size_t in_each[PACT_GRAPH_MAX_STATE], out_each[PACT_GRAPH_MAX_STATE];
    size_t in_floats = 0, out_floats = 0;
    int n_in = first > 0 ? pact_graph_state(g, first, in_ids, in_each, PACT_GRAPH_MAX_STATE,
                                            &in_floats)
                         : 0;
    int n_out = last < g->n_ops ? pact_graph_state(g, last, out_ids, out_each,
                                                   PACT_GRAPH_MAX_STATE, &out_floats)
                                : 0;

    /* one workspace per call: the graph stays immutable, so a net may run
     * concurrent forwards from several threads */
    size_t total = 0, conv_work = 0;
    size_t *offset = malloc(sizeof(size_t) * (size_t)g->n_bufs);
    if (!offset)
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    for (int b = 0; b < g->n_bufs; b++) {
        offset[b] = total;
        total += g->buf_floats[b] * (size_t)nb_max;
    }
    for (int i = first; i < last; i++)
        if (g->ops[i].kind == PACT_OP_CONV) {
            size_t w = pact_conv_work_floats(&g->ops[i], nb_max);
            conv_work = w > conv_work ? w : conv_work;
        }
    float *ws = malloc(sizeof(float) * (total + conv_work + 1));
    if (!ws) {
        free(offset);
        return pact_fail(err, PACT_ENOMEM, "out of memory for a %d-image workspace", nb_max);
    }
    float *work = ws + total;

    pact_status st = PACT_OK;
    for (int b0 = 0; b0 < batch && st == PACT_OK; b0 += nb_max) {
        const int nb = batch - b0 < nb_max ? batch - b0 : nb_max;
        /* state in: image-major, the listed buffers one after the other */
        for (int b = 0; b < nb && n_in; b++) {
            const float *src = io->state_in + (size_t)(b0 + b) * in_floats;
            for (int j = 0; j < n_in; j++) {
                size_t f = in_each[j];
                memcpy(ws + offset[in_ids[j]] + (size_t)b * f, src, sizeof(float) * f);
                src += f;
            }
        }
        for (int i = first; i < last && st == PACT_OK; i++) {
            const pact_op *op = &g->ops[i];
            double t0 = io->profile && op->kind != PACT_OP_CONV ? pact_seconds() : 0.0;
            float *out = ws + offset[op->out];
            const float *in = op->kind == PACT_OP_NORMALIZE
                                  ? io->input + (size_t)b0 * g->input_size
                                  : ws + offset[op->in];
            switch (op->kind) {
            case PACT_OP_NORMALIZE:
                normalize(op, in, out, nb);
                break;
            case PACT_OP_CONV: {
                /* without a hook the activation that follows is fused in */
                const pact_op *next = i + 1 < last ? &g->ops[i + 1] : NULL;
                int fuse = !io->hook && next && next->kind == PACT_OP_ACT && next->in == op->out;
                pact_conv_run(op, in, op->res >= 0 ? ws + offset[op->res] : NULL, out, nb, fuse,
                              fuse ? g->act_funcs[next->layer] : PACT_RELU, work, io->profile);
                if (fuse)
                    i++;
                break;
            }
            case PACT_OP_ACT:
                st = run_act(g, op, out, nb, io, err);
                break;
            case PACT_OP_GAP:
                global_avg_pool(op, in, out, nb);
                break;
            case PACT_OP_LINEAR:
                linear(op, in, i == g->n_ops - 1 ? io->logits + (size_t)b0 * g->n_classes : out,
                       nb);
                break;
            }
            if (io->profile && op->kind != PACT_OP_CONV)
                io->profile[op->kind == PACT_OP_ACT ? PACT_PROF_ACT : PACT_PROF_OTHER] +=
                    pact_seconds() - t0;
        }
        for (int b = 0; b < nb && n_out && st == PACT_OK; b++) {
            float *dst = io->state_out + (size_t)(b0 + b) * out_floats;
            for (int j = 0; j < n_out; j++) {
                size_t f = out_each[j];
                memcpy(dst, ws + offset[out_ids[j]] + (size_t)b * f, sizeof(float) * f);
                dst += f;
            }
        }
    }
    free(ws);
    free(offset);
    return st;
}
