/* Builds the graph of a CIFAR ResNet of He et al. (ResNet-(6n+2), option-A
 * shortcuts, as in akamaster/pytorch_resnet_cifar10) from safetensors weights.
 * The depth is found from the tensor names; every tensor's dtype, shape and
 * values are checked; batch norm is folded into the preceding convolution. */
#define _POSIX_C_SOURCE 200809L
#include "builders.h"
#include "../internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS_DEFAULT 1e-5 /* torch.nn.BatchNorm2d's default */

typedef struct {
    const pact_st_file *file;
    unsigned char *used; /* per tensor of the file */
    pact_error *err;
} loader;

/* Reads tensor `name` of exactly the given shape into a new float array. */
static pact_status load_tensor(loader *ld, const char *name, int ndim, const int64_t *shape,
                               float **out)
{
    const char *path = pact_st_path(ld->file);
    *out = NULL;
    const pact_st_tensor *t = pact_st_find(ld->file, name);
    if (!t)
        return pact_fail(ld->err, PACT_EFORMAT, "%s: missing tensor %s", path, name);
    ld->used[t - pact_st_at(ld->file, 0)] = 1;
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[128] = "", want[128] = "";
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "",
                     (long long)t->shape[i]);
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? "," : "",
                     (long long)shape[i]);
        return pact_fail(ld->err, PACT_EFORMAT, "%s: tensor %s: shape [%s], expected [%s]", path,
                         name, got, want);
    }
    if (t->dtype != PACT_ST_F32 && t->dtype != PACT_ST_F16 && t->dtype != PACT_ST_BF16)
        return pact_fail(ld->err, PACT_EFORMAT,
                         "%s: tensor %s: dtype %s, expected F32 (or F16/BF16)", path, name,
                         pact_st_dtype_name(t->dtype));
    float *v = malloc(sizeof(float) * (t->count ? t->count : 1));
    if (!v)
        return pact_fail(ld->err, PACT_ENOMEM, "%s: out of memory for tensor %s", path, name);
    pact_status st = pact_st_read_f32(ld->file, t, v, ld->err);
    for (uint64_t i = 0; st == PACT_OK && i < t->count; i++)
        if (!isfinite(v[i]))
            st = pact_fail(ld->err, PACT_EFORMAT, "%s: tensor %s: element %llu is %s", path, name,
                           (unsigned long long)i, isnan(v[i]) ? "NaN" : "infinite");
    if (st != PACT_OK) {
        free(v);
        return st;
    }
    *out = v;
    return PACT_OK;
}

/* conv `conv` (c_out x c_in x 3 x 3, no bias) followed by batch norm `bn`,
 * folded: w' = w g / sqrt(v + eps), b' = beta - m g / sqrt(v + eps) (in double). */
static pact_status load_conv_bn(loader *ld, const char *conv, const char *bn, int c_in,
                                int c_out, double eps, pact_op *op)
{
    char name[128];
    const int64_t wshape[4] = {c_out, c_in, 3, 3}, vshape[1] = {c_out};
    float *w = NULL, *gamma = NULL, *beta = NULL, *mean = NULL, *var = NULL;
    snprintf(name, sizeof name, "%s.weight", conv);
    pact_status st = load_tensor(ld, name, 4, wshape, &w);
    const char *part[4] = {"weight", "bias", "running_mean", "running_var"};
    float **dst[4] = {&gamma, &beta, &mean, &var};
    for (int i = 0; i < 4 && st == PACT_OK; i++) {
        snprintf(name, sizeof name, "%s.%s", bn, part[i]);
        st = load_tensor(ld, name, 1, vshape, dst[i]);
    }
    for (int c = 0; st == PACT_OK && c < c_out; c++)
        if (!(var[c] >= 0.0f))
            st = pact_fail(ld->err, PACT_EFORMAT, "%s: tensor %s.running_var: element %d is %g < 0",
                           pact_st_path(ld->file), bn, c, (double)var[c]);
    float *bias = st == PACT_OK ? malloc(sizeof(float) * (size_t)c_out) : NULL;
    if (st == PACT_OK && !bias)
        st = pact_fail(ld->err, PACT_ENOMEM, "out of memory");
    if (st == PACT_OK) {
        const int k = c_in * 9;
        for (int c = 0; c < c_out; c++) {
            double s = (double)gamma[c] / sqrt((double)var[c] + eps);
            for (int j = 0; j < k; j++)
                w[(size_t)c * k + j] = (float)((double)w[(size_t)c * k + j] * s);
            bias[c] = (float)((double)beta[c] - (double)mean[c] * s);
        }
        op->weight = w;
        op->bias = bias;
        w = NULL;
    }
    free(w);
    free(gamma);
    free(beta);
    free(mean);
    free(var);
    return st;
}

/* "a,b,c": three finite numbers (also read by the ONNX builder). */
int pact_parse_triple(const char *s, double v[3])
{
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        v[i] = strtod(s, &end);
        if (errno || end == s || !isfinite(v[i]))
            return 0;
        s = end;
        if (i < 2) {
            if (*s != ',')
                return 0;
            s++;
        }
    }
    while (*s == ' ')
        s++;
    return *s == '\0';
}

static pact_status input_norm(const pact_st_file *f, const pact_net_opts *opts, pact_op *op,
                              pact_error *err)
{
    double mean[3], std[3];
    const char *m = pact_st_metadata(f, "input_mean"), *s = pact_st_metadata(f, "input_std");
    if (opts && opts->input_mean)
        memcpy(mean, opts->input_mean, sizeof mean);
    else if (!m)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: no input_mean in __metadata__ (give the normalisation explicitly)",
                         pact_st_path(f));
    else if (!pact_parse_triple(m, mean))
        return pact_fail(err, PACT_EFORMAT, "%s: __metadata__ input_mean '%.64s' is not A,B,C",
                         pact_st_path(f), m);
    if (opts && opts->input_std)
        memcpy(std, opts->input_std, sizeof std);
    else if (!s)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: no input_std in __metadata__ (give the normalisation explicitly)",
                         pact_st_path(f));
    else if (!pact_parse_triple(s, std))
        return pact_fail(err, PACT_EFORMAT, "%s: __metadata__ input_std '%.64s' is not A,B,C",
                         pact_st_path(f), s);
    for (int c = 0; c < 3; c++) {
        if (!isfinite(mean[c]) || !(std[c] > 0.0) || !isfinite(std[c]))
            return pact_fail(err, PACT_EINVAL,
                             "%s: input normalisation channel %d: mean %g, std %g (need finite, "
                             "std > 0)",
                             pact_st_path(f), c, mean[c], std[c]);
        /* float32, as torchvision's Normalize holds them */
        op->mean[c] = (float)mean[c];
        op->std[c] = (float)std[c];
    }
    return PACT_OK;
}

/* Number of residual blocks per stage: layer1.0 .. layer1.(n-1). */
static int count_blocks(const pact_st_file *f)
{
    char name[64];
    int n = 0;
    for (;; n++) {
        snprintf(name, sizeof name, "layer1.%d.conv1.weight", n);
        if (!pact_st_find(f, name) || n > 10000)
            return n;
    }
}

static pact_status add_act(pact_graph *g, int buf, pact_shape shape, const char *name,
                           pact_func act, pact_error *err)
{
    pact_op *op = &g->ops[g->n_ops++];
    op->kind = PACT_OP_ACT;
    op->in = op->out = buf;
    op->in_shape = op->out_shape = shape;
    op->res = -1;
    op->layer = g->n_act;
    size_t len = strlen(name) + 1;
    char *copy = malloc(len);
    if (!copy)
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    memcpy(copy, name, len);
    g->act_names[g->n_act] = copy;
    g->act_funcs[g->n_act] = act;
    g->n_act++;
    return PACT_OK;
}

static pact_op *add_conv(pact_graph *g, int in, int out, pact_shape in_shape, int c_out,
                         int stride)
{
    pact_op *op = &g->ops[g->n_ops++];
    op->kind = PACT_OP_CONV;
    op->in = in;
    op->out = out;
    op->in_shape = in_shape;
    op->out_shape = (pact_shape){c_out, (in_shape.h - 1) / stride + 1, (in_shape.w - 1) / stride + 1};
    op->ksize = 3;
    op->stride = stride;
    op->pad = 1;
    op->res = -1;
    return op;
}

pact_status pact_resnet_build(const pact_st_file *f, const pact_net_opts *opts, pact_graph *g,
                              char *name, size_t name_size, pact_error *err)
{
    const char *path = pact_st_path(f);
    memset(g, 0, sizeof *g);
    const int n = count_blocks(f);
    if (n == 0)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: not a CIFAR ResNet: missing tensor layer1.0.conv1.weight", path);
    if (n > 1000)
        return pact_fail(err, PACT_EFORMAT, "%s: %d blocks per stage is implausible", path, n);
    const int depth = 6 * n + 2;
    const char *arch = pact_st_metadata(f, "arch");
    int arch_depth;
    char tail;
    if (arch && sscanf(arch, "resnet%d%c", &arch_depth, &tail) == 1 && arch_depth != depth)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: __metadata__ arch is %s but the tensors describe resnet%d", path,
                         arch, depth);
    snprintf(name, name_size, "resnet%d", depth);

    double eps = BN_EPS_DEFAULT;
    const char *eps_s = pact_st_metadata(f, "bn_eps");
    if (eps_s) {
        char *end;
        eps = strtod(eps_s, &end);
        if (end == eps_s || *end || !(eps > 0.0) || !isfinite(eps))
            return pact_fail(err, PACT_EFORMAT, "%s: __metadata__ bn_eps '%.32s' is not > 0",
                             path, eps_s);
    }
    const pact_st_tensor *c1 = pact_st_find(f, "conv1.weight");
    if (!c1)
        return pact_fail(err, PACT_EFORMAT, "%s: missing tensor conv1.weight", path);
    if (c1->ndim != 4 || c1->shape[0] < 1 || c1->shape[0] > 4096)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: tensor conv1.weight: expected shape [width,3,3,3]", path);
    const int w0 = (int)c1->shape[0];
    const pact_st_tensor *lw = pact_st_find(f, "linear.weight");
    if (!lw)
        return pact_fail(err, PACT_EFORMAT, "%s: missing tensor linear.weight", path);
    if (lw->ndim != 2 || lw->shape[0] < 1 || lw->shape[0] > 100000)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: tensor linear.weight: expected shape [classes,%d]", path, 4 * w0);
    const int classes = (int)lw->shape[0];
    const pact_func act = opts ? opts->act : PACT_RELU;
    if ((unsigned)act >= PACT_FUNC_COUNT)
        return pact_fail(err, PACT_EINVAL, "activation function %d is unknown", (int)act);

    const int n_act = 1 + 6 * n, max_ops = 1 + 1 + 1 + 3 * n * 4 + 2;
    g->ops = calloc((size_t)max_ops, sizeof *g->ops);
    g->act_names = calloc((size_t)n_act, sizeof *g->act_names);
    g->act_funcs = calloc((size_t)n_act, sizeof *g->act_funcs);
    g->n_bufs = 6;
    g->buf_floats = calloc(6, sizeof *g->buf_floats);
    loader ld = {f, calloc((size_t)pact_st_count(f) + 1, 1), err};
    if (!g->ops || !g->act_names || !g->act_funcs || !g->buf_floats || !ld.used) {
        free(ld.used);
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    }
    /* buffers: 0 input, 1..3 rotating activations, 4 pooled features, 5 logits */
    g->input_size = 3 * 32 * 32;
    g->n_classes = classes;
    g->buf_floats[0] = (size_t)g->input_size;
    g->buf_floats[1] = g->buf_floats[2] = g->buf_floats[3] = (size_t)w0 * 32 * 32;
    g->buf_floats[4] = (size_t)4 * w0;
    g->buf_floats[5] = (size_t)classes;

    pact_op *op = &g->ops[g->n_ops++];
    op->kind = PACT_OP_NORMALIZE;
    op->in = -1;
    op->out = 0;
    op->res = -1;
    op->in_shape = op->out_shape = (pact_shape){3, 32, 32};
    pact_status st = input_norm(f, opts, op, err);

    int x = 1, t = 2, y = 3;
    pact_shape shape = {w0, 32, 32};
    if (st == PACT_OK) {
        op = add_conv(g, 0, x, (pact_shape){3, 32, 32}, w0, 1);
        st = load_conv_bn(&ld, "conv1", "bn1", 3, w0, eps, op);
    }
    if (st == PACT_OK)
        st = add_act(g, x, shape, "relu", act, err);
    for (int stage = 1; stage <= 3 && st == PACT_OK; stage++) {
        for (int b = 0; b < n && st == PACT_OK; b++) {
            char p[64], conv[96], bn[96], actname[96];
            snprintf(p, sizeof p, "layer%d.%d", stage, b);
            const int stride = stage > 1 && b == 0 ? 2 : 1;
            const int planes = w0 << (stage - 1);
            pact_shape in_shape = shape;
            op = add_conv(g, x, t, in_shape, planes, stride);
            snprintf(conv, sizeof conv, "%s.conv1", p);
            snprintf(bn, sizeof bn, "%s.bn1", p);
            st = load_conv_bn(&ld, conv, bn, in_shape.c, planes, eps, op);
            shape = op->out_shape;
            snprintf(actname, sizeof actname, "%s.relu1", p);
            if (st == PACT_OK)
                st = add_act(g, t, shape, actname, act, err);
            if (st != PACT_OK)
                break;
            op = add_conv(g, t, y, shape, planes, 1);
            op->res = x;
            op->res_shape = in_shape;
            op->res_kind = stride != 1 || in_shape.c != planes ? PACT_SHORTCUT_SUBSAMPLE_PAD
                                                                : PACT_SHORTCUT_IDENTITY;
            snprintf(conv, sizeof conv, "%s.conv2", p);
            snprintf(bn, sizeof bn, "%s.bn2", p);
            st = load_conv_bn(&ld, conv, bn, planes, planes, eps, op);
            snprintf(actname, sizeof actname, "%s.relu2", p);
            if (st == PACT_OK)
                st = add_act(g, y, shape, actname, act, err);
            int old_x = x;
            x = y;
            y = old_x;
        }
    }
    if (st == PACT_OK) {
        op = &g->ops[g->n_ops++];
        op->kind = PACT_OP_GAP;
        op->in = x;
        op->out = 4;
        op->res = -1;
        op->in_shape = shape;
        op->out_shape = (pact_shape){shape.c, 1, 1};
        op = &g->ops[g->n_ops++];
        op->kind = PACT_OP_LINEAR;
        op->in = 4;
        op->out = 5;
        op->res = -1;
        op->in_shape = (pact_shape){shape.c, 1, 1};
        op->out_shape = (pact_shape){classes, 1, 1};
        const int64_t ws[2] = {classes, shape.c}, bs[1] = {classes};
        st = load_tensor(&ld, "linear.weight", 2, ws, &op->weight);
        if (st == PACT_OK)
            st = load_tensor(&ld, "linear.bias", 1, bs, &op->bias);
    }
    /* anything left over belongs to another architecture (e.g. option-B
     * shortcut convolutions): refuse rather than silently ignore it */
    for (int i = 0; i < pact_st_count(f) && st == PACT_OK; i++) {
        const char *tn = pact_st_at(f, i)->name;
        size_t len = strlen(tn);
        const char *nbt = ".num_batches_tracked";
        if (!ld.used[i] && !(len > strlen(nbt) && strcmp(tn + len - strlen(nbt), nbt) == 0))
            st = pact_fail(err, PACT_EFORMAT,
                           "%s: unexpected tensor %s (not part of a CIFAR ResNet-%d with "
                           "option-A shortcuts)",
                           path, tn, depth);
    }
    free(ld.used);
    if (st == PACT_OK)
        st = pact_graph_finish(g, err);
    if (st != PACT_OK)
        pact_graph_clear(g);
    return st;
}
