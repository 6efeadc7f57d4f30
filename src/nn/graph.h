/* A small layer graph: a list of operations over numbered per-image buffers,
 * executed in order on a batch (NCHW, contiguous). Builders (resnet.c, later
 * ONNX) fill it; exec.c runs it. Internal to the library. */
#ifndef PACT_NN_GRAPH_H
#define PACT_NN_GRAPH_H

#include "polyact.h"

/* The graph's last op writes the logits (any kind but ACT). */
typedef enum {
    PACT_OP_NORMALIZE, /* out = (input - mean[c]) / std[c]; reads the caller's input */
    PACT_OP_CONV,      /* out = conv(in) + bias (+ shortcut(res)), batch norm folded in */
    PACT_OP_ACT,       /* activation layer `layer` (the hook's place): in place, or
                          in copied to out first when they differ */
    PACT_OP_GAP,       /* out[c] = mean over the spatial positions of in[c] */
    PACT_OP_LINEAR,    /* out = weight x in + bias */
    /* ops of imported graphs (ops.c) */
    PACT_OP_ADD,       /* out = in + res, same shape */
    PACT_OP_AFFINE,    /* out[c] = in[c] * weight[c] + bias[c] (a batch norm, a
                          constant scale or shift) */
    PACT_OP_MAXPOOL,   /* kh x kw window, strides sh, sw, padding pad_top/pad_left
                          (the output shape implies the rest); padding never wins */
    PACT_OP_AVGPOOL,   /* same window; divides by the window's positions inside
                          the input, or by kh * kw when count_pad */
    PACT_OP_PAD,       /* out = `value` everywhere, in placed at offset begin[c,h,w] */
    PACT_OP_SLICE,     /* out[c][y][x] = in[begin + c step][..][..] per axis c, h, w */
    PACT_OP_CONCAT,    /* channels: out = in's channels then res's (same h, w) */
    PACT_OP_COPY       /* out = in */
} pact_op_kind;

typedef enum {
    PACT_SHORTCUT_IDENTITY,     /* res has the output's shape */
    PACT_SHORTCUT_SUBSAMPLE_PAD /* option A: res[:, ::2, ::2] zero-padded by
                                   (c_out - c_res) / 2 channels on each side */
} pact_shortcut;

typedef struct {
    int c, h, w;
} pact_shape;

/* Images a thread takes through all the ops at a time (their activations stay
 * in the core's cache from one op to the next), and the unit of the threads'
 * shares: the 8 lanes of the Winograd F(4x4) kernels. Results do not depend
 * on it: every sum is taken in a fixed order (pact_gemm). */
#define PACT_GROUP_ALIGN 8

/* Largest power of two <= min(PACT_GROUP_ALIGN, target / per_image), >= 1. */
int pact_group_size(size_t target_floats, size_t per_image_floats);

typedef struct {
    pact_op_kind kind;
    int in, out;             /* buffer ids; NORMALIZE reads the input, ACT has in == out */
    pact_shape in_shape, out_shape;
    /* CONV */
    int ksize, stride, pad;
    float *weight;           /* CONV [c_out][c_in * k * k]; LINEAR [c_out][c_in] */
    float *bias;             /* [c_out] */
    float *wino;             /* CONV by Winograd F(m x m, 3x3): [(m+2)^2][c_out][c_in] */
    int wino_m;              /* its output tile size m (2 or 4), 0 otherwise */
    int res;                 /* buffer added to the output, -1 for none */
    pact_shortcut res_kind;
    pact_shape res_shape;
    /* ACT */
    int layer;
    /* MAXPOOL, AVGPOOL */
    int kh, kw, sh, sw, pad_top, pad_left, count_pad;
    /* PAD (begin: offset of the input in the output), SLICE (begin: first
     * element, step >= 1), per axis c, h, w */
    int begin[3], step[3];
    float value;             /* PAD */
    /* set by pact_graph_finish: the op rewrites a buffer whose content had a
     * different size per image, so threads must all be done with it first */
    int sync;
    /* NORMALIZE */
    float mean[3], std[3];
} pact_op;

typedef struct {
    int n_ops;
    pact_op *ops;
    int n_bufs;
    size_t *buf_floats;      /* per image */
    int n_act;
    char **act_names;
    pact_func *act_funcs;
    int *act_op;             /* op index of each activation layer */
    int input_size, n_classes;
} pact_graph;

/* Frees everything the graph owns (weights, names), not the struct itself. */
void pact_graph_clear(pact_graph *g);

/* Fills in act_op and checks the ops' buffer ids and shapes; PACT_EFORMAT. */
pact_status pact_graph_finish(pact_graph *g, pact_error *err);

/* Runs ops [first, last) on `batch` images, in slices of at most `max_batch`,
 * each slice's images shared among `threads` threads (the caller's and
 * threads-1 workers started for the call; hooks run on the caller's thread).
 * Before op `first`, the buffers listed by pact_graph_state are loaded from
 * `state_in` (first > 0) or the input is read by NORMALIZE (first == 0); after
 * op last-1 the logits are written (last == n_ops) or the state at op `last`
 * is saved to `state_out`. */
typedef struct {
    const float *input;      /* batch x input_size, when first == 0 */
    const float *state_in;   /* batch x state floats, when first > 0 */
    float *state_out;        /* batch x state floats, when last < n_ops */
    float *logits;           /* batch x n_classes, when last == n_ops */
    pact_act_hook hook;
    void *hook_ctx;
    double *profile;         /* optional: seconds added per PACT_PROF_* phase */
} pact_graph_io;

/* Phases timed when pact_graph_io.profile is set (benchmarks only). */
enum {
    PACT_PROF_IM2COL, PACT_PROF_SGEMM, PACT_PROF_EPILOGUE, PACT_PROF_ACT, PACT_PROF_OTHER,
    PACT_PROF_COUNT
};

pact_status pact_graph_run(const pact_graph *g, int first, int last, int batch, int max_batch,
                           int threads, const pact_graph_io *io, pact_error *err);

/* The state when op `op` starts: the buffers read by op or later before being
 * written, the ACT op's own buffer first. Writes up to max_ids buffer ids and
 * their per-image floats; returns the count; *total = sum of floats. */
#define PACT_GRAPH_MAX_STATE 16
int pact_graph_state(const pact_graph *g, int op, int *ids, size_t *floats, int max_ids,
                     size_t *total);

/* Convolution kernels (conv.c). Scratch floats needed by pact_conv_run for
 * `batch` images. */
size_t pact_conv_work_floats(const pact_op *op, int batch);

/* out = conv(in) + bias (+ shortcut(res)); then `act` applied when apply_act. */
void pact_conv_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                   int apply_act, pact_func act, float *work, double *profile);

/* c = a b for row-major a (m x k, row stride lda), b (k x n, ldb), c (m x n,
 * ldc); each element summed over k in order, so independent of n and of the
 * column's place (gemm.c). */
void pact_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
               int ldc);

/* pact_gemm with b's row p = q kk + t (0 <= t < kk) at b + q ldb + inner[t]
 * (an im2col matrix read in place: kk taps per input channel); k is a
 * multiple of kk. Same sums, in the same order, as pact_gemm on the rows. */
void pact_gemm_taps(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                    int kk, const int *inner, float *c, int ldc);

/* Monotonic clock in seconds (for the optional profile). */
double pact_seconds(void);

/* Winograd F(4x4, 3x3) or F(2x2, 3x3) for 3x3 stride-1 same-size
 * convolutions of even size (winograd.c). prepare: op->wino and op->wino_m
 * from op->weight (PACT_ENOMEM). */
int pact_wino_eligible(const pact_op *op);
pact_status pact_wino_prepare(pact_op *op);
size_t pact_wino_work_floats(const pact_op *op, int batch);
void pact_wino_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                   int apply_act, pact_func act, float *work, double *profile);

/* F(4x4, 3x3) on groups of 8 images, one per vector lane (winograd4.c); the
 * work floats do not depend on the batch. */
size_t pact_wino4_work_floats(const pact_op *op);
void pact_wino4_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                    int apply_act, pact_func act, float *work, double *profile);
/* The shape of its matrix products (for tests/bench_gemm.c): per block of
 * tiles, 36 products M_xi = U_xi V_xi by pact_gemm, U_xi = op->wino + xi c_out
 * c_in (c_out x c_in, rows c_in apart), V_xi (c_in x *cols) and M_xi
 * (c_out x *cols) at xi *cols in their buffers, rows *ld floats apart; *blocks
 * blocks per group of *lanes images (a last one may have fewer columns). */
void pact_wino4_products(const pact_op *op, int *cols, int *ld, int *blocks, int *lanes);

/* Stride-2 convolutions with half-size output on an even plane, by its four
 * phases read in place (conv_phases.c). */
int pact_phases_eligible(const pact_op *op);
size_t pact_phases_work_floats(const pact_op *op);
void pact_phases_run(const pact_op *op, const float *in, const float *res, float *out, int batch,
                     int apply_act, pact_func act, float *work, double *profile);

/* Bias, shortcut and (when apply_act) activation for output plane (image b of
 * the group, channel c): o = act(conv + bias[c] + shortcut(res)); conv may be o.
 * res points at the group's first image. */
void pact_conv_finish_plane(const pact_op *op, const float *conv, float *o, const float *res,
                            int b, int c, int apply_act, pact_func act);

/* In-place exact activation over n floats. */
void pact_act_apply(pact_func f, float *x, size_t n);

/* Kernels of the ops of imported graphs (ops.c) on `batch` images: in, res
 * and out point at the first image, each image the op's shape. */
void pact_ops_run(const pact_op *op, const float *in, const float *res, float *out, int batch);

/* 1 if the op reads buffer op->res (CONV with a shortcut, ADD, CONCAT). */
int pact_op_reads_res(const pact_op *op);

#endif
