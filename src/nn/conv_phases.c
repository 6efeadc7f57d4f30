/* Stride-2 convolutions whose output is half the (even) input plane, without
 * an im2col matrix: the input plane's four phases (even/odd rows x even/odd
 * columns) are planes of the output's size, and each kernel tap reads one of
 * them shifted by a whole row or column. With a zero border around each
 * phase, every tap is a fixed offset into the same padded plane, so the
 * matrix product reads its rows in place (pact_gemm_taps). A group's images
 * are stacked in each padded phase plane, one below the other: output
 * column n = (b H2 + oy) W2 + ox, H2 x W2 the padded plane (the columns in
 * the border rows and columns are dropped). The sums are those of im2col +
 * pact_gemm, in the same order. */
#include "graph.h"

#include <string.h>

#define MAX_TAPS 49 /* kernels up to 7 x 7 */

/* floor(v / 2) */
static int half_down(int v) { return v >= 0 ? v / 2 : -((1 - v) / 2); }

/* Padding of each phase: input row 2 oy + ky - pad is phase (ky - pad) mod 2,
 * row oy + floor((ky - pad) / 2); before = rows needed above row 0, after =
 * below row ho - 1 (the same for columns). */
typedef struct {
    int before, after, h2, w2; /* padded phase plane: h2 x w2 */
} phase_geom;

static phase_geom geometry(const pact_op *op)
{
    const int lo = half_down(-op->pad), hi = half_down(op->ksize - 1 - op->pad);
    phase_geom g;
    g.before = lo < 0 ? -lo : 0;
    g.after = hi > 0 ? hi : 0;
    g.h2 = op->out_shape.h + g.before + g.after;
    g.w2 = op->out_shape.w + g.before + g.after;
    return g;
}

int pact_phases_eligible(const pact_op *op)
{
    return op->kind == PACT_OP_CONV && op->stride == 2 && op->in_shape.h % 2 == 0 &&
           op->in_shape.w % 2 == 0 && op->out_shape.h == op->in_shape.h / 2 &&
           op->out_shape.w == op->in_shape.w / 2 && op->pad >= 0 &&
           op->ksize * op->ksize <= MAX_TAPS;
}

/* The phases and the product of a group of images stay near this size. */
#ifndef PHASES_TARGET_FLOATS
#define PHASES_TARGET_FLOATS (128 * 1024)
#endif

/* columns of the product for a group of n_img images */
static int columns(const pact_op *op, phase_geom g, int n_img)
{
    return ((n_img - 1) * g.h2 + op->out_shape.h - 1) * g.w2 + op->out_shape.w;
}

static int group(const pact_op *op, phase_geom g)
{
    return pact_group_size(PHASES_TARGET_FLOATS,
                           (size_t)(4 * op->in_shape.c + op->out_shape.c) * g.h2 * g.w2);
}

size_t pact_phases_work_floats(const pact_op *op)
{
    const phase_geom g = geometry(op);
    const int n_img = group(op, g);
    return (size_t)op->in_shape.c * 4 * n_img * g.h2 * g.w2 +
           (size_t)op->out_shape.c * columns(op, g, n_img) +
           (size_t)op->out_shape.h * op->out_shape.w;
}

/* q[(py * 2 + px)][before + y][before + x] = src[2y + py][2x + px], phases
 * pp floats apart; the borders are left as they are (zero). */
static void split(const float *restrict src, int h, int w, phase_geom g, size_t pp,
                  float *restrict q)
{
    const int wp = w / 2;
    for (int y = 0; y < h; y++) {
        const float *restrict r = src + (size_t)y * w;
        float *restrict e =
            q + (size_t)(y % 2) * 2 * pp + (size_t)(g.before + y / 2) * g.w2 + g.before;
        float *restrict o = e + pp;
        for (int x = 0; x < wp; x++) {
            e[x] = r[2 * x];
            o[x] = r[2 * x + 1];
        }
    }
}

void pact_phases_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                     int apply_act, pact_func act, float *work, double *profile)
{
    const int c_in = op->in_shape.c, c_out = op->out_shape.c, k = op->ksize, kk = k * k;
    const int h = op->in_shape.h, w = op->in_shape.w, ho = op->out_shape.h, wo = op->out_shape.w;
    const phase_geom g = geometry(op);
    const int g_max = group(op, g);
    const size_t img_plane = (size_t)g.h2 * g.w2, plane = (size_t)h * w, hw = (size_t)ho * wo;
    const size_t res_img = (size_t)op->res_shape.c * op->res_shape.h * op->res_shape.w;
    for (int b0 = 0; b0 < batch; b0 += g_max) {
        const int n_img = batch - b0 < g_max ? batch - b0 : g_max;
        const size_t pp = (size_t)n_img * img_plane, ch = 4 * pp; /* per phase, channel */
        const int n = columns(op, g, n_img);
        float *q = work, *c_mat = q + (size_t)c_in * ch, *conv = c_mat + (size_t)c_out * n;
        int inner[MAX_TAPS];
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const int dy = half_down(ky - op->pad), dx = half_down(kx - op->pad);
                const int py = ky - op->pad - 2 * dy, px = kx - op->pad - 2 * dx;
                inner[ky * k + kx] = (int)((size_t)(py * 2 + px) * pp +
                                           (size_t)(g.before + dy) * g.w2) +
                                     g.before + dx;
            }
        double t0 = profile ? pact_seconds() : 0.0, t1 = 0.0, t2 = 0.0;
        memset(q, 0, sizeof(float) * (size_t)c_in * ch);
        for (int b = 0; b < n_img; b++)
            for (int c = 0; c < c_in; c++)
                split(in + ((size_t)(b0 + b) * c_in + c) * plane, h, w, g, pp,
                      q + (size_t)c * ch + (size_t)b * img_plane);
        if (profile)
            t1 = pact_seconds();
        pact_gemm_taps(c_out, n, c_in * kk, op->weight, c_in * kk, q, (int)ch, kk, inner, c_mat,
                       n);
        if (profile)
            t2 = pact_seconds();
        for (int b = 0; b < n_img; b++)
            for (int c = 0; c < c_out; c++) {
                const float *src = c_mat + (size_t)c * n + (size_t)b * img_plane;
                for (int y = 0; y < ho; y++)
                    memcpy(conv + (size_t)y * wo, src + (size_t)y * g.w2,
                           sizeof(float) * (size_t)wo);
                pact_conv_finish_plane(op, conv, out + ((size_t)(b0 + b) * c_out + c) * hw,
                                       res ? res + (size_t)b0 * res_img : NULL, b, c, apply_act,
                                       act);
            }
        if (profile) {
            profile[PACT_PROF_IM2COL] += t1 - t0;
            profile[PACT_PROF_SGEMM] += t2 - t1;
            profile[PACT_PROF_EPILOGUE] += pact_seconds() - t2;
        }
    }
}
