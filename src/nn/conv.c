/* Convolution as im2col + one sgemm per group of images, with batch norm
 * already folded into weight and bias, and an epilogue that adds the bias, the
 * shortcut and (optionally) applies the activation while it writes NCHW. */
#include "graph.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* The im2col matrix of a group of images is kept near this many floats so that
 * it stays in the L2/L3 caches between im2col and sgemm. */
#define COL_TARGET_FLOATS (256 * 1024)

static int group_size(const pact_op *op, int batch)
{
    size_t k = (size_t)op->in_shape.c * op->ksize * op->ksize;
    size_t per_image = k * op->out_shape.h * op->out_shape.w;
    size_t g = per_image ? COL_TARGET_FLOATS / per_image : 1;
    if (g < 1)
        g = 1;
    if (g > (size_t)batch)
        g = (size_t)batch;
    return (int)g;
}

size_t pact_conv_work_floats(const pact_op *op, int batch)
{
    size_t g = (size_t)group_size(op, batch);
    size_t k = (size_t)op->in_shape.c * op->ksize * op->ksize;
    size_t hw = (size_t)op->out_shape.h * op->out_shape.w;
    return g * hw * (k + (size_t)op->out_shape.c);
}

/* col[(c, ky, kx)][(b, oy, ox)] = in[b][c][oy*s + ky - pad][ox*s + kx - pad], 0 outside. */
static void im2col(const pact_op *op, const float *in, int g, float *col)
{
    const int c_in = op->in_shape.c, h = op->in_shape.h, w = op->in_shape.w;
    const int ho = op->out_shape.h, wo = op->out_shape.w;
    const int k = op->ksize, s = op->stride, pad = op->pad;
    const size_t plane = (size_t)h * w, n = (size_t)g * ho * wo;
    for (int c = 0; c < c_in; c++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                float *row = col + ((size_t)(c * k + ky) * k + kx) * n;
                /* output columns ox with 0 <= ox*s + kx - pad < w */
                int x0 = 0, x1 = wo;
                while (x0 < wo && x0 * s + kx - pad < 0)
                    x0++;
                while (x1 > x0 && (x1 - 1) * s + kx - pad >= w)
                    x1--;
                for (int b = 0; b < g; b++) {
                    const float *src = in + ((size_t)b * c_in + c) * plane;
                    for (int oy = 0; oy < ho; oy++, row += wo) {
                        int iy = oy * s + ky - pad;
                        if (iy < 0 || iy >= h) {
                            memset(row, 0, sizeof(float) * (size_t)wo);
                            continue;
                        }
                        const float *sr = src + (size_t)iy * w + kx - pad;
                        for (int ox = 0; ox < x0; ox++)
                            row[ox] = 0.0f;
                        if (s == 1) {
                            memcpy(row + x0, sr + x0, sizeof(float) * (size_t)(x1 - x0));
                        } else {
                            for (int ox = x0; ox < x1; ox++)
                                row[ox] = sr[ox * s];
                        }
                        for (int ox = x1; ox < wo; ox++)
                            row[ox] = 0.0f;
                    }
                }
            }
}

static float relu(float x) { return x > 0.0f ? x : 0.0f; }

/* out[b][c][p] = tmp[c][b][p] + bias[c] + shortcut, then the activation. */
static void epilogue(const pact_op *op, const float *tmp, const float *res, float *out, int g,
                     int apply_act, pact_func act)
{
    const int c_out = op->out_shape.c;
    const size_t hw = (size_t)op->out_shape.h * op->out_shape.w;
    const int c_res = op->res_shape.c, padc = (c_out - c_res) / 2;
    const int wo = op->out_shape.w, wr = op->res_shape.w;
    const size_t res_plane = (size_t)op->res_shape.h * wr;
    for (int b = 0; b < g; b++)
        for (int c = 0; c < c_out; c++) {
            const float *t = tmp + ((size_t)c * g + b) * hw;
            float *o = out + ((size_t)b * c_out + c) * hw;
            const float bias = op->bias[c];
            if (op->res < 0) {
                for (size_t p = 0; p < hw; p++)
                    o[p] = t[p] + bias;
            } else if (op->res_kind == PACT_SHORTCUT_IDENTITY) {
                const float *r = res + ((size_t)b * c_out + c) * hw;
                for (size_t p = 0; p < hw; p++)
                    o[p] = (t[p] + bias) + r[p];
            } else if (c < padc || c >= padc + c_res) {
                for (size_t p = 0; p < hw; p++)
                    o[p] = (t[p] + bias) + 0.0f;
            } else {
                const float *r = res + ((size_t)b * c_res + (c - padc)) * res_plane;
                for (size_t p = 0; p < hw; p++) {
                    size_t y = p / (size_t)wo, x = p % (size_t)wo;
                    o[p] = (t[p] + bias) + r[2 * y * (size_t)wr + 2 * x];
                }
            }
            if (apply_act && act == PACT_RELU) {
                for (size_t p = 0; p < hw; p++)
                    o[p] = relu(o[p]);
            } else if (apply_act) {
                pact_act_apply(act, o, hw);
            }
        }
}

void pact_conv_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                   int apply_act, pact_func act, float *work)
{
    const int g_max = group_size(op, batch);
    const int c_out = op->out_shape.c;
    const int k = op->in_shape.c * op->ksize * op->ksize;
    const size_t hw = (size_t)op->out_shape.h * op->out_shape.w;
    const size_t in_img = (size_t)op->in_shape.c * op->in_shape.h * op->in_shape.w;
    const size_t out_img = (size_t)c_out * hw;
    const size_t res_img = (size_t)op->res_shape.c * op->res_shape.h * op->res_shape.w;
    for (int b0 = 0; b0 < batch; b0 += g_max) {
        int g = batch - b0 < g_max ? batch - b0 : g_max;
        float *col = work, *tmp = work + (size_t)g * hw * k;
        int n = g * (int)hw;
        im2col(op, in + (size_t)b0 * in_img, g, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c_out, n, k, 1.0f, op->weight, k,
                    col, n, 0.0f, tmp, n);
        epilogue(op, tmp, res ? res + (size_t)b0 * res_img : NULL, out + (size_t)b0 * out_img, g,
                 apply_act, act);
    }
}

void pact_act_apply(pact_func f, float *x, size_t n)
{
    if (f == PACT_RELU) {
        for (size_t i = 0; i < n; i++)
            x[i] = relu(x[i]);
        return;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)pact_func_eval(f, (double)x[i]);
}
