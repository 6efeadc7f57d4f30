/* The ONNX builder's shared pieces: value-name lookup, error messages, per-
 * image buffers reused after their last reader, ops and activation layers
 * (named after their nodes). */
#define _POSIX_C_SOURCE 200809L
#include "onnx_builder.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int pact_oxb_map_get(const name_map *m, const char *key)
{
    if (!m->cap)
        return -1;
    for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return -1;
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
    }
}

int pact_oxb_map_put(name_map *m, const char *key, int val)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        const char **keys = calloc(cap, sizeof *keys);
        int *vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return 0;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = hash_str(m->keys[i]) & (cap - 1);
                while (keys[j])
                    j = (j + 1) & (cap - 1);
                keys[j] = m->keys[i];
                vals[j] = m->vals[i];
            }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i])
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return 1;
}

const char *pact_oxb_label(const builder *b, int ni, char *buf, size_t size)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    if (nd->name[0])
        snprintf(buf, size, "%.200s", nd->name);
    else
        snprintf(buf, size, "#%d", ni);
    return buf;
}

pact_status pact_oxb_node_fail(builder *b, int ni, pact_status st, const char *fmt, ...)
{
    char msg[320], lb[210];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pact_fail(b->err, st, "%s: node '%s' (%.64s): %s", b->origin,
                     pact_oxb_label(b, ni, lb, sizeof lb), b->m->nodes[ni].op_type, msg);
}

pact_status pact_oxb_oom(builder *b) { return pact_fail(b->err, PACT_ENOMEM, "%s: out of memory", b->origin); }

/* --- buffers ---------------------------------------------------------------- */

static int grow_bufs(builder *b)
{
    int cap = b->cap_buf ? 2 * b->cap_buf : 16;
    size_t *fl = realloc(b->g->buf_floats, sizeof *fl * (size_t)cap);
    if (!fl)
        return 0;
    b->g->buf_floats = fl;
    int *uses = realloc(b->buf_uses, sizeof *uses * (size_t)cap);
    if (!uses)
        return 0;
    b->buf_uses = uses;
    char *fr = realloc(b->buf_free, (size_t)cap);
    if (!fr)
        return 0;
    b->buf_free = fr;
    b->cap_buf = cap;
    return 1;
}

/* A free buffer for `floats` per image: the smallest that holds it, else the
 * largest (grown), else a new one. -1 when out of memory. */
int pact_oxb_alloc_buf(builder *b, size_t floats)
{
    pact_graph *g = b->g;
    int best = -1, largest = -1;
    for (int k = 0; k < g->n_bufs; k++) {
        if (!b->buf_free[k])
            continue;
        if (g->buf_floats[k] >= floats && (best < 0 || g->buf_floats[k] < g->buf_floats[best]))
            best = k;
        if (largest < 0 || g->buf_floats[k] > g->buf_floats[largest])
            largest = k;
    }
    int k = best >= 0 ? best : largest;
    if (k < 0) {
        if (g->n_bufs == b->cap_buf && !grow_bufs(b))
            return -1;
        k = g->n_bufs++;
        g->buf_floats[k] = 0;
    }
    if (g->buf_floats[k] < floats)
        g->buf_floats[k] = floats;
    b->buf_free[k] = 0;
    b->buf_uses[k] = 0;
    return k;
}

/* Makes value k runtime with the given shape, in buffer buf (a new one when
 * buf < 0). Its consumers are counted on the buffer. */
pact_status pact_oxb_set_runtime(builder *b, int k, int rank, const int64_t *dims, int buf, int op)
{
    value *v = &b->v[k];
    v->kind = V_RUNTIME;
    v->rank = rank;
    for (int d = 0; d < 3; d++)
        v->dims[d] = d < rank - 1 ? dims[d] : 1;
    if (buf < 0 && (buf = pact_oxb_alloc_buf(b, floats_of(v))) < 0)
        return pact_oxb_oom(b);
    v->buf = buf;
    v->op = op;
    b->buf_uses[buf] += v->consumers;
    return PACT_OK;
}

/* One use of runtime value `name` is over. */
void pact_oxb_consume(builder *b, const char *name)
{
    int k = value_of(b, name);
    if (k < 0 || b->v[k].kind != V_RUNTIME)
        return;
    int buf = b->v[k].buf;
    if (--b->buf_uses[buf] <= 0)
        b->buf_free[buf] = 1;
}

void pact_oxb_consume_node(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    for (int i = 0; i < nd->n_in; i++)
        pact_oxb_consume(b, nd->in[i]);
}

/* --- ops and activation layers --------------------------------------------- */

pact_op *pact_oxb_emit(builder *b)
{
    pact_graph *g = b->g;
    if (g->n_ops == b->cap_ops) {
        int cap = b->cap_ops ? 2 * b->cap_ops : 64;
        pact_op *ops = realloc(g->ops, sizeof *ops * (size_t)cap);
        if (!ops)
            return NULL;
        g->ops = ops;
        b->cap_ops = cap;
    }
    pact_op *op = &g->ops[g->n_ops++];
    memset(op, 0, sizeof *op);
    op->res = -1;
    op->step[0] = op->step[1] = op->step[2] = 1;
    return op;
}

/* Activation name from a node name: PyTorch's scope path
 * "/layer1/layer1.0/relu1/Relu" becomes "layer1.0.relu1": the leading '/'
 * and the op type dropped, a scope that prefixes the next one dropped, '/'
 * joined as '.'. Unnamed nodes: "<op type><node index>". */
static void act_name(const builder *b, int ni, char *out, size_t size)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    char parts[16][128];
    int n = 0;
    const char *s = nd->name;
    while (*s && n < 16) {
        while (*s == '/')
            s++;
        size_t len = strcspn(s, "/");
        if (!len)
            break;
        snprintf(parts[n++], sizeof parts[0], "%.*s", (int)(len < 127 ? len : 127), s);
        s += len;
    }
    if (n > 1) { /* the last part is the op type, possibly numbered: Relu, Mul_1 */
        size_t ol = strlen(nd->op_type);
        if (strncmp(parts[n - 1], nd->op_type, ol) == 0 &&
            (parts[n - 1][ol] == '\0' || parts[n - 1][ol] == '_'))
            n--;
    }
    out[0] = '\0';
    if (n == 0) {
        snprintf(out, size, "%.64s%d", nd->op_type, ni);
        for (char *c = out; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        return;
    }
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        size_t pl = strlen(parts[i]);
        if (i + 1 < n && strncmp(parts[i + 1], parts[i], pl) == 0 && parts[i + 1][pl] == '.')
            continue;
        int w = snprintf(out + at, size - at, "%s%s", at ? "." : "", parts[i]);
        if (w < 0 || (size_t)w >= size - at)
            break;
        at += (size_t)w;
    }
}

static pact_status add_act_layer(builder *b, int name_node, pact_func f, int *layer)
{
    pact_graph *g = b->g;
    if (g->n_act == b->cap_act) {
        int cap = b->cap_act ? 2 * b->cap_act : 32;
        char **names = realloc(g->act_names, sizeof *names * (size_t)cap);
        if (!names)
            return pact_oxb_oom(b);
        g->act_names = names;
        pact_func *funcs = realloc(g->act_funcs, sizeof *funcs * (size_t)cap);
        if (!funcs)
            return pact_oxb_oom(b);
        g->act_funcs = funcs;
        b->cap_act = cap;
    }
    char name[200];
    act_name(b, name_node, name, sizeof name);
    /* names must be unique: a repeat gets "#2", "#3", ... */
    char unique[220];
    snprintf(unique, sizeof unique, "%s", name);
    for (int k = 2; pact_oxb_map_get(&b->act_map, unique) >= 0 && k < 1000000; k++)
        snprintf(unique, sizeof unique, "%s#%d", name, k);
    size_t len = strlen(unique) + 1;
    char *copy = malloc(len);
    if (!copy)
        return pact_oxb_oom(b);
    memcpy(copy, unique, len);
    if (!pact_oxb_map_put(&b->act_map, copy, g->n_act)) {
        free(copy);
        return pact_oxb_oom(b);
    }
    g->act_names[g->n_act] = copy;
    g->act_funcs[g->n_act] = f;
    *layer = g->n_act++;
    return PACT_OK;
}

/* Activation `f` of runtime value x into value `out_k`; `uses_of_x` is how
 * many inputs of the nodes being replaced read x: when they are the last
 * uses of x's buffer the activation runs in place. */
pact_status pact_oxb_emit_act(builder *b, int x_k, int out_k, pact_func f, int name_node,
                            int uses_of_x)
{
    value *x = &b->v[x_k];
    int layer;
    pact_status st = add_act_layer(b, name_node, f, &layer);
    if (st != PACT_OK)
        return st;
    int in_place = b->buf_uses[x->buf] == uses_of_x;
    int out_buf = in_place ? x->buf : pact_oxb_alloc_buf(b, floats_of(x));
    if (out_buf < 0)
        return pact_oxb_oom(b);
    pact_op *op = pact_oxb_emit(b);
    if (!op)
        return pact_oxb_oom(b);
    x = &b->v[x_k];
    op->kind = PACT_OP_ACT;
    op->in = x->buf;
    op->out = out_buf;
    op->in_shape = op->out_shape = shape_of(x);
    op->layer = layer;
    int64_t dims[3] = {x->dims[0], x->dims[1], x->dims[2]};
    /* in place, x's remaining uses (the replaced nodes') and the output's
     * consumers share the buffer until the caller consumes x */
    return pact_oxb_set_runtime(b, out_k, x->rank, dims, out_buf, b->g->n_ops - 1);
}
