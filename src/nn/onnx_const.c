/* Constant folding for ONNX imports: exporters compute pads, shapes and slice
 * bounds with small subgraphs of constants (PyTorch's F.pad becomes
 * ConstantOfShape, Concat, Reshape, a reversing Slice, Transpose and Cast),
 * which polyact evaluates once at load time. Integers are held as int64,
 * floating-point values as float, with numpy broadcasting for arithmetic. */
#include "onnx_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const foldable[] = {"Constant", "ConstantOfShape", "Identity", "Cast",
                                       "Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                       "Concat", "Gather", "Slice", "Transpose",
                                       "Shape", "Add", "Sub", "Mul", "Div", "Neg"};

int pact_ox_foldable(const char *op_type)
{
    for (size_t i = 0; i < sizeof foldable / sizeof foldable[0]; i++)
        if (strcmp(op_type, foldable[i]) == 0)
            return 1;
    return 0;
}

double pact_ox_at(const pact_ox_tensor *t, size_t k)
{
    return t->is_int ? (double)t->i[k] : (double)t->f[k];
}

pact_status pact_ox_tensor_alloc(pact_ox_tensor *t, pact_error *err)
{
    t->dtype = t->is_int ? PACT_OX_INT64 : PACT_OX_FLOAT;
    size_t n = t->count ? t->count : 1;
    if (t->is_int)
        t->i = calloc(n, sizeof *t->i);
    else
        t->f = calloc(n, sizeof *t->f);
    if (!t->i && !t->f)
        return pact_fail(err, PACT_ENOMEM, "out of memory for a constant of %zu elements",
                         t->count);
    return PACT_OK;
}

typedef struct {
    const pact_ox_node *node;
    const char *origin;
    pact_error *err;
} fold_ctx;

#define FAIL(fc, ...) fold_fail(fc, __VA_ARGS__)

static pact_status fold_fail(const fold_ctx *fc, const char *fmt, ...) PACT_PRINTF(2, 3);

static pact_status fold_fail(const fold_ctx *fc, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pact_fail(fc->err, PACT_EFORMAT, "%s: node '%s' (%s): %s", fc->origin,
                     fc->node->name, fc->node->op_type, msg);
}

/* Sets out's dims (checked: each >= 0, product <= PACT_OX_FOLD_MAX) and allocates. */
static pact_status shape_out(const fold_ctx *fc, pact_ox_tensor *out, int ndim, const int64_t *dims,
                             int is_int)
{
    if (ndim < 0 || ndim > PACT_OX_MAX_DIMS)
        return FAIL(fc, "result of rank %d (at most %d)", ndim, PACT_OX_MAX_DIMS);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 0 || (uint64_t)dims[d] > PACT_OX_FOLD_MAX)
            return FAIL(fc, "result dimension %d is %lld", d, (long long)dims[d]);
        count *= (size_t)dims[d];
        if (count > PACT_OX_FOLD_MAX)
            return FAIL(fc, "result of more than %zu elements", PACT_OX_FOLD_MAX);
    }
    out->ndim = ndim;
    memcpy(out->dims, dims, sizeof(int64_t) * (size_t)ndim);
    out->count = count;
    out->is_int = is_int;
    return pact_ox_tensor_alloc(out, fc->err);
}

static void set_at(pact_ox_tensor *t, size_t k, double v)
{
    if (t->is_int)
        t->i[k] = (int64_t)v;
    else
        t->f[k] = (float)v;
}

static void copy_elems(pact_ox_tensor *dst, size_t dk, const pact_ox_tensor *src, size_t sk)
{
    if (dst->is_int && src->is_int)
        dst->i[dk] = src->i[sk];
    else if (!dst->is_int && !src->is_int)
        dst->f[dk] = src->f[sk];
    else
        set_at(dst, dk, pact_ox_at(src, sk));
}

/* An int list from an attribute or an input (1-D integer constant). */
static pact_status int_list(const fold_ctx *fc, const pact_ox_tensor *t, const char *what,
                            int64_t *v, int max, int *n)
{
    if (!t->is_int || t->ndim > 1 || t->count > (size_t)max)
        return FAIL(fc, "%s must be a 1-D integer list of at most %d values", what, max);
    for (size_t k = 0; k < t->count; k++)
        v[k] = t->i[k];
    *n = (int)t->count;
    return PACT_OK;
}

static int norm_axis(int64_t axis, int rank, int *out)
{
    if (axis < -rank || axis >= rank)
        return 0;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return 1;
}

static pact_status copy_tensor(const fold_ctx *fc, const pact_ox_tensor *src, pact_ox_tensor *out)
{
    pact_status st = shape_out(fc, out, src->ndim, src->dims, src->is_int);
    for (size_t k = 0; st == PACT_OK && k < src->count; k++)
        copy_elems(out, k, src, k);
    return st;
}

static pact_status fold_constant(const fold_ctx *fc, pact_ox_tensor *out)
{
    const pact_ox_node *nd = fc->node;
    for (int a = 0; a < nd->n_attr; a++) {
        const pact_ox_attr *at = &nd->attr[a];
        int64_t one = 1;
        if (strcmp(at->name, "value") == 0 && at->type == PACT_OX_ATTR_TENSOR)
            return copy_tensor(fc, at->t, out);
        if (strcmp(at->name, "value_float") == 0 && at->type == PACT_OX_ATTR_FLOAT) {
            pact_status st = shape_out(fc, out, 0, &one, 0);
            if (st == PACT_OK)
                out->f[0] = at->f;
            return st;
        }
        if (strcmp(at->name, "value_int") == 0 && at->type == PACT_OX_ATTR_INT) {
            pact_status st = shape_out(fc, out, 0, &one, 1);
            if (st == PACT_OK)
                out->i[0] = at->i;
            return st;
        }
        if ((strcmp(at->name, "value_floats") == 0 && at->type == PACT_OX_ATTR_FLOATS) ||
            (strcmp(at->name, "value_ints") == 0 && at->type == PACT_OX_ATTR_INTS)) {
            int64_t n = (int64_t)at->n;
            int is_int = at->type == PACT_OX_ATTR_INTS;
            pact_status st = shape_out(fc, out, 1, &n, is_int);
            for (size_t k = 0; st == PACT_OK && k < at->n; k++)
                set_at(out, k, is_int ? (double)at->ints[k] : (double)at->floats[k]);
            if (st == PACT_OK && is_int)
                memcpy(out->i, at->ints, sizeof(int64_t) * at->n);
            return st;
        }
    }
    return FAIL(fc, "no value, value_float(s) or value_int(s) attribute");
}

static pact_status fold_constant_of_shape(const fold_ctx *fc, const pact_ox_tensor *shape,
                                          pact_ox_tensor *out)
{
    int64_t dims[PACT_OX_MAX_DIMS];
    int n = 0;
    pact_status st = int_list(fc, shape, "the shape", dims, PACT_OX_MAX_DIMS, &n);
    if (st != PACT_OK)
        return st;
    const pact_ox_attr *v = pact_ox_attr_find(fc->node, "value");
    const pact_ox_tensor *val = v && v->type == PACT_OX_ATTR_TENSOR ? v->t : NULL;
    if (val && val->count != 1)
        return FAIL(fc, "value has %zu elements (1 expected)", val->count);
    st = shape_out(fc, out, n, dims, val ? val->is_int : 0);
    for (size_t k = 0; st == PACT_OK && k < out->count; k++)
        set_at(out, k, val ? pact_ox_at(val, 0) : 0.0);
    return st;
}

static pact_status fold_reshape(const fold_ctx *fc, const pact_ox_tensor *x,
                                const pact_ox_tensor *shape, pact_ox_tensor *out)
{
    int64_t dims[PACT_OX_MAX_DIMS];
    int n = 0;
    pact_status st = int_list(fc, shape, "the shape", dims, PACT_OX_MAX_DIMS, &n);
    if (st != PACT_OK)
        return st;
    const pact_ox_attr *az = pact_ox_attr_find(fc->node, "allowzero");
    int allowzero = az && az->type == PACT_OX_ATTR_INT && az->i;
    int infer = -1;
    uint64_t known = 1;
    for (int d = 0; d < n; d++) {
        if (dims[d] == 0 && !allowzero) {
            if (d >= x->ndim)
                return FAIL(fc, "shape[%d] = 0 copies a dimension the input lacks", d);
            dims[d] = x->dims[d];
        }
        if (dims[d] == -1) {
            if (infer >= 0)
                return FAIL(fc, "more than one -1 in the shape");
            infer = d;
            continue;
        }
        if (dims[d] < 0 || (uint64_t)dims[d] > PACT_OX_FOLD_MAX)
            return FAIL(fc, "shape[%d] = %lld", d, (long long)dims[d]);
        known *= (uint64_t)dims[d];
        if (known > PACT_OX_FOLD_MAX)
            return FAIL(fc, "shape of more than %zu elements", PACT_OX_FOLD_MAX);
    }
    if (infer >= 0) {
        if (known == 0 || x->count % known)
            return FAIL(fc, "cannot infer the -1 of the shape from %zu elements", x->count);
        dims[infer] = (int64_t)(x->count / known);
        known *= (uint64_t)dims[infer];
    }
    if (known != x->count)
        return FAIL(fc, "shape of %llu elements for an input of %zu", (unsigned long long)known,
                    x->count);
    st = shape_out(fc, out, n, dims, x->is_int);
    for (size_t k = 0; st == PACT_OK && k < x->count; k++)
        copy_elems(out, k, x, k);
    return st;
}

/* Squeeze / Unsqueeze / Flatten: same elements, new dims. */
static pact_status fold_redim(const fold_ctx *fc, const pact_ox_tensor *x,
                              const pact_ox_tensor *axes_in, int64_t opset, pact_ox_tensor *out)
{
    const char *op = fc->node->op_type;
    int64_t dims[PACT_OX_MAX_DIMS];
    int n = 0;
    if (strcmp(op, "Flatten") == 0) {
        const pact_ox_attr *a = pact_ox_attr_find(fc->node, "axis");
        int64_t axis = a ? a->i : 1;
        if (axis < 0)
            axis += x->ndim;
        if (axis < 0 || axis > x->ndim)
            return FAIL(fc, "axis %lld outside the input's rank %d", a ? (long long)a->i : 1LL,
                        x->ndim);
        dims[0] = dims[1] = 1;
        for (int d = 0; d < x->ndim; d++)
            dims[d < axis ? 0 : 1] *= x->dims[d];
        pact_status st = shape_out(fc, out, 2, dims, x->is_int);
        for (size_t k = 0; st == PACT_OK && k < x->count; k++)
            copy_elems(out, k, x, k);
        return st;
    }
    int64_t axes[PACT_OX_MAX_DIMS];
    int n_axes = 0;
    const pact_ox_attr *aa = pact_ox_attr_find(fc->node, "axes");
    pact_status st = PACT_OK;
    if (opset >= 13 && axes_in)
        st = int_list(fc, axes_in, "axes", axes, PACT_OX_MAX_DIMS, &n_axes);
    else if (aa && aa->type == PACT_OX_ATTR_INTS) {
        if (aa->n > PACT_OX_MAX_DIMS)
            return FAIL(fc, "more than %d axes", PACT_OX_MAX_DIMS);
        n_axes = (int)aa->n;
        memcpy(axes, aa->ints, sizeof(int64_t) * aa->n);
    }
    if (st != PACT_OK)
        return st;
    int is_squeeze = strcmp(op, "Squeeze") == 0;
    if (is_squeeze) {
        int drop[PACT_OX_MAX_DIMS] = {0};
        for (int k = 0; k < n_axes; k++) {
            int a;
            if (!norm_axis(axes[k], x->ndim, &a) || x->dims[a] != 1)
                return FAIL(fc, "axis %lld is not a dimension of size 1", (long long)axes[k]);
            drop[a] = 1;
        }
        for (int d = 0; d < x->ndim; d++)
            if (!(n_axes ? drop[d] : x->dims[d] == 1))
                dims[n++] = x->dims[d];
    } else {
        n = x->ndim + n_axes;
        if (n > PACT_OX_MAX_DIMS || n_axes == 0)
            return FAIL(fc, "Unsqueeze to rank %d (needs 1..%d axes)", n, PACT_OX_MAX_DIMS);
        int ins[PACT_OX_MAX_DIMS] = {0};
        for (int k = 0; k < n_axes; k++) {
            int a;
            if (!norm_axis(axes[k], n, &a) || ins[a])
                return FAIL(fc, "axis %lld invalid or repeated", (long long)axes[k]);
            ins[a] = 1;
        }
        for (int d = 0, s = 0; d < n; d++)
            dims[d] = ins[d] ? 1 : x->dims[s++];
    }
    st = shape_out(fc, out, n, dims, x->is_int);
    for (size_t k = 0; st == PACT_OK && k < x->count; k++)
        copy_elems(out, k, x, k);
    return st;
}

/* Strides of a row-major tensor. */
static void strides_of(const int64_t *dims, int ndim, size_t *stride)
{
    size_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        stride[d] = s;
        s *= (size_t)dims[d];
    }
}

static pact_status fold_concat(const fold_ctx *fc, const pact_ox_tensor *const *in, int n_in,
                               pact_ox_tensor *out)
{
    if (n_in < 1 || !in[0])
        return FAIL(fc, "no inputs");
    const pact_ox_tensor *a = in[0];
    const pact_ox_attr *ax = pact_ox_attr_find(fc->node, "axis");
    int axis;
    if (!ax || !norm_axis(ax->i, a->ndim, &axis))
        return FAIL(fc, "axis missing or outside the rank %d", a->ndim);
    int64_t dims[PACT_OX_MAX_DIMS];
    memcpy(dims, a->dims, sizeof dims);
    int is_int = 1;
    dims[axis] = 0;
    for (int k = 0; k < n_in; k++) {
        const pact_ox_tensor *t = in[k];
        if (!t || t->ndim != a->ndim)
            return FAIL(fc, "input %d has another rank", k);
        for (int d = 0; d < a->ndim; d++)
            if (d != axis && t->dims[d] != a->dims[d])
                return FAIL(fc, "input %d: dimension %d is %lld, not %lld", k, d,
                            (long long)t->dims[d], (long long)a->dims[d]);
        dims[axis] += t->dims[axis];
        is_int &= t->is_int;
    }
    pact_status st = shape_out(fc, out, a->ndim, dims, is_int);
    if (st != PACT_OK)
        return st;
    size_t outer = 1;
    for (int d = 0; d < axis; d++)
        outer *= (size_t)dims[d];
    size_t inner = 1;
    for (int d = axis + 1; d < a->ndim; d++)
        inner *= (size_t)dims[d];
    size_t o = 0;
    for (size_t r = 0; r < outer; r++)
        for (int k = 0; k < n_in; k++) {
            size_t block = (size_t)in[k]->dims[axis] * inner;
            for (size_t j = 0; j < block; j++)
                copy_elems(out, o++, in[k], r * block + j);
        }
    return PACT_OK;
}

static pact_status fold_gather(const fold_ctx *fc, const pact_ox_tensor *x,
                               const pact_ox_tensor *idx, pact_ox_tensor *out)
{
    const pact_ox_attr *ax = pact_ox_attr_find(fc->node, "axis");
    int axis;
    if (!idx->is_int)
        return FAIL(fc, "indices are not integers");
    if (!norm_axis(ax ? ax->i : 0, x->ndim, &axis))
        return FAIL(fc, "axis outside the rank %d", x->ndim);
    int ndim = x->ndim - 1 + idx->ndim;
    if (ndim > PACT_OX_MAX_DIMS)
        return FAIL(fc, "result of rank %d", ndim);
    int64_t dims[PACT_OX_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < axis; d++)
        dims[n++] = x->dims[d];
    for (int d = 0; d < idx->ndim; d++)
        dims[n++] = idx->dims[d];
    for (int d = axis + 1; d < x->ndim; d++)
        dims[n++] = x->dims[d];
    pact_status st = shape_out(fc, out, ndim, dims, x->is_int);
    if (st != PACT_OK)
        return st;
    size_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= (size_t)x->dims[d];
    for (int d = axis + 1; d < x->ndim; d++)
        inner *= (size_t)x->dims[d];
    const int64_t len = x->dims[axis];
    size_t o = 0;
    for (size_t r = 0; r < outer; r++)
        for (size_t k = 0; k < idx->count; k++) {
            int64_t i = idx->i[k] < 0 ? idx->i[k] + len : idx->i[k];
            if (i < 0 || i >= len)
                return FAIL(fc, "index %lld outside 0..%lld", (long long)idx->i[k],
                            (long long)len - 1);
            for (size_t j = 0; j < inner; j++)
                copy_elems(out, o++, x, (r * (size_t)len + (size_t)i) * inner + j);
        }
    return PACT_OK;
}

/* ONNX Slice bounds for one axis of length len: first element and count. */
static int slice_axis(int64_t start, int64_t end, int64_t step, int64_t len, int64_t *first,
                      int64_t *count)
{
    if (step == 0 || step == INT64_MIN) /* INT64_MIN: -step would overflow */
        return 0;
    if (start < 0)
        start += len;
    if (end < 0 && end > INT64_MIN / 2)
        end += len;
    if (step > 0) {
        start = start < 0 ? 0 : start > len ? len : start;
        end = end < 0 ? 0 : end > len ? len : end;
        *count = end > start ? (end - start - 1) / step + 1 : 0; /* no overflow for a huge step */
    } else {
        start = start < 0 ? -1 : start > len - 1 ? len - 1 : start;
        end = end < -1 ? -1 : end > len - 1 ? len - 1 : end;
        *count = start > end ? (start - end - 1) / -step + 1 : 0;
    }
    *first = start;
    return 1;
}

static pact_status fold_slice(const fold_ctx *fc, const pact_ox_tensor *const *in, int n_in,
                              int64_t opset, pact_ox_tensor *out)
{
    const pact_ox_tensor *x = in[0];
    int64_t starts[PACT_OX_MAX_DIMS], ends[PACT_OX_MAX_DIMS], axes[PACT_OX_MAX_DIMS],
        steps[PACT_OX_MAX_DIMS];
    int ns = 0, ne = 0, na = -1, nst = -1;
    pact_status st = PACT_OK;
    if (opset >= 10) {
        if (n_in < 3 || !in[1] || !in[2])
            return FAIL(fc, "starts and ends inputs are required");
        st = int_list(fc, in[1], "starts", starts, PACT_OX_MAX_DIMS, &ns);
        if (st == PACT_OK)
            st = int_list(fc, in[2], "ends", ends, PACT_OX_MAX_DIMS, &ne);
        if (st == PACT_OK && n_in > 3 && in[3])
            st = int_list(fc, in[3], "axes", axes, PACT_OX_MAX_DIMS, &na);
        if (st == PACT_OK && n_in > 4 && in[4])
            st = int_list(fc, in[4], "steps", steps, PACT_OX_MAX_DIMS, &nst);
    } else {
        const pact_ox_attr *s = pact_ox_attr_find(fc->node, "starts"),
                           *e = pact_ox_attr_find(fc->node, "ends"),
                           *a = pact_ox_attr_find(fc->node, "axes");
        if (!s || !e || s->type != PACT_OX_ATTR_INTS || e->type != PACT_OX_ATTR_INTS ||
            s->n > PACT_OX_MAX_DIMS || e->n > PACT_OX_MAX_DIMS ||
            (a && (a->type != PACT_OX_ATTR_INTS || a->n > PACT_OX_MAX_DIMS)))
            return FAIL(fc, "starts and ends attributes are required");
        ns = (int)s->n;
        ne = (int)e->n;
        memcpy(starts, s->ints, sizeof(int64_t) * s->n);
        memcpy(ends, e->ints, sizeof(int64_t) * e->n);
        if (a) {
            na = (int)a->n;
            memcpy(axes, a->ints, sizeof(int64_t) * a->n);
        }
    }
    if (st != PACT_OK)
        return st;
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return FAIL(fc, "starts, ends, axes and steps differ in length");
    int64_t first[PACT_OX_MAX_DIMS], step[PACT_OX_MAX_DIMS], dims[PACT_OX_MAX_DIMS];
    int seen[PACT_OX_MAX_DIMS] = {0};
    for (int d = 0; d < x->ndim; d++) {
        first[d] = 0;
        step[d] = 1;
        dims[d] = x->dims[d];
    }
    for (int k = 0; k < ns; k++) {
        int a;
        if (!norm_axis(na >= 0 ? axes[k] : k, x->ndim, &a) || seen[a]++)
            return FAIL(fc, "axis %lld invalid or repeated", na >= 0 ? (long long)axes[k] : (long long)k);
        step[a] = nst >= 0 ? steps[k] : 1;
        if (!slice_axis(starts[k], ends[k], step[a], x->dims[a], &first[a], &dims[a]))
            return FAIL(fc, "step 0 on axis %d", a);
    }
    st = shape_out(fc, out, x->ndim, dims, x->is_int);
    if (st != PACT_OK)
        return st;
    size_t xs[PACT_OX_MAX_DIMS];
    strides_of(x->dims, x->ndim, xs);
    for (size_t o = 0; o < out->count; o++) {
        size_t rem = o, src = 0;
        for (int d = x->ndim - 1; d >= 0; d--) {
            int64_t c = (int64_t)(rem % (size_t)dims[d]);
            rem /= (size_t)dims[d];
            src += (size_t)(first[d] + c * step[d]) * xs[d];
        }
        copy_elems(out, o, x, src);
    }
    return PACT_OK;
}

static pact_status fold_transpose(const fold_ctx *fc, const pact_ox_tensor *x,
                                  pact_ox_tensor *out)
{
    int perm[PACT_OX_MAX_DIMS];
    const pact_ox_attr *p = pact_ox_attr_find(fc->node, "perm");
    int used[PACT_OX_MAX_DIMS] = {0};
    if (p && (p->type != PACT_OX_ATTR_INTS || (int)p->n != x->ndim))
        return FAIL(fc, "perm does not list the %d axes", x->ndim);
    for (int d = 0; d < x->ndim; d++) {
        int64_t v = p ? p->ints[d] : x->ndim - 1 - d;
        if (v < 0 || v >= x->ndim || used[v]++)
            return FAIL(fc, "perm is not a permutation of 0..%d", x->ndim - 1);
        perm[d] = (int)v;
    }
    int64_t dims[PACT_OX_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        dims[d] = x->dims[perm[d]];
    pact_status st = shape_out(fc, out, x->ndim, dims, x->is_int);
    if (st != PACT_OK)
        return st;
    size_t xs[PACT_OX_MAX_DIMS];
    strides_of(x->dims, x->ndim, xs);
    for (size_t o = 0; o < out->count; o++) {
        size_t rem = o, src = 0;
        for (int d = x->ndim - 1; d >= 0; d--) {
            size_t c = rem % (size_t)dims[d];
            rem /= (size_t)dims[d];
            src += c * xs[perm[d]];
        }
        copy_elems(out, o, x, src);
    }
    return PACT_OK;
}

static pact_status fold_arith(const fold_ctx *fc, const pact_ox_tensor *a,
                              const pact_ox_tensor *b, pact_ox_tensor *out)
{
    const char *op = fc->node->op_type;
    int ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t dims[PACT_OX_MAX_DIMS];
    for (int d = 0; d < ndim; d++) {
        int da = d - (ndim - a->ndim), db = d - (ndim - b->ndim);
        int64_t x = da >= 0 ? a->dims[da] : 1, y = db >= 0 ? b->dims[db] : 1;
        if (x != y && x != 1 && y != 1)
            return FAIL(fc, "shapes do not broadcast (dimension %d: %lld vs %lld)", d,
                        (long long)x, (long long)y);
        dims[d] = x == 1 ? y : x;
    }
    int is_int = a->is_int && b->is_int;
    pact_status st = shape_out(fc, out, ndim, dims, is_int);
    if (st != PACT_OK)
        return st;
    size_t as[PACT_OX_MAX_DIMS], bs[PACT_OX_MAX_DIMS];
    strides_of(a->dims, a->ndim, as);
    strides_of(b->dims, b->ndim, bs);
    for (size_t o = 0; o < out->count; o++) {
        size_t rem = o, ia = 0, ib = 0;
        for (int d = ndim - 1; d >= 0; d--) {
            size_t c = rem % (size_t)dims[d];
            rem /= (size_t)dims[d];
            int da = d - (ndim - a->ndim), db = d - (ndim - b->ndim);
            if (da >= 0 && a->dims[da] != 1)
                ia += c * as[da];
            if (db >= 0 && b->dims[db] != 1)
                ib += c * bs[db];
        }
        if (is_int) {
            int64_t x = a->i[ia], y = b->i[ib];
            if (op[0] == 'D' && (y == 0 || (x == INT64_MIN && y == -1)))
                return FAIL(fc, "integer division by %lld", (long long)y);
            /* wrap-around like the hardware, without signed overflow */
            uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
            uint64_t r = op[0] == 'A' ? ux + uy : op[0] == 'S' ? ux - uy
                       : op[0] == 'M' ? ux * uy : (uint64_t)(x / y);
            memcpy(&out->i[o], &r, sizeof r);
        } else {
            float x = (float)pact_ox_at(a, ia), y = (float)pact_ox_at(b, ib);
            out->f[o] = op[0] == 'A' ? x + y : op[0] == 'S' ? x - y : op[0] == 'M' ? x * y : x / y;
        }
    }
    return PACT_OK;
}

pact_status pact_ox_fold(const pact_ox_node *node, const pact_ox_tensor *const *in, int n_in,
                         int64_t opset, const char *origin, pact_ox_tensor *out, pact_error *err)
{
    fold_ctx fc = {node, origin, err};
    const char *op = node->op_type;
    memset(out, 0, sizeof *out);
    if (strcmp(op, "Constant") == 0)
        return fold_constant(&fc, out);
    if (n_in < 1 || !in[0])
        return FAIL(&fc, "missing input");
    const pact_ox_tensor *x = in[0], *y = n_in > 1 ? in[1] : NULL;
    if (strcmp(op, "ConstantOfShape") == 0)
        return fold_constant_of_shape(&fc, x, out);
    if (strcmp(op, "Identity") == 0)
        return copy_tensor(&fc, x, out);
    if (strcmp(op, "Cast") == 0) {
        const pact_ox_attr *to = pact_ox_attr_find(node, "to");
        int is_int;
        if (!to || to->type != PACT_OX_ATTR_INT)
            return FAIL(&fc, "no 'to' attribute");
        int t = (int)to->i;
        is_int = !(t == 1 || t == 10 || t == 11 || t == 16);
        pact_status st = shape_out(&fc, out, x->ndim, x->dims, is_int);
        for (size_t k = 0; st == PACT_OK && k < x->count; k++) {
            double v = pact_ox_at(x, k);
            if (is_int && !(fabs(v) < 9.2e18))
                return FAIL(&fc, "value %g does not fit an integer", v);
            if (is_int && x->is_int)
                out->i[k] = x->i[k];
            else
                set_at(out, k, is_int ? trunc(v) : v);
        }
        return st;
    }
    if (strcmp(op, "Reshape") == 0) {
        if (!y)
            return FAIL(&fc, "missing shape input");
        return fold_reshape(&fc, x, y, out);
    }
    if (strcmp(op, "Flatten") == 0 || strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0)
        return fold_redim(&fc, x, y, opset, out);
    if (strcmp(op, "Concat") == 0)
        return fold_concat(&fc, in, n_in, out);
    if (strcmp(op, "Gather") == 0) {
        if (!y)
            return FAIL(&fc, "missing indices input");
        return fold_gather(&fc, x, y, out);
    }
    if (strcmp(op, "Slice") == 0)
        return fold_slice(&fc, in, n_in, opset, out);
    if (strcmp(op, "Transpose") == 0)
        return fold_transpose(&fc, x, out);
    if (strcmp(op, "Shape") == 0) {
        int64_t n = x->ndim;
        pact_status st = shape_out(&fc, out, 1, &n, 1);
        for (int d = 0; st == PACT_OK && d < x->ndim; d++)
            out->i[d] = x->dims[d];
        return st;
    }
    if (strcmp(op, "Neg") == 0) {
        pact_status st = shape_out(&fc, out, x->ndim, x->dims, x->is_int);
        for (size_t k = 0; st == PACT_OK && k < x->count; k++) {
            if (x->is_int)
                out->i[k] = (int64_t)(0 - (uint64_t)x->i[k]);
            else
                out->f[k] = -x->f[k];
        }
        return st;
    }
    if (strcmp(op, "Add") == 0 || strcmp(op, "Sub") == 0 || strcmp(op, "Mul") == 0 ||
        strcmp(op, "Div") == 0) {
        if (!y)
            return FAIL(&fc, "missing second input");
        return fold_arith(&fc, x, y, out);
    }
    return FAIL(&fc, "cannot be evaluated at load time");
}
