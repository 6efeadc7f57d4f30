/* Runs a layer graph on a batch, slice by slice, calling the activation hook at
 * every activation layer. */
#define _POSIX_C_SOURCE 200809L
#include "graph.h"
#include "../internal.h"

#include <pthread.h>
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
    return (op->kind != PACT_OP_NORMALIZE && op->in == buf) ||
           (pact_op_reads_res(op) && op->res == buf);
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
                  ((op->kind == PACT_OP_ADD || op->kind == PACT_OP_CONCAT) &&
                   (op->res < 0 || op->res >= g->n_bufs)) ||
                  shape_floats(op->out_shape) > g->buf_floats[op->out] ||
                  (i == g->n_ops - 1 && (op->kind == PACT_OP_ACT ||
                                         shape_floats(op->out_shape) != (size_t)g->n_classes));
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
    /* threads run ahead of each other between barriers: an op that stores a
     * different size per image into a buffer than what it held would overlap
     * another thread's images of the old content */
    for (int i = 0; i < g->n_ops; i++) {
        pact_op *op = &g->ops[i];
        size_t held = 0;
        for (int j = i - 1; j >= 0 && !held; j--)
            if (g->ops[j].out == op->out)
                held = shape_floats(g->ops[j].out_shape);
        op->sync = held != 0 && held != shape_floats(op->out_shape);
    }
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

static pact_status run_act(const pact_graph *g, const pact_op *op, const float *in, float *x,
                           int nb, const pact_graph_io *io, pact_error *err)
{
    const int channels = op->in_shape.c, spatial = op->in_shape.h * op->in_shape.w;
    if (in != x)
        memcpy(x, in, sizeof(float) * (size_t)nb * channels * spatial);
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

/* Everything one call needs: the workspace and where each buffer lives. */
typedef struct {
    const pact_graph *g;
    const pact_graph_io *io;
    float *ws;              /* buffers, nb_max images each */
    size_t *offset;         /* per buffer */
    float *work;            /* conv scratch: conv_work floats per thread */
    size_t conv_work;
    int threads;
} run_ctx;

/* Per-image floats of the tensor an op reads from buffer `buf` (its in, or res). */
static size_t img_floats(pact_shape s) { return shape_floats(s); }

static void run_ops_group(const run_ctx *rc, int i0, int i1, int b0, int bs, int cnt,
                          float *work);

/* Runs ops [i0, i1) on images [bs, bs + cnt) of the slice starting at image
 * b0 of the call (none of them a hooked activation), PACT_GROUP_ALIGN images
 * at a time through all the ops: a group's activations stay in the core's
 * cache from one op to the next (the groups are those of the convolutions, so
 * results are unchanged). */
static void run_ops(const run_ctx *rc, int i0, int i1, int b0, int bs, int cnt, float *work)
{
    for (int s = bs; s < bs + cnt; s += PACT_GROUP_ALIGN) {
        int c = bs + cnt - s < PACT_GROUP_ALIGN ? bs + cnt - s : PACT_GROUP_ALIGN;
        run_ops_group(rc, i0, i1, b0, s, c, work);
    }
}

static void run_ops_group(const run_ctx *rc, int i0, int i1, int b0, int bs, int cnt,
                          float *work)
{
    const pact_graph *g = rc->g;
    const pact_graph_io *io = rc->io;
    double *profile = rc->threads == 1 ? io->profile : NULL;
    for (int i = i0; i < i1; i++) {
        const pact_op *op = &g->ops[i];
        double t0 = profile && op->kind != PACT_OP_CONV ? pact_seconds() : 0.0;
        /* the last op writes the logits */
        float *out = i == g->n_ops - 1
                         ? io->logits + (size_t)(b0 + bs) * g->n_classes
                         : rc->ws + rc->offset[op->out] + (size_t)bs * img_floats(op->out_shape);
        const float *in =
            op->kind == PACT_OP_NORMALIZE
                ? io->input + (size_t)(b0 + bs) * g->input_size
                : rc->ws + rc->offset[op->in] + (size_t)bs * img_floats(op->in_shape);
        switch (op->kind) {
        case PACT_OP_NORMALIZE:
            normalize(op, in, out, cnt);
            break;
        case PACT_OP_CONV: {
            /* without a hook the activation that follows is fused in */
            const pact_op *next = i + 1 < i1 ? &g->ops[i + 1] : NULL;
            int fuse = !io->hook && next && next->kind == PACT_OP_ACT && next->in == op->out &&
                       next->out == op->out;
            const float *res = op->res >= 0 ? rc->ws + rc->offset[op->res] +
                                                  (size_t)bs * img_floats(op->res_shape)
                                            : NULL;
            pact_conv_run(op, in, res, out, cnt, fuse,
                          fuse ? g->act_funcs[next->layer] : PACT_RELU, work, profile);
            if (fuse)
                i++;
            break;
        }
        case PACT_OP_ACT: /* only reached without a hook */
            if (out != in)
                memcpy(out, in, sizeof(float) * (size_t)cnt * img_floats(op->in_shape));
            pact_act_apply(g->act_funcs[op->layer], out,
                           (size_t)cnt * img_floats(op->in_shape));
            break;
        case PACT_OP_GAP:
            global_avg_pool(op, in, out, cnt);
            break;
        case PACT_OP_LINEAR:
            linear(op, in, out, cnt);
            break;
        default: {
            const float *res = pact_op_reads_res(op) ? rc->ws + rc->offset[op->res] +
                                                           (size_t)bs * img_floats(op->res_shape)
                                                     : NULL;
            pact_ops_run(op, in, res, out, cnt);
            break;
        }
        }
        if (profile && op->kind != PACT_OP_CONV)
            profile[op->kind == PACT_OP_ACT ? PACT_PROF_ACT : PACT_PROF_OTHER] +=
                pact_seconds() - t0;
    }
}

/* The engine's threads: for one call, threads-1 workers that each take their
 * share of the slice's images for every segment of ops the caller posts. */
typedef struct {
    const run_ctx *rc;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation;
    int pending, stop;
    int i0, i1, b0, nb;     /* the posted segment */
    pthread_t *tids;
    int started;
} pool;

typedef struct {
    pool *p;
    int index;              /* 1..threads-1 (the caller is 0) */
} worker_arg;

/* Thread `index`'s images of a slice of nb: whole units of PACT_GROUP_ALIGN
 * images (the last unit may be short), spread as evenly as units allow. */
static void share(int nb, int threads, int index, int *bs, int *cnt)
{
    long units = (nb + PACT_GROUP_ALIGN - 1) / PACT_GROUP_ALIGN;
    int a = (int)(units * index / threads) * PACT_GROUP_ALIGN;
    int b = (int)(units * (index + 1) / threads) * PACT_GROUP_ALIGN;
    *bs = a < nb ? a : nb;
    *cnt = (b < nb ? b : nb) - *bs;
}

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    pool *p = wa->p;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        int i0 = p->i0, i1 = p->i1, b0 = p->b0, nb = p->nb;
        pthread_mutex_unlock(&p->mu);
        int bs, cnt;
        share(nb, p->rc->threads, wa->index, &bs, &cnt);
        if (cnt > 0)
            run_ops(p->rc, i0, i1, b0, bs, cnt,
                    p->rc->work + (size_t)wa->index * p->rc->conv_work);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Runs ops [i0, i1) on the nb images of the slice at b0, on every thread. */
static void run_segment(pool *p, const run_ctx *rc, int i0, int i1, int b0, int nb)
{
    if (!p) {
        run_ops(rc, i0, i1, b0, 0, nb, rc->work);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->i0 = i0;
    p->i1 = i1;
    p->b0 = b0;
    p->nb = nb;
    p->pending = p->started;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    int bs, cnt;
    share(nb, rc->threads, 0, &bs, &cnt);
    if (cnt > 0)
        run_ops(rc, i0, i1, b0, bs, cnt, rc->work);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void pool_stop(pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->tids[i], NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
}

/* Starts rc->threads - 1 workers; returns the number started (a machine that
 * refuses threads still computes: the caller's thread takes their shares). */
static int pool_start(pool *p, const run_ctx *rc, worker_arg *args, pthread_t *tids)
{
    memset(p, 0, sizeof *p);
    p->rc = rc;
    p->tids = tids;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&p->go, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return -1;
    }
    if (pthread_cond_init(&p->done, NULL) != 0) {
        pthread_cond_destroy(&p->go);
        pthread_mutex_destroy(&p->mu);
        return -1;
    }
    for (int i = 1; i < rc->threads; i++) {
        args[i - 1] = (worker_arg){p, i};
        if (pthread_create(&tids[p->started], NULL, worker_main, &args[i - 1]) != 0)
            break;
        p->started++;
    }
    return p->started;
}

pact_status pact_graph_run(const pact_graph *g, int first, int last, int batch, int max_batch,
                           int threads, const pact_graph_io *io, pact_error *err)
{
    if (batch <= 0)
        return batch == 0 ? PACT_OK : pact_fail(err, PACT_EINVAL, "batch %d < 0", batch);
    if (first < 0 || last > g->n_ops || first >= last)
        return pact_fail(err, PACT_EINVAL, "op range [%d, %d) outside the graph's %d ops", first,
                         last, g->n_ops);
    const int nb_max = max_batch > 0 && max_batch < batch ? max_batch : batch;
    if (threads < 1)
        threads = 1;
    if (threads > nb_max)
        threads = nb_max;

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
    run_ctx rc = {.g = g, .io = io, .threads = threads};
    size_t total = 0;
    rc.offset = malloc(sizeof(size_t) * (size_t)g->n_bufs);
    if (!rc.offset)
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    for (int b = 0; b < g->n_bufs; b++) {
        rc.offset[b] = total;
        total += g->buf_floats[b] * (size_t)nb_max;
    }
    for (int i = first; i < last; i++)
        if (g->ops[i].kind == PACT_OP_CONV) {
            size_t w = pact_conv_work_floats(&g->ops[i], nb_max);
            rc.conv_work = w > rc.conv_work ? w : rc.conv_work;
        }
    rc.ws = malloc(sizeof(float) * (total + rc.conv_work * (size_t)threads + 1));
    pthread_t *tids = malloc(sizeof(pthread_t) * (size_t)threads);
    worker_arg *args = malloc(sizeof(worker_arg) * (size_t)threads);
    if (!rc.ws || !tids || !args) {
        free(rc.ws);
        free(rc.offset);
        free(tids);
        free(args);
        return pact_fail(err, PACT_ENOMEM, "out of memory for a %d-image workspace", nb_max);
    }
    rc.work = rc.ws + total;
    pool pl, *p = NULL;
    if (threads > 1) {
        int started = pool_start(&pl, &rc, args, tids);
        if (started > 0) {
            p = &pl;
            rc.threads = started + 1;
        } else {
            if (started == 0)
                pool_stop(&pl);
            rc.threads = 1;
        }
    }

    pact_status st = PACT_OK;
    for (int b0 = 0; b0 < batch && st == PACT_OK; b0 += nb_max) {
        const int nb = batch - b0 < nb_max ? batch - b0 : nb_max;
        /* state in: image-major, the listed buffers one after the other */
        for (int b = 0; b < nb && n_in; b++) {
            const float *src = io->state_in + (size_t)(b0 + b) * in_floats;
            for (int j = 0; j < n_in; j++) {
                memcpy(rc.ws + rc.offset[in_ids[j]] + (size_t)b * in_each[j], src,
                       sizeof(float) * in_each[j]);
                src += in_each[j];
            }
        }
        /* segments end at hooked activations, where the caller's thread calls
         * the hook once for the whole slice, and before ops that need every
         * thread to be done with a buffer (op->sync) */
        for (int i0 = first; i0 < last && st == PACT_OK;) {
            int i1 = i0;
            while (i1 < last && !(io->hook && g->ops[i1].kind == PACT_OP_ACT) &&
                   !(i1 > i0 && g->ops[i1].sync))
                i1++;
            if (i1 > i0)
                run_segment(p, &rc, i0, i1, b0, nb);
            if (i1 < last && io->hook && g->ops[i1].kind == PACT_OP_ACT) {
                const pact_op *op = &g->ops[i1];
                double t0 = io->profile ? pact_seconds() : 0.0;
                st = run_act(g, op, rc.ws + rc.offset[op->in], rc.ws + rc.offset[op->out], nb,
                             io, err);
                if (io->profile)
                    io->profile[PACT_PROF_ACT] += pact_seconds() - t0;
                i1++;
            }
            i0 = i1;
        }
        for (int b = 0; b < nb && n_out && st == PACT_OK; b++) {
            float *dst = io->state_out + (size_t)(b0 + b) * out_floats;
            for (int j = 0; j < n_out; j++) {
                memcpy(dst, rc.ws + rc.offset[out_ids[j]] + (size_t)b * out_each[j],
                       sizeof(float) * out_each[j]);
                dst += out_each[j];
            }
        }
    }
    pool_stop(p);
    free(rc.ws);
    free(rc.offset);
    free(tids);
    free(args);
    return st;
}
