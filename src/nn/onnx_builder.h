/* The ONNX graph builder's state and the helpers its parts share:
 * onnx_builder.c (names, values, buffers, ops, activation layers),
 * onnx_match.c (activation subgraphs), onnx_lower.c (one node at a time),
 * onnx_build.c (the graph walk and the entry point). Internal. */
#ifndef PACT_NN_ONNX_BUILDER_H
#define PACT_NN_ONNX_BUILDER_H

#include "onnx_internal.h"

#include <string.h>

/* --- value names -> indices (open addressing; keys are borrowed) ---------- */

typedef struct {
    const char **keys;
    int *vals;
    size_t cap; /* power of two */
    size_t n;
} name_map;

/* Index stored for `key`, or -1. */
int pact_oxb_map_get(const name_map *m, const char *key);

/* Adds key -> val (key not present); 0 when out of memory. */
int pact_oxb_map_put(name_map *m, const char *key, int val);

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

/* Node ni's name, or "#<index>" when it has none, in buf. Returns buf. */
const char *pact_oxb_label(const builder *b, int ni, char *buf, size_t size);

/* "<origin>: node '<name>' (<op>): <message>" with status st. */
pact_status pact_oxb_node_fail(builder *b, int ni, pact_status st, const char *fmt, ...)
    PACT_PRINTF(4, 5);

/* PACT_ENOMEM naming the file. */
pact_status pact_oxb_oom(builder *b);

/* --- attributes ----------------------------------------------------------- */

static inline int64_t attr_int(const pact_ox_node *nd, const char *name, int64_t def)
{
    const pact_ox_attr *a = pact_ox_attr_find(nd, name);
    return a && a->type == PACT_OX_ATTR_INT ? a->i : def;
}

static inline double attr_float(const pact_ox_node *nd, const char *name, double def)
{
    const pact_ox_attr *a = pact_ox_attr_find(nd, name);
    return a && a->type == PACT_OX_ATTR_FLOAT ? (double)a->f : def;
}

static inline const char *attr_str(const pact_ox_node *nd, const char *name, const char *def)
{
    const pact_ox_attr *a = pact_ox_attr_find(nd, name);
    return a && a->type == PACT_OX_ATTR_STRING ? a->s : def;
}

/* INTS attribute into v[0..max): count, or -1 when absent, -2 when too long. */
static inline int attr_ints(const pact_ox_node *nd, const char *name, int64_t *v, int max)
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

/* --- values ----------------------------------------------------------------- */

static inline int value_of(const builder *b, const char *name) { return name[0] ? pact_oxb_map_get(&b->map, name) : -1; }

static inline const pact_ox_tensor *const_of(const builder *b, const char *name)
{
    int k = value_of(b, name);
    return k >= 0 && b->v[k].kind == V_CONST ? b->v[k].c : NULL;
}

static inline int is_runtime(const builder *b, const char *name)
{
    int k = value_of(b, name);
    return k >= 0 && b->v[k].kind == V_RUNTIME;
}

static inline pact_shape shape_of(const value *v)
{
    pact_shape s = {(int)v->dims[0], 1, 1};
    if (v->rank > 2)
        s.h = (int)v->dims[1];
    if (v->rank > 3)
        s.w = (int)v->dims[2];
    return s;
}

static inline size_t floats_of(const value *v)
{
    pact_shape s = shape_of(v);
    return (size_t)s.c * s.h * s.w;
}
/* --- buffers, ops, activation layers (onnx_builder.c) --------------------- */

/* A free buffer for `floats` per image (-1: out of memory). */
int pact_oxb_alloc_buf(builder *b, size_t floats);

/* Makes value k runtime: rank (2..4) with per-image dims, in buffer buf (a new
 * one when buf < 0), last written by op `op`; its consumers count on the buffer. */
pact_status pact_oxb_set_runtime(builder *b, int k, int rank, const int64_t *dims, int buf, int op);

/* One use of runtime value `name` is over (its buffer is freed at the last). */
void pact_oxb_consume(builder *b, const char *name);

/* Every input of node ni has been used once. */
void pact_oxb_consume_node(builder *b, int ni);

/* A new zeroed op at the end of the graph (res -1, steps 1); NULL: no memory.
 * Pointers to earlier ops may move. */
pact_op *pact_oxb_emit(builder *b);

/* Activation `f` of runtime value x_k into value out_k, an activation layer
 * named after node name_node; in place when the `uses_of_x` inputs of the
 * nodes it replaces are the last uses of x's buffer. */
pact_status pact_oxb_emit_act(builder *b, int x_k, int out_k, pact_func f, int name_node,
                              int uses_of_x);

/* --- activation subgraphs (onnx_match.c) ---------------------------------- */

#define MAX_PATTERN 12

typedef struct {
    pact_func f;
    int n;
    int nodes[MAX_PATTERN]; /* every node replaced, the first being the anchor */
    int name_node;          /* whose name the layer gets */
    const char *x;          /* the activation's input */
    int last;               /* the node whose output is the activation's */
} pact_oxb_act_match;

/* Node ni (some input computed) starts a SiLU, erf-GELU or tanh-GELU subgraph
 * whose intermediate values nothing else reads: fills *am, returns 1. */
int pact_oxb_match_activation(const builder *b, int ni, pact_oxb_act_match *am);

/* Replaces the matched nodes by one activation layer. */
pact_status pact_oxb_lower_activation(builder *b, const pact_oxb_act_match *am);

/* --- single nodes (onnx_lower.c) ------------------------------------------- */

/* Lowers node ni (folds it when all its inputs are constants). */
pact_status pact_oxb_lower_node(builder *b, int ni);

#endif
