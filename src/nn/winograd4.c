/* Winograd F(4x4, 3x3) over groups of up to 8 images, one image per vector
 * lane: every transform is the same arithmetic on 8 lanes, whatever the plane
 * size, with no shuffles inside the transforms. The images' planes are
 * interleaved once on the way in ([channel][y][x][image], with a zero border)
 * and de-interleaved once on the way out, 8 x 8 floats at a time, where the
 * bias, the shortcut and the ReLU are applied.
 *
 * The tiles are taken a block of tile rows at a time (about 32 columns of
 * the matrices): input transform of the block, the 36 matrix products
 * M_xi = U_xi V_xi, output transform, so that V and M stay in the core's
 * cache. Column n = 8 t + lane of V and M is tile t of the block for the
 * lane's image.
 *
 * Same arithmetic, per element, as the plane-at-a-time transforms of
 * winograd.c: B^T d B with the row pass (along x) first, A^T M A with the
 * pass over rows first. */
#include "graph.h"

#include <string.h>

#if defined(__GNUC__)

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(PACT_NO_VECTOR_CLONES)
#define PACT_W4_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PACT_W4_CLONES
#endif
#define PACT_INLINE static inline __attribute__((always_inline))

#define LANES 8
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD(p) (*(const v8u *)(p))
#define STORE(p, v) (*(v8u *)(p) = (v))

/* Target floats of one block's V and M. */
#ifndef WINO4_BLOCK_FLOATS
#define WINO4_BLOCK_FLOATS (160 * 1024)
#endif
#define XI_PAD 48

/* Tile rows per block: about 32 columns (4 tiles of 8 lanes), fewer when V
 * and M would outgrow WINO4_BLOCK_FLOATS, at least one. */
static int block_rows(const pact_op *op)
{
    const int tw = op->in_shape.w / 4, th = op->in_shape.h / 4;
    const size_t per_row = (size_t)36 * (op->in_shape.c + op->out_shape.c) * tw * LANES;
    int r = 1;
    while (r < th && (r + 1) * tw * LANES <= 32 && (size_t)(r + 1) * per_row <= WINO4_BLOCK_FLOATS)
        r++;
    return r;
}

static size_t xi_stride(int c, int cols) { return (size_t)c * cols + XI_PAD; }

size_t pact_wino4_work_floats(const pact_op *op)
{
    const int h = op->in_shape.h, w = op->in_shape.w, br = block_rows(op);
    const int cols = br * (w / 4) * LANES;
    size_t xp = (size_t)op->in_shape.c * (h + 2) * (w + 2) * LANES;
    size_t vm = (size_t)36 * (xi_stride(op->in_shape.c, cols) + xi_stride(op->out_shape.c, cols));
    size_t t = (size_t)4 * br * w * LANES;
    return xp + vm + t;
}

/* 8 x 8 transpose: r[i][j] -> r[j][i]. */
PACT_INLINE void transpose8(v8f r[8])
{
    const v8i lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
    const v8i lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
    const v8i lo4 = {0, 1, 2, 3, 8, 9, 10, 11}, hi4 = {4, 5, 6, 7, 12, 13, 14, 15};
    v8f t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shuffle(r[i], r[i + 1], lo);
        t[i + 1] = __builtin_shuffle(r[i], r[i + 1], hi);
    }
    for (int i = 0; i < 8; i += 4) {
        s[i] = __builtin_shuffle(t[i], t[i + 2], lo2);
        s[i + 1] = __builtin_shuffle(t[i], t[i + 2], hi2);
        s[i + 2] = __builtin_shuffle(t[i + 1], t[i + 3], lo2);
        s[i + 3] = __builtin_shuffle(t[i + 1], t[i + 3], hi2);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = __builtin_shuffle(s[i], s[i + 4], lo4);
        r[i + 4] = __builtin_shuffle(s[i], s[i + 4], hi4);
    }
}

/* xp[c][y + 1][x + 1][lane] = image lane's in[c][y][x] (0 for lanes >= g),
 * zero border. */
PACT_W4_CLONES
static void interleave_in(const float *in, size_t in_img, int g, int c_in, int h, int w,
                          float *xp)
{
    const size_t plane = (size_t)h * w, row = (size_t)(w + 2) * LANES;
    const v8f zero = {0};
    for (int c = 0; c < c_in; c++) {
        float *xc = xp + (size_t)c * (h + 2) * row;
        memset(xc, 0, sizeof(float) * row);
        memset(xc + (size_t)(h + 1) * row, 0, sizeof(float) * row);
        for (int y = 0; y < h; y++) {
            float *xr = xc + (size_t)(y + 1) * row;
            STORE(xr, zero);
            STORE(xr + (size_t)(w + 1) * LANES, zero);
            const float *src = in + (size_t)c * plane + (size_t)y * w;
            int x = 0;
            for (; x + 8 <= w; x += 8) {
                v8f r[8];
                for (int b = 0; b < 8; b++) {
                    r[b] = zero;
                    if (b < g)
                        r[b] = LOAD(src + (size_t)b * in_img + x);
                }
                transpose8(r);
                for (int j = 0; j < 8; j++)
                    STORE(xr + (size_t)(x + 1 + j) * LANES, r[j]);
            }
            for (; x < w; x++)
                for (int b = 0; b < 8; b++)
                    xr[(size_t)(x + 1) * LANES + b] = b < g ? src[(size_t)b * in_img + x] : 0.0f;
        }
    }
}

/* B^T along six vectors. */
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

/* V[xi][c][8 t + lane] for the block's tiles (tile rows ty0 .. ty0 + nty). */
PACT_W4_CLONES
static void input_tiles(const float *xp, int c_in, int h, int w, int ty0, int nty, float *v,
                        size_t vs, int cols)
{
    const int tw = w / 4;
    const size_t row = (size_t)(w + 2) * LANES;
    for (int c = 0; c < c_in; c++) {
        const float *xc = xp + (size_t)c * (h + 2) * row;
        float *vc = v + (size_t)c * cols;
        for (int ty = ty0; ty < ty0 + nty; ty++)
            for (int tx = 0; tx < tw; tx++) {
                const float *d0 = xc + (size_t)(4 * ty) * row + (size_t)(4 * tx) * LANES;
                v8f t[6][6]; /* t[i][k]: row i of the tile after the row pass */
                for (int i = 0; i < 6; i++) {
                    v8f d[6];
                    for (int j = 0; j < 6; j++)
                        d[j] = LOAD(d0 + (size_t)i * row + (size_t)j * LANES);
                    bt6(d, t[i]);
                }
                float *dst = vc + (size_t)((ty - ty0) * tw + tx) * LANES;
                for (int k = 0; k < 6; k++) {
                    v8f col[6], o[6];
                    for (int i = 0; i < 6; i++)
                        col[i] = t[i][k];
                    bt6(col, o);
                    for (int a = 0; a < 6; a++)
                        STORE(dst + (size_t)(a * 6 + k) * vs, o[a]);
                }
            }
    }
}

/* A^T along six vectors. */
PACT_INLINE void at6(const v8f m[6], v8f y[4])
{
    const v8f s12 = m[1] + m[2], d12 = m[1] - m[2];
    const v8f s34 = m[3] + m[4], d34 = m[3] - m[4];
    y[0] = m[0] + s12 + s34;
    y[1] = d12 + 2.0f * d34;
    y[2] = s12 + 4.0f * s34;
    y[3] = d12 + 8.0f * d34 + m[5];
}

/* Output channel c of the block: T[4 (ty - ty0) + k][4 tx + l][lane] =
 * (A^T M A)[k][l] + bias. */
PACT_INLINE void output_tiles(const float *m, size_t ms, int cols, int c, float bias, int w,
                              int nty, float *tbuf)
{
    const int tw = w / 4;
    const float *mc = m + (size_t)c * cols;
    for (int tr = 0; tr < nty; tr++)
        for (int tx = 0; tx < tw; tx++) {
            const float *src = mc + (size_t)(tr * tw + tx) * LANES;
            v8f r[4][6]; /* r[k][j]: A^T over the rows i, column j */
            for (int j = 0; j < 6; j++) {
                v8f col[6], y[4];
                for (int i = 0; i < 6; i++)
                    col[i] = LOAD(src + (size_t)(i * 6 + j) * ms);
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

/* The block's output rows of channel c, de-interleaved into the images'
 * planes: o = conv + bias (+ identity shortcut), ReLU when relu. */
PACT_INLINE void write_rows(const float *tbuf, int rows, int w, int g, float *o0, size_t o_img,
                            const float *r0, size_t r_img, int relu)
{
    const v8f zero = {0};
    for (int y = 0; y < rows; y++) {
        const float *t = tbuf + (size_t)y * w * LANES;
        int x = 0;
        for (; x + 8 <= w; x += 8) {
            v8f v[8];
            for (int j = 0; j < 8; j++)
                v[j] = LOAD(t + (size_t)(x + j) * LANES);
            transpose8(v);
            for (int b = 0; b < g; b++) {
                const size_t at = (size_t)y * w + x;
                v8f s = v[b];
                if (r0)
                    s = s + LOAD(r0 + (size_t)b * r_img + at);
                if (relu)
                    s = (v8f)((v8i)s & (s > zero)); /* max(s, 0), -0 and NaN to +0 */
                STORE(o0 + (size_t)b * o_img + at, s);
            }
        }
        for (; x < w; x++)
            for (int b = 0; b < g; b++) {
                const size_t at = (size_t)y * w + x;
                float s = t[(size_t)x * LANES + b];
                if (r0)
                    s = s + r0[(size_t)b * r_img + at];
                if (relu)
                    s = s > 0.0f ? s : 0.0f;
                o0[(size_t)b * o_img + at] = s;
            }
    }
}

PACT_W4_CLONES
static void output_block(const pact_op *op, const float *m, size_t ms, int cols, int ty0, int nty,
                         int g, float *out, const float *res, int fast, int relu, float *tbuf)
{
    const int c_out = op->out_shape.c, h = op->out_shape.h, w = op->out_shape.w;
    const size_t plane = (size_t)h * w, out_img = (size_t)c_out * plane;
    for (int c = 0; c < c_out; c++) {
        /* the slow path adds the bias with the rest, in pact_conv_finish_plane */
        output_tiles(m, ms, cols, c, fast ? op->bias[c] : 0.0f, w, nty, tbuf);
        const size_t at = (size_t)c * plane + (size_t)(4 * ty0) * w;
        const float *r0 = fast && res && op->res_kind == PACT_SHORTCUT_IDENTITY ? res + at : NULL;
        write_rows(tbuf, 4 * nty, w, g, out + at, out_img, r0, out_img, fast && relu);
    }
}

#else /* no vector types */
#error "winograd4.c needs GCC-compatible vector extensions"
#endif

void pact_wino4_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                    int apply_act, pact_func act, float *work, double *profile)
{
    const int c_in = op->in_shape.c, c_out = op->out_shape.c;
    const int h = op->in_shape.h, w = op->in_shape.w, th = h / 4, tw = w / 4;
    const int br = block_rows(op), cols_max = br * tw * LANES;
    const size_t plane = (size_t)h * w;
    const size_t in_img = (size_t)c_in * plane, out_img = (size_t)c_out * plane;
    const size_t res_img = (size_t)op->res_shape.c * op->res_shape.h * op->res_shape.w;
    const int relu = apply_act && act == PACT_RELU;
    /* bias, identity shortcut and ReLU while de-interleaving; anything else
     * afterwards, plane by plane */
    const int fast = (op->res < 0 || op->res_kind == PACT_SHORTCUT_IDENTITY) &&
                     (!apply_act || relu);
    float *xp = work;
    float *v = xp + (size_t)c_in * (h + 2) * (w + 2) * LANES;
    const size_t vs = xi_stride(c_in, cols_max), ms = xi_stride(c_out, cols_max);
    float *m = v + 36 * vs, *tbuf = m + 36 * ms;
    for (int b0 = 0; b0 < batch; b0 += LANES) {
        const int g = batch - b0 < LANES ? batch - b0 : LANES;
        double t0 = profile ? pact_seconds() : 0.0;
        interleave_in(in + (size_t)b0 * in_img, in_img, g, c_in, h, w, xp);
        if (profile)
            profile[PACT_PROF_IM2COL] += pact_seconds() - t0;
        for (int ty0 = 0; ty0 < th; ty0 += br) {
            const int nty = th - ty0 < br ? th - ty0 : br, cols = nty * tw * LANES;
            t0 = profile ? pact_seconds() : 0.0;
            input_tiles(xp, c_in, h, w, ty0, nty, v, vs, cols);
            double t1 = profile ? pact_seconds() : 0.0;
            for (int xi = 0; xi < 36; xi++)
                pact_gemm(c_out, cols, c_in, op->wino + (size_t)xi * c_out * c_in, c_in,
                          v + (size_t)xi * vs, cols, m + (size_t)xi * ms, cols);
            double t2 = profile ? pact_seconds() : 0.0;
            output_block(op, m, ms, cols, ty0, nty, g, out + (size_t)b0 * out_img,
                         res ? res + (size_t)b0 * res_img : NULL, fast, relu, tbuf);
            if (profile) {
                profile[PACT_PROF_IM2COL] += t1 - t0;
                profile[PACT_PROF_SGEMM] += t2 - t1;
                profile[PACT_PROF_EPILOGUE] += pact_seconds() - t2;
            }
        }
        if (!fast) {
            t0 = profile ? pact_seconds() : 0.0;
            for (int b = 0; b < g; b++)
                for (int c = 0; c < c_out; c++) {
                    float *o = out + (size_t)(b0 + b) * out_img + (size_t)c * plane;
                    pact_conv_finish_plane(op, o, o, res ? res + (size_t)b0 * res_img : NULL, b,
                                           c, apply_act, act);
                }
            if (profile)
                profile[PACT_PROF_EPILOGUE] += pact_seconds() - t0;
        }
    }
}
