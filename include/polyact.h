/* polyact: post-training polynomial approximation of activation functions for
 * private inference (CKKS / MPC).
 *
 * A pretrained network cannot run under homomorphic encryption as it is: every
 * ReLU/GELU must become a polynomial. polyact fits those polynomials (minimax,
 * distribution-weighted least squares, Chebyshev interpolation, composite
 * minimax sign/ReLU), measures each activation layer's real input distribution,
 * picks a degree per layer against an HE cost model, and evaluates the resulting
 * polynomial network (PANN) in plaintext, also in fixed point at HE precision.
 *
 * Minimal use:
 *
 *   pact_poly *p = NULL; pact_error err; double e;
 *   if (pact_fit_minimax(PACT_RELU, -8.0, 8.0, 15, NULL, &p, &e, &err) != PACT_OK)
 *       fprintf(stderr, "polyact: %s\n", err.message);
 *   double y = pact_poly_eval(p, 0.5);
 *   pact_poly_free(p);
 *
 * Conventions (hold for every function below):
 * - Fallible calls return pact_status (PACT_OK = 0, negative codes, stable) and,
 *   when `err` is not NULL, fill it with one line naming the file, field and value
 *   at fault. Inputs come first, an options struct (NULL = defaults) next, outputs
 *   last, the error last of all.
 * - Objects are opaque handles with create/free pairs; the caller owns what a call
 *   creates; every *_free accepts NULL. The library keeps no pointer to caller
 *   memory after a call returns, prints nothing, exits never and has no global
 *   mutable state: distinct handles may be used from distinct threads.
 * - Polynomials live in the Chebyshev basis on their own interval [a, b].
 *
 * Sections, in the order of the data flow: errors, activation functions,
 * polynomials and fitting, data sets, networks and the model interface,
 * calibration, plans and PANN evaluation, HE cost model, optimizer, export.
 */
#ifndef POLYACT_H
#define POLYACT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PACT_VERSION_MAJOR 0
#define PACT_VERSION_MINOR 1
#define PACT_VERSION_PATCH 0
#define PACT_VERSION_STRING "0.1.0"

/* ======================================================================== */
/* Errors                                                                   */
/* ======================================================================== */

/* Status codes. Values are stable once released; never compare messages. */
typedef enum {
    PACT_OK = 0,
    PACT_EINVAL = -1,      /* an argument is out of its documented range */
    PACT_ENOMEM = -2,      /* an allocation failed */
    PACT_EIO = -3,         /* a file could not be opened, read or written */
    PACT_EFORMAT = -4,     /* a file's content is malformed or inconsistent */
    PACT_EMAXITER = -5,    /* an iteration cap was reached before convergence */
    PACT_ETOL = -6,        /* converged, but the requested tolerance was not met */
    PACT_EUNSUPPORTED = -7,/* valid request that this build cannot serve */
    PACT_EMISMATCH = -8,   /* inputs that do not belong together (plan vs model) */
    PACT_ENUMERIC = -9,    /* a non-finite or overflowing value was produced */
    PACT_ECALLBACK = -10   /* a user callback (model interface) reported failure */
} pact_status;

#define PACT_ERROR_MESSAGE_MAX 512

typedef struct {
    pact_status status;
    char message[PACT_ERROR_MESSAGE_MAX];
} pact_error;

/* Name of a status code ("PACT_EINVAL", ...); never NULL. */
const char *pact_status_str(pact_status status);

/* ======================================================================== */
/* Activation functions                                                     */
/* ======================================================================== */

typedef enum {
    PACT_RELU = 0,
    PACT_GELU,      /* exact: x * Phi(x) = x/2 (1 + erf(x / sqrt 2)) */
    PACT_GELU_TANH, /* tanh form: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    PACT_SILU,      /* x * sigmoid(x) */
    PACT_SIGMOID,
    PACT_TANH,
    PACT_ABS,
    PACT_SIGN,      /* -1, 0, +1 */
    PACT_FUNC_COUNT
} pact_func;

/* The function in double precision. Unknown `f` returns NaN. */
double pact_func_eval(pact_func f, double x);

/* Lower-case name ("relu", "gelu", "gelu_tanh", ...); "?" for unknown values. */
const char *pact_func_name(pact_func f);

/* Parses a name as printed by pact_func_name. out *f. PACT_EINVAL if unknown. */
pact_status pact_func_from_name(const char *name, pact_func *f, pact_error *err);

/* ======================================================================== */
/* Polynomials and fitting                          (src/poly/)             */
/* ======================================================================== */

/* @@SECTION poly */

/* ======================================================================== */
/* Data sets                                        (src/io/)               */
/* ======================================================================== */

/* @@SECTION data */

/* CIFAR-10 in its official binary format: records of 3073 bytes, a label byte
 * (0..9) then 3072 pixel bytes (1024 R, 1024 G, 1024 B, row-major 32 x 32). A
 * data set is held in memory as those bytes; images come out as floats.
 *
 *   pact_dataset *ds = NULL;
 *   if (pact_cifar_load("test_batch.bin", PACT_SPLIT_TEST, 0, &ds, &err) == PACT_OK) {
 *       float *x = malloc(64 * sizeof(float) * PACT_CIFAR_IMAGE_SIZE);
 *       pact_dataset_images_f32(ds, 0, 64, x, &err);   ...
 *   }
 */
#define PACT_CIFAR_IMAGE_SIZE 3072   /* floats per image: 3 x 32 x 32, CHW */
#define PACT_CIFAR_RECORD_SIZE 3073  /* bytes per record in the binary files */
#define PACT_CIFAR_CLASSES 10

typedef struct pact_dataset pact_dataset;

/* Which files of a CIFAR-10 directory to read. */
typedef enum {
    PACT_SPLIT_TEST = 0,  /* test_batch.bin */
    PACT_SPLIT_TRAIN = 1  /* data_batch_1.bin .. data_batch_5.bin, in that order */
} pact_split;

/* "train" / "test" -> *split; PACT_EINVAL naming the value otherwise. */
pact_status pact_split_from_name(const char *name, pact_split *split, pact_error *err);

/* Loads CIFAR-10 records from `path`: a file of N records (any name, e.g. the
 * shared test_batch_first1017.bin), or a directory holding the official batch
 * files of `split` (ignored for a file). Reads at most `max_images` records
 * (0 = all); a directory's files are read in order only as far as needed.
 * out *ds: new data set; free with pact_dataset_free.
 * Returns PACT_OK; PACT_EIO (missing/unreadable file, named); PACT_EFORMAT (size
 * not a multiple of 3073, empty file, label outside 0..9: file and record named);
 * PACT_EINVAL (unknown split); PACT_ENOMEM. */
pact_status pact_cifar_load(const char *path, pact_split split, size_t max_images,
                            pact_dataset **ds, pact_error *err);

void pact_dataset_free(pact_dataset *ds);

/* Number of images. */
size_t pact_dataset_count(const pact_dataset *ds);

/* Label of image i (0..9), or -1 when i is out of range. */
int pact_dataset_label(const pact_dataset *ds, size_t i);

/* Writes images first .. first+count-1 to out (count x PACT_CIFAR_IMAGE_SIZE
 * floats, caller-allocated): pixel / 255 (float), CHW order, as torchvision's
 * ToTensor. PACT_EINVAL when the range is outside the data set. */
pact_status pact_dataset_images_f32(const pact_dataset *ds, size_t first, size_t count,
                                    float *out, pact_error *err);

/* ======================================================================== */
/* Networks and the model interface                 (src/nn/)               */
/* ======================================================================== */

/* The model interface is how calibration, impact measurement, the optimizer
 * and PANN evaluation reach any network: polyact's own engine is one
 * implementation, a user's inference code can be another.
 *
 * A network has `n_act` activation layers. Its forward function runs a batch
 * and, at activation layer `layer`, instead of applying the activation itself,
 * calls `hook` with that layer's *input* tensor `x` (batch x channels x spatial
 * floats, NCHW, contiguous). The hook must overwrite `x` in place with the
 * activation's output: the exact function, a polynomial, or a fixed-point
 * simulation of one; it may also record statistics of `x` first. A hook that
 * returns non-OK aborts the forward pass, which returns that status. */
typedef pact_status (*pact_act_hook)(void *hook_ctx, int layer, float *x,
                                     int batch, int channels, int spatial,
                                     pact_error *err);

/* Runs `batch` images. `input`: batch x model->input_size floats, pixels scaled
 * to [0, 1] in CHW order (the model applies its own normalisation). hook NULL:
 * exact activations. out logits: batch x model->n_classes floats. */
typedef pact_status (*pact_forward_fn)(void *model_ctx, const float *input,
                                       int batch, pact_act_hook hook,
                                       void *hook_ctx, float *logits,
                                       pact_error *err);

typedef struct {
    void *ctx;                      /* passed to forward */
    int n_act;                      /* activation layers, in execution order */
    const char *const *act_names;   /* n_act stable names ("layer2.1.relu1") */
    const pact_func *act_funcs;     /* n_act activation functions */
    int input_size;                 /* floats per image (3 * 32 * 32 for CIFAR) */
    int n_classes;                  /* logits per image */
    pact_forward_fn forward;
} pact_model;

/* @@SECTION net */

/* pact_net: polyact's own fp32 engine, one implementation of pact_model. It
 * reads CIFAR ResNets of He et al. (ResNet-20/32/44/56/110, option-A shortcuts,
 * depth found from the tensor names) from .safetensors files (F32, or F16/BF16
 * converted on load), folds batch norm into the convolutions and runs them on
 * OpenBLAS sgemm over groups of images: 3x3 stride-1 convolutions by Winograd
 * F(4x4, 3x3) (F(2x2, 3x3) where a plane is not a multiple of 4), the others
 * by im2col. Logits agree with PyTorch's fp32 to ~1e-4.
 *
 *   pact_net *net = NULL; pact_model m;
 *   if (pact_net_load("resnet20.safetensors", NULL, &net, &err) != PACT_OK) ...
 *   pact_net_model(net, &m);              (hand &m to calibration, evaluation)
 *   pact_net_forward(net, x, 64, NULL, NULL, logits, &err);   (exact ReLU)
 *
 * Activation layers are named "relu" (after the stem convolution), then
 * "layerS.B.relu1" and "layerS.B.relu2" for stage S = 1..3, block B, in
 * execution order; ResNet-20 has 19. The input is pixels / 255 in CHW order;
 * the net normalises it with the file's __metadata__ input_mean and input_std
 * ("0.485,0.456,0.406"), unless the options override them.
 *
 * Threads: with opts.threads = T > 1 every slice of a batch is shared among T
 * threads (the caller's and T-1 started for the call), each running the whole
 * network on its images; the activation hook is still called from the
 * caller's thread only, once per layer for the whole slice. Those threads call
 * sgemm concurrently: make OpenBLAS single-threaded (OPENBLAS_NUM_THREADS=1 or
 * openblas_set_num_threads(1)), as `polyact --threads` does. With T = 1 the
 * caller's thread runs everything and OpenBLAS's own threads (if any) work
 * inside each sgemm. Images go through the convolutions in groups of up to 8
 * counted from the start of the forward call, so results are bit for bit the
 * same for every T and every max_batch that is a multiple of 8 (with
 * single-threaded OpenBLAS); an image may differ in the last bits when it sits
 * at another place of a batch (OpenBLAS's sums depend on the matrix sizes and
 * a column's place), so fixed chunks of images give reproducible results.
 * A loaded net is immutable: every forward call allocates its own workspace,
 * so distinct threads may run forwards of one net at the same time. */
typedef struct pact_net pact_net;

/* Options; NULL or a zero-initialised struct gives the defaults. */
typedef struct {
    pact_func act;             /* every activation layer's function (PACT_RELU = 0) */
    const double *input_mean;  /* 3 values overriding __metadata__ input_mean, or NULL */
    const double *input_std;   /* 3 values > 0 overriding __metadata__ input_std, or NULL */
    int max_batch;             /* images per internal slice (0 = 8 x threads): a
                                  forward of more images runs in consecutive
                                  slices; results are the same for every
                                  multiple of 8 */
    int threads;               /* engine threads per forward, 0..PACT_NET_MAX_THREADS
                                  (0 = 1; see "Threads" above) */
} pact_net_opts;

#define PACT_NET_MAX_THREADS 256

/* Loads and validates a model file. out *net: free with pact_net_free.
 * Returns PACT_OK; PACT_EIO (cannot read); PACT_EFORMAT (malformed file, missing
 * tensor, wrong dtype or shape, NaN/inf weights, unexpected tensor, no input
 * normalisation in the metadata and none given: the message names the file
 * and the tensor or key); PACT_EINVAL (bad options); PACT_ENOMEM. */
pact_status pact_net_load(const char *path, const pact_net_opts *opts, pact_net **net,
                          pact_error *err);

void pact_net_free(pact_net *net);

/* Architecture name, e.g. "resnet20"; owned by the net. */
const char *pact_net_name(const pact_net *net);

/* SHA-256 of the weights file's bytes as 64 lower-case hex digits; owned by the
 * net. Names the exact weights that a calibration or a plan was made with. */
const char *pact_net_sha256(const pact_net *net);

/* Number of activation layers (ResNet-(6n+2): 6n+1). */
int pact_net_act_count(const pact_net *net);

/* Name of activation layer `layer` (owned by the net), NULL out of range. */
const char *pact_net_act_name(const pact_net *net, int layer);

/* Index of the activation layer called `name`, or -1. */
int pact_net_act_find(const pact_net *net, const char *name);

/* Shape of activation layer `layer`'s input per image (channels x height x
 * width; any pointer may be NULL). PACT_EINVAL out of range. */
pact_status pact_net_act_shape(const pact_net *net, int layer, int *channels, int *height,
                               int *width, pact_error *err);

/* Floating-point operations per image (2 per multiply-add of the convolutions
 * and the linear layer), for reporting throughput in GFLOP/s. */
double pact_net_flops(const pact_net *net);

/* Fills *model with the model-interface view of the net (ctx = net). The view
 * points into the net and is valid while the net lives. */
void pact_net_model(const pact_net *net, pact_model *model);

/* Runs `batch` images: input batch x 3072 floats (pixels / 255, CHW), logits
 * batch x n_classes floats (caller-allocated). At every activation layer
 * calls hook(hook_ctx, layer, x, n, channels, spatial, err) with the layer's
 * input, which the hook overwrites with the output; hook NULL applies the
 * exact function. Batches larger than max_batch run as consecutive slices, so
 * the hook is then called once per layer and slice, `n` being the slice size.
 * Returns PACT_OK; PACT_EINVAL (batch < 0, NULL buffers); PACT_ENOMEM; or the
 * hook's status (the forward stops there). */
pact_status pact_net_forward(const pact_net *net, const float *input, int batch,
                             pact_act_hook hook, void *hook_ctx, float *logits,
                             pact_error *err);

/* Running part of the network, for measuring one layer's impact without
 * recomputing everything before it. The state at activation layer `layer` is
 * that layer's input followed by every other tensor the rest of the network
 * still needs (e.g. a residual block's input): pact_net_state_size(net, layer)
 * floats per image (0 for an invalid layer); its first C x H x W floats are the
 * activation's input (pact_net_act_shape). */
size_t pact_net_state_size(const pact_net *net, int layer);

/* Runs the network up to activation layer `layer` (its activation not
 * applied; the hook is called for the layers before it) and writes
 * batch x pact_net_state_size floats to `state`, image after image. */
pact_status pact_net_forward_to(const pact_net *net, const float *input, int batch, int layer,
                                pact_act_hook hook, void *hook_ctx, float *state,
                                pact_error *err);

/* Runs the rest of the network from a state written by pact_net_forward_to,
 * starting with activation layer `layer` itself (the hook is called for it and
 * every later layer), and writes the logits. forward_to then forward_from gives
 * the logits of pact_net_forward bit for bit. */
pact_status pact_net_forward_from(const pact_net *net, int layer, const float *state, int batch,
                                  pact_act_hook hook, void *hook_ctx, float *logits,
                                  pact_error *err);

/* Progress of a long computation: `done` of `total` units (images) finished.
 * Called from the computing thread; the library itself never prints. */
typedef void (*pact_progress_fn)(void *ctx, size_t done, size_t total);

/* Options of pact_model_evaluate; NULL or zero-initialised = defaults. */
typedef struct {
    size_t max_images;         /* 0 = the whole data set */
    int batch;                 /* images per forward call (0 = 64) */
    pact_act_hook hook;        /* NULL: the exact activations */
    void *hook_ctx;
    pact_progress_fn progress; /* optional, called after every batch */
    void *progress_ctx;
} pact_eval_opts;

typedef struct {
    size_t images;             /* images evaluated */
    size_t correct;            /* top-1 prediction equal to the label */
    double accuracy;           /* correct / images */
    double seconds;            /* wall time of the forward passes and input conversion */
    double images_per_second;
} pact_eval_result;

/* Top-1 accuracy of any model on a data set (the first max_images images),
 * through the model interface; with opts->hook the activations are replaced
 * (a PANN). `predicted` (optional, caller-allocated, one int per evaluated
 * image) receives the argmax of each image's logits (the first on ties).
 * Returns PACT_OK; PACT_EINVAL (model input size is not 3072, empty data set,
 * bad options); PACT_ENOMEM; or the forward's status. */
pact_status pact_model_evaluate(const pact_model *model, const pact_dataset *ds,
                                const pact_eval_opts *opts, pact_eval_result *result,
                                int *predicted, pact_error *err);

/* ======================================================================== */
/* Calibration                                      (src/pann/)             */
/* ======================================================================== */

/* @@SECTION calib */

/* Calibration measures each activation layer's input over a data set, through
 * the model interface (any pact_model): count, min, max, mean, standard
 * deviation, quantiles, and a histogram of fixed bins over [min, max].
 *
 *   pact_calib *c = NULL;
 *   if (pact_calibrate(&model, ds, NULL, &c, &err) == PACT_OK) {
 *       const pact_calib_layer *l = pact_calib_layer_at(c, 0);
 *       printf("%s: [%g, %g]\n", l->name, l->min, l->max);
 *       pact_calib_save(c, "calib.json", &err);
 *   }
 *   pact_calib_free(c);
 *
 * Two passes over the images, in fixed chunks of opts.chunk_images images (the
 * data decide the chunks, not the number of workers): pass 1 gathers per image
 * and layer count, min, max, mean and M2 (sum of squared deviations, double),
 * merged image after image and chunk after chunk (Chan et al.), so they do
 * not depend on how the model splits a chunk into hook calls; pass 2 counts
 * every value into opts.bins equal bins over the layer's [min, max] (integer counts, merged by
 * addition). So one process, many threads or many processes (each computing
 * some chunks with the functions below) give bit-identical results.
 * Quantiles are read from the histogram by linear interpolation inside the bin
 * where the cumulative count reaches q x count: the result lies within one bin
 * width, (max - min) / bins, of the empirical quantile (the order statistic
 * of rank ceil(q x count)).
 *
 * The file (pact_calib_save / pact_calib_load) is JSON, schema in README.md:
 * {"format": "polyact-calib", "version": 1, "model", "model_sha256", "data",
 *  "images", "chunk_images", "bins", "quantile_levels": [...], "layers": [{
 *  "index", "name", "func", "count", "min", "max", "mean", "std",
 *  "quantiles": [...], "histogram": [bins integers]}, ...]} */
typedef struct pact_calib pact_calib;

#define PACT_CALIB_MAX_QUANTILES 32
#define PACT_CALIB_MAX_BINS (1 << 20)

/* Options; NULL or zero-initialised = defaults. */
typedef struct {
    int chunk_images;           /* images per chunk (0 = 64) */
    int bins;                   /* histogram bins per layer (0 = 2048), 1..PACT_CALIB_MAX_BINS */
    int n_quantiles;            /* 0: the default levels 0.001 0.01 0.05 0.5 0.95 0.99 0.999 */
    const double *quantiles;    /* n_quantiles increasing levels in (0, 1) */
    size_t max_images;          /* 0 = the whole data set */
    pact_progress_fn progress;  /* optional: units are images over both passes
                                   (total = 2 x images) */
    void *progress_ctx;
    const char *model_name;     /* recorded in the result and file (optional) */
    const char *model_sha256;   /* recorded (optional), e.g. pact_net_sha256 */
    const char *data_name;      /* recorded (optional), e.g. the data file's name */
} pact_calib_opts;

/* One layer's statistics (a view into the calibration, valid while it lives). */
typedef struct {
    const char *name;
    pact_func func;
    uint64_t count;             /* values observed: images x channels x spatial */
    double min, max, mean, std; /* std: population standard deviation */
    int n_quantiles;
    const double *quantile_levels; /* n_quantiles levels (the calibration's) */
    const double *quantiles;       /* value at each level (within one bin width) */
    int bins;
    const uint64_t *histogram;  /* bins counts; bin i holds [min + i w, min + (i+1) w)
                                   with w = (max - min) / bins, the last bin also max */
} pact_calib_layer;

/* Calibrates every activation layer of `model` on the first images of `ds`.
 * out *calib: free with pact_calib_free. Returns PACT_OK; PACT_EINVAL (bad
 * options, model without activation layers or with another input size, empty
 * data set); PACT_ENUMERIC (a layer's input is NaN or infinite: layer and chunk
 * named); PACT_ENOMEM; or the model's forward status. */
pact_status pact_calibrate(const pact_model *model, const pact_dataset *ds,
                           const pact_calib_opts *opts, pact_calib **calib, pact_error *err);

void pact_calib_free(pact_calib *calib);

int pact_calib_layer_count(const pact_calib *calib);
/* Layer i, or NULL out of range. */
const pact_calib_layer *pact_calib_layer_at(const pact_calib *calib, int i);
/* Index of the layer called `name`, or -1. */
int pact_calib_find(const pact_calib *calib, const char *name);
/* Value at level q in [0, 1] of layer i's histogram (q = 0: min, q = 1: max);
 * NaN for a bad layer or q. Within one bin width of the empirical quantile. */
double pact_calib_quantile(const pact_calib *calib, int layer, double q);
/* Images calibrated, chunk size and bins used. */
size_t pact_calib_images(const pact_calib *calib);
int pact_calib_chunk_images(const pact_calib *calib);
int pact_calib_bins(const pact_calib *calib);
/* Recorded names ("" when not given); owned by the calibration. */
const char *pact_calib_model_name(const pact_calib *calib);
const char *pact_calib_model_sha256(const pact_calib *calib);
const char *pact_calib_data_name(const pact_calib *calib);

/* Writes the calibration as JSON to `path` atomically (a temporary file in the
 * same folder, then rename). PACT_EIO naming the path. */
pact_status pact_calib_save(const pact_calib *calib, const char *path, pact_error *err);

/* Reads a file written by pact_calib_save; every field is checked (types,
 * ranges, histogram sizes and sums, unique names). out *calib. PACT_EIO;
 * PACT_EFORMAT naming the file and the field; PACT_EUNSUPPORTED for another
 * format version; PACT_ENOMEM. */
pact_status pact_calib_load(const char *path, pact_calib **calib, pact_error *err);

/* Scale-out: the two passes chunk by chunk, for drivers that spread chunks over
 * processes (pact_calibrate is exactly these calls in order). With n_act the
 * model's layers and PACT_CALIB_STATS doubles per layer:
 *   pass 1: for every chunk c, pact_calib_stats_chunk -> stats[c]
 *           (n_act x PACT_CALIB_STATS doubles); then pact_calib_merge_stats
 *           over all chunks in chunk order -> totals
 *   pass 2: for every chunk, pact_calib_hist_chunk(totals) adds into one
 *           n_act x bins array of counts (sum the arrays of several processes)
 *   then pact_calib_build(totals, counts). */
#define PACT_CALIB_STATS 5      /* count, min, max, mean, M2 */

/* Number of chunks: ceil(images / chunk_images). */
size_t pact_calib_chunk_count(const pact_dataset *ds, const pact_calib_opts *opts);

/* Pass 1 on chunk `chunk`: writes stats[n_act x PACT_CALIB_STATS]. */
pact_status pact_calib_stats_chunk(const pact_model *model, const pact_dataset *ds,
                                   const pact_calib_opts *opts, size_t chunk, double *stats,
                                   pact_error *err);

/* Merges n_chunks chunk stats (chunk after chunk) into totals[n_act x PACT_CALIB_STATS]. */
void pact_calib_merge_stats(int n_act, size_t n_chunks, const double *chunk_stats,
                            double *totals);

/* Pass 2 on chunk `chunk`: adds its histogram counts to counts[n_act x bins]
 * (bins over each layer's [min, max] from totals). */
pact_status pact_calib_hist_chunk(const pact_model *model, const pact_dataset *ds,
                                  const pact_calib_opts *opts, const double *totals,
                                  size_t chunk, uint64_t *counts, pact_error *err);

/* Builds the calibration from merged totals and counts. out *calib. */
pact_status pact_calib_build(const pact_model *model, const pact_calib_opts *opts,
                             size_t images, const double *totals, const uint64_t *counts,
                             pact_calib **calib, pact_error *err);

/* ======================================================================== */
/* Plans and PANN evaluation                        (src/pann/)             */
/* ======================================================================== */

/* @@SECTION plan */

/* ======================================================================== */
/* HE cost model                                    (src/pann/)             */
/* ======================================================================== */

/* @@SECTION cost */

/* ======================================================================== */
/* Optimizer                                        (src/pann/)             */
/* ======================================================================== */

/* @@SECTION optimize */

/* ======================================================================== */
/* Export                                           (src/io/)               */
/* ======================================================================== */

/* @@SECTION export */

#ifdef __cplusplus
}
#endif

#endif /* POLYACT_H */
