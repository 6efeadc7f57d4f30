/* Winograd F(4x4, 3x3) over groups of images, one image per vector lane: every
 * transform is the same arithmetic on all lanes whatever the plane size, with
 * no shuffles inside the transforms. The images' rows are interleaved on the
 * way in ([y][x][image], zero border, 8 x 8 transposes) and de-interleaved on
 * the way out, where the bias, the shortcut and the ReLU are applied.
 *
 * The tiles are taken a block of tile rows at a time (about 32 columns of the
 * matrices): for each input channel, the block's new input rows are
 * interleaved into a ring of rows and transformed into V; then the 36 matrix
 * products M_xi = U_xi V_xi; then, for each output channel, the output
 * transform and the de-interleaving. V, M and the rings stay in the core's
 * cache. V and M are stored [channel][xi][column], column = lanes x (tile in
 * the block) + lane, so that a tile's 36 values sit at fixed offsets.
 *
 * B^T d B takes the row pass (along x) first, A^T M A the pass over rows
 * first, as the plane-at-a-time transforms this replaced: the same logits bit
 * for bit. */
#include "graph.h"

#include <string.h>

#if !defined(__GNUC__)
#error "winograd4.c needs GCC-compatible vector extensions"
#endif

#define PACT_INLINE static inline __attribute__((always_inline))

/* x86-64: AVX-512 (32 vector registers), AVX2 + FMA and baseline versions,
 * chosen at load time. Lanes stay 8 wide: with 16 (AVX-512, groups of 16
 * images) every block's rows come from twice as many images at once, and the
 * transforms, bound by the caches rather than by arithmetic, measured slower
 * on an AVX-512 CPU (Zen 5). */
#if !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(PACT_NO_VECTOR_CLONES)
#define W4_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define W4_CLONES
#endif

#define LANES 8        /* images per group, one per vector lane */
#define TARGET_COLS 32 /* columns of V and M per block, about */

typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD(p) (*(const v8u *)(p))
#define STORE(p, v) (*(v8u *)(p) = (v))

/* Tile rows per block: whole rows, up to TARGET_COLS columns. */
static int block_rows(const pact_op *op)
{
    const int tw = op->in_shape.w / 4, th = op->in_shape.h / 4;
    int r = 1;
    while (r < th && (r + 1) * tw * LANES <= TARGET_COLS)
        r++;
    return r;
}

/* Floats per channel of V and M: padded, so that the rows of one V_xi spread
 * over the cache sets. */
static size_t ch_stride(int cols) { return (size_t)36 * cols + 16; }

/* Rows in each channel's ring: a block's 4 br + 2 padded rows, a power of 2. */
static int ring_rows(int br)
{
    int r = 8;
    while (r < 4 * br + 2)
        r *= 2;
    return r;
}

void pact_wino4_products(const pact_op *op, int *cols, int *ld, int *blocks, int *lanes)
{
    const int br = block_rows(op), th = op->in_shape.h / 4;
    *cols = br * (op->in_shape.w / 4) * LANES;
    *ld = (int)ch_stride(*cols);
    *blocks = (th + br - 1) / br;
    *lanes = LANES;
}

/* Scratch: rings, V, M, one block-row of outputs. */
size_t pact_wino4_work_floats(const pact_op *op)
{
    const int w = op->in_shape.w, br = block_rows(op), cols = br * (w / 4) * LANES;
    return (size_t)op->in_shape.c * ring_rows(br) * (w + 2) * LANES +
           (size_t)(op->in_shape.c + op->out_shape.c) * ch_stride(cols) +
           (size_t)4 * br * w * LANES;
}

/* 8 x 8 transpose: r[i][j] -> r[j][i] (unpack within 128-bit halves, then
 * pairs, then halves: 24 shuffles). */
#define SHUF(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
    __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
PACT_INLINE void transpose8(v8f r[8])
{
    v8f t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = SHUF(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = SHUF(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        s[i] = SHUF(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        s[i + 1] = SHUF(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        s[i + 2] = SHUF(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        s[i + 3] = SHUF(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = SHUF(s[i], s[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[i + 4] = SHUF(s[i], s[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/* Padded row p (0 and h + 1: zero) of one channel, interleaved:
 * dst[x + 1][lane] = image lane's src[p - 1][x] (0 for lanes >= g); src: the
 * channel's plane in the group's first image. */
PACT_INLINE void interleave_row(const float *src, size_t img, int g, int h, int w, int p,
                                float *dst)
{
    const v8f zero = {0};
    if (p == 0 || p == h + 1) {
        memset(dst, 0, sizeof(float) * (size_t)(w + 2) * LANES);
        return;
    }
    STORE(dst, zero);
    STORE(dst + (size_t)(w + 1) * LANES, zero);
    src += (size_t)(p - 1) * w;
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        v8f r[8];
        for (int b = 0; b < 8; b++) {
            r[b] = zero;
            if (b < g)
                r[b] = LOAD(src + (size_t)b * img + x);
        }
        transpose8(r);
        for (int j = 0; j < 8; j++)
            STORE(dst + (size_t)(x + 1 + j) * LANES, r[j]);
    }
    for (; x < w; x++)
        for (int b = 0; b < LANES; b++)
            dst[(size_t)(x + 1) * LANES + b] = b < g ? src[(size_t)b * img + x] : 0.0f;
}

/* One row of w outputs (t[x][lane]) de-interleaved into the g images' rows
 * o + b * img: o = t (+ shortcut r[b * r_img + rs x]) (ReLU); rs is 1 (the
 * identity shortcut) or 2 (every other column of a row twice as long). */
PACT_INLINE void deinterleave_row(const float *t, int g, int w, float *o, size_t img,
                                  const float *r, size_t r_img, int rs, int relu)
{
    const v8f zero = {0};
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        v8f v[8];
        for (int j = 0; j < 8; j++)
            v[j] = LOAD(t + (size_t)(x + j) * LANES);
        transpose8(v);
        for (int b = 0; b < g; b++) {
            v8f s = v[b];
            if (r) {
                const float *rb = r + (size_t)b * r_img + (size_t)rs * x;
                v8f rv = LOAD(rb);
                if (rs == 2) /* every other column */
                    rv = SHUF(rv, (v8f)LOAD(rb + 8), 0, 2, 4, 6, 8, 10, 12, 14);
                s = s + rv;
            }
            if (relu)
                s = (v8f)((v8i)s & (s > zero)); /* max(s, 0); -0 and NaN give +0 */
            STORE(o + (size_t)b * img + x, s);
        }
    }
    for (; x < w; x++)
        for (int b = 0; b < g; b++) {
            float s = t[(size_t)x * LANES + b];
            if (r)
                s = s + r[(size_t)b * r_img + (size_t)rs * x];
            if (relu)
                s = s > 0.0f ? s : 0.0f;
            o[(size_t)b * img + x] = s;
        }
}

/* Everything a block needs. */
typedef struct {
    const pact_op *op;
    const float *in;   /* the group's first image */
    const float *res;  /* likewise, or NULL */
    float *out;        /* likewise */
    int g;             /* images in the group */
    int fast, relu;    /* see pact_wino4_run */
    float *ring, *v, *m, *t;
    int ring_rows;
} w4_ctx;

/* B^T along six vectors */
PACT_INLINE void bt6(const v8f d[6], v8f v[6])
{
    const v8f a = d[4] - 4.0f * d[2], b = d[3] - 4.0f * d[1];
    const v8f c = d[4] - d[2], e = 2.0f * (d[3] - d[1]);
    v[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    v[1] = a + b;
    v[2] = a - b;
    v[3] = c + e;
    v[4] = c - e;
    v[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

/* A^T along six vectors */
PACT_INLINE void at6(const v8f m[6], v8f y[4])
{
    const v8f s12 = m[1] + m[2], d12 = m[1] - m[2];
    const v8f s34 = m[3] + m[4], d34 = m[3] - m[4];
    y[0] = m[0] + s12 + s34;
    y[1] = d12 + 2.0f * d34;
    y[2] = s12 + 4.0f * s34;
    y[3] = d12 + 8.0f * d34 + m[5];
}

/* V[c][xi][LANES t + lane] of tile t = (ty - ty0) tw + tx of the block, from the
 * ring of channel c (padded row p in ring row p % rr) */
PACT_INLINE void input_tiles(const float *ring, int rr, int w, int ty0, int nty,
                                  float *v, const int COLS)
{
    const int tw = w / 4;
    const size_t row = (size_t)(w + 2) * LANES;
    for (int ty = ty0; ty < ty0 + nty; ty++) {
        const float *rp[6];
        for (int i = 0; i < 6; i++)
            rp[i] = ring + (size_t)((4 * ty + i) % rr) * row;
        for (int tx = 0; tx < tw; tx++) {
            v8f t[6][6]; /* t[i][k]: row i of the tile after the row pass */
            for (int i = 0; i < 6; i++) {
                v8f d[6];
                for (int j = 0; j < 6; j++)
                    d[j] = LOAD(rp[i] + (size_t)(4 * tx + j) * LANES);
                bt6(d, t[i]);
            }
            float *dst = v + (size_t)((ty - ty0) * tw + tx) * LANES;
            for (int k = 0; k < 6; k++) {
                v8f col[6], o[6];
                for (int i = 0; i < 6; i++)
                    col[i] = t[i][k];
                bt6(col, o);
                for (int a = 0; a < 6; a++)
                    STORE(dst + (size_t)(a * 6 + k) * COLS, o[a]);
            }
        }
    }
}

/* T[4 (ty - ty0) + k][4 tx + l][lane] = (A^T M A)[k][l] + bias, channel c */
PACT_INLINE void output_tiles(const float *m, float bias, int w, int nty, float *tbuf,
                                   const int COLS)
{
    const int tw = w / 4;
    for (int tr = 0; tr < nty; tr++)
        for (int tx = 0; tx < tw; tx++) {
            const float *src = m + (size_t)(tr * tw + tx) * LANES;
            v8f r[4][6]; /* r[k][j]: A^T over the rows i, column j */
            for (int j = 0; j < 6; j++) {
                v8f col[6], y[4];
                for (int i = 0; i < 6; i++)
                    col[i] = LOAD(src + (size_t)(i * 6 + j) * COLS);
                at6(col, y);
                for (int k = 0; k < 4; k++)
                    r[k][j] = y[k];
            }
            for (int k = 0; k < 4; k++) {
                v8f y[4];
                at6(r[k], y);
                float *dst = tbuf + ((size_t)(4 * tr + k) * w + 4 * tx) * LANES;
                for (int l = 0; l < 4; l++)
                    STORE(dst + (size_t)l * LANES, y[l] + bias);
            }
        }
}

/* Input side of the block at tile rows [ty0, ty0 + nty): new rows into the
 * rings, then V */
W4_CLONES static void block_in(const w4_ctx *x, int ty0, int nty, int cols)
{
    const pact_op *op = x->op;
    const int h = op->in_shape.h, w = op->in_shape.w, c_in = op->in_shape.c;
    const size_t plane = (size_t)h * w, img = (size_t)c_in * plane;
    const size_t row = (size_t)(w + 2) * LANES, cs = ch_stride(cols);
    /* padded rows [p0, p1) are new: the first block loads its two top rows */
    const int p0 = ty0 == 0 ? 0 : 4 * ty0 + 2, p1 = 4 * (ty0 + nty) + 2;
    for (int c = 0; c < op->in_shape.c; c++) {
        float *ring = x->ring + (size_t)c * x->ring_rows * row;
        for (int p = p0; p < p1; p++)
            interleave_row(x->in + (size_t)c * plane, img, x->g, h, w, p,
                           ring + (size_t)(p % x->ring_rows) * row);
        float *v = x->v + (size_t)c * cs;
        if (cols == 32)
            input_tiles(ring, x->ring_rows, w, ty0, nty, v, 32);
        else if (cols == 64)
            input_tiles(ring, x->ring_rows, w, ty0, nty, v, 64);
        else
            input_tiles(ring, x->ring_rows, w, ty0, nty, v, cols);
    }
}

/* Output side of the block: for each channel, T, then the images' rows */
W4_CLONES static void block_out(const w4_ctx *x, int ty0, int nty, int cols)
{
    const pact_op *op = x->op;
    const int h = op->out_shape.h, w = op->out_shape.w, c_out = op->out_shape.c;
    const size_t plane = (size_t)h * w, img = (size_t)c_out * plane, cs = ch_stride(cols);
    /* option A: output channel c adds shortcut channel c - padc, if any, at
     * (2 y, 2 x) */
    const int sub = op->res_kind == PACT_SHORTCUT_SUBSAMPLE_PAD, padc = (c_out - op->res_shape.c) / 2;
    const size_t r_img = (size_t)op->res_shape.c * op->res_shape.h * op->res_shape.w;
    const size_t r_plane = (size_t)op->res_shape.h * op->res_shape.w;
    for (int c = 0; c < c_out; c++) {
        /* the slow path adds the bias with the rest (pact_conv_finish_plane) */
        const float bias = x->fast ? op->bias[c] : 0.0f;
        const float *m = x->m + (size_t)c * cs;
        if (cols == 32)
            output_tiles(m, bias, w, nty, x->t, 32);
        else if (cols == 64)
            output_tiles(m, bias, w, nty, x->t, 64);
        else
            output_tiles(m, bias, w, nty, x->t, cols);
        const float *rc = NULL;
        if (x->fast && x->res && !sub)
            rc = x->res + (size_t)c * plane;
        else if (x->fast && x->res && c >= padc && c - padc < op->res_shape.c)
            rc = x->res + (size_t)(c - padc) * r_plane;
        for (int y = 0; y < 4 * nty; y++) {
            const int oy = 4 * ty0 + y;
            deinterleave_row(x->t + (size_t)y * w * LANES, x->g, w,
                             x->out + (size_t)c * plane + (size_t)oy * w, img,
                             rc ? rc + (size_t)(sub ? 2 * oy : oy) * op->res_shape.w : NULL,
                             r_img, sub ? 2 : 1, x->fast && x->relu);
        }
    }
}

void pact_wino4_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                    int apply_act, pact_func act, float *work, double *profile)
{
    const int c_in = op->in_shape.c, c_out = op->out_shape.c;
    const int h = op->in_shape.h, w = op->in_shape.w, th = h / 4, tw = w / 4;
    const size_t plane = (size_t)h * w;
    const size_t in_img = (size_t)c_in * plane, out_img = (size_t)c_out * plane;
    const size_t res_img = (size_t)op->res_shape.c * op->res_shape.h * op->res_shape.w;
    const int br = block_rows(op);
    w4_ctx x = {.op = op, .relu = apply_act && act == PACT_RELU, .ring_rows = ring_rows(br)};
    /* bias, shortcut and ReLU while de-interleaving; another activation
     * afterwards, plane by plane */
    x.fast = !apply_act || x.relu;
    const size_t cs = ch_stride(br * tw * LANES);
    x.ring = work;
    x.v = x.ring + (size_t)c_in * x.ring_rows * (w + 2) * LANES;
    x.m = x.v + (size_t)c_in * cs;
    x.t = x.m + (size_t)c_out * cs;
    for (int b0 = 0; b0 < batch; b0 += LANES) {
        x.g = batch - b0 < LANES ? batch - b0 : LANES;
        x.in = in + (size_t)b0 * in_img;
        x.out = out + (size_t)b0 * out_img;
        x.res = res ? res + (size_t)b0 * res_img : NULL;
        for (int ty0 = 0; ty0 < th; ty0 += br) {
            const int nty = th - ty0 < br ? th - ty0 : br, cols = nty * tw * LANES;
            double t0 = profile ? pact_seconds() : 0.0;
            block_in(&x, ty0, nty, cols);
            double t1 = profile ? pact_seconds() : 0.0;
            const int bcs = (int)ch_stride(cols); /* as block_in and block_out use */
            for (int xi = 0; xi < 36; xi++)
                pact_gemm(c_out, cols, c_in, op->wino + (size_t)xi * c_out * c_in, c_in,
                          x.v + (size_t)xi * cols, bcs, x.m + (size_t)xi * cols, bcs);
            double t2 = profile ? pact_seconds() : 0.0;
            block_out(&x, ty0, nty, cols);
            if (profile) {
                profile[PACT_PROF_IM2COL] += t1 - t0;
                profile[PACT_PROF_SGEMM] += t2 - t1;
                profile[PACT_PROF_EPILOGUE] += pact_seconds() - t2;
            }
        }
        if (!x.fast) {
            double t0 = profile ? pact_seconds() : 0.0;
            for (int b = 0; b < x.g; b++)
                for (int c = 0; c < c_out; c++) {
                    float *o = x.out + (size_t)b * out_img + (size_t)c * plane;
                    pact_conv_finish_plane(op, o, o, x.res, b, c, apply_act, act);
                }
            if (profile)
                profile[PACT_PROF_EPILOGUE] += pact_seconds() - t0;
        }
    }
}
