/* Lowering of one ONNX node onto engine ops: Conv (with an explicit pad for
 * asymmetric padding), BatchNormalization (folded into its convolution when
 * nothing else reads that, a per-channel affine op else), Add/Sub/Mul/Div,
 * pooling, reshapes (aliases of the same buffer), Gemm/MatMul, Pad, Slice,
 * Concat, Shape; constant-only nodes are folded (onnx_const.c). */
#define _POSIX_C_SOURCE 200809L
#include "onnx_builder.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS_DEFAULT 1e-5

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
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "output %d (%s) is used; only the first "
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
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "%s %s is not floating point", what, t->name);
    for (size_t k = 0; k < t->count; k++)
        if (!isfinite(t->f[k]))
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "%s %s: element %zu is %s", what, t->name, k,
                             isnan(t->f[k]) ? "NaN" : "infinite");
    *out = malloc(sizeof(float) * (t->count ? t->count : 1));
    if (!*out)
        return pact_oxb_oom(b);
    memcpy(*out, t->f, sizeof(float) * t->count);
    return PACT_OK;
}

/* A value that is an alias of runtime x (same buffer, new shape). */
static pact_status alias(builder *b, int ni, const value *x, int rank, const int64_t *dims)
{
    int k = out_value(b, ni, 0);
    if (k < 0)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "no output");
    size_t n = 1;
    for (int d = 0; d < rank - 1; d++)
        n *= (size_t)dims[d];
    if (n != floats_of(x))
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "%zu elements per image from %zu", n, floats_of(x));
    return pact_oxb_set_runtime(b, k, rank, dims, x->buf, x->op);
}

/* A new op writing output 0 of node ni with the given per-image dims. */
static pact_status new_output(builder *b, int ni, int rank, const int64_t *dims, pact_op **op)
{
    int k = out_value(b, ni, 0);
    if (k < 0)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "no output");
    for (int d = 0; d < rank - 1; d++)
        if (dims[d] < 1 || dims[d] > (1 << 24))
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "output dimension %d is %lld", d + 1,
                             (long long)dims[d]);
    pact_op *o = pact_oxb_emit(b);
    if (!o)
        return pact_oxb_oom(b);
    pact_status st = pact_oxb_set_runtime(b, k, rank, dims, -1, b->g->n_ops - 1);
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
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "strides must be 2 values in 1..1024");
        w->sh = (int)v[0];
        w->sw = (int)v[1];
    }
    if ((n = attr_ints(nd, "dilations", v, 8)) >= 0)
        for (int d = 0; d < n; d++)
            if (v[d] != 1)
                return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "dilation %lld is not supported",
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
                return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "pads has %d values (4 expected)", n);
            for (int d = 0; d < 4; d++)
                if (v[d] < 0 || v[d] > 1024)
                    return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "pads[%d] = %lld", d, (long long)v[d]);
            w->pt = (int)v[0];
            w->pl = (int)v[1];
            w->pb = (int)v[2];
            w->pr = (int)v[3];
        }
    } else {
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "auto_pad '%.32s' unknown", ap);
    }
    long sh = (long)h + w->pt + w->pb - kh, sw = (long)wd + w->pl + w->pr - kw;
    if (sh < 0 || sw < 0)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "window %dx%d larger than the padded input %dx%d",
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
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed 4-D tensor");
    if (!wt)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "weight %s is not a constant", nd->n_in > 1 ? nd->in[1] : "?");
    if (nd->n_in > 2 && nd->in[2][0] && !bt)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "bias %s is not a constant", nd->in[2]);
    const int c_in = (int)x->dims[0];
    if (attr_int(nd, "group", 1) != 1)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "group %lld is not supported (only 1)",
                         (long long)attr_int(nd, "group", 1));
    if (wt->ndim != 4 || wt->dims[1] != c_in || wt->dims[0] < 1 || wt->dims[2] != wt->dims[3] ||
        wt->dims[2] < 1 || wt->dims[2] > 64)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT,
                         "weight %s must be [M, %d, k, k] with a square kernel k <= 64", wt->name,
                         c_in);
    const int c_out = (int)wt->dims[0], k = (int)wt->dims[2];
    if (bt && (bt->ndim != 1 || bt->dims[0] != c_out))
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "bias %s must be [%d]", bt->name, c_out);
    int64_t ks[4];
    int nk = attr_ints(nd, "kernel_shape", ks, 4);
    if (nk >= 0 && (nk != 2 || ks[0] != k || ks[1] != k))
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "kernel_shape disagrees with the weight %s", wt->name);
    window w;
    pact_status st = window_of(b, ni, x, k, k, 0, &w);
    if (st != PACT_OK)
        return st;
    if (w.sh != w.sw)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "strides %d, %d differ", w.sh, w.sw);
    float *wf = NULL, *bf = NULL;
    st = weights(b, ni, wt, "weight", &wf);
    if (st == PACT_OK && bt)
        st = weights(b, ni, bt, "bias", &bf);
    else if (st == PACT_OK && !(bf = calloc((size_t)c_out, sizeof *bf)))
        st = pact_oxb_oom(b);
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
        pact_op *po = pact_oxb_emit(b);
        int buf = po ? pact_oxb_alloc_buf(b, (size_t)c_in * (in_shape.h + w.pt + w.pb) *
                                        (in_shape.w + w.pl + w.pr))
                     : -1;
        if (!po || buf < 0) {
            free(wf);
            free(bf);
            return pact_oxb_oom(b);
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
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed tensor");
    if (attr_int(nd, "training_mode", 0))
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "training_mode is not supported");
    pact_status st = only_first_output(b, ni);
    if (st != PACT_OK)
        return st;
    const int c = (int)x->dims[0];
    const pact_ox_tensor *p[4];
    const char *role[4] = {"scale", "B", "mean", "var"};
    for (int i = 0; i < 4; i++) {
        p[i] = nd->n_in > i + 1 ? const_in(b, ni, i + 1) : NULL;
        if (!p[i])
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "%s is missing or not a constant", role[i]);
        if (p[i]->is_int || p[i]->count != (size_t)c)
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "%s %s must hold %d floats", role[i],
                             p[i]->name, c);
        for (int j = 0; j < c; j++)
            if (!isfinite(p[i]->f[j]) || (i == 3 && p[i]->f[j] < 0.0f))
                return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "%s %s: element %d is %g", role[i],
                                 p[i]->name, j, (double)p[i]->f[j]);
    }
    const pact_ox_attr *ea = pact_ox_attr_find(nd, "epsilon");
    double eps = ea && ea->type == PACT_OX_ATTR_FLOAT ? float_attr_decimal(ea->f) : BN_EPS_DEFAULT;
    if (!(eps > 0.0) || !isfinite(eps))
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "epsilon %g is not > 0", eps);
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
        pact_oxb_consume(b, nd->in[0]);
        b->buf_free[buf] = 0;
        return pact_oxb_set_runtime(b, yk, rank, dims, buf, opi);
    }
    float *s = malloc(sizeof(float) * (size_t)c), *t = malloc(sizeof(float) * (size_t)c);
    if (!s || !t) {
        free(s);
        free(t);
        return pact_oxb_oom(b);
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
    pact_oxb_consume_node(b, ni);
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
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "%d inputs (2 expected)", nd->n_in);
    const value *a = rt_in(b, ni, 0), *c = rt_in(b, ni, 1);
    if (a && c) {
        if (op[0] != 'A')
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED,
                             "%s of two computed tensors is not supported (only inside the "
                             "SiLU and GELU subgraphs)", op);
        if (a->rank != c->rank || a->dims[0] != c->dims[0] || a->dims[1] != c->dims[1] ||
            a->dims[2] != c->dims[2])
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "operands of different shapes (no broadcasting)");
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
        pact_oxb_consume_node(b, ni);
        return PACT_OK;
    }
    const value *x = a ? a : c;
    const pact_ox_tensor *k = a ? const_in(b, ni, 1) : const_in(b, ni, 0);
    if (!x || !k)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "operands must be computed tensors or constants");
    if (!a && (op[0] == 'D'))
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "division by a computed tensor is not supported");
    double *cv = malloc(sizeof(double) * (size_t)x->dims[0]);
    int n = 0;
    if (!cv)
        return pact_oxb_oom(b);
    if (!per_channel(x, k, cv, &n)) {
        free(cv);
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED,
                         "constant %s is not one value per channel (or one for all)", k->name);
    }
    float *s = malloc(sizeof(float) * (size_t)n), *t = malloc(sizeof(float) * (size_t)n);
    pact_status st = s && t ? PACT_OK : pact_oxb_oom(b);
    for (int j = 0; j < n && st == PACT_OK; j++) {
        double v = cv[j], sc = 1.0, sh = 0.0;
        switch (op[0]) {
        case 'A': sh = v; break;
        case 'S': if (a) sh = -v; else { sc = -1.0; sh = v; } break;
        case 'M': sc = v; break;
        default:
            if (v == 0.0)
                st = pact_oxb_node_fail(b, ni, PACT_EFORMAT, "division by zero (constant %s)", k->name);
            sc = 1.0 / v;
            break;
        }
        if (st == PACT_OK && (!isfinite(sc) || !isfinite(sh)))
            st = pact_oxb_node_fail(b, ni, PACT_EFORMAT, "constant %s is not finite", k->name);
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
    pact_oxb_consume_node(b, ni);
    return PACT_OK;
}

static pact_status lower_pool(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const value *x = rt_in(b, ni, 0);
    if (!x || x->rank != 4)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed 4-D tensor");
    int is_max = nd->op_type[0] == 'M';
    pact_status st = only_first_output(b, ni);
    if (st != PACT_OK)
        return st;
    int64_t ks[4];
    if (attr_ints(nd, "kernel_shape", ks, 4) != 2 || ks[0] < 1 || ks[1] < 1 || ks[0] > 1024 ||
        ks[1] > 1024)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "kernel_shape must be 2 values in 1..1024");
    int ceil_mode = attr_int(nd, "ceil_mode", 0) != 0;
    int count_pad = !is_max && attr_int(nd, "count_include_pad", 0) != 0;
    if (ceil_mode && count_pad)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "ceil_mode with count_include_pad is not supported");
    window w;
    st = window_of(b, ni, x, (int)ks[0], (int)ks[1], ceil_mode, &w);
    if (st != PACT_OK)
        return st;
    if (w.pt >= w.kh || w.pl >= w.kw || w.pb >= w.kh || w.pr >= w.kw)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "padding as large as the window");
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
    pact_oxb_consume_node(b, ni);
    return PACT_OK;
}

/* GlobalAveragePool, and ReduceMean over the spatial axes. */
static pact_status lower_gap(builder *b, int ni, int keepdims)
{
    const value *x = rt_in(b, ni, 0);
    if (!x || x->rank != 4)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed 4-D tensor");
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
    pact_oxb_consume_node(b, ni);
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
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "only the mean over the spatial axes 2, 3 of a "
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
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed tensor");
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
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "axis %lld would mix images of the batch "
                             "(only 1)", (long long)axis);
        n = 2;
        full[1] = (int64_t)per;
    } else if (strcmp(op, "Reshape") == 0) {
        const pact_ox_tensor *s = const_in(b, ni, 1);
        if (!s || !s->is_int || s->ndim != 1 || s->count < 2 || s->count > 4)
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "shape must be a constant of 2 to 4 values");
        int allowzero = attr_int(nd, "allowzero", 0) != 0;
        int infer = -1;
        uint64_t known = 1;
        n = (int)s->count;
        /* dimension 0 is the batch: 0, -1 or 1 (PyTorch's traced size) */
        if (!(s->i[0] == -1 || s->i[0] == 1 || (s->i[0] == 0 && !allowzero)))
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED,
                             "shape[0] = %lld would change the batch dimension", (long long)s->i[0]);
        for (int d = 1; d < n; d++) {
            int64_t v = s->i[d];
            if (v == 0 && !allowzero) {
                if (d >= x->rank)
                    return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "shape[%d] = 0 copies a missing dimension", d);
                v = x->dims[d - 1];
            }
            if (v == -1) {
                if (infer >= 0 || s->i[0] == -1)
                    return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "more than one -1 in the shape");
                infer = d;
                continue;
            }
            if (v < 1 || (uint64_t)v > per)
                return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "shape[%d] = %lld", d, (long long)v);
            full[d] = v;
            known *= (uint64_t)v;
            if (known > per)
                break;
        }
        if (infer >= 0) {
            if (known == 0 || per % known)
                return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "cannot infer the -1 from %zu elements", per);
            full[infer] = (int64_t)(per / known);
            known *= (uint64_t)full[infer];
        }
        if (known != per)
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "shape of %llu elements per image for %zu",
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
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "axes missing or too many");
        int rank_out = squeeze ? x->rank - (na < 0 ? 0 : na) : x->rank + na;
        int64_t in_full[4] = {1, x->dims[0], x->dims[1], x->dims[2]};
        int mark[8] = {0};
        for (int k = 0; k < na; k++) {
            int r = squeeze ? x->rank : rank_out;
            int64_t a = axes[k] < 0 ? axes[k] + r : axes[k];
            if (a <= 0 || a >= r || mark[a]++)
                return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "axis %lld invalid, repeated or the batch",
                                 (long long)axes[k]);
            if (squeeze && in_full[a] != 1)
                return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "axis %lld has size %lld, not 1",
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
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "result of rank %d (2 to 4 supported)", n);
    st = alias(b, ni, x, n, full + 1);
    if (st == PACT_OK)
        pact_oxb_consume_node(b, ni);
    return st;
}

static pact_status lower_linear(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    int gemm = nd->op_type[0] == 'G';
    const value *x = rt_in(b, ni, 0);
    const pact_ox_tensor *w = const_in(b, ni, 1), *c = gemm && nd->n_in > 2 ? const_in(b, ni, 2) : NULL;
    if (!x || x->rank != 2)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input A must be a computed 2-D tensor (flatten first)");
    if (!w || w->ndim != 2 || w->is_int)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input B must be a 2-D float constant");
    if (gemm && nd->n_in > 2 && nd->in[2][0] && !c)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input C is not a constant");
    if (gemm && attr_int(nd, "transA", 0))
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "transA is not supported");
    int trans_b = gemm && attr_int(nd, "transB", 0);
    const int64_t k_in = x->dims[0];
    const int64_t n_out = trans_b ? w->dims[0] : w->dims[1];
    if ((trans_b ? w->dims[1] : w->dims[0]) != k_in || n_out < 1)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "B %s is [%lld, %lld], A has %lld features", w->name,
                         (long long)w->dims[0], (long long)w->dims[1], (long long)k_in);
    double alpha = gemm ? attr_float(nd, "alpha", 1.0) : 1.0, beta = gemm ? attr_float(nd, "beta", 1.0) : 1.0;
    float *wf = NULL, *bf = calloc((size_t)n_out, sizeof *bf);
    pact_status st = bf ? weights(b, ni, w, "B", &wf) : pact_oxb_oom(b);
    if (st == PACT_OK && c) {
        if (c->is_int || !(c->count == 1 || (size_t)n_out == c->count) ||
            (c->ndim == 2 && c->dims[0] != 1))
            st = pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "C %s must be [%lld] or a scalar", c->name,
                           (long long)n_out);
        for (int64_t j = 0; st == PACT_OK && j < n_out; j++) {
            double v = beta * c->f[c->count == 1 ? 0 : j];
            if (!isfinite(v))
                st = pact_oxb_node_fail(b, ni, PACT_EFORMAT, "C %s is not finite", c->name);
            bf[j] = (float)v;
        }
    }
    if (st == PACT_OK) {
        /* weight [n_out][k_in], row-major */
        float *wt = malloc(sizeof(float) * (size_t)(n_out * k_in));
        if (!wt)
            st = pact_oxb_oom(b);
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
    pact_oxb_consume_node(b, ni);
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
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed tensor");
    const char *mode = attr_str(nd, "mode", "constant");
    if (strcmp(mode, "constant") != 0)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "mode '%.32s' is not supported (only constant)", mode);
    int64_t pads[16], axes[8];
    int np, na = -1;
    double value = 0.0;
    if (b->opset >= 11) {
        np = const_ints(b, ni, 1, pads, 16);
        if (nd->n_in > 2 && nd->in[2][0]) {
            const pact_ox_tensor *cv = const_in(b, ni, 2);
            if (!cv || cv->count != 1)
                return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "constant_value must be a scalar constant");
            value = pact_ox_at(cv, 0);
        }
        if (nd->n_in > 3 && nd->in[3][0] && (na = const_ints(b, ni, 3, axes, 8)) < 0)
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "axes must be an integer constant");
    } else {
        np = attr_ints(nd, "pads", pads, 16);
        value = attr_float(nd, "value", 0.0);
    }
    const int r = x->rank;
    int64_t begin[4] = {0}, end[4] = {0};
    if (na < 0) {
        if (np != 2 * r)
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "pads must be %d constant integers", 2 * r);
        for (int d = 0; d < r; d++) {
            begin[d] = pads[d];
            end[d] = pads[r + d];
        }
    } else {
        if (np != 2 * na)
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "pads must be %d constant integers", 2 * na);
        for (int k = 0; k < na; k++) {
            int64_t a = axes[k] < 0 ? axes[k] + r : axes[k];
            if (a < 0 || a >= r)
                return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "axis %lld outside the rank %d", (long long)axes[k], r);
            begin[a] = pads[k];
            end[a] = pads[na + k];
        }
    }
    if (begin[0] || end[0])
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "padding the batch dimension is not supported");
    int64_t dims[3];
    for (int d = 1; d < r; d++) {
        if (begin[d] < 0 || end[d] < 0 || begin[d] > 4096 || end[d] > 4096)
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "pads %lld, %lld on axis %d (0..4096 supported)",
                             (long long)begin[d], (long long)end[d], d);
        dims[d - 1] = x->dims[d - 1] + begin[d] + end[d];
    }
    if (!isfinite(value))
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "constant_value is not finite");
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
        pact_oxb_consume_node(b, ni);
    return st;
}

static pact_status lower_slice(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const value *x = rt_in(b, ni, 0);
    if (!x)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input must be a computed tensor");
    int64_t starts[8], ends[8], axes[8], steps[8];
    int ns, ne, na = -1, nst = -1;
    if (b->opset >= 10) {
        ns = const_ints(b, ni, 1, starts, 8);
        ne = const_ints(b, ni, 2, ends, 8);
        if (nd->n_in > 3 && nd->in[3][0] && (na = const_ints(b, ni, 3, axes, 8)) < 0)
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "axes must be an integer constant");
        if (nd->n_in > 4 && nd->in[4][0] && (nst = const_ints(b, ni, 4, steps, 8)) < 0)
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "steps must be an integer constant");
    } else {
        ns = attr_ints(nd, "starts", starts, 8);
        ne = attr_ints(nd, "ends", ends, 8);
        na = attr_ints(nd, "axes", axes, 8);
    }
    if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED,
                         "starts, ends, axes and steps must be constant lists of one length");
    const int r = x->rank;
    int64_t first[4] = {0, 0, 0, 0}, count[4] = {0, x->dims[0], x->dims[1], x->dims[2]},
            step[4] = {1, 1, 1, 1};
    int seen[4] = {0};
    for (int k = 0; k < ns; k++) {
        int64_t a = na >= 0 ? axes[k] : k;
        a = a < 0 ? a + r : a;
        if (a < 0 || a >= r || seen[a]++)
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "axis %lld invalid or repeated", (long long)a);
        int64_t s = nst >= 0 ? steps[k] : 1;
        if (s < 1)
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "step %lld on axis %lld (only steps >= 1 on "
                             "computed tensors)", (long long)s, (long long)a);
        if (a == 0) { /* the batch: only the whole of it */
            if (starts[k] != 0 || ends[k] < ((int64_t)1 << 31) - 1 || s != 1)
                return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "slicing the batch dimension is not supported");
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
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "empty slice on axis %lld", (long long)a);
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
        pact_oxb_consume_node(b, ni);
    return st;
}

/* Concat along channels: a chain of two-input concatenations. */
static pact_status lower_concat(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    if (nd->n_in < 1)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "no inputs");
    const value *x0 = rt_in(b, ni, 0);
    for (int i = 0; i < nd->n_in; i++)
        if (!rt_in(b, ni, i))
            return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "input %d is not a computed tensor", i);
    int64_t axis = attr_int(nd, "axis", 1);
    if (axis != 1 && axis != 1 - x0->rank)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "axis %lld (only the channels, axis 1)", (long long)axis);
    if (nd->n_in == 1) {
        pact_status st = alias(b, ni, x0, x0->rank, x0->dims);
        if (st == PACT_OK)
            pact_oxb_consume_node(b, ni);
        return st;
    }
    int64_t channels = 0;
    for (int i = 0; i < nd->n_in; i++) {
        const value *xi = rt_in(b, ni, i);
        if (xi->rank != x0->rank || xi->dims[1] != x0->dims[1] || xi->dims[2] != x0->dims[2])
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "input %d has another rank or spatial size", i);
        channels += xi->dims[0];
    }
    if (channels > (1 << 24))
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "%lld channels", (long long)channels);
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
            o = pact_oxb_emit(b);
            buf = o ? pact_oxb_alloc_buf(b, (size_t)out.c * out.h * out.w) : -1;
            if (!o || buf < 0)
                return pact_oxb_oom(b);
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
    pact_oxb_consume_node(b, ni);
    return PACT_OK;
}

/* Shape of a computed tensor: a constant, the batch counted as 1 (what a
 * PyTorch trace with a batch of one records). */
static pact_status lower_shape(builder *b, int ni)
{
    const value *x = rt_in(b, ni, 0);
    int k = out_value(b, ni, 0);
    if (!x || k < 0)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "no input or output");
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
    pact_oxb_consume_node(b, ni);
    return PACT_OK;
}

static pact_status fold_node(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const pact_ox_tensor *in[16];
    if (nd->n_in > 16)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "%d inputs", nd->n_in);
    for (int i = 0; i < nd->n_in; i++)
        in[i] = nd->in[i][0] ? const_of(b, nd->in[i]) : NULL;
    int k = out_value(b, ni, 0);
    if (k < 0)
        return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "no output");
    pact_status st = pact_ox_fold(nd, in, nd->n_in, b->opset, b->origin, &b->v[k].owned, b->err);
    if (st != PACT_OK)
        return st;
    b->v[k].kind = V_CONST;
    b->v[k].c = &b->v[k].owned;
    return PACT_OK;
}

pact_status pact_oxb_lower_node(builder *b, int ni)
{
    const pact_ox_node *nd = &b->m->nodes[ni];
    const char *op = nd->op_type;
    if (nd->domain[0] && strcmp(nd->domain, "ai.onnx") != 0)
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "operator of domain '%.64s' not supported",
                         nd->domain);
    int any_rt = 0;
    for (int i = 0; i < nd->n_in; i++)
        any_rt |= is_runtime(b, nd->in[i]);
    if (!any_rt) {
        if (pact_ox_foldable(op))
            return fold_node(b, ni);
        return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "operator not supported on constant inputs");
    }
    pact_oxb_act_match am;
    if (pact_oxb_match_activation(b, ni, &am))
        return pact_oxb_lower_activation(b, &am);
    if (strcmp(op, "Relu") == 0 || strcmp(op, "Sigmoid") == 0 || strcmp(op, "Tanh") == 0 ||
        strcmp(op, "Gelu") == 0) {
        const value *x = rt_in(b, ni, 0);
        int k = out_value(b, ni, 0);
        if (!x || k < 0)
            return pact_oxb_node_fail(b, ni, PACT_EFORMAT, "no input or output");
        pact_func f = op[0] == 'R' ? (b->opts && b->opts->act != PACT_RELU ? b->opts->act : PACT_RELU)
                    : op[0] == 'S' ? PACT_SIGMOID
                    : op[0] == 'T' ? PACT_TANH
                    : strcmp(attr_str(nd, "approximate", "none"), "tanh") == 0 ? PACT_GELU_TANH
                                                                                 : PACT_GELU;
        pact_status st = pact_oxb_emit_act(b, value_of(b, nd->in[0]), k, f, ni, 1);
        if (st == PACT_OK)
            pact_oxb_consume_node(b, ni);
        return st;
    }
    if (strcmp(op, "Conv") == 0) {
        pact_status st = lower_conv(b, ni);
        if (st == PACT_OK)
            pact_oxb_consume_node(b, ni);
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
    return pact_oxb_node_fail(b, ni, PACT_EUNSUPPORTED, "operator not supported");
}
