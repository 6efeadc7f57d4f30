/* Kernels of the layer-graph ops that imported (ONNX) graphs add to the
 * ResNet builder's conv / activation / pool / linear: residual add, per-channel
 * affine, max and average pooling, constant padding, strided slicing, channel
 * concatenation and copying. Plain loops over NCHW images: these ops move or
 * add data, the convolutions hold the arithmetic. */
#include "graph.h"

#include <math.h>
#include <string.h>

static size_t floats(pact_shape s) { return (size_t)s.c * s.h * s.w; }

int pact_op_reads_res(const pact_op *op)
{
    return op->res >= 0 &&
           (op->kind == PACT_OP_CONV || op->kind == PACT_OP_ADD || op->kind == PACT_OP_CONCAT);
}

static void add(const pact_op *op, const float *a, const float *b, float *out, int batch)
{
    const size_t n = floats(op->out_shape) * (size_t)batch;
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

static void affine(const pact_op *op, const float *in, float *out, int batch)
{
    const size_t plane = (size_t)op->out_shape.h * op->out_shape.w;
    const int c_n = op->out_shape.c;
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < c_n; c++) {
            const float *x = in + ((size_t)b * c_n + c) * plane;
            float *y = out + ((size_t)b * c_n + c) * plane;
            const float s = op->weight[c], t = op->bias[c];
            for (size_t p = 0; p < plane; p++)
                y[p] = x[p] * s + t;
        }
}

/* Max or average over the window of output (oy, ox) in one input plane. */
static float pool_one(const pact_op *op, const float *x, int oy, int ox, int is_max)
{
    const int h = op->in_shape.h, w = op->in_shape.w;
    const int y0 = oy * op->sh - op->pad_top, x0 = ox * op->sw - op->pad_left;
    float m = -INFINITY, s = 0.0f;
    int n = 0;
    for (int ky = 0; ky < op->kh; ky++) {
        const int y = y0 + ky;
        if (y < 0 || y >= h)
            continue;
        for (int kx = 0; kx < op->kw; kx++) {
            const int xx = x0 + kx;
            if (xx < 0 || xx >= w)
                continue;
            const float v = x[(size_t)y * w + xx];
            m = v > m ? v : m;
            s += v;
            n++;
        }
    }
    if (is_max)
        return m;
    const int div = op->count_pad ? op->kh * op->kw : n;
    return div > 0 ? s / (float)div : 0.0f;
}

static void pool(const pact_op *op, const float *in, float *out, int batch, int is_max)
{
    const size_t in_plane = (size_t)op->in_shape.h * op->in_shape.w;
    const size_t out_plane = (size_t)op->out_shape.h * op->out_shape.w;
    const size_t planes = (size_t)batch * op->out_shape.c;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * in_plane;
        float *y = out + p * out_plane;
        for (int oy = 0; oy < op->out_shape.h; oy++)
            for (int ox = 0; ox < op->out_shape.w; ox++)
                y[(size_t)oy * op->out_shape.w + ox] = pool_one(op, x, oy, ox, is_max);
    }
}

static void pad(const pact_op *op, const float *in, float *out, int batch)
{
    const pact_shape is = op->in_shape, os = op->out_shape;
    const size_t in_img = floats(is), out_img = floats(os);
    for (int b = 0; b < batch; b++) {
        float *o = out + (size_t)b * out_img;
        for (size_t i = 0; i < out_img; i++)
            o[i] = op->value;
        for (int c = 0; c < is.c; c++)
            for (int y = 0; y < is.h; y++)
                memcpy(o + ((size_t)(c + op->begin[0]) * os.h + (size_t)(y + op->begin[1])) * os.w +
                           (size_t)op->begin[2],
                       in + (size_t)b * in_img + ((size_t)c * is.h + (size_t)y) * is.w,
                       sizeof(float) * (size_t)is.w);
    }
}

static void slice(const pact_op *op, const float *in, float *out, int batch)
{
    const pact_shape is = op->in_shape, os = op->out_shape;
    const size_t in_img = floats(is), out_img = floats(os);
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < os.c; c++)
            for (int y = 0; y < os.h; y++) {
                const float *src = in + (size_t)b * in_img +
                                   ((size_t)(op->begin[0] + c * op->step[0]) * is.h +
                                    (size_t)(op->begin[1] + y * op->step[1])) *
                                       is.w +
                                   (size_t)op->begin[2];
                float *dst = out + (size_t)b * out_img + ((size_t)c * os.h + (size_t)y) * os.w;
                for (int x = 0; x < os.w; x++)
                    dst[x] = src[(size_t)x * op->step[2]];
            }
}

static void concat(const pact_op *op, const float *a, const float *b, float *out, int batch)
{
    const size_t na = floats(op->in_shape), nb = floats(op->res_shape);
    for (int i = 0; i < batch; i++) {
        memcpy(out + (size_t)i * (na + nb), a + (size_t)i * na, sizeof(float) * na);
        memcpy(out + (size_t)i * (na + nb) + na, b + (size_t)i * nb, sizeof(float) * nb);
    }
}

void pact_ops_run(const pact_op *op, const float *in, const float *res, float *out, int batch)
{
    switch (op->kind) {
    case PACT_OP_ADD:
        add(op, in, res, out, batch);
        break;
    case PACT_OP_AFFINE:
        affine(op, in, out, batch);
        break;
    case PACT_OP_MAXPOOL:
    case PACT_OP_AVGPOOL:
        pool(op, in, out, batch, op->kind == PACT_OP_MAXPOOL);
        break;
    case PACT_OP_PAD:
        pad(op, in, out, batch);
        break;
    case PACT_OP_SLICE:
        slice(op, in, out, batch);
        break;
    case PACT_OP_CONCAT:
        concat(op, in, res, out, batch);
        break;
    case PACT_OP_COPY:
        if (out != in)
            memmove(out, in, sizeof(float) * floats(op->out_shape) * (size_t)batch);
        break;
    default:
        break;
    }
}
