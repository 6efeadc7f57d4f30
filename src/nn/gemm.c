/* C = A B for the convolutions' small row-major matrices (A: the weights, M x K;
 * B: transformed input or im2col rows, K x N), without OpenBLAS's packing of
 * both operands: B's rows are read in place, a block of columns at a time,
 * and each block of C is kept in registers over the whole of K.
 *
 * Every element of C is the same chain c = a0 b0; c = fma(ak, bk, c) for
 * k = 1..K-1 in order (fused where the CPU has FMA), whatever the block it
 * falls in: results do not depend on N, on a column's place or on how the
 * callers group images.
 *
 * The kernels use GCC's vector types, which the compiler lowers to the
 * vector registers each clone targets: AVX-512 (16 floats per register,
 * 8 x 32 blocks), AVX2 + FMA (6 x 16 blocks) or the baseline. */
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

/* MR rows x NV vectors (type VT: VW floats, unaligned view VU) of C. */
#define PACT_GEMM_KERNEL(NAME, VT, VU, VW, MR, NV)                                             \
    PACT_INLINE void NAME(int k, const float *a, int lda, const float *b, int ldb, float *c,   \
                          int ldc)                                                             \
    {                                                                                          \
        VT acc[MR][NV];                                                                        \
        for (int v = 0; v < NV; v++) {                                                         \
            const VT b0 = *(const VU *)(b + VW * v);                                           \
            for (int r = 0; r < MR; r++)                                                       \
                acc[r][v] = a[(size_t)r * lda] * b0;                                           \
        }                                                                                      \
        for (int p = 1; p < k; p++) {                                                          \
            const float *bp = b + (size_t)p * ldb;                                             \
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

PACT_GEMM_KERNEL(kernel16_8x2, v16f, v16u, 16, 8, 2)
PACT_GEMM_KERNEL(kernel16_1x1, v16f, v16u, 16, 1, 1)
PACT_GEMM_KERNEL(kernel8_6x2, v8f, v8u, 8, 6, 2)
PACT_GEMM_KERNEL(kernel8_1x1, v8f, v8u, 8, 1, 1)
PACT_GEMM_KERNEL(kernel4_4x2, v4f, v4u, 4, 4, 2)
PACT_GEMM_KERNEL(kernel4_1x1, v4f, v4u, 4, 1, 1)

/* The last n - j0 < 4 columns of rows [0, m): in 4-lane vectors padded with
 * zeros, so that each element goes through the same chain of vector
 * operations as in the kernels (a scalar loop may be compiled otherwise,
 * e.g. products vectorised and sums left unfused). */
PACT_INLINE void gemm_tail(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                           float *c, int ldc, int j0)
{
    const int nv = n - j0;
    if (nv <= 0)
        return;
    for (int r = 0; r < m; r++) {
        const float *ar = a + (size_t)r * lda;
        float part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(part, b + j0, sizeof(float) * (size_t)nv);
        v4f acc = ar[0] * load4(part);
        for (int p = 1; p < k; p++) {
            memcpy(part, b + (size_t)p * ldb + j0, sizeof(float) * (size_t)nv);
            acc = acc + ar[p] * load4(part);
        }
        store4(part, acc);
        memcpy(c + (size_t)r * ldc + j0, part, sizeof(float) * (size_t)nv);
    }
}

/* Columns in blocks of VW NV with rows in blocks of MR (KERNEL), the last
 * rows by KERNEL1 (1 x VW); then blocks of VW, of 4, then single columns. */
#define PACT_GEMM_DRIVER(VW, MR, NV, KERNEL, KERNEL1)                                          \
    do {                                                                                       \
        int j = 0;                                                                             \
        for (; j + (VW) * (NV) <= n; j += (VW) * (NV)) {                                       \
            int r = 0;                                                                         \
            for (; r + (MR) <= m; r += (MR))                                                   \
                KERNEL(k, a + (size_t)r * lda, lda, b + j, ldb, c + (size_t)r * ldc + j, ldc); \
            for (; r < m; r++)                                                                 \
                for (int v = 0; v < (NV); v++)                                                 \
                    KERNEL1(k, a + (size_t)r * lda, lda, b + j + (VW) * v, ldb,               \
                            c + (size_t)r * ldc + j + (VW) * v, ldc);                         \
        }                                                                                      \
        for (; j + (VW) <= n; j += (VW))                                                       \
            for (int r = 0; r < m; r++)                                                        \
                KERNEL1(k, a + (size_t)r * lda, lda, b + j, ldb, c + (size_t)r * ldc + j, ldc); \
        for (; j + 4 <= n; j += 4)                                                             \
            for (int r = 0; r < m; r++)                                                        \
                kernel4_1x1(k, a + (size_t)r * lda, lda, b + j, ldb, c + (size_t)r * ldc + j,  \
                            ldc);                                                              \
        gemm_tail(m, n, k, a, lda, b, ldb, c, ldc, j);                                         \
    } while (0)

#if PACT_GEMM_X86
__attribute__((target("arch=x86-64-v4"))) static void
gemm_avx512(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
            int ldc)
{
    PACT_GEMM_DRIVER(16, 8, 2, kernel16_8x2, kernel16_1x1);
}

__attribute__((target("arch=x86-64-v3"))) static void
gemm_avx2(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
          int ldc)
{
    PACT_GEMM_DRIVER(8, 6, 2, kernel8_6x2, kernel8_1x1);
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
    PACT_GEMM_DRIVER(4, 4, 2, kernel4_4x2, kernel4_1x1);
}

#else /* not GCC-compatible: plain loops, same order of operations */

void pact_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
               int ldc)
{
    for (int r = 0; r < m; r++)
        for (int j = 0; j < n; j++) {
            float acc = k > 0 ? a[(size_t)r * lda] * b[j] : 0.0f;
            for (int p = 1; p < k; p++)
                acc = acc + a[(size_t)r * lda + p] * b[(size_t)p * ldb + j];
            c[(size_t)r * ldc + j] = acc;
        }
}

#endif
