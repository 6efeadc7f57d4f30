/* Benchmark: the engine's own matrix product (pact_gemm, src/nn/gemm.c) against
 * OpenBLAS's cblas_sgemm, the product the engine used before, on the products
 * ResNet-20's convolutions actually perform: per Winograd F(4x4, 3x3) layer,
 * the 36 products M_xi = U_xi V_xi of one block of tiles, with the layer's own
 * transformed weights U_xi, random V, and the engine's strided layout
 * (pact_wino4_products). One thread each; CPU time of the calling thread;
 * rounds alternate between the two and the best round of each is kept. Prints
 * GFLOP/s of each, their ratio per shape, the time per image of all of
 * ResNet-20's Winograd products, and checks that the two products agree with
 * each other and with a double-precision product.
 * Columns: layers of that shape; blocks per image over those layers; GFLOP/s
 * (2 M N K per product); speed-up (BLAS time / pact time); max |x - y| / max |y| of
 * pact_gemm against sgemm and of each against the fp64 product.
 * Args: [rounds (5)] [seconds per round and shape (0.15)] [model] */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "nn/net_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* max |x - y| / max |y| over the products' elements: what the check bounds. */
#define MAX_REL_DIFF 1e-5

#define MAX_SHAPES 16

typedef struct {
    const pact_op *op; /* first layer of this shape: its U_xi are used */
    int m, n, k, ld;   /* c_out, columns of a block, c_in, row stride of V and M */
    double blocks;     /* blocks of 36 products per image, over all its layers */
    int layers;
} shape;

static double thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One block: the 36 products, as pact_wino4_run calls them, or by sgemm. */
static void block(const shape *s, int blas, const float *v, float *out)
{
    for (int xi = 0; xi < 36; xi++) {
        const float *u = s->op->wino + (size_t)xi * s->m * s->k;
        const float *b = v + (size_t)xi * s->n;
        float *c = out + (size_t)xi * s->n;
        if (blas)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->m, s->n, s->k, 1.0f, u,
                        s->k, b, s->ld, 0.0f, c, s->ld);
        else
            pact_gemm(s->m, s->n, s->k, u, s->k, b, s->ld, c, s->ld);
    }
}

/* Seconds per block over `reps` blocks. */
static double time_blocks(const shape *s, int blas, const float *v, float *out, long reps)
{
    double t0 = thread_seconds();
    for (long r = 0; r < reps; r++)
        block(s, blas, v, out);
    return (thread_seconds() - t0) / (double)reps;
}

/* max |x - y| / max |y| over the 36 products of a block. */
static double rel_diff(const shape *s, const float *x, const double *y)
{
    double d = 0.0, ymax = 0.0;
    for (int r = 0; r < s->m; r++)
        for (int j = 0; j < 36 * s->n; j++) {
            const size_t i = (size_t)r * s->ld + j;
            d = fmax(d, fabs((double)x[i] - y[i]));
            ymax = fmax(ymax, fabs(y[i]));
        }
    return ymax > 0.0 ? d / ymax : d;
}

int main(int argc, char **argv)
{
    const int rounds = argc > 1 ? atoi(argv[1]) : 5;
    const double seconds = argc > 2 ? atof(argv[2]) : 0.15;
    const char *p = argc > 3 ? argv[3] : pact_test_data("models/resnet20.safetensors");
    int n = 0;
    CHECK(p != NULL, "shared model missing");
    CHECK(rounds >= 1 && seconds > 0.0, "rounds %d, seconds %g", rounds, seconds);
    if (!p || rounds < 1 || !(seconds > 0.0))
        return pact_test_done("bench_gemm", 2);
    openblas_set_num_threads(1);
    pact_error err;
    pact_net *net = NULL;
    pact_net_opts o = {.threads = 1};
    CHECK_OK(pact_net_load(p, &o, &net, &err), &err);
    n++;
    if (!net)
        return pact_test_done("bench_gemm", n);

    /* the distinct product shapes of the net's F(4x4) layers */
    const pact_graph *g = pact_net_graph(net);
    shape sh[MAX_SHAPES];
    int ns = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const pact_op *op = &g->ops[i];
        if (op->kind != PACT_OP_CONV || !op->wino || op->wino_m != 4)
            continue;
        int cols, ld, blocks, lanes, s = 0;
        pact_wino4_products(op, &cols, &ld, &blocks, &lanes);
        while (s < ns && !(sh[s].m == op->out_shape.c && sh[s].k == op->in_shape.c &&
                           sh[s].n == cols && sh[s].ld == ld))
            s++;
        if (s == ns && ns < MAX_SHAPES)
            sh[ns++] = (shape){op, op->out_shape.c, cols, op->in_shape.c, ld, 0.0, 0};
        if (s < ns) {
            sh[s].blocks += (double)blocks / lanes;
            sh[s].layers++;
        }
    }
    CHECK(ns >= 3, "%s: %d Winograd F(4x4) product shapes, expected the 3 stages' at least",
          pact_net_name(net), ns);
    n++;
    printf("%s: the 36 products of one Winograd F(4x4, 3x3) block per layer shape, one thread;\n"
           "%s (core %s); best of %d rounds of %.2f s\n",
           pact_net_name(net), openblas_get_config(), openblas_get_corename(), rounds, seconds);
    printf("%-6s %15s %5s %7s %9s %9s %7s %10s %10s %10s\n", "layers", "M x N x K", "ld",
           "blk/img", "pact GF/s", "BLAS GF/s", "speedup", "pact-BLAS", "pact-fp64", "BLAS-fp64");

    double per_image[2] = {0.0, 0.0};
    unsigned seed = 12345;
    for (int s = 0; s < ns; s++) {
        const shape *x = &sh[s];
        const size_t vf = (size_t)x->k * x->ld, mf = (size_t)x->m * x->ld;
        float *v = malloc(sizeof(float) * vf);
        float *c[2] = {calloc(mf, sizeof(float)), calloc(mf, sizeof(float))};
        double *ref = calloc(mf, sizeof(double));
        CHECK(v && c[0] && c[1] && ref, "out of memory");
        if (!v || !c[0] || !c[1] || !ref) {
            free(v), free(c[0]), free(c[1]), free(ref);
            break;
        }
        for (size_t i = 0; i < vf; i++) {
            seed = seed * 1103515245u + 12345u;
            v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
        }

        /* agreement: both products and a double-precision one */
        block(x, 0, v, c[0]);
        block(x, 1, v, c[1]);
        for (int xi = 0; xi < 36; xi++) {
            const float *u = x->op->wino + (size_t)xi * x->m * x->k;
            for (int r = 0; r < x->m; r++)
                for (int j = 0; j < x->n; j++) {
                    double acc = 0.0;
                    for (int q = 0; q < x->k; q++)
                        acc += (double)u[(size_t)r * x->k + q] *
                               v[(size_t)q * x->ld + (size_t)xi * x->n + j];
                    ref[(size_t)r * x->ld + (size_t)xi * x->n + j] = acc;
                }
        }
        const double d_pr = rel_diff(x, c[0], ref), d_br = rel_diff(x, c[1], ref);
        for (size_t i = 0; i < mf; i++)
            ref[i] = c[1][i];
        const double d_pb = rel_diff(x, c[0], ref);
        CHECK(d_pb <= MAX_REL_DIFF, "%dx%dx%d: pact_gemm vs sgemm: max rel diff %.3g > %.0e",
              x->m, x->n, x->k, d_pb, MAX_REL_DIFF);
        CHECK(d_pr <= MAX_REL_DIFF, "%dx%dx%d: pact_gemm vs fp64: max rel diff %.3g > %.0e",
              x->m, x->n, x->k, d_pr, MAX_REL_DIFF);
        CHECK(d_br <= MAX_REL_DIFF, "%dx%dx%d: sgemm vs fp64: max rel diff %.3g > %.0e", x->m,
              x->n, x->k, d_br, MAX_REL_DIFF);
        n += 3;

        /* blocks per round: about `seconds` of pact_gemm */
        long reps = 1;
        while (time_blocks(x, 0, v, c[0], reps) * (double)reps < 0.02)
            reps *= 2;
        reps = (long)((double)reps * seconds / (time_blocks(x, 0, v, c[0], reps) * reps)) + 1;
        double best[2] = {INFINITY, INFINITY};
        for (int r = 0; r < rounds; r++)
            for (int b = 0; b < 2; b++)
                best[b] = fmin(best[b], time_blocks(x, b, v, c[b], reps));
        const double flop = 2.0 * 36 * x->m * x->n * x->k;
        printf("%-6d %3d x %3d x %3d %5d %7.3f %9.1f %9.1f %6.2fx %10.2g %10.2g %10.2g\n",
               x->layers, x->m, x->n, x->k, x->ld, x->blocks,
               1e-9 * flop / best[0], 1e-9 * flop / best[1], best[1] / best[0], d_pb, d_pr,
               d_br);
        for (int b = 0; b < 2; b++)
            per_image[b] += x->blocks * best[b];
        CHECK(best[0] > 0.0 && best[1] > 0.0, "times %g %g", best[0], best[1]);
        n++;
        free(v), free(c[0]), free(c[1]), free(ref);
    }
    printf("%s's Winograd products per image: pact_gemm %.1f us, OpenBLAS %.1f us: %.2fx\n",
           pact_net_name(net), 1e6 * per_image[0], 1e6 * per_image[1],
           per_image[0] > 0.0 ? per_image[1] / per_image[0] : 0.0);
    pact_net_free(net);
    return pact_test_done("bench_gemm", n);
}
