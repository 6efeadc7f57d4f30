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
#include "onnx_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS_DEFAULT 1e-5
#define PACT_ONNX_MAX_NODES 65536 /* a CNN for HE has far fewer; bounds the work */

/* --- value names -> indices ------------------------------------------------- */

typedef struct {
    const char **keys;
    int *vals;
    size_t cap; /* power of two */
    size_t n;
} name_map;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int map_get(const name_map *m, const char *key)
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

static int map_put(name_map *m, const char *key, int val)
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

/* --- the builder's state -------------------------------------------------- */

typedef enum { V_NONE, V_CONST, V_RUNTIME, V_FUSED } value_kind;

typedef struct {
    const char *name;           /* borrowed from the model */
    value_kind kind;
    const pact_ox_tensor *c;    /* V_CONST */
    pact_ox_tensor owned;       /* a folded constant (c points here) */
    int producer;               /* node index, -1 for initializers and graph inputs */
    int consumers;              /* uses by live nodes, + 1 for the graph output */
    /* V_RUNTIME: [batch, dims[0], ..., dims[rank-2]] in buffer buf, last
     * written by op `op` (-1: not by an op of its own, e.g. the input) */
    int rank;
    int64_t dims[3];
    int buf;
    int op;
} value;

typedef struct {
    const pact_ox_model *m;
    const char *origin;
    const pact_net_opts *opts;
    int64_t opset;
    pact_graph *g;
    pact_error *err;
    value *v;
    int n_v;
    name_map map;
    char *live, *skip;          /* per node */
    int *order, n_order;
    int *cstart, *cnode;        /* consumers of value k: cnode[cstart[k] .. cstart[k+1]) */
    int *buf_uses, cap_buf;
    char *buf_free;
    int cap_ops, cap_act;
    int out_value;
    name_map act_map;           /* activation names already given */
} builder;

static const char *label(const builder *b, int ni, char *buf, size_t size)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    if (nd->name[0])
        snprintf(buf, size, "%.200s", nd->name);
    else
        snprintf(buf, size, "#%d", ni);
    return buf;
}

static pact_status node_fail(builder *b, int ni, pact_status st, const char *fmt, ...)
    PACT_PRINTF(4, 5);

static pact_status node_fail(builder *b, int ni, pact_status st, const char *fmt, ...)
{
    char msg[320], lb[210];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pact_fail(b->err, st, "%s: node '%s' (%.64s): %s", b->origin,
                     label(b, ni, lb, sizeof lb), b->m->nodes[ni].op_type, msg);
}

static pact_status oom(builder *b) { return pact_fail(b->err, PACT_ENOMEM, "%s: out of memory", b->origin); }

/* --- attributes ----------------------------------------------------------- */

static int64_t attr_int(const pact_ox_node *nd, const char *name, int64_t def)
{
    const pact_ox_attr *a = pact_ox_attr_find(nd, name);
    return a && a->type == PACT_OX_ATTR_INT ? a->i : def;
}

static double attr_float(const pact_ox_node *nd, const char *name, double def)
{
    const pact_ox_attr *a = pact_ox_attr_find(nd, name);
    return a && a->type == PACT_OX_ATTR_FLOAT ? (double)a->f : def;
}

static const char *attr_str(const pact_ox_node *nd, const char *name, const char *def)
{
    const pact_ox_attr *a = pact_ox_attr_find(nd, name);
    return a && a->type == PACT_OX_ATTR_STRING ? a->s : def;
}

/* INTS attribute into v[0..max): count, or -1 when absent, -2 when too long. */
static int attr_ints(const pact_ox_node *nd, const char *name, int64_t *v, int max)
{
    const pact_ox_attr *a = pact_ox_attr_find(nd, name);
    if (!a || a->type != PACT_OX_ATTR_INTS)
        return -1;
    if (a->n > (size_t)max)
        return -2;
    for (size_t k = 0; k < a->n; k++)
        v[k] = a->ints[k];
    return (int)a->n;
}

/* The double a float attribute was written from: the shortest decimal that
 * rounds to it (an exported 1e-5 is the float 9.99999975e-06; folding with
 * the decimal keeps batch norm bit-identical to the safetensors path). */
static double float_attr_decimal(float f)
{
    char s[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, (double)f);
        double d = strtod(s, NULL);
        if ((float)d == f)
            return d;
    }
    return (double)f;
}

/* --- values ----------------------------------------------------------------- */

static int value_of(const builder *b, const char *name) { return name[0] ? map_get(&b->map, name) : -1; }

static const pact_ox_tensor *const_of(const builder *b, const char *name)
{
    int k = value_of(b, name);
    return k >= 0 && b->v[k].kind == V_CONST ? b->v[k].c : NULL;
}

static int is_runtime(const builder *b, const char *name)
{
    int k = value_of(b, name);
    return k >= 0 && b->v[k].kind == V_RUNTIME;
}

static pact_shape shape_of(const value *v)
{
    pact_shape s = {(int)v->dims[0], 1, 1};
    if (v->rank > 2)
        s.h = (int)v->dims[1];
    if (v->rank > 3)
        s.w = (int)v->dims[2];
    return s;
}

static size_t floats_of(const value *v)
{
    pact_shape s = shape_of(v);
    return (size_t)s.c * s.h * s.w;
}

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
static int alloc_buf(builder *b, size_t floats)
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
static pact_status set_runtime(builder *b, int k, int rank, const int64_t *dims, int buf, int op)
{
    value *v = &b->v[k];
    v->kind = V_RUNTIME;
    v->rank = rank;
    for (int d = 0; d < 3; d++)
        v->dims[d] = d < rank - 1 ? dims[d] : 1;
    if (buf < 0 && (buf = alloc_buf(b, floats_of(v))) < 0)
        return oom(b);
    v->buf = buf;
    v->op = op;
    b->buf_uses[buf] += v->consumers;
    return PACT_OK;
}

/* One use of runtime value `name` is over. */
static void consume(builder *b, const char *name)
{
    int k = value_of(b, name);
    if (k < 0 || b->v[k].kind != V_RUNTIME)
        return;
    int buf = b->v[k].buf;
    if (--b->buf_uses[buf] <= 0)
        b->buf_free[buf] = 1;
}

static void consume_node(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    for (int i = 0; i < nd->n_in; i++)
        consume(b, nd->in[i]);
}

/* --- ops and activation layers --------------------------------------------- */

static pact_op *emit(builder *b)
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
            return oom(b);
        g->act_names = names;
        pact_func *funcs = realloc(g->act_funcs, sizeof *funcs * (size_t)cap);
        if (!funcs)
            return oom(b);
        g->act_funcs = funcs;
        b->cap_act = cap;
    }
    char name[200];
    act_name(b, name_node, name, sizeof name);
    /* names must be unique: a repeat gets "#2", "#3", ... */
    char unique[220];
    snprintf(unique, sizeof unique, "%s", name);
    for (int k = 2; map_get(&b->act_map, unique) >= 0 && k < 1000000; k++)
        snprintf(unique, sizeof unique, "%s#%d", name, k);
    size_t len = strlen(unique) + 1;
    char *copy = malloc(len);
    if (!copy)
        return oom(b);
    memcpy(copy, unique, len);
    if (!map_put(&b->act_map, copy, g->n_act)) {
        free(copy);
        return oom(b);
    }
    g->act_names[g->n_act] = copy;
    g->act_funcs[g->n_act] = f;
    *layer = g->n_act++;
    return PACT_OK;
}

/* Activation `f` of runtime value x into value `out_k`; `uses_of_x` is how
 * many inputs of the nodes being replaced read x: when they are the last
 * uses of x's buffer the activation runs in place. */
static pact_status emit_act(builder *b, int x_k, int out_k, pact_func f, int name_node,
                            int uses_of_x)
{
    value *x = &b->v[x_k];
    int layer;
    pact_status st = add_act_layer(b, name_node, f, &layer);
    if (st != PACT_OK)
        return st;
    int in_place = b->buf_uses[x->buf] == uses_of_x;
    int out_buf = in_place ? x->buf : alloc_buf(b, floats_of(x));
    if (out_buf < 0)
        return oom(b);
    pact_op *op = emit(b);
    if (!op)
        return oom(b);
    x = &b->v[x_k];
    op->kind = PACT_OP_ACT;
    op->in = x->buf;
    op->out = out_buf;
    op->in_shape = op->out_shape = shape_of(x);
    op->layer = layer;
    int64_t dims[3] = {x->dims[0], x->dims[1], x->dims[2]};
    /* in place, x's remaining uses (the replaced nodes') and the output's
     * consumers share the buffer until the caller consumes x */
    return set_runtime(b, out_k, x->rank, dims, out_buf, b->g->n_ops - 1);
}

/* --- activation subgraphs: SiLU, erf-form and tanh-form GELU ------------------ */

/* The one node consuming value `name`, or -1 (none, several, or the graph output). */
static int sole_consumer(const builder *b, const char *name)
{
    int k = value_of(b, name);
    if (k < 0 || k == b->out_value || b->cstart[k + 1] - b->cstart[k] != 1)
        return -1;
    return b->cnode[b->cstart[k]];
}

static int is_op(const builder *b, int ni, const char *op)
{
    return ni >= 0 && !b->skip[ni] && strcmp(b->m->nodes[ni].op_type, op) == 0 &&
           b->m->nodes[ni].domain[0] == '\0' && b->m->nodes[ni].n_out >= 1;
}

static int near(double v, double want) { return fabs(v - want) <= 1e-6 * fabs(want) + 1e-7; }

/* A scalar constant close to `want`: a constant already known, or the value
 * of a Constant node not visited yet (the subgraphs' constants often come
 * after their first node in the file). */
static int const_is(const builder *b, const char *name, double want)
{
    const pact_ox_tensor *t = const_of(b, name);
    int k = value_of(b, name);
    if (!t && k >= 0 && b->v[k].producer >= 0 && b->v[k].kind == V_NONE) {
        const pact_ox_node *nd = &b->m->nodes[b->v[k].producer];
        const pact_ox_attr *a = pact_ox_attr_find(nd, "value");
        if (strcmp(nd->op_type, "Constant") == 0 && nd->domain[0] == '\0' && a &&
            a->type == PACT_OX_ATTR_TENSOR)
            t = a->t;
        else if (strcmp(nd->op_type, "Constant") == 0 && nd->domain[0] == '\0' &&
                 (a = pact_ox_attr_find(nd, "value_float")) && a->type == PACT_OX_ATTR_FLOAT)
            return near(a->f, want);
    }
    return t && t->count == 1 && near(pact_ox_at(t, 0), want);
}

/* Node ni is a two-input node with inputs {p, q} (either order); writes the
 * other input of the pair given one of them. */
static const char *other_input(const builder *b, int ni, const char *known)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    if (nd->n_in != 2)
        return NULL;
    if (strcmp(nd->in[0], known) == 0)
        return nd->in[1];
    if (strcmp(nd->in[1], known) == 0)
        return nd->in[0];
    return NULL;
}

/* The tail x * (1 + t) * 0.5 from a = (1 + t): either Mul(Mul(x, a), 0.5) or
 * Mul(x, Mul(a, 0.5)), operands in any order. Writes the nodes (2) and
 * returns the final node, or -1. */
static int match_tail(const builder *b, const char *a, const char *x, int *nodes)
{
    int m1 = sole_consumer(b, a);
    if (!is_op(b, m1, "Mul"))
        return -1;
    const char *o = other_input(b, m1, a);
    int m2 = sole_consumer(b, b->m->nodes[m1].out[0]);
    if (!o || !is_op(b, m2, "Mul"))
        return -1;
    const char *o2 = other_input(b, m2, b->m->nodes[m1].out[0]);
    if (!o2)
        return -1;
    if (!((strcmp(o, x) == 0 && const_is(b, o2, 0.5)) || (const_is(b, o, 0.5) && strcmp(o2, x) == 0)))
        return -1;
    nodes[0] = m1;
    nodes[1] = m2;
    return m2;
}

/* 1 + t from t: Add(t, 1). Returns the Add node or -1. */
static int match_plus_one(const builder *b, const char *t)
{
    int p = sole_consumer(b, t);
    if (!is_op(b, p, "Add"))
        return -1;
    const char *o = other_input(b, p, t);
    return o && const_is(b, o, 1.0) ? p : -1;
}

#define MAX_PATTERN 12

typedef struct {
    pact_func f;
    int n;
    int nodes[MAX_PATTERN]; /* every node replaced, the first being the anchor */
    int name_node;          /* whose name the layer gets */
    const char *x;          /* the activation's input */
    int last;               /* the node whose output is the activation's */
} act_match;

/* Node ni reads runtime x = in[xi]: is it the start of an activation subgraph? */
static int match_activation(const builder *b, int ni, act_match *am)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const char *op = nd->op_type;
    if (nd->domain[0] || nd->n_out < 1)
        return 0;
    am->n = 0;
    /* SiLU: Mul(x, Sigmoid(x)) */
    if (strcmp(op, "Sigmoid") == 0 && nd->n_in == 1) {
        const char *x = nd->in[0];
        int m = sole_consumer(b, nd->out[0]);
        const char *o = is_op(b, m, "Mul") ? other_input(b, m, nd->out[0]) : NULL;
        if (!o || strcmp(o, x) != 0)
            return 0;
        *am = (act_match){PACT_SILU, 2, {ni, m}, ni, x, m};
        return 1;
    }
    /* erf GELU: x/sqrt(2) (Div by sqrt 2 or Mul by 1/sqrt 2) -> Erf -> +1 -> x * . * 0.5 */
    const double want = op[0] == 'D' ? sqrt(2.0) : 1.0 / sqrt(2.0);
    const int xi = nd->n_in == 2 && op[0] == 'M' && const_is(b, nd->in[0], want) ? 1 : 0;
    if ((strcmp(op, "Div") == 0 || strcmp(op, "Mul") == 0) && nd->n_in == 2 &&
        is_runtime(b, nd->in[xi]) && const_is(b, nd->in[1 - xi], want)) {
        const char *x = nd->in[xi];
        int e = sole_consumer(b, nd->out[0]);
        if (!is_op(b, e, "Erf"))
            return 0;
        int p = match_plus_one(b, b->m->nodes[e].out[0]);
        int tail[2];
        int last = p >= 0 ? match_tail(b, b->m->nodes[p].out[0], x, tail) : -1;
        if (last < 0)
            return 0;
        *am = (act_match){PACT_GELU, 5, {ni, e, p, tail[0], tail[1]}, e, x, last};
        return 1;
    }
    /* tanh GELU: x^3 (Mul(x, Mul(x, x)) or Pow(x, 3)) -> * 0.044715 -> + x
     * -> * sqrt(2/pi) -> Tanh -> +1 -> x * . * 0.5 */
    int cube_node = -1, first2 = -1;
    if (strcmp(op, "Mul") == 0 && nd->n_in == 2 && strcmp(nd->in[0], nd->in[1]) == 0) {
        first2 = sole_consumer(b, nd->out[0]);
        const char *o = is_op(b, first2, "Mul") ? other_input(b, first2, nd->out[0]) : NULL;
        if (!o || strcmp(o, nd->in[0]) != 0)
            return 0;
        cube_node = first2;
    } else if (strcmp(op, "Pow") == 0 && nd->n_in == 2 && const_is(b, nd->in[1], 3.0)) {
        cube_node = ni;
    } else {
        return 0;
    }
    const char *x = nd->in[0];
    int c = sole_consumer(b, b->m->nodes[cube_node].out[0]);
    const char *o = is_op(b, c, "Mul") ? other_input(b, c, b->m->nodes[cube_node].out[0]) : NULL;
    if (!o || !const_is(b, o, 0.044715))
        return 0;
    int d = sole_consumer(b, b->m->nodes[c].out[0]);
    o = is_op(b, d, "Add") ? other_input(b, d, b->m->nodes[c].out[0]) : NULL;
    if (!o || strcmp(o, x) != 0)
        return 0;
    int e = sole_consumer(b, b->m->nodes[d].out[0]);
    o = is_op(b, e, "Mul") ? other_input(b, e, b->m->nodes[d].out[0]) : NULL;
    if (!o || !const_is(b, o, sqrt(2.0 / 3.14159265358979323846)))
        return 0;
    int t = sole_consumer(b, b->m->nodes[e].out[0]);
    if (!is_op(b, t, "Tanh"))
        return 0;
    int p = match_plus_one(b, b->m->nodes[t].out[0]);
    int tail[2];
    int last = p >= 0 ? match_tail(b, b->m->nodes[p].out[0], x, tail) : -1;
    if (last < 0)
        return 0;
    am->f = PACT_GELU_TANH;
    am->n = 0;
    am->nodes[am->n++] = ni;
    if (first2 >= 0)
        am->nodes[am->n++] = first2;
    int rest[] = {c, d, e, t, p, tail[0], tail[1]};
    for (size_t k = 0; k < sizeof rest / sizeof rest[0]; k++)
        am->nodes[am->n++] = rest[k];
    am->name_node = t;
    am->x = x;
    am->last = last;
    return 1;
}

/* Replaces the matched nodes by one activation layer on am->x. */
static pact_status lower_activation(builder *b, const act_match *am)
{
    const char *x = am->x;
    int uses = 0;
    for (int k = 0; k < am->n; k++) {
        const pact_ox_node *nd = &b->m->nodes[am->nodes[k]];
        for (int i = 0; i < nd->n_in; i++)
            uses += strcmp(nd->in[i], x) == 0;
        if (k > 0)
            b->skip[am->nodes[k]] = 1;
        /* every intermediate value stays inside the subgraph */
        for (int o = 0; o < nd->n_out && am->nodes[k] != am->last; o++) {
            int vk = value_of(b, nd->out[o]);
            if (vk >= 0)
                b->v[vk].kind = V_FUSED;
        }
    }
    int out_k = value_of(b, b->m->nodes[am->last].out[0]);
    pact_status st = emit_act(b, value_of(b, x), out_k, am->f, am->name_node, uses);
    for (int k = 0; k < uses && st == PACT_OK; k++)
        consume(b, x);
    return st;
}

/* --- lowering of single nodes ------------------------------------------------ */

static const value *rt_in(builder *b, int ni, int i)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    int k = i < nd->n_in ? value_of(b, nd->in[i]) : -1;
    return k >= 0 && b->v[k].kind == V_RUNTIME ? &b->v[k] : NULL;
}

static const pact_ox_tensor *const_in(builder *b, int ni, int i)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    return i < nd->n_in ? const_of(b, nd->in[i]) : NULL;
}

static int out_value(builder *b, int ni, int o)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    return o < nd->n_out ? value_of(b, nd->out[o]) : -1;
}

/* Outputs beyond the first must be unused (MaxPool indices, Dropout mask,
 * batch norm training statistics). */
static pact_status only_first_output(builder *b, int ni)
{
    for (int o = 1; o < b->m->nodes[ni].n_out; o++) {
        int k = out_value(b, ni, o);
        if (k >= 0 && b->v[k].consumers > 0)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "output %d (%s) is used; only the first "
                             "output is supported", o, b->m->nodes[ni].out[o]);
    }
    return PACT_OK;
}

/* Finite float weights copied out of a constant. */
static pact_status weights(builder *b, int ni, const pact_ox_tensor *t, const char *what,
                           float **out)
{
    *out = NULL;
    if (t->is_int)
        return node_fail(b, ni, PACT_EFORMAT, "%s %s is not floating point", what, t->name);
    for (size_t k = 0; k < t->count; k++)
        if (!isfinite(t->f[k]))
            return node_fail(b, ni, PACT_EFORMAT, "%s %s: element %zu is %s", what, t->name, k,
                             isnan(t->f[k]) ? "NaN" : "infinite");
    *out = malloc(sizeof(float) * (t->count ? t->count : 1));
    if (!*out)
        return oom(b);
    memcpy(*out, t->f, sizeof(float) * t->count);
    return PACT_OK;
}

/* A value that is an alias of runtime x (same buffer, new shape). */
static pact_status alias(builder *b, int ni, const value *x, int rank, const int64_t *dims)
{
    int k = out_value(b, ni, 0);
    if (k < 0)
        return node_fail(b, ni, PACT_EFORMAT, "no output");
    size_t n = 1;
    for (int d = 0; d < rank - 1; d++)
        n *= (size_t)dims[d];
    if (n != floats_of(x))
        return node_fail(b, ni, PACT_EFORMAT, "%zu elements per image from %zu", n, floats_of(x));
    return set_runtime(b, k, rank, dims, x->buf, x->op);
}

/* A new op writing output 0 of node ni with the given per-image dims. */
static pact_status new_output(builder *b, int ni, int rank, const int64_t *dims, pact_op **op)
{
    int k = out_value(b, ni, 0);
    if (k < 0)
        return node_fail(b, ni, PACT_EFORMAT, "no output");
    for (int d = 0; d < rank - 1; d++)
        if (dims[d] < 1 || dims[d] > (1 << 24))
            return node_fail(b, ni, PACT_EFORMAT, "output dimension %d is %lld", d + 1,
                             (long long)dims[d]);
    pact_op *o = emit(b);
    if (!o)
        return oom(b);
    pact_status st = set_runtime(b, k, rank, dims, -1, b->g->n_ops - 1);
    if (st != PACT_OK)
        return st;
    o = &b->g->ops[b->g->n_ops - 1];
    o->out = b->v[k].buf;
    o->out_shape = shape_of(&b->v[k]);
    *op = o;
    return PACT_OK;
}

/* Pads and output sizes of a 2-D window op (Conv, MaxPool, AveragePool). */
typedef struct {
    int kh, kw, sh, sw, pt, pl, pb, pr, oh, ow;
} window;

static pact_status window_of(builder *b, int ni, const value *x, int kh, int kw, int ceil_mode,
                             window *w)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    int64_t v[8];
    int n;
    w->kh = kh;
    w->kw = kw;
    w->sh = w->sw = 1;
    if ((n = attr_ints(nd, "strides", v, 8)) >= 0) {
        if (n != 2 || v[0] < 1 || v[1] < 1 || v[0] > 1024 || v[1] > 1024)
            return node_fail(b, ni, PACT_EFORMAT, "strides must be 2 values in 1..1024");
        w->sh = (int)v[0];
        w->sw = (int)v[1];
    }
    if ((n = attr_ints(nd, "dilations", v, 8)) >= 0)
        for (int d = 0; d < n; d++)
            if (v[d] != 1)
                return node_fail(b, ni, PACT_EUNSUPPORTED, "dilation %lld is not supported",
                                 (long long)v[d]);
    const int h = (int)x->dims[1], wd = (int)x->dims[2];
    const char *ap = attr_str(nd, "auto_pad", "NOTSET");
    w->pt = w->pl = w->pb = w->pr = 0;
    if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
        int oh = (h + w->sh - 1) / w->sh, ow = (wd + w->sw - 1) / w->sw;
        int th = (oh - 1) * w->sh + kh - h, tw = (ow - 1) * w->sw + kw - wd;
        th = th > 0 ? th : 0;
        tw = tw > 0 ? tw : 0;
        int upper = ap[5] == 'U';
        w->pt = upper ? th / 2 : th - th / 2;
        w->pb = th - w->pt;
        w->pl = upper ? tw / 2 : tw - tw / 2;
        w->pr = tw - w->pl;
    } else if (strcmp(ap, "NOTSET") == 0 || strcmp(ap, "VALID") == 0) {
        if (strcmp(ap, "NOTSET") == 0 && (n = attr_ints(nd, "pads", v, 8)) >= 0) {
            if (n != 4)
                return node_fail(b, ni, PACT_EFORMAT, "pads has %d values (4 expected)", n);
            for (int d = 0; d < 4; d++)
                if (v[d] < 0 || v[d] > 1024)
                    return node_fail(b, ni, PACT_EFORMAT, "pads[%d] = %lld", d, (long long)v[d]);
            w->pt = (int)v[0];
            w->pl = (int)v[1];
            w->pb = (int)v[2];
            w->pr = (int)v[3];
        }
    } else {
        return node_fail(b, ni, PACT_EFORMAT, "auto_pad '%.32s' unknown", ap);
    }
    long sh = (long)h + w->pt + w->pb - kh, sw = (long)wd + w->pl + w->pr - kw;
    if (sh < 0 || sw < 0)
        return node_fail(b, ni, PACT_EFORMAT, "window %dx%d larger than the padded input %dx%d",
                         kh, kw, h + w->pt + w->pb, wd + w->pl + w->pr);
    w->oh = (int)((sh + (ceil_mode ? w->sh - 1 : 0)) / w->sh) + 1;
    w->ow = (int)((sw + (ceil_mode ? w->sw - 1 : 0)) / w->sw) + 1;
    /* PyTorch / ONNX: the last window must start inside the input or its left padding */
    if (ceil_mode && (long)(w->oh - 1) * w->sh >= (long)h + w->pt)
        w->oh--;
    if (ceil_mode && (long)(w->ow - 1) * w->sw >= (long)wd + w->pl)
        w->ow--;
    return PACT_OK;
}

static pact_status lower_conv(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const value *x = rt_in(b, ni, 0);
    const pact_ox_tensor *wt = const_in(b, ni, 1), *bt = nd->n_in > 2 ? const_in(b, ni, 2) : NULL;
    if (!x || x->rank != 4)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed 4-D tensor");
    if (!wt)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "weight %s is not a constant", nd->n_in > 1 ? nd->in[1] : "?");
    if (nd->n_in > 2 && nd->in[2][0] && !bt)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "bias %s is not a constant", nd->in[2]);
    const int c_in = (int)x->dims[0];
    if (attr_int(nd, "group", 1) != 1)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "group %lld is not supported (only 1)",
                         (long long)attr_int(nd, "group", 1));
    if (wt->ndim != 4 || wt->dims[1] != c_in || wt->dims[0] < 1 || wt->dims[2] != wt->dims[3] ||
        wt->dims[2] < 1 || wt->dims[2] > 64)
        return node_fail(b, ni, PACT_EFORMAT,
                         "weight %s must be [M, %d, k, k] with a square kernel k <= 64", wt->name,
                         c_in);
    const int c_out = (int)wt->dims[0], k = (int)wt->dims[2];
    if (bt && (bt->ndim != 1 || bt->dims[0] != c_out))
        return node_fail(b, ni, PACT_EFORMAT, "bias %s must be [%d]", bt->name, c_out);
    int64_t ks[4];
    int nk = attr_ints(nd, "kernel_shape", ks, 4);
    if (nk >= 0 && (nk != 2 || ks[0] != k || ks[1] != k))
        return node_fail(b, ni, PACT_EFORMAT, "kernel_shape disagrees with the weight %s", wt->name);
    window w;
    pact_status st = window_of(b, ni, x, k, k, 0, &w);
    if (st != PACT_OK)
        return st;
    if (w.sh != w.sw)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "strides %d, %d differ", w.sh, w.sw);
    float *wf = NULL, *bf = NULL;
    st = weights(b, ni, wt, "weight", &wf);
    if (st == PACT_OK && bt)
        st = weights(b, ni, bt, "bias", &bf);
    else if (st == PACT_OK && !(bf = calloc((size_t)c_out, sizeof *bf)))
        st = oom(b);
    if (st != PACT_OK) {
        free(wf);
        free(bf);
        return st;
    }
    int in_buf = x->buf;
    pact_shape in_shape = shape_of(x);
    int pad = w.pt;
    if (!(w.pt == w.pb && w.pl == w.pr && w.pt == w.pl)) {
        /* asymmetric padding: an explicit PAD, then a convolution without */
        pact_op *po = emit(b);
        int buf = po ? alloc_buf(b, (size_t)c_in * (in_shape.h + w.pt + w.pb) *
                                        (in_shape.w + w.pl + w.pr))
                     : -1;
        if (!po || buf < 0) {
            free(wf);
            free(bf);
            return oom(b);
        }
        po->kind = PACT_OP_PAD;
        po->in = in_buf;
        po->out = buf;
        po->in_shape = in_shape;
        po->out_shape = (pact_shape){c_in, in_shape.h + w.pt + w.pb, in_shape.w + w.pl + w.pr};
        po->begin[1] = w.pt;
        po->begin[2] = w.pl;
        b->buf_uses[buf] = 1; /* read by the convolution only */
        in_buf = buf;
        in_shape = po->out_shape;
        pad = 0;
    }
    int64_t dims[3] = {c_out, w.oh, w.ow};
    pact_op *op;
    st = new_output(b, ni, 4, dims, &op);
    if (st != PACT_OK) {
        free(wf);
        free(bf);
        return st;
    }
    op->kind = PACT_OP_CONV;
    op->in = in_buf;
    op->in_shape = in_shape;
    op->ksize = k;
    op->stride = w.sh;
    op->pad = pad;
    op->weight = wf;
    op->bias = bf;
    if (in_buf != x->buf && --b->buf_uses[in_buf] <= 0)
        b->buf_free[in_buf] = 1;
    return PACT_OK;
}

/* Batch norm: folded into the convolution that wrote its input when that
 * convolution's output has no other reader; a per-channel affine op else. */
static pact_status lower_batchnorm(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const value *x = rt_in(b, ni, 0);
    if (!x)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed tensor");
    if (attr_int(nd, "training_mode", 0))
        return node_fail(b, ni, PACT_EUNSUPPORTED, "training_mode is not supported");
    pact_status st = only_first_output(b, ni);
    if (st != PACT_OK)
        return st;
    const int c = (int)x->dims[0];
    const pact_ox_tensor *p[4];
    const char *role[4] = {"scale", "B", "mean", "var"};
    for (int i = 0; i < 4; i++) {
        p[i] = nd->n_in > i + 1 ? const_in(b, ni, i + 1) : NULL;
        if (!p[i])
            return node_fail(b, ni, PACT_EUNSUPPORTED, "%s is missing or not a constant", role[i]);
        if (p[i]->is_int || p[i]->count != (size_t)c)
            return node_fail(b, ni, PACT_EFORMAT, "%s %s must hold %d floats", role[i],
                             p[i]->name, c);
        for (int j = 0; j < c; j++)
            if (!isfinite(p[i]->f[j]) || (i == 3 && p[i]->f[j] < 0.0f))
                return node_fail(b, ni, PACT_EFORMAT, "%s %s: element %d is %g", role[i],
                                 p[i]->name, j, (double)p[i]->f[j]);
    }
    const pact_ox_attr *ea = pact_ox_attr_find(nd, "epsilon");
    double eps = ea && ea->type == PACT_OX_ATTR_FLOAT ? float_attr_decimal(ea->f) : BN_EPS_DEFAULT;
    if (!(eps > 0.0) || !isfinite(eps))
        return node_fail(b, ni, PACT_EFORMAT, "epsilon %g is not > 0", eps);
    const float *gamma = p[0]->f, *beta = p[1]->f, *mean = p[2]->f, *var = p[3]->f;
    int xk = value_of(b, nd->in[0]);
    pact_op *conv = x->op >= 0 ? &b->g->ops[x->op] : NULL;
    if (conv && conv->kind == PACT_OP_CONV && conv->out == x->buf && b->v[xk].consumers == 1 &&
        b->buf_uses[x->buf] == 1) {
        /* w' = w g / sqrt(v + eps), b' = beta + (b - m) g / sqrt(v + eps), in
         * double: with b = 0 exactly the safetensors builder's folding */
        const size_t per = (size_t)conv->in_shape.c * conv->ksize * conv->ksize;
        for (int j = 0; j < c; j++) {
            double s = (double)gamma[j] / sqrt((double)var[j] + eps);
            for (size_t q = 0; q < per; q++)
                conv->weight[(size_t)j * per + q] = (float)((double)conv->weight[(size_t)j * per + q] * s);
            conv->bias[j] = (float)((double)beta[j] + ((double)conv->bias[j] - (double)mean[j]) * s);
        }
        int yk = out_value(b, ni, 0);
        int64_t dims[3] = {x->dims[0], x->dims[1], x->dims[2]};
        int buf = x->buf, opi = x->op, rank = x->rank;
        consume(b, nd->in[0]);
        b->buf_free[buf] = 0;
        return set_runtime(b, yk, rank, dims, buf, opi);
    }
    float *s = malloc(sizeof(float) * (size_t)c), *t = malloc(sizeof(float) * (size_t)c);
    if (!s || !t) {
        free(s);
        free(t);
        return oom(b);
    }
    for (int j = 0; j < c; j++) {
        double sd = (double)gamma[j] / sqrt((double)var[j] + eps);
        s[j] = (float)sd;
        t[j] = (float)((double)beta[j] - (double)mean[j] * sd);
    }
    int64_t dims[3] = {x->dims[0], x->dims[1], x->dims[2]};
    int in_buf = x->buf, rank = x->rank;
    pact_shape in_shape = shape_of(x);
    pact_op *op;
    st = new_output(b, ni, rank, dims, &op);
    if (st != PACT_OK) {
        free(s);
        free(t);
        return st;
    }
    op->kind = PACT_OP_AFFINE;
    op->in = in_buf;
    op->in_shape = in_shape;
    op->weight = s;
    op->bias = t;
    consume_node(b, ni);
    return PACT_OK;
}

/* Const c broadcasts against runtime x as one value per channel (or one in
 * all): writes C values into v (C = x's channels). */
static int per_channel(const value *x, const pact_ox_tensor *c, double *v, int *n_out)
{
    const int ch = (int)x->dims[0];
    if (c->ndim > x->rank)
        return 0;
    int at_channel = -1;
    for (int d = 0; d < c->ndim; d++) {
        int axis = x->rank - c->ndim + d; /* right-aligned */
        if (c->dims[d] == 1)
            continue;
        if (axis != 1 || c->dims[d] != ch)
            return 0;
        at_channel = d;
    }
    for (int j = 0; j < ch; j++)
        v[j] = pact_ox_at(c, at_channel >= 0 ? (size_t)j : 0);
    *n_out = ch;
    return 1;
}

/* Add, Sub, Mul, Div: two computed tensors (Add only), or a computed tensor
 * and a constant per channel (an affine op). */
static pact_status lower_arith(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const char *op = nd->op_type;
    if (nd->n_in != 2)
        return node_fail(b, ni, PACT_EFORMAT, "%d inputs (2 expected)", nd->n_in);
    const value *a = rt_in(b, ni, 0), *c = rt_in(b, ni, 1);
    if (a && c) {
        if (op[0] != 'A')
            return node_fail(b, ni, PACT_EUNSUPPORTED,
                             "%s of two computed tensors is not supported (only inside the "
                             "SiLU and GELU subgraphs)", op);
        if (a->rank != c->rank || a->dims[0] != c->dims[0] || a->dims[1] != c->dims[1] ||
            a->dims[2] != c->dims[2])
            return node_fail(b, ni, PACT_EUNSUPPORTED, "operands of different shapes (no broadcasting)");
        int64_t dims[3] = {a->dims[0], a->dims[1], a->dims[2]};
        int ab = a->buf, cb = c->buf, rank = a->rank;
        pact_shape s = shape_of(a);
        pact_op *o;
        pact_status st = new_output(b, ni, rank, dims, &o);
        if (st != PACT_OK)
            return st;
        o->kind = PACT_OP_ADD;
        o->in = ab;
        o->res = cb;
        o->in_shape = o->res_shape = s;
        consume_node(b, ni);
        return PACT_OK;
    }
    const value *x = a ? a : c;
    const pact_ox_tensor *k = a ? const_in(b, ni, 1) : const_in(b, ni, 0);
    if (!x || !k)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "operands must be computed tensors or constants");
    if (!a && (op[0] == 'D'))
        return node_fail(b, ni, PACT_EUNSUPPORTED, "division by a computed tensor is not supported");
    double *cv = malloc(sizeof(double) * (size_t)x->dims[0]);
    int n = 0;
    if (!cv)
        return oom(b);
    if (!per_channel(x, k, cv, &n)) {
        free(cv);
        return node_fail(b, ni, PACT_EUNSUPPORTED,
                         "constant %s is not one value per channel (or one for all)", k->name);
    }
    float *s = malloc(sizeof(float) * (size_t)n), *t = malloc(sizeof(float) * (size_t)n);
    pact_status st = s && t ? PACT_OK : oom(b);
    for (int j = 0; j < n && st == PACT_OK; j++) {
        double v = cv[j], sc = 1.0, sh = 0.0;
        switch (op[0]) {
        case 'A': sh = v; break;
        case 'S': if (a) sh = -v; else { sc = -1.0; sh = v; } break;
        case 'M': sc = v; break;
        default:
            if (v == 0.0)
                st = node_fail(b, ni, PACT_EFORMAT, "division by zero (constant %s)", k->name);
            sc = 1.0 / v;
            break;
        }
        if (st == PACT_OK && (!isfinite(sc) || !isfinite(sh)))
            st = node_fail(b, ni, PACT_EFORMAT, "constant %s is not finite", k->name);
        if (st == PACT_OK) {
            s[j] = (float)sc;
            t[j] = (float)sh;
        }
    }
    free(cv);
    int64_t dims[3] = {x->dims[0], x->dims[1], x->dims[2]};
    int xb = x->buf, rank = x->rank;
    pact_shape xs = shape_of(x);
    pact_op *o = NULL;
    if (st == PACT_OK)
        st = new_output(b, ni, rank, dims, &o);
    if (st != PACT_OK) {
        free(s);
        free(t);
        return st;
    }
    o->kind = PACT_OP_AFFINE;
    o->in = xb;
    o->in_shape = xs;
    o->weight = s;
    o->bias = t;
    consume_node(b, ni);
    return PACT_OK;
}

static pact_status lower_pool(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const value *x = rt_in(b, ni, 0);
    if (!x || x->rank != 4)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed 4-D tensor");
    int is_max = nd->op_type[0] == 'M';
    pact_status st = only_first_output(b, ni);
    if (st != PACT_OK)
        return st;
    int64_t ks[4];
    if (attr_ints(nd, "kernel_shape", ks, 4) != 2 || ks[0] < 1 || ks[1] < 1 || ks[0] > 1024 ||
        ks[1] > 1024)
        return node_fail(b, ni, PACT_EFORMAT, "kernel_shape must be 2 values in 1..1024");
    int ceil_mode = attr_int(nd, "ceil_mode", 0) != 0;
    int count_pad = !is_max && attr_int(nd, "count_include_pad", 0) != 0;
    if (ceil_mode && count_pad)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "ceil_mode with count_include_pad is not supported");
    window w;
    st = window_of(b, ni, x, (int)ks[0], (int)ks[1], ceil_mode, &w);
    if (st != PACT_OK)
        return st;
    if (w.pt >= w.kh || w.pl >= w.kw || w.pb >= w.kh || w.pr >= w.kw)
        return node_fail(b, ni, PACT_EFORMAT, "padding as large as the window");
    int64_t dims[3] = {x->dims[0], w.oh, w.ow};
    int xb = x->buf;
    pact_shape xs = shape_of(x);
    pact_op *o;
    st = new_output(b, ni, 4, dims, &o);
    if (st != PACT_OK)
        return st;
    o->kind = is_max ? PACT_OP_MAXPOOL : PACT_OP_AVGPOOL;
    o->in = xb;
    o->in_shape = xs;
    o->kh = w.kh;
    o->kw = w.kw;
    o->sh = w.sh;
    o->sw = w.sw;
    o->pad_top = w.pt;
    o->pad_left = w.pl;
    o->count_pad = count_pad;
    consume_node(b, ni);
    return PACT_OK;
}

/* GlobalAveragePool, and ReduceMean over the spatial axes. */
static pact_status lower_gap(builder *b, int ni, int keepdims)
{
    const value *x = rt_in(b, ni, 0);
    if (!x || x->rank != 4)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed 4-D tensor");
    int64_t dims[3] = {x->dims[0], 1, 1};
    int xb = x->buf;
    pact_shape xs = shape_of(x);
    pact_op *o;
    pact_status st = new_output(b, ni, keepdims ? 4 : 2, dims, &o);
    if (st != PACT_OK)
        return st;
    o->kind = PACT_OP_GAP;
    o->in = xb;
    o->in_shape = xs;
    consume_node(b, ni);
    return PACT_OK;
}

static pact_status lower_reduce_mean(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const value *x = rt_in(b, ni, 0);
    int64_t axes[8];
    int n = attr_ints(nd, "axes", axes, 8);
    if (n < 0 && nd->n_in > 1 && const_in(b, ni, 1)) {
        const pact_ox_tensor *t = const_in(b, ni, 1);
        n = t->is_int && t->count <= 8 ? (int)t->count : -2;
        for (int k = 0; k >= 0 && k < n; k++)
            axes[k] = t->i[k];
    }
    int seen[4] = {0};
    for (int k = 0; x && x->rank == 4 && k < n; k++)
        if (axes[k] >= -4 && axes[k] < 4)
            seen[axes[k] < 0 ? axes[k] + 4 : axes[k]] = 1;
    if (!x || x->rank != 4 || n != 2 || !seen[2] || !seen[3])
        return node_fail(b, ni, PACT_EUNSUPPORTED, "only the mean over the spatial axes 2, 3 of a "
                         "4-D tensor is supported");
    return lower_gap(b, ni, attr_int(nd, "keepdims", 1) != 0);
}

/* Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: new shape, same data. */
static pact_status lower_reshape(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const char *op = nd->op_type;
    const value *x = rt_in(b, ni, 0);
    if (!x)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed tensor");
    pact_status st = only_first_output(b, ni);
    if (st != PACT_OK)
        return st;
    int64_t full[PACT_OX_MAX_DIMS + 1]; /* with the batch as dimension 0 */
    int n = 0;
    const size_t per = floats_of(x);
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0 || strcmp(op, "Cast") == 0) {
        n = x->rank;
        for (int d = 1; d < n; d++)
            full[d] = x->dims[d - 1];
    } else if (strcmp(op, "Flatten") == 0) {
        int64_t axis = attr_int(nd, "axis", 1);
        if (axis != 1 && axis != 1 - x->rank)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "axis %lld would mix images of the batch "
                             "(only 1)", (long long)axis);
        n = 2;
        full[1] = (int64_t)per;
    } else if (strcmp(op, "Reshape") == 0) {
        const pact_ox_tensor *s = const_in(b, ni, 1);
        if (!s || !s->is_int || s->ndim != 1 || s->count < 2 || s->count > 4)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "shape must be a constant of 2 to 4 values");
        int allowzero = attr_int(nd, "allowzero", 0) != 0;
        int infer = -1;
        uint64_t known = 1;
        n = (int)s->count;
        /* dimension 0 is the batch: 0, -1 or 1 (PyTorch's traced size) */
        if (!(s->i[0] == -1 || s->i[0] == 1 || (s->i[0] == 0 && !allowzero)))
            return node_fail(b, ni, PACT_EUNSUPPORTED,
                             "shape[0] = %lld would change the batch dimension", (long long)s->i[0]);
        for (int d = 1; d < n; d++) {
            int64_t v = s->i[d];
            if (v == 0 && !allowzero) {
                if (d >= x->rank)
                    return node_fail(b, ni, PACT_EFORMAT, "shape[%d] = 0 copies a missing dimension", d);
                v = x->dims[d - 1];
            }
            if (v == -1) {
                if (infer >= 0 || s->i[0] == -1)
                    return node_fail(b, ni, PACT_EFORMAT, "more than one -1 in the shape");
                infer = d;
                continue;
            }
            if (v < 1 || (uint64_t)v > per)
                return node_fail(b, ni, PACT_EFORMAT, "shape[%d] = %lld", d, (long long)v);
            full[d] = v;
            known *= (uint64_t)v;
            if (known > per)
                break;
        }
        if (infer >= 0) {
            if (known == 0 || per % known)
                return node_fail(b, ni, PACT_EFORMAT, "cannot infer the -1 from %zu elements", per);
            full[infer] = (int64_t)(per / known);
            known *= (uint64_t)full[infer];
        }
        if (known != per)
            return node_fail(b, ni, PACT_EFORMAT, "shape of %llu elements per image for %zu",
                             (unsigned long long)known, per);
    } else { /* Squeeze / Unsqueeze */
        int64_t axes[8];
        int na = attr_ints(nd, "axes", axes, 8);
        if (na < 0 && nd->n_in > 1 && const_in(b, ni, 1)) {
            const pact_ox_tensor *t = const_in(b, ni, 1);
            na = t->is_int && t->count <= 8 ? (int)t->count : -2;
            for (int k = 0; k >= 0 && k < na; k++)
                axes[k] = t->i[k];
        }
        int squeeze = op[0] == 'S';
        if (na == -2 || (na < 0 && !squeeze))
            return node_fail(b, ni, PACT_EFORMAT, "axes missing or too many");
        int rank_out = squeeze ? x->rank - (na < 0 ? 0 : na) : x->rank + na;
        int64_t in_full[4] = {1, x->dims[0], x->dims[1], x->dims[2]};
        int mark[8] = {0};
        for (int k = 0; k < na; k++) {
            int r = squeeze ? x->rank : rank_out;
            int64_t a = axes[k] < 0 ? axes[k] + r : axes[k];
            if (a <= 0 || a >= r || mark[a]++)
                return node_fail(b, ni, PACT_EUNSUPPORTED, "axis %lld invalid, repeated or the batch",
                                 (long long)axes[k]);
            if (squeeze && in_full[a] != 1)
                return node_fail(b, ni, PACT_EFORMAT, "axis %lld has size %lld, not 1",
                                 (long long)axes[k], (long long)in_full[a]);
        }
        n = 1;
        if (squeeze) {
            for (int d = 1; d < x->rank; d++)
                if (!(na < 0 ? in_full[d] == 1 : mark[d]))
                    full[n++] = in_full[d];
        } else {
            for (int d = 1, s = 1; d < rank_out; d++)
                full[n++] = mark[d] ? 1 : in_full[s++];
        }
    }
    if (n < 2 || n > 4)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "result of rank %d (2 to 4 supported)", n);
    st = alias(b, ni, x, n, full + 1);
    if (st == PACT_OK)
        consume_node(b, ni);
    return st;
}

static pact_status lower_linear(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    int gemm = nd->op_type[0] == 'G';
    const value *x = rt_in(b, ni, 0);
    const pact_ox_tensor *w = const_in(b, ni, 1), *c = gemm && nd->n_in > 2 ? const_in(b, ni, 2) : NULL;
    if (!x || x->rank != 2)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input A must be a computed 2-D tensor (flatten first)");
    if (!w || w->ndim != 2 || w->is_int)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input B must be a 2-D float constant");
    if (gemm && nd->n_in > 2 && nd->in[2][0] && !c)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input C is not a constant");
    if (gemm && attr_int(nd, "transA", 0))
        return node_fail(b, ni, PACT_EUNSUPPORTED, "transA is not supported");
    int trans_b = gemm && attr_int(nd, "transB", 0);
    const int64_t k_in = x->dims[0];
    const int64_t n_out = trans_b ? w->dims[0] : w->dims[1];
    if ((trans_b ? w->dims[1] : w->dims[0]) != k_in || n_out < 1)
        return node_fail(b, ni, PACT_EFORMAT, "B %s is [%lld, %lld], A has %lld features", w->name,
                         (long long)w->dims[0], (long long)w->dims[1], (long long)k_in);
    double alpha = gemm ? attr_float(nd, "alpha", 1.0) : 1.0, beta = gemm ? attr_float(nd, "beta", 1.0) : 1.0;
    float *wf = NULL, *bf = calloc((size_t)n_out, sizeof *bf);
    pact_status st = bf ? weights(b, ni, w, "B", &wf) : oom(b);
    if (st == PACT_OK && c) {
        if (c->is_int || !(c->count == 1 || (size_t)n_out == c->count) ||
            (c->ndim == 2 && c->dims[0] != 1))
            st = node_fail(b, ni, PACT_EUNSUPPORTED, "C %s must be [%lld] or a scalar", c->name,
                           (long long)n_out);
        for (int64_t j = 0; st == PACT_OK && j < n_out; j++) {
            double v = beta * c->f[c->count == 1 ? 0 : j];
            if (!isfinite(v))
                st = node_fail(b, ni, PACT_EFORMAT, "C %s is not finite", c->name);
            bf[j] = (float)v;
        }
    }
    if (st == PACT_OK) {
        /* weight [n_out][k_in], row-major */
        float *wt = malloc(sizeof(float) * (size_t)(n_out * k_in));
        if (!wt)
            st = oom(b);
        for (int64_t o = 0; st == PACT_OK && o < n_out; o++)
            for (int64_t i = 0; i < k_in; i++) {
                float v = trans_b ? wf[o * k_in + i] : wf[i * n_out + o];
                wt[o * k_in + i] = alpha == 1.0 ? v : (float)(alpha * v);
            }
        free(wf);
        wf = wt;
    }
    int64_t dims[3] = {n_out, 1, 1};
    int xb = x->buf;
    pact_shape xs = shape_of(x);
    pact_op *o = NULL;
    if (st == PACT_OK)
        st = new_output(b, ni, 2, dims, &o);
    if (st != PACT_OK) {
        free(wf);
        free(bf);
        return st;
    }
    o->kind = PACT_OP_LINEAR;
    o->in = xb;
    o->in_shape = xs;
    o->weight = wf;
    o->bias = bf;
    consume_node(b, ni);
    return PACT_OK;
}

/* Integer list from a constant input, or -1 when absent. */
static int const_ints(builder *b, int ni, int i, int64_t *v, int max)
{
    const pact_ox_tensor *t = i < b->m->nodes[ni].n_in ? const_in(b, ni, i) : NULL;
    if (!t)
        return -1;
    if (!t->is_int || t->ndim > 1 || t->count > (size_t)max)
        return -2;
    for (size_t k = 0; k < t->count; k++)
        v[k] = t->i[k];
    return (int)t->count;
}

static pact_status lower_pad(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const value *x = rt_in(b, ni, 0);
    if (!x)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed tensor");
    const char *mode = attr_str(nd, "mode", "constant");
    if (strcmp(mode, "constant") != 0)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "mode '%.32s' is not supported (only constant)", mode);
    int64_t pads[16], axes[8];
    int np, na = -1;
    double value = 0.0;
    if (b->opset >= 11) {
        np = const_ints(b, ni, 1, pads, 16);
        if (nd->n_in > 2 && nd->in[2][0]) {
            const pact_ox_tensor *cv = const_in(b, ni, 2);
            if (!cv || cv->count != 1)
                return node_fail(b, ni, PACT_EUNSUPPORTED, "constant_value must be a scalar constant");
            value = pact_ox_at(cv, 0);
        }
        if (nd->n_in > 3 && nd->in[3][0] && (na = const_ints(b, ni, 3, axes, 8)) < 0)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "axes must be an integer constant");
    } else {
        np = attr_ints(nd, "pads", pads, 16);
        value = attr_float(nd, "value", 0.0);
    }
    const int r = x->rank;
    int64_t begin[4] = {0}, end[4] = {0};
    if (na < 0) {
        if (np != 2 * r)
            return node_fail(b, ni, PACT_EFORMAT, "pads must be %d constant integers", 2 * r);
        for (int d = 0; d < r; d++) {
            begin[d] = pads[d];
            end[d] = pads[r + d];
        }
    } else {
        if (np != 2 * na)
            return node_fail(b, ni, PACT_EFORMAT, "pads must be %d constant integers", 2 * na);
        for (int k = 0; k < na; k++) {
            int64_t a = axes[k] < 0 ? axes[k] + r : axes[k];
            if (a < 0 || a >= r)
                return node_fail(b, ni, PACT_EFORMAT, "axis %lld outside the rank %d", (long long)axes[k], r);
            begin[a] = pads[k];
            end[a] = pads[na + k];
        }
    }
    if (begin[0] || end[0])
        return node_fail(b, ni, PACT_EUNSUPPORTED, "padding the batch dimension is not supported");
    int64_t dims[3];
    for (int d = 1; d < r; d++) {
        if (begin[d] < 0 || end[d] < 0 || begin[d] > 4096 || end[d] > 4096)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "pads %lld, %lld on axis %d (0..4096 supported)",
                             (long long)begin[d], (long long)end[d], d);
        dims[d - 1] = x->dims[d - 1] + begin[d] + end[d];
    }
    if (!isfinite(value))
        return node_fail(b, ni, PACT_EFORMAT, "constant_value is not finite");
    int zero = 1;
    for (int d = 1; d < r; d++)
        zero &= begin[d] == 0 && end[d] == 0;
    pact_status st;
    if (zero) {
        st = alias(b, ni, x, r, dims);
    } else {
        int xb = x->buf;
        pact_shape xs = shape_of(x);
        pact_op *o;
        st = new_output(b, ni, r, dims, &o);
        if (st == PACT_OK) {
            o->kind = PACT_OP_PAD;
            o->in = xb;
            o->in_shape = xs;
            o->value = (float)value;
            for (int d = 1; d < r; d++)
                o->begin[d - 1] = (int)begin[d];
        }
    }
    if (st == PACT_OK)
        consume_node(b, ni);
    return st;
}

static pact_status lower_slice(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const value *x = rt_in(b, ni, 0);
    if (!x)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed tensor");
    int64_t starts[8], ends[8], axes[8], steps[8];
    int ns, ne, na = -1, nst = -1;
    if (b->opset >= 10) {
        ns = const_ints(b, ni, 1, starts, 8);
        ne = const_ints(b, ni, 2, ends, 8);
        if (nd->n_in > 3 && nd->in[3][0] && (na = const_ints(b, ni, 3, axes, 8)) < 0)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "axes must be an integer constant");
        if (nd->n_in > 4 && nd->in[4][0] && (nst = const_ints(b, ni, 4, steps, 8)) < 0)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "steps must be an integer constant");
    } else {
        ns = attr_ints(nd, "starts", starts, 8);
        ne = attr_ints(nd, "ends", ends, 8);
        na = attr_ints(nd, "axes", axes, 8);
    }
    if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return node_fail(b, ni, PACT_EUNSUPPORTED,
                         "starts, ends, axes and steps must be constant lists of one length");
    const int r = x->rank;
    int64_t first[4] = {0, 0, 0, 0}, count[4] = {0, x->dims[0], x->dims[1], x->dims[2]},
            step[4] = {1, 1, 1, 1};
    int seen[4] = {0};
    for (int k = 0; k < ns; k++) {
        int64_t a = na >= 0 ? axes[k] : k;
        a = a < 0 ? a + r : a;
        if (a < 0 || a >= r || seen[a]++)
            return node_fail(b, ni, PACT_EFORMAT, "axis %lld invalid or repeated", (long long)a);
        int64_t s = nst >= 0 ? steps[k] : 1;
        if (s < 1)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "step %lld on axis %lld (only steps >= 1 on "
                             "computed tensors)", (long long)s, (long long)a);
        if (a == 0) { /* the batch: only the whole of it */
            if (starts[k] != 0 || ends[k] < ((int64_t)1 << 31) - 1 || s != 1)
                return node_fail(b, ni, PACT_EUNSUPPORTED, "slicing the batch dimension is not supported");
            continue;
        }
        int64_t len = x->dims[a - 1], st0 = starts[k], en = ends[k];
        st0 = st0 < 0 ? st0 + len : st0;
        en = en < 0 ? en + len : en;
        st0 = st0 < 0 ? 0 : st0 > len ? len : st0;
        en = en < 0 ? 0 : en > len ? len : en;
        first[a] = st0;
        step[a] = s;
        count[a] = en > st0 ? (en - st0 + s - 1) / s : 0;
        if (count[a] == 0)
            return node_fail(b, ni, PACT_EUNSUPPORTED, "empty slice on axis %lld", (long long)a);
    }
    int identity = 1;
    for (int d = 1; d < r; d++)
        identity &= first[d] == 0 && step[d] == 1 && count[d] == x->dims[d - 1];
    pact_status st;
    if (identity) {
        st = alias(b, ni, x, r, count + 1);
    } else {
        int xb = x->buf;
        pact_shape xs = shape_of(x);
        pact_op *o;
        st = new_output(b, ni, r, count + 1, &o);
        if (st == PACT_OK) {
            o->kind = PACT_OP_SLICE;
            o->in = xb;
            o->in_shape = xs;
            for (int d = 1; d < 4; d++) {
                o->begin[d - 1] = (int)first[d];
                o->step[d - 1] = (int)step[d];
            }
        }
    }
    if (st == PACT_OK)
        consume_node(b, ni);
    return st;
}

/* Concat along channels: a chain of two-input concatenations. */
static pact_status lower_concat(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    if (nd->n_in < 1)
        return node_fail(b, ni, PACT_EFORMAT, "no inputs");
    const value *x0 = rt_in(b, ni, 0);
    for (int i = 0; i < nd->n_in; i++)
        if (!rt_in(b, ni, i))
            return node_fail(b, ni, PACT_EUNSUPPORTED, "input %d is not a computed tensor", i);
    int64_t axis = attr_int(nd, "axis", 1);
    if (axis != 1 && axis != 1 - x0->rank)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "axis %lld (only the channels, axis 1)", (long long)axis);
    if (nd->n_in == 1) {
        pact_status st = alias(b, ni, x0, x0->rank, x0->dims);
        if (st == PACT_OK)
            consume_node(b, ni);
        return st;
    }
    int64_t channels = 0;
    for (int i = 0; i < nd->n_in; i++) {
        const value *xi = rt_in(b, ni, i);
        if (xi->rank != x0->rank || xi->dims[1] != x0->dims[1] || xi->dims[2] != x0->dims[2])
            return node_fail(b, ni, PACT_EFORMAT, "input %d has another rank or spatial size", i);
        channels += xi->dims[0];
    }
    if (channels > (1 << 24))
        return node_fail(b, ni, PACT_EFORMAT, "%lld channels", (long long)channels);
    /* acc = in0; acc = concat(acc, in_i): intermediate buffers are read once */
    int acc_buf = x0->buf;
    pact_shape acc = shape_of(x0);
    for (int i = 1; i < nd->n_in; i++) {
        const value *xi = rt_in(b, ni, i);
        pact_shape s = shape_of(xi);
        int last = i == nd->n_in - 1;
        pact_shape out = {acc.c + s.c, acc.h, acc.w};
        pact_op *o;
        int buf = -1;
        if (last) {
            int64_t dims[3] = {out.c, x0->dims[1], x0->dims[2]};
            int xb = xi->buf, rank = x0->rank;
            pact_status st = new_output(b, ni, rank, dims, &o);
            if (st != PACT_OK)
                return st;
            o->res = xb;
        } else {
            o = emit(b);
            buf = o ? alloc_buf(b, (size_t)out.c * out.h * out.w) : -1;
            if (!o || buf < 0)
                return oom(b);
            b->buf_uses[buf] = 1;
            o->out = buf;
            o->out_shape = out;
            o->res = xi->buf;
        }
        o->kind = PACT_OP_CONCAT;
        o->in = acc_buf;
        o->in_shape = acc;
        o->res_shape = s;
        if (i > 1 && --b->buf_uses[acc_buf] <= 0) /* the previous intermediate */
            b->buf_free[acc_buf] = 1;
        acc_buf = buf;
        acc = out;
    }
    consume_node(b, ni);
    return PACT_OK;
}

/* Shape of a computed tensor: a constant, the batch counted as 1 (what a
 * PyTorch trace with a batch of one records). */
static pact_status lower_shape(builder *b, int ni)
{
    const value *x = rt_in(b, ni, 0);
    int k = out_value(b, ni, 0);
    if (!x || k < 0)
        return node_fail(b, ni, PACT_EFORMAT, "no input or output");
    int64_t start = attr_int(&b->m->nodes[ni], "start", 0), end = attr_int(&b->m->nodes[ni], "end", x->rank);
    start = start < 0 ? start + x->rank : start;
    end = end < 0 ? end + x->rank : end;
    start = start < 0 ? 0 : start > x->rank ? x->rank : start;
    end = end < start ? start : end > x->rank ? x->rank : end;
    value *v = &b->v[k];
    v->owned.ndim = 1;
    v->owned.dims[0] = end - start;
    v->owned.count = (size_t)(end - start);
    v->owned.is_int = 1;
    pact_status st = pact_ox_tensor_alloc(&v->owned, b->err);
    if (st != PACT_OK)
        return st;
    int64_t full[4] = {1, x->dims[0], x->dims[1], x->dims[2]};
    for (int64_t d = start; d < end; d++)
        v->owned.i[d - start] = full[d];
    v->kind = V_CONST;
    v->c = &v->owned;
    consume_node(b, ni);
    return PACT_OK;
}

static pact_status fold_node(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const pact_ox_tensor *in[16];
    if (nd->n_in > 16)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "%d inputs", nd->n_in);
    for (int i = 0; i < nd->n_in; i++)
        in[i] = nd->in[i][0] ? const_of(b, nd->in[i]) : NULL;
    int k = out_value(b, ni, 0);
    if (k < 0)
        return node_fail(b, ni, PACT_EFORMAT, "no output");
    pact_status st = pact_ox_fold(nd, in, nd->n_in, b->opset, b->origin, &b->v[k].owned, b->err);
    if (st != PACT_OK)
        return st;
    b->v[k].kind = V_CONST;
    b->v[k].c = &b->v[k].owned;
    return PACT_OK;
}

static pact_status lower_node(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const char *op = nd->op_type;
    if (nd->domain[0] && strcmp(nd->domain, "ai.onnx") != 0)
        return node_fail(b, ni, PACT_EUNSUPPORTED, "operator of domain '%.64s' not supported",
                         nd->domain);
    int any_rt = 0;
    for (int i = 0; i < nd->n_in; i++)
        any_rt |= is_runtime(b, nd->in[i]);
    if (!any_rt) {
        if (pact_ox_foldable(op))
            return fold_node(b, ni);
        return node_fail(b, ni, PACT_EUNSUPPORTED, "operator not supported on constant inputs");
    }
    act_match am;
    if (match_activation(b, ni, &am))
        return lower_activation(b, &am);
    if (strcmp(op, "Relu") == 0 || strcmp(op, "Sigmoid") == 0 || strcmp(op, "Tanh") == 0 ||
        strcmp(op, "Gelu") == 0) {
        const value *x = rt_in(b, ni, 0);
        int k = out_value(b, ni, 0);
        if (!x || k < 0)
            return node_fail(b, ni, PACT_EFORMAT, "no input or output");
        pact_func f = op[0] == 'R' ? (b->opts && b->opts->act != PACT_RELU ? b->opts->act : PACT_RELU)
                    : op[0] == 'S' ? PACT_SIGMOID
                    : op[0] == 'T' ? PACT_TANH
                    : strcmp(attr_str(nd, "approximate", "none"), "tanh") == 0 ? PACT_GELU_TANH
                                                                                 : PACT_GELU;
        pact_status st = emit_act(b, value_of(b, nd->in[0]), k, f, ni, 1);
        if (st == PACT_OK)
            consume_node(b, ni);
        return st;
    }
    if (strcmp(op, "Conv") == 0) {
        pact_status st = lower_conv(b, ni);
        if (st == PACT_OK)
            consume_node(b, ni);
        return st;
    }
    if (strcmp(op, "BatchNormalization") == 0)
        return lower_batchnorm(b, ni);
    if (strcmp(op, "Add") == 0 || strcmp(op, "Sub") == 0 || strcmp(op, "Mul") == 0 ||
        strcmp(op, "Div") == 0)
        return lower_arith(b, ni);
    if (strcmp(op, "MaxPool") == 0 || strcmp(op, "AveragePool") == 0)
        return lower_pool(b, ni);
    if (strcmp(op, "GlobalAveragePool") == 0)
        return lower_gap(b, ni, 1);
    if (strcmp(op, "ReduceMean") == 0)
        return lower_reduce_mean(b, ni);
    if (strcmp(op, "Flatten") == 0 || strcmp(op, "Reshape") == 0 || strcmp(op, "Identity") == 0 ||
        strcmp(op, "Dropout") == 0 || strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0)
        return lower_reshape(b, ni);
    if (strcmp(op, "Gemm") == 0 || strcmp(op, "MatMul") == 0)
        return lower_linear(b, ni);
    if (strcmp(op, "Pad") == 0)
        return lower_pad(b, ni);
    if (strcmp(op, "Slice") == 0)
        return lower_slice(b, ni);
    if (strcmp(op, "Concat") == 0)
        return lower_concat(b, ni);
    if (strcmp(op, "Shape") == 0)
        return lower_shape(b, ni);
    if (strcmp(op, "Cast") == 0 && attr_int(nd, "to", 0) == PACT_OX_FLOAT)
        return lower_reshape(b, ni) /* a float cast of a float tensor: identity */;
    return node_fail(b, ni, PACT_EUNSUPPORTED, "operator not supported");
}

/* --- graph walk -------------------------------------------------------------- */

static pact_status register_values(builder *b)
{
    const pact_ox_model *m = b->m;
    int cap = m->n_init + m->n_inputs + 1;
    for (int k = 0; k < m->n_nodes; k++)
        cap += m->nodes[k].n_out;
    b->v = calloc((size_t)cap, sizeof *b->v);
    if (!b->v)
        return oom(b);
    for (int k = 0; k < m->n_init; k++) {
        const char *nm = m->init[k].name;
        if (!nm[0] || map_get(&b->map, nm) >= 0)
            return pact_fail(b->err, PACT_EFORMAT, "%s: initializer '%s' is unnamed or repeated",
                             b->origin, nm);
        b->v[b->n_v] = (value){.name = nm, .kind = V_CONST, .c = &m->init[k], .producer = -1,
                               .buf = -1, .op = -1};
        if (!map_put(&b->map, nm, b->n_v++))
            return oom(b);
    }
    for (int k = 0; k < m->n_inputs; k++) {
        const char *nm = m->inputs[k].name;
        if (map_get(&b->map, nm) >= 0) /* an input with a default (initializer) */
            continue;
        if (!nm[0])
            return pact_fail(b->err, PACT_EFORMAT, "%s: graph input #%d has no name", b->origin, k);
        b->v[b->n_v] = (value){.name = nm, .kind = V_NONE, .producer = -1, .buf = -1, .op = -1};
        if (!map_put(&b->map, nm, b->n_v++))
            return oom(b);
    }
    for (int ni = 0; ni < m->n_nodes; ni++)
        for (int o = 0; o < m->nodes[ni].n_out; o++) {
            const char *nm = m->nodes[ni].out[o];
            if (!nm[0])
                continue;
            int prev = map_get(&b->map, nm);
            if (prev >= 0) {
                char l1[210];
                return pact_fail(b->err, PACT_EFORMAT,
                                 "%s: value '%.200s' is written twice (node '%s' (%.64s) and %s)",
                                 b->origin, nm, label(b, ni, l1, sizeof l1), m->nodes[ni].op_type,
                                 b->v[prev].producer >= 0 ? "another node" : "an initializer or input");
            }
            b->v[b->n_v] = (value){.name = nm, .kind = V_NONE, .producer = ni, .buf = -1, .op = -1};
            if (!map_put(&b->map, nm, b->n_v++))
                return oom(b);
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
        return oom(b);
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
            int k = map_get(&b->map, nd->in[i]);
            if (k < 0) {
                st = node_fail(b, ni, PACT_EFORMAT, "input '%.200s' is not an initializer, a graph "
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
        return oom(b);
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
            st = node_fail(b, ni, PACT_EFORMAT, "the graph has a cycle through this node");
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
        int vk = map_get(&b->map, m->inputs[k].name);
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
    int vk = map_get(&b->map, in->name);
    pact_op *op = emit(b);
    if (!op)
        return oom(b);
    pact_status st = set_runtime(b, vk, 4, in->dims + 1, -1, 0);
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
        int buf = alloc_buf(b, n);
        pact_op *op = buf >= 0 ? emit(b) : NULL;
        if (!op)
            return oom(b);
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
        return oom(b);
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
    if (st == PACT_OK && (b->out_value = map_get(&b->map, model->outputs[0].name)) < 0)
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
            st = lower_node(b, b->order[k]);
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
