/* Activation subgraphs of ONNX exports, each replaced by one activation
 * layer: SiLU (x * Sigmoid(x)), GELU in erf form (x / sqrt 2 -> Erf -> + 1 ->
 * x * . * 0.5) and in tanh form (x^3 -> * 0.044715 -> + x -> * sqrt(2/pi) ->
 * Tanh -> + 1 -> x * . * 0.5), operands in either order. */
#define _POSIX_C_SOURCE 200809L
#include "onnx_builder.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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




/* Node ni reads runtime x = in[xi]: is it the start of an activation subgraph? */
int pact_oxb_match_activation(const builder *b, int ni, pact_oxb_act_match *am)
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
        *am = (pact_oxb_act_match){PACT_SILU, 2, {ni, m}, ni, x, m};
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
        *am = (pact_oxb_act_match){PACT_GELU, 5, {ni, e, p, tail[0], tail[1]}, e, x, last};
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
pact_status pact_oxb_lower_activation(builder *b, const pact_oxb_act_match *am)
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
    pact_status st = pact_oxb_emit_act(b, value_of(b, x), out_k, am->f, am->name_node, uses);
    for (int k = 0; k < uses && st == PACT_OK; k++)
        pact_oxb_consume(b, x);
    return st;
}
