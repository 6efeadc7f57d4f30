/* The engine's convolution kernels (Winograd F(4x4) and F(2x2), im2col with
 * the stride-2 phase split, the generic im2col) against a direct convolution
 * in double precision, on shapes that reach every edge of the kernels: groups
 * of fewer than 8 images, a last partial block of tile rows, rows that are
 * not a multiple of 8, one tile per row, both shortcut kinds, ReLU fused or
 * not, another activation afterwards. Also: an image's output does not depend
 * on the batch it runs in or on its place there (the sums' order is fixed). */
#include "testutil.h"
#include "nn/graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int c_in, c_out, h, w, k, stride, pad, batch;
    int res;       /* 0 none, 1 identity, 2 subsample-pad (res: c_out/2 channels, 2h x 2w) */
    int act;       /* 0 none, 1 ReLU, 2 GELU */
} conv_case;

static unsigned rng_state = 12345u;

static float uniform(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static void fill(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = uniform();
}

static size_t floats(pact_shape s) { return (size_t)s.c * s.h * s.w; }

/* Direct convolution + bias + shortcut + activation, in double. */
static void reference(const pact_op *op, const float *in, const float *res, int batch,
                      pact_func act, int apply_act, double *out)
{
    const pact_shape is = op->in_shape, os = op->out_shape, rs = op->res_shape;
    const int k = op->ksize;
    for (int b = 0; b < batch; b++)
        for (int o = 0; o < os.c; o++)
            for (int y = 0; y < os.h; y++)
                for (int x = 0; x < os.w; x++) {
                    double s = op->bias[o];
                    for (int i = 0; i < is.c; i++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = y * op->stride + ky - op->pad;
                                int ix = x * op->stride + kx - op->pad;
                                if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w)
                                    continue;
                                s += (double)op->weight[((size_t)o * is.c + i) * k * k +
                                                        (size_t)ky * k + kx] *
                                     in[(size_t)b * floats(is) + ((size_t)i * is.h + iy) * is.w +
                                        ix];
                            }
                    if (res && op->res_kind == PACT_SHORTCUT_IDENTITY)
                        s += res[(size_t)b * floats(rs) + ((size_t)o * os.h + y) * os.w + x];
                    if (res && op->res_kind == PACT_SHORTCUT_SUBSAMPLE_PAD) {
                        int padc = (os.c - rs.c) / 2, rc = o - padc;
                        if (rc >= 0 && rc < rs.c)
                            s += res[(size_t)b * floats(rs) + ((size_t)rc * rs.h + 2 * y) * rs.w +
                                     2 * x];
                    }
                    if (apply_act)
                        s = pact_func_eval(act, s);
                    out[(size_t)b * floats(os) + ((size_t)o * os.h + y) * os.w + x] = s;
                }
}

/* Runs the case through pact_conv_run; returns the output (batch images). */
static float *run(const pact_op *op, const float *in, const float *res, int batch, pact_func act,
                  int apply_act)
{
    float *out = malloc(sizeof(float) * floats(op->out_shape) * (size_t)batch);
    float *work = malloc(sizeof(float) * (pact_conv_work_floats(op, batch) + 1));
    if (!out || !work) {
        free(out);
        free(work);
        return NULL;
    }
    /* the engine runs images PACT_GROUP_ALIGN at a time */
    for (int b0 = 0; b0 < batch; b0 += PACT_GROUP_ALIGN) {
        int n = batch - b0 < PACT_GROUP_ALIGN ? batch - b0 : PACT_GROUP_ALIGN;
        pact_conv_run(op, in + (size_t)b0 * floats(op->in_shape),
                      res ? res + (size_t)b0 * floats(op->res_shape) : NULL,
                      out + (size_t)b0 * floats(op->out_shape), n, apply_act, act, work, NULL);
    }
    free(work);
    return out;
}

static void check_case(const conv_case *cc)
{
    pact_op op;
    memset(&op, 0, sizeof op);
    op.kind = PACT_OP_CONV;
    op.in_shape = (pact_shape){cc->c_in, cc->h, cc->w};
    op.out_shape = (pact_shape){cc->c_out, (cc->h + 2 * cc->pad - cc->k) / cc->stride + 1,
                                (cc->w + 2 * cc->pad - cc->k) / cc->stride + 1};
    op.ksize = cc->k;
    op.stride = cc->stride;
    op.pad = cc->pad;
    op.res = cc->res ? 1 : -1;
    op.res_kind = cc->res == 2 ? PACT_SHORTCUT_SUBSAMPLE_PAD : PACT_SHORTCUT_IDENTITY;
    op.res_shape = cc->res == 2 ? (pact_shape){cc->c_out / 2, 2 * op.out_shape.h, 2 * op.out_shape.w}
                                : op.out_shape;
    const size_t nw = (size_t)cc->c_out * cc->c_in * cc->k * cc->k;
    op.weight = malloc(sizeof(float) * nw);
    op.bias = malloc(sizeof(float) * (size_t)cc->c_out);
    float *in = malloc(sizeof(float) * floats(op.in_shape) * (size_t)cc->batch);
    float *res = malloc(sizeof(float) * floats(op.res_shape) * (size_t)cc->batch);
    double *want = malloc(sizeof(double) * floats(op.out_shape) * (size_t)cc->batch);
    if (!op.weight || !op.bias || !in || !res || !want) {
        CHECK(0, "out of memory");
        return;
    }
    fill(op.weight, nw);
    for (size_t i = 0; i < nw; i++)
        op.weight[i] *= 0.3f;
    fill(op.bias, (size_t)cc->c_out);
    fill(in, floats(op.in_shape) * (size_t)cc->batch);
    fill(res, floats(op.res_shape) * (size_t)cc->batch);
    const int wino = pact_wino_eligible(&op);
    if (wino) {
        pact_status st = pact_wino_prepare(&op);
        CHECK(st == PACT_OK, "pact_wino_prepare: %s", pact_status_str(st));
    }
    const pact_func act = cc->act == 2 ? PACT_GELU : PACT_RELU;
    const int apply = cc->act != 0;
    const float *r = cc->res ? res : NULL;
    reference(&op, in, r, cc->batch, act, apply, want);
    float *got = run(&op, in, r, cc->batch, act, apply);
    CHECK(got != NULL, "out of memory");
    const size_t n = floats(op.out_shape) * (size_t)cc->batch;
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; got && i < n; i++) {
        /* the sums have up to c_in k^2 terms of size ~0.3: scale the error by
         * their count; Winograd F(4x4) in fp32 loses about ten times more */
        double e = fabs(got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (!(e <= worst)) {
            worst = e;
            at = i;
        }
    }
    const double tol = (op.wino_m == 4 ? 2e-5 : 2e-6) * sqrt((double)cc->c_in * cc->k * cc->k);
    CHECK(worst <= tol,
          "conv %d->%d %dx%d k%d s%d p%d batch %d res %d act %d (%s): output %zu is %.9g, "
          "direct convolution in double %.9g (relative error %.3g > %.3g)",
          cc->c_in, cc->c_out, cc->h, cc->w, cc->k, cc->stride, cc->pad, cc->batch, cc->res,
          cc->act, op.wino_m == 4 ? "Winograd F(4x4)" : op.wino_m == 2 ? "Winograd F(2x2)"
                                                                      : "im2col",
          at, got ? got[at] : 0.0, want[at], worst, tol);
    /* the last image alone, and the first one alone, give the same bits */
    for (int pass = 0; got && pass < 2 && cc->batch > 1; pass++) {
        const int b = pass == 0 ? cc->batch - 1 : 0;
        float *one = run(&op, in + (size_t)b * floats(op.in_shape),
                         r ? r + (size_t)b * floats(op.res_shape) : NULL, 1, act, apply);
        CHECK(one && memcmp(one, got + (size_t)b * floats(op.out_shape),
                            sizeof(float) * floats(op.out_shape)) == 0,
              "conv %d->%d %dx%d batch %d: image %d alone differs from image %d of the batch",
              cc->c_in, cc->c_out, cc->h, cc->w, cc->batch, b, b);
        free(one);
    }
    free(got);
    free(want);
    free(res);
    free(in);
    free(op.weight);
    free(op.bias);
    free(op.wino);
}

int main(void)
{
    const conv_case cases[] = {
        /* Winograd F(4x4): ResNet shapes, full and partial groups */
        {16, 16, 32, 32, 3, 1, 1, 8, 1, 1},
        {3, 16, 32, 32, 3, 1, 1, 5, 0, 1},
        {32, 32, 16, 16, 3, 1, 1, 11, 1, 0},
        {64, 64, 8, 8, 3, 1, 1, 8, 0, 1},
        {16, 32, 16, 16, 3, 1, 1, 3, 2, 1},  /* option-A shortcut */
        {8, 16, 8, 12, 3, 1, 1, 4, 2, 2},    /* option-A shortcut, GELU afterwards */
        {8, 12, 12, 8, 3, 1, 1, 9, 1, 1},    /* 3 tile rows in blocks of 2 */
        {5, 7, 4, 4, 3, 1, 1, 3, 1, 1},      /* one tile per row, rows of 4 */
        {4, 6, 12, 20, 3, 1, 1, 8, 0, 2},    /* rows of 20; GELU afterwards */
        {6, 8, 20, 12, 3, 1, 1, 17, 1, 0},
        /* Winograd F(2x2) */
        {4, 4, 6, 6, 3, 1, 1, 3, 1, 1},
        {7, 5, 10, 14, 3, 1, 1, 9, 0, 0},
        /* im2col: stride 2 by phases, odd sizes, other kernels */
        {16, 32, 32, 32, 3, 2, 1, 8, 0, 1},
        {3, 5, 10, 10, 3, 2, 1, 3, 0, 0},
        {4, 6, 9, 9, 3, 2, 1, 2, 0, 1},
        {6, 4, 8, 8, 3, 2, 0, 3, 0, 1},
        {8, 16, 7, 7, 1, 1, 0, 5, 1, 1},
        {3, 4, 9, 11, 5, 1, 2, 2, 0, 2},
        {5, 3, 7, 5, 3, 1, 1, 4, 0, 0},      /* odd plane: im2col, same size */
        {4, 6, 8, 10, 2, 2, 0, 3, 0, 1},     /* 2x2 stride 2 by phases */
        {8, 4, 8, 8, 1, 2, 0, 5, 0, 0},      /* 1x1 stride 2 by phases */
        {3, 4, 12, 10, 5, 2, 2, 3, 0, 1},    /* 5x5 stride 2: borders on both sides */
        {4, 4, 8, 8, 4, 2, 1, 2, 1, 1},      /* 4x4 stride 2, identity shortcut */
    };
    const int n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++)
        check_case(&cases[i]);
    return pact_test_done("test_conv", n);
}
