/* C = A B for the convolutions' small row-major matrices (A: the weights, M x K;
 * B: transformed input or im2col rows, K x N, possibly read in place by taps,
 * pact_gemm_taps), without packing either operand: B's rows are read where
 * they are, a block of columns at a time, and each block of C stays in
 * registers over the whole of K. On the convolutions' shapes this runs near
 * the CPU's peak (about 85% with AVX-512 on Zen 5), where OpenBLAS 0.3.21,
 * which has no AVX-512 kernel for that CPU and packs both operands of these
 * small products, ran at less than a third of it.
 *
 * Every element of C is the same chain c = a0 b0; c = fma(ak, bk, c) for
 * k = 1..K-1 in order (fused where the CPU has FMA), whatever the block it
 * falls in (the last block of a row of blocks may overlap the one before
 * and write the same values again): results do not depend on N, on a
 * column's place or on how the callers group images.
 *
 * The kernels use GCC's vector types, which the compiler lowers to the
 * vector registers of each version: AVX-512 (8 x 32 blocks), AVX2 + FMA
 * (6 x 16) or the baseline (4 x 8). */
#include "graph.h"

#include <string.h>

/* x86-64: AVX-512 and AVX2 + FMA versions beside the baseline one, chosen
 * by the CPU at each call. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(PACT_NO_VECTOR_CLONES)
#define PACT_GEMM_X86 1
#endif

#if defined(__GNUC__)
#define PACT_INLINE static inline __attribute__((always_inline))
typedef float v16f __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
/* unaligned views for loads and stores */
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
typedef float v4u __attribute__((vector_size(16), aligned(4), may_alias));
#define load4(p) (*(const v4u *)(p))
#define store4(p, v) (*(v4u *)(p) = (v))

/* B's rows: row p = q kk + t (t < kk) at b + q ldb + inner[t]; kk = 1 with
 * inner NULL is the plain row-major matrix (the compiler folds it away). */
typedef struct {
    const float *b;
    int ldb, kk;
    const int *inner;
} brows;

/* Advances (q, t) to the next row; returns its address plus column j. */
PACT_INLINE const float *next_row(const brows *B, int *q, int *t, int j)
{
    if (++*t == B->kk) {
        *t = 0;
        ++*q;
    }
    return B->b + (size_t)*q * B->ldb + (B->kk == 1 ? 0 : B->inner[*t]) + j;
}

PACT_INLINE const float *first_row(const brows *B, int j)
{
    return B->b + (B->kk == 1 ? 0 : B->inner[0]) + j;
}

/* MR rows x NV vectors (type VT: VW floats, unaligned view VU) of C, columns
 * from j. */
#define PACT_GEMM_KERNEL(NAME, VT, VU, VW, MR, NV)                                             \
    PACT_INLINE void NAME(int k, const float *a, int lda, const brows *B, int j, float *c,     \
                          int ldc)                                                             \
    {                                                                                          \
        VT acc[MR][NV];                                                                        \
        const float *bp = first_row(B, j);                                                     \
        for (int v = 0; v < NV; v++) {                                                         \
            const VT b0 = *(const VU *)(bp + VW * v);                                          \
            for (int r = 0; r < MR; r++)                                                       \
                acc[r][v] = a[(size_t)r * lda] * b0;                                           \
        }                                                                                      \
        int q = 0, t = 0;                                                                      \
        for (int p = 1; p < k; p++) {                                                          \
            bp = next_row(B, &q, &t, j);                                                       \
            VT bv[NV];                                                                         \
            for (int v = 0; v < NV; v++)                                                       \
                bv[v] = *(const VU *)(bp + VW * v);                                            \
            for (int r = 0; r < MR; r++) {                                                     \
                const float s = a[(size_t)r * lda + p];                                        \
                for (int v = 0; v < NV; v++)                                                   \
                    acc[r][v] = acc[r][v] + s * bv[v];                                         \
            }                                                                                  \
        }                                                                                      \
        for (int r = 0; r < MR; r++)                                                           \
            for (int v = 0; v < NV; v++)                                                       \
                *(VU *)(c + (size_t)r * ldc + VW * v) = acc[r][v];                             \
    }

#if PACT_GEMM_X86
PACT_GEMM_KERNEL(kernel16_8x2, v16f, v16u, 16, 8, 2)
PACT_GEMM_KERNEL(kernel16_1x2, v16f, v16u, 16, 1, 2)
PACT_GEMM_KERNEL(kernel16_8x1, v16f, v16u, 16, 8, 1)
PACT_GEMM_KERNEL(kernel16_1x1, v16f, v16u, 16, 1, 1)
PACT_GEMM_KERNEL(kernel8_6x2, v8f, v8u, 8, 6, 2)
PACT_GEMM_KERNEL(kernel8_1x2, v8f, v8u, 8, 1, 2)
PACT_GEMM_KERNEL(kernel8_6x1, v8f, v8u, 8, 6, 1)
PACT_GEMM_KERNEL(kernel8_1x1, v8f, v8u, 8, 1, 1)
#endif
PACT_GEMM_KERNEL(kernel4_4x2, v4f, v4u, 4, 4, 2)
PACT_GEMM_KERNEL(kernel4_1x2, v4f, v4u, 4, 1, 2)
PACT_GEMM_KERNEL(kernel4_4x1, v4f, v4u, 4, 4, 1)
PACT_GEMM_KERNEL(kernel4_1x1, v4f, v4u, 4, 1, 1)

/* Fewer than 4 columns in all: in 4-lane vectors padded with zeros, so that
 * each element goes through the same chain of vector operations as in the
 * kernels (a scalar loop may be compiled otherwise, e.g. products vectorised
 * and sums left unfused). */
PACT_INLINE void gemm_narrow(int m, int n, int k, const float *a, int lda, const brows *B,
                             float *c, int ldc)
{
    for (int r = 0; r < m; r++) {
        const float *ar = a + (size_t)r * lda;
        float part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(part, first_row(B, 0), sizeof(float) * (size_t)n);
        v4f acc = ar[0] * load4(part);
        int q = 0, t = 0;
        for (int p = 1; p < k; p++) {
            memcpy(part, next_row(B, &q, &t, 0), sizeof(float) * (size_t)n);
            acc = acc + ar[p] * load4(part);
        }
        store4(part, acc);
        memcpy(c + (size_t)r * ldc, part, sizeof(float) * (size_t)n);
    }
}

/* Blocks of W = VW NV columns (KMN: MR rows, K1N: one row), the last one
 * ending at column n (it may overlap the one before: those columns get the
 * same values again, each element's chain being the same in every kernel). */
#define PACT_GEMM_COLUMNS(W, MR, KMN, K1N)                                                     \
    do {                                                                                       \
        for (int j0 = 0; j0 < n; j0 += (W)) {                                                  \
            const int j = j0 + (W) <= n ? j0 : n - (W);                                        \
            int r = 0;                                                                         \
            for (; r + (MR) <= m; r += (MR))                                                   \
                KMN(k, a + (size_t)r * lda, lda, B, j, c + (size_t)r * ldc + j, ldc);          \
            for (; r < m; r++)                                                                 \
                K1N(k, a + (size_t)r * lda, lda, B, j, c + (size_t)r * ldc + j, ldc);          \
        }                                                                                      \
    } while (0)

/* The widest blocks that fit in n; n < 4: padded vectors. */
#define PACT_GEMM_DRIVER(VW, MR, KM2, K12, KM1, K11)                                           \
    do {                                                                                       \
        if (n >= 2 * (VW))                                                                     \
            PACT_GEMM_COLUMNS(2 * (VW), MR, KM2, K12);                                         \
        else if (n >= (VW))                                                                    \
            PACT_GEMM_COLUMNS(VW, MR, KM1, K11);                                               \
        else if (n >= 4)                                                                       \
            PACT_GEMM_COLUMNS(4, 4, kernel4_4x1, kernel4_1x1);                                 \
        else                                                                                   \
            gemm_narrow(m, n, k, a, lda, B, c, ldc);                                           \
    } while (0)

PACT_INLINE void gemm_base(int m, int n, int k, const float *a, int lda, const brows *B,
                           float *c, int ldc)
{
    PACT_GEMM_DRIVER(4, 4, kernel4_4x2, kernel4_1x2, kernel4_4x1, kernel4_1x1);
}

#if PACT_GEMM_X86
PACT_INLINE void gemm_512(int m, int n, int k, const float *a, int lda, const brows *B, float *c,
                          int ldc)
{
    PACT_GEMM_DRIVER(16, 8, kernel16_8x2, kernel16_1x2, kernel16_8x1, kernel16_1x1);
}

PACT_INLINE void gemm_256(int m, int n, int k, const float *a, int lda, const brows *B, float *c,
                          int ldc)
{
    PACT_GEMM_DRIVER(8, 6, kernel8_6x2, kernel8_1x2, kernel8_6x1, kernel8_1x1);
}

/* plain rows (kk = 1, folded) and rows by taps, per instruction set */
__attribute__((target("arch=x86-64-v4"))) static void
gemm_avx512(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
            int ldc)
{
    const brows B = {b, ldb, 1, NULL};
    gemm_512(m, n, k, a, lda, &B, c, ldc);
}

__attribute__((target("arch=x86-64-v4"))) static void
gemm_taps_avx512(int m, int n, int k, const float *a, int lda, const brows *B, float *c, int ldc)
{
    gemm_512(m, n, k, a, lda, B, c, ldc);
}

__attribute__((target("arch=x86-64-v3"))) static void
gemm_avx2(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
          int ldc)
{
    const brows B = {b, ldb, 1, NULL};
    gemm_256(m, n, k, a, lda, &B, c, ldc);
}

__attribute__((target("arch=x86-64-v3"))) static void
gemm_taps_avx2(int m, int n, int k, const float *a, int lda, const brows *B, float *c, int ldc)
{
    gemm_256(m, n, k, a, lda, B, c, ldc);
}
#endif

void pact_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
               int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (int r = 0; r < m; r++)
            memset(c + (size_t)r * ldc, 0, sizeof(float) * (size_t)n);
        return;
    }
#if PACT_GEMM_X86
    if (__builtin_cpu_supports("x86-64-v4")) {
        gemm_avx512(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    if (__builtin_cpu_supports("x86-64-v3")) {
        gemm_avx2(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
#endif
    const brows B = {b, ldb, 1, NULL};
    gemm_base(m, n, k, a, lda, &B, c, ldc);
}

void pact_gemm_taps(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                    int kk, const int *inner, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (int r = 0; r < m; r++)
            memset(c + (size_t)r * ldc, 0, sizeof(float) * (size_t)n);
        return;
    }
    const brows B = {b, ldb, kk, inner};
#if PACT_GEMM_X86
    if (__builtin_cpu_supports("x86-64-v4")) {
        gemm_taps_avx512(m, n, k, a, lda, &B, c, ldc);
        return;
    }
    if (__builtin_cpu_supports("x86-64-v3")) {
        gemm_taps_avx2(m, n, k, a, lda, &B, c, ldc);
        return;
    }
#endif
    gemm_base(m, n, k, a, lda, &B, c, ldc);
}

#else /* not GCC-compatible: plain loops, same order of operations */

void pact_gemm_taps(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                    int kk, const int *inner, float *c, int ldc)
{
    for (int r = 0; r < m; r++)
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++) {
                const float *row = b + (size_t)(p / kk) * ldb + (kk == 1 ? 0 : inner[p % kk]);
                acc = p == 0 ? a[(size_t)r * lda] * row[j]
                             : acc + a[(size_t)r * lda + p] * row[j];
            }
            c[(size_t)r * ldc + j] = acc;
        }
}

void pact_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
               int ldc)
{
    pact_gemm_taps(m, n, k, a, lda, b, ldb, 1, NULL, c, ldc);
}

#endif
