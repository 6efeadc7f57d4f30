/* Convolution as im2col + one sgemm per group of images, with batch norm
 * already folded into weight and bias, and an epilogue that adds the bias, the
 * shortcut and (optionally) applies the activation while it writes NCHW. */
#define _POSIX_C_SOURCE 200809L
#include "graph.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/* The im2col matrix of a group of images is kept near this many floats so that
 * it stays in the L2/L3 caches between im2col and sgemm. */
#ifndef COL_TARGET_FLOATS
#define COL_TARGET_FLOATS (256 * 1024)
#endif

int pact_group_size(size_t target_floats, size_t per_image_floats)
{
    int g = 1;
    while (g < PACT_GROUP_ALIGN && (size_t)(2 * g) * per_image_floats <= target_floats)
        g *= 2;
    return g;
}

/* Images per im2col + sgemm: the group's matrix stays near COL_TARGET_FLOATS. */
static int group_size(const pact_op *op)
{
    size_t k = (size_t)op->in_shape.c * op->ksize * op->ksize;
    return pact_group_size(COL_TARGET_FLOATS, k * op->out_shape.h * op->out_shape.w);
}

size_t pact_conv_work_floats(const pact_op *op, int batch)
{
    if (op->wino)
        return pact_wino_work_floats(op, batch);
    if (pact_phases_eligible(op))
        return pact_phases_work_floats(op);
    size_t g = (size_t)group_size(op);
    if (g > (size_t)batch)
        g = (size_t)batch;
    size_t k = (size_t)op->in_shape.c * op->ksize * op->ksize;
    size_t hw = (size_t)op->out_shape.h * op->out_shape.w;
    return g * hw * (k + (size_t)op->out_shape.c);
}

/* One im2col row for stride 1 and same-size output: the input plane shifted by
 * (dy, dx), zero where the shifted position falls outside. One block copy,
 * then the wrapped-around border columns and the missing rows are zeroed. */
static void shifted_plane(const float *src, int h, int w, int dy, int dx, float *row)
{
    int y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? h - dy : h; /* rows with a source row */
    if (y1 <= y0) {
        memset(row, 0, sizeof(float) * (size_t)h * w);
        return;
    }
    memset(row, 0, sizeof(float) * (size_t)y0 * w);
    /* row[y][x] = src[y + dy][x + dx] for y0 <= y < y1, taken as one flat copy;
     * the flat range may start before src or end after it by |dx| floats */
    ptrdiff_t first = (ptrdiff_t)y0 * w, last = (ptrdiff_t)y1 * w; /* [first, last) of row */
    ptrdiff_t shift = (ptrdiff_t)dy * w + dx;
    ptrdiff_t a = first, b = last;
    if (a + shift < 0)
        a = -shift;
    if (b + shift > (ptrdiff_t)h * w)
        b = (ptrdiff_t)h * w - shift;
    for (ptrdiff_t i = first; i < a; i++)
        row[i] = 0.0f;
    memcpy(row + a, src + a + shift, sizeof(float) * (size_t)(b - a));
    for (ptrdiff_t i = b; i < last; i++)
        row[i] = 0.0f;
    memset(row + last, 0, sizeof(float) * (size_t)((ptrdiff_t)h * w - last));
    /* columns whose source x + dx is outside 0..w-1 wrapped into the next row */
    if (dx != 0)
        for (int y = y0; y < y1; y++) {
            float *r = row + (size_t)y * w;
            if (dx > 0)
                for (int x = w - dx; x < w; x++)
                    r[x] = 0.0f;
            else
                for (int x = 0; x < -dx; x++)
                    r[x] = 0.0f;
        }
}

/* col[(c, ky, kx)][(b, oy, ox)] = in[b][c][oy*s + ky - pad][ox*s + kx - pad], 0 outside. */
static void im2col(const pact_op *op, const float *in, int g, float *col)
{
    const int c_in = op->in_shape.c, h = op->in_shape.h, w = op->in_shape.w;
    const int ho = op->out_shape.h, wo = op->out_shape.w;
    const int k = op->ksize, s = op->stride, pad = op->pad;
    const size_t plane = (size_t)h * w, n = (size_t)g * ho * wo;
    const int same = s == 1 && ho == h && wo == w;
    for (int c = 0; c < c_in; c++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                float *row = col + ((size_t)(c * k + ky) * k + kx) * n;
                if (same) {
                    for (int b = 0; b < g; b++)
                        shifted_plane(in + ((size_t)b * c_in + c) * plane, h, w, ky - pad,
                                      kx - pad, row + (size_t)b * plane);
                    continue;
                }
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
                        for (int ox = x0; ox < x1; ox++)
                            row[ox] = sr[ox * s];
                        for (int ox = x1; ox < wo; ox++)
                            row[ox] = 0.0f;
                    }
                }
            }
}

static float relu(float x) { return x > 0.0f ? x : 0.0f; }

/* As in winograd.c: an AVX2 version besides the default one on x86-64. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(PACT_NO_VECTOR_CLONES)
#define PACT_FINISH_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PACT_FINISH_CLONES
#endif

/* o = conv + bias + r (r may be NULL), then ReLU when relu: one pass. */
PACT_FINISH_CLONES
static void add_bias_res(const float *restrict conv, float bias, const float *restrict r,
                         float *restrict o, size_t n, int relu)
{
    if (r && relu)
        for (size_t p = 0; p < n; p++) {
            float v = (conv[p] + bias) + r[p];
            o[p] = v > 0.0f ? v : 0.0f;
        }
    else if (r)
        for (size_t p = 0; p < n; p++)
            o[p] = (conv[p] + bias) + r[p];
    else if (relu)
        for (size_t p = 0; p < n; p++) {
            float v = conv[p] + bias;
            o[p] = v > 0.0f ? v : 0.0f;
        }
    else
        for (size_t p = 0; p < n; p++)
            o[p] = conv[p] + bias;
}

void pact_conv_finish_plane(const pact_op *op, const float *conv, float *o, const float *res,
                            int b, int c, int apply_act, pact_func act)
{
    const int c_out = op->out_shape.c;
    const size_t hw = (size_t)op->out_shape.h * op->out_shape.w;
    const int c_res = op->res_shape.c, padc = (c_out - c_res) / 2;
    const int wo = op->out_shape.w, ho = op->out_shape.h, wr = op->res_shape.w;
    const size_t res_plane = (size_t)op->res_shape.h * wr;
    const float bias = op->bias[c];
    const int relu = apply_act && act == PACT_RELU;
    /* conv may be o itself: copy through a row buffer only where rows differ */
    if (op->res < 0 || (op->res_kind == PACT_SHORTCUT_SUBSAMPLE_PAD &&
                        (c < padc || c >= padc + c_res))) {
        if (conv == o) {
            for (size_t p = 0; p < hw; p++) {
                float v = o[p] + bias;
                o[p] = relu && v < 0.0f ? 0.0f : v;
            }
        } else {
            add_bias_res(conv, bias, NULL, o, hw, relu);
        }
    } else if (op->res_kind == PACT_SHORTCUT_IDENTITY && conv != o) {
        add_bias_res(conv, bias, res + ((size_t)b * c_out + c) * hw, o, hw, relu);
    } else if (op->res_kind == PACT_SHORTCUT_IDENTITY) {
        const float *r = res + ((size_t)b * c_out + c) * hw;
        for (size_t p = 0; p < hw; p++) {
            float v = (o[p] + bias) + r[p];
            o[p] = relu && v < 0.0f ? 0.0f : v;
        }
    } else {
        const float *r = res + ((size_t)b * c_res + (c - padc)) * res_plane;
        for (int y = 0; y < ho; y++) {
            const float *rr = r + (size_t)2 * y * wr;
            const float *cr = conv + (size_t)y * wo;
            float *orow = o + (size_t)y * wo;
            for (int x = 0; x < wo; x++) {
                float v = (cr[x] + bias) + rr[2 * x];
                orow[x] = relu && v < 0.0f ? 0.0f : v;
            }
        }
    }
    if (apply_act && !relu)
        pact_act_apply(act, o, hw);
}

/* Benchmarks on a busy machine may build with the thread's CPU clock instead. */
#ifndef PACT_PROFILE_CLOCK
#define PACT_PROFILE_CLOCK CLOCK_MONOTONIC
#endif

double pact_seconds(void)
{
    struct timespec ts;
    clock_gettime(PACT_PROFILE_CLOCK, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void pact_conv_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                   int apply_act, pact_func act, float *work, double *profile)
{
    if (op->wino) {
        pact_wino_run(op, in, res, out, batch, apply_act, act, work, profile);
        return;
    }
    if (pact_phases_eligible(op)) {
        pact_phases_run(op, in, res, out, batch, apply_act, act, work, profile);
        return;
    }
    const int g_max = group_size(op);
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
        double t0 = profile ? pact_seconds() : 0.0, t1 = 0.0, t2 = 0.0;
        im2col(op, in + (size_t)b0 * in_img, g, col);
        if (profile)
            t1 = pact_seconds();
        pact_gemm(c_out, n, k, op->weight, k, col, n, tmp, n);
        if (profile)
            t2 = pact_seconds();
        for (int b = 0; b < g; b++)
            for (int c = 0; c < c_out; c++)
                pact_conv_finish_plane(op, tmp + ((size_t)c * g + b) * hw,
                                       out + (size_t)(b0 + b) * out_img + (size_t)c * hw,
                                       res ? res + (size_t)b0 * res_img : NULL, b, c, apply_act,
                                       act);
        if (profile) {
            profile[PACT_PROF_IM2COL] += t1 - t0;
            profile[PACT_PROF_SGEMM] += t2 - t1;
            profile[PACT_PROF_EPILOGUE] += pact_seconds() - t2;
        }
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
