/* 3x3 stride-1 convolutions by Winograd's minimal filtering F(m x m, 3x3)
 * (Lavin & Gray 2016): each m x m output tile is A^T [(G g G^T) . (B^T d B)] A
 * with (m+2)^2 multiplications instead of 9 m^2. The element-wise products over
 * all tiles and channels are (m+2)^2 sgemms (U_xi [c_out x c_in] x
 * V_xi [c_in x tiles]). F(4x4, 3x3) (points 0, +-1, +-2) where the plane is a
 * multiple of 4: 36 products per 16 outputs; F(2x2, 3x3) (points 0, +-1: the
 * transforms only add) where it is even. In fp32 the F(4x4) transforms lose
 * about ten times more than F(2x2) to rounding, still ~1e-6 relative.
 *
 * F(4x4) runs in winograd4.c (one image per vector lane); here, F(2x2), plane
 * by plane. Layout: NCHW in and out. Transforms run along rows of tiles, so
 * their inner loops are over tiles and vectorise. */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

/* The transforms are plain C loops that GCC vectorises; on x86-64 it also
 * builds AVX2 versions of them, chosen at load time when the CPU has AVX2. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(PACT_NO_VECTOR_CLONES)
#define PACT_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PACT_VECTOR_CLONES
#endif

/* The small loops below are inlined into each clone, so that they get its
 * instruction set. */
#if defined(__GNUC__)
#define PACT_INLINE static inline __attribute__((always_inline))
#else
#define PACT_INLINE static inline
#endif

/* Target size of the transformed input and output of a group of images. */
#ifndef WINO_TARGET_FLOATS
#define WINO_TARGET_FLOATS (384 * 1024)
#endif
#define XI_PAD 48

int pact_wino_eligible(const pact_op *op)
{
    return op->kind == PACT_OP_CONV && op->ksize == 3 && op->stride == 1 && op->pad == 1 &&
           op->in_shape.h == op->out_shape.h && op->in_shape.w == op->out_shape.w &&
           op->in_shape.h % 2 == 0 && op->in_shape.w % 2 == 0 && op->in_shape.h >= 2 &&
           op->in_shape.w >= 2;
}

/* G of F(2x2, 3x3) and F(4x4, 3x3), rows = interpolation points */
static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                {0, 0, 1}};

/* Largest tile used (a build-time knob for comparisons: 2 or 4). */
#ifndef PACT_WINO_MAX_M
#define PACT_WINO_MAX_M 4
#endif

pact_status pact_wino_prepare(pact_op *op)
{
    const int m =
        PACT_WINO_MAX_M >= 4 && op->in_shape.h % 4 == 0 && op->in_shape.w % 4 == 0 ? 4 : 2;
    const int alpha = m + 2;
    const double(*G)[3] = m == 4 ? G4 : G2;
    const int c_out = op->out_shape.c, c_in = op->in_shape.c;
    float *u = malloc(sizeof(float) * (size_t)(alpha * alpha) * c_out * c_in);
    if (!u)
        return PACT_ENOMEM;
    /* U = G g G^T in double, stored [xi = a alpha + b][c_out][c_in] */
    for (int o = 0; o < c_out; o++)
        for (int i = 0; i < c_in; i++) {
            const float *g = op->weight + ((size_t)o * c_in + i) * 9;
            double t[6][3];
            for (int a = 0; a < alpha; a++)
                for (int k = 0; k < 3; k++)
                    t[a][k] = G[a][0] * g[0 * 3 + k] + G[a][1] * g[1 * 3 + k] +
                              G[a][2] * g[2 * 3 + k];
            for (int a = 0; a < alpha; a++)
                for (int b = 0; b < alpha; b++) {
                    double v = t[a][0] * G[b][0] + t[a][1] * G[b][1] + t[a][2] * G[b][2];
                    u[((size_t)(a * alpha + b) * c_out + o) * c_in + i] = (float)v;
                }
        }
    op->wino = u;
    op->wino_m = m;
    return PACT_OK;
}

static int tiles(const pact_op *op)
{
    return (op->in_shape.h / op->wino_m) * (op->in_shape.w / op->wino_m);
}

static int n_xi(const pact_op *op) { return (op->wino_m + 2) * (op->wino_m + 2); }

/* Images per group of sgemms: V and M stay near WINO_TARGET_FLOATS. */
static int wino_group(const pact_op *op)
{
    return pact_group_size(WINO_TARGET_FLOATS,
                           (size_t)n_xi(op) * (op->in_shape.c + op->out_shape.c) * tiles(op));
}

/* Distance between the 16 matrices V_xi (or M_xi) of c x n floats: padded so
 * that the 16 streams of a transform do not fall into the same cache sets. */
static size_t xi_stride(int c, size_t n) { return (size_t)c * n + XI_PAD; }

/* Scratch per plane: row passes, phase arrays, one output plane, tile outputs. */
static size_t plane_scratch(const pact_op *op)
{
    const int m = op->wino_m, h = op->in_shape.h, w = op->in_shape.w;
    const size_t tw = (size_t)(w / m), th = (size_t)(h / m), t = th * tw;
    size_t rows = 8 * (th + 1) * tw;
    return rows + 4 * (tw + 1) + (size_t)h * w + 4 * t;
}

size_t pact_wino_work_floats(const pact_op *op, int batch)
{
    if (op->wino_m == 4)
        return pact_wino4_work_floats(op);
    int g = wino_group(op) < batch ? wino_group(op) : batch;
    size_t n = (size_t)g * tiles(op);
    size_t vm = (size_t)n_xi(op) * (xi_stride(op->in_shape.c, n) + xi_stride(op->out_shape.c, n));
    return vm + plane_scratch(op);
}

/* The inner loops take restrict parameters: GCC honours restrict on
 * parameters (also after inlining), which lets these loops vectorise. */

/* d B for one padded input row, all tiles of the row: the padded row's even
 * columns E[t] = P[2t] and odd columns O[t] = P[2t + 1] are the input row's
 * odd and even columns shifted by the zero padding. */
PACT_INLINE void row_pass(const float *restrict row, float *restrict e, float *restrict o,
                     float *restrict a0, float *restrict a1, float *restrict a2,
                     float *restrict a3, int tw)
{
    e[0] = 0.0f;
    o[tw] = 0.0f;
    for (int t = 0; t < tw; t++) {
        o[t] = row[2 * t];
        e[t + 1] = row[2 * t + 1];
    }
    for (int t = 0; t < tw; t++) {
        a0[t] = e[t] - e[t + 1];
        a1[t] = o[t] + e[t + 1];
        a2[t] = e[t + 1] - o[t];
        a3[t] = o[t] - o[t + 1];
    }
}

/* B^T (d B) for column j of every tile of a plane. ae/ao hold the row passes
 * of the even and odd padded rows (th + 1 rows of tw each), so that tile
 * n = ty tw + t reads ae[n], ao[n], ae[n + tw], ao[n + tw]. */
PACT_INLINE void col_pass(const float *restrict ae, const float *restrict ao, float *restrict v0,
                     float *restrict v1, float *restrict v2, float *restrict v3, int n_tiles,
                     int tw)
{
    for (int n = 0; n < n_tiles; n++) {
        v0[n] = ae[n] - ae[n + tw];
        v1[n] = ao[n] + ae[n + tw];
        v2[n] = ae[n + tw] - ao[n];
        v3[n] = ao[n] - ao[n + tw];
    }
}

/* V[xi][c][n0 + n] for one input plane: B^T d B of every tile, B^T =
 * [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]. Scratch `a`: 8 (th + 1) tw
 * floats (row passes, [even|odd][j][row][t]); e, o: tw + 1 floats each. */
PACT_VECTOR_CLONES
static void input_transform(const float *in, int h, int w, float *v, size_t xi_stride,
                            float *a, float *e, float *o)
{
    const int tw = w / 2, th = h / 2;
    const size_t js = (size_t)(th + 1) * tw; /* floats per (parity, j) block */
    float *ae = a, *ao = a + 4 * js;
    /* padded rows 0 and h+1 are zero: even row 0 and odd row th */
    for (int j = 0; j < 4; j++) {
        memset(ae + j * js, 0, sizeof(float) * (size_t)tw);
        memset(ao + j * js + (size_t)th * tw, 0, sizeof(float) * (size_t)tw);
    }
    for (int y = 0; y < h; y++) {
        /* input row y is padded row y + 1: odd rows for even y, even rows for odd y */
        int r = y + 1;
        float *base = (r % 2 ? ao : ae) + (size_t)(r / 2) * tw;
        row_pass(in + (size_t)y * w, e, o, base, base + js, base + 2 * js, base + 3 * js, tw);
    }
    const int n_tiles = th * tw;
    for (int j = 0; j < 4; j++)
        col_pass(ae + j * js, ao + j * js, v + (size_t)(0 * 4 + j) * xi_stride,
                 v + (size_t)(1 * 4 + j) * xi_stride, v + (size_t)(2 * 4 + j) * xi_stride,
                 v + (size_t)(3 * 4 + j) * xi_stride, n_tiles, tw);
}

/* A^T M A for every tile of a plane: m[k * stride + n] is M_k of tile n;
 * y00..y11 receive the tile's four outputs. A^T = [[1,1,1,0],[0,1,-1,-1]]. */
PACT_INLINE void tiles_out(const float *restrict m, size_t stride, float *restrict y00,
                      float *restrict y01, float *restrict y10, float *restrict y11,
                      int n_tiles)
{
    const float *s0 = m, *s1 = s0 + stride, *s2 = s1 + stride, *s3 = s2 + stride;
    const float *s4 = s3 + stride, *s5 = s4 + stride, *s6 = s5 + stride, *s7 = s6 + stride;
    const float *s8 = s7 + stride, *s9 = s8 + stride, *s10 = s9 + stride, *s11 = s10 + stride;
    const float *s12 = s11 + stride, *s13 = s12 + stride, *s14 = s13 + stride;
    const float *s15 = s14 + stride;
    for (int n = 0; n < n_tiles; n++) {
        /* rows: r0 = m0 + m1 + m2, r1 = m1 - m2 - m3 (per column j) */
        float r00 = s0[n] + s4[n] + s8[n], r01 = s1[n] + s5[n] + s9[n];
        float r02 = s2[n] + s6[n] + s10[n], r03 = s3[n] + s7[n] + s11[n];
        float r10 = s4[n] - s8[n] - s12[n], r11 = s5[n] - s9[n] - s13[n];
        float r12 = s6[n] - s10[n] - s14[n], r13 = s7[n] - s11[n] - s15[n];
        y00[n] = r00 + r01 + r02;
        y01[n] = r01 - r02 - r03;
        y10[n] = r10 + r11 + r12;
        y11[n] = r11 - r12 - r13;
    }
}

PACT_INLINE void interleave(const float *restrict even, const float *restrict odd,
                       float *restrict out, int tw)
{
    for (int t = 0; t < tw; t++) {
        out[2 * t] = even[t];
        out[2 * t + 1] = odd[t];
    }
}

/* out plane (h x w) = A^T M A of every tile, M[xi][n0 + n] with stride
 * xi_stride; y: 4 x tiles floats of scratch. */
PACT_VECTOR_CLONES
static void output_transform(const float *m, size_t xi_stride, int h, int w, float *out,
                             float *y)
{
    const int tw = w / 2, th = h / 2, n_tiles = th * tw;
    float *y00 = y, *y01 = y + n_tiles, *y10 = y01 + n_tiles, *y11 = y10 + n_tiles;
    tiles_out(m, xi_stride, y00, y01, y10, y11, n_tiles);
    for (int ty = 0; ty < th; ty++) {
        interleave(y00 + ty * tw, y01 + ty * tw, out + (size_t)(2 * ty) * w, tw);
        interleave(y10 + ty * tw, y11 + ty * tw, out + (size_t)(2 * ty + 1) * w, tw);
    }
}

void pact_wino_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                   int apply_act, pact_func act, float *work, double *profile)
{
    const int c_in = op->in_shape.c, c_out = op->out_shape.c, mt = op->wino_m;
    const int h = op->in_shape.h, w = op->in_shape.w, tw = w / mt, th = h / mt;
    const int t_img = tiles(op), g_max = wino_group(op), nx = n_xi(op);
    const size_t plane = (size_t)h * w;
    const size_t in_img = (size_t)c_in * plane, out_img = (size_t)c_out * plane;
    const size_t res_img = (size_t)op->res_shape.c * op->res_shape.h * op->res_shape.w;
    if (mt == 4) {
        pact_wino4_run(op, in, res, out, batch, apply_act, act, work, profile);
        return;
    }
    for (int b0 = 0; b0 < batch; b0 += g_max) {
        const int g = batch - b0 < g_max ? batch - b0 : g_max;
        const size_t n = (size_t)g * t_img; /* tiles in the group */
        const size_t vs = xi_stride(c_in, n), ms = xi_stride(c_out, n);
        float *v = work, *m = v + (size_t)nx * vs;
        float *a = m + (size_t)nx * ms; /* row passes */
        float *q = a + 8 * (size_t)(th + 1) * tw;
        float *conv = q + 4 * (size_t)(tw + 1), *y = conv + plane;
        double t0 = profile ? pact_seconds() : 0.0, t1 = 0.0, t2 = 0.0;
        for (int b = 0; b < g; b++)
            for (int c = 0; c < c_in; c++) {
                const float *src = in + (size_t)(b0 + b) * in_img + (size_t)c * plane;
                float *dst = v + (size_t)c * n + (size_t)b * t_img;
                input_transform(src, h, w, dst, vs, a, q, q + tw + 1);
            }
        if (profile)
            t1 = pact_seconds();
        for (int xi = 0; xi < nx; xi++)
            pact_gemm(c_out, (int)n, c_in, op->wino + (size_t)xi * c_out * c_in, c_in,
                      v + (size_t)xi * vs, (int)n, m + (size_t)xi * ms, (int)n);
        if (profile)
            t2 = pact_seconds();
        for (int b = 0; b < g; b++)
            for (int c = 0; c < c_out; c++) {
                float *dst = out + (size_t)(b0 + b) * out_img + (size_t)c * plane;
                const float *src = m + (size_t)c * n + (size_t)b * t_img;
                output_transform(src, ms, h, w, conv, y);
                pact_conv_finish_plane(op, conv, dst, res ? res + (size_t)b0 * res_img : NULL, b,
                                       c, apply_act, act);
            }
        if (profile) {
            profile[PACT_PROF_IM2COL] += t1 - t0;
            profile[PACT_PROF_SGEMM] += t2 - t1;
            profile[PACT_PROF_EPILOGUE] += pact_seconds() - t2;
        }
    }
}
