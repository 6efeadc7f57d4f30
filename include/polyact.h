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
 * calibration, plans and PANN evaluation, HE cost model, optimizer,
 * scale-out (partial results of split jobs), export.
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

/* ------------------------------------------------------------------------ */
/* Cost of evaluating a polynomial under HE (baby-step giant-step)          */
/* ------------------------------------------------------------------------ */

/* How a degree-d polynomial in the Chebyshev basis is evaluated on a
 * ciphertext, and what it costs. polyact's evaluator (and its fixed-point
 * simulation) follows exactly this plan:
 *   giant == 0: all of T_2..T_d are formed (T_{i+j} = 2 T_i T_j - T_{|i-j|})
 *               and summed with scalar coefficients;
 *   giant >= 1: baby steps T_1..T_{baby} (baby = 2^l), giant steps
 *               T_{2 baby}, ..., T_{2^(giant-1) baby}; p is split recursively
 *               p = q * T_G + r (exact Chebyshev division) down to blocks of
 *               degree < baby, each a scalar combination of baby steps.
 * Levels: depth = ceil(log2(d + 1)), the least any algorithm can use, with the
 * scalar multiplications folded into the products that follow (as Lattigo's
 * evaluator does); the input's affine map to [-1, 1] is folded into the
 * preceding linear layer and costs no level. Among the (baby, giant) splits of
 * that depth, the one with the fewest non-scalar multiplications is chosen. */
typedef struct {
    int degree;
    int baby;            /* baby-step bound k = 2^l (0 when giant == 0) */
    int giant;           /* number of giant steps m */
    int depth;           /* levels consumed: ceil(log2(degree + 1)) */
    int nonscalar_mults; /* ciphertext x ciphertext multiplications */
    int scalar_mults;    /* ciphertext x constant multiplications */
} pact_bsgs;

/* Fills *plan for a polynomial of degree 1..1023. PACT_EINVAL otherwise. */
pact_status pact_bsgs_plan(int degree, pact_bsgs *plan, pact_error *err);

/* ======================================================================== */
/* Polynomials and fitting                          (src/poly/)             */
/* ======================================================================== */

/* @@SECTION poly */

/* --- Polynomials in the Chebyshev basis ------------------------------------
 * A pact_poly of degree d lives on its own interval [a, b]:
 *
 *   p(x) = sum_{k=0..d} c[k] T_k(y),   y = (2x - a - b) / (b - a)  in [-1, 1],
 *
 * T_k the Chebyshev polynomials of the first kind. c[0] is the plain constant
 * coefficient: it is NOT halved (OpenFHE's EvalChebyshevSeries halves its first
 * coefficient; the export doubles c[0] for it). The degree is what the creator
 * asked for: trailing zero coefficients are kept (a degree-3 ReLU minimax fit on
 * [-1, 1] has c[3] == 0 exactly); pact_poly_trim drops them when you ask.
 * Evaluating outside [a, b] is allowed (it is still the same polynomial) but
 * that is where polynomial approximations explode. */
typedef struct pact_poly pact_poly;

#define PACT_POLY_MAX_DEGREE 65535 /* any pact_poly (products, compositions) */
#define PACT_FIT_MAX_DEGREE 255    /* fitted polynomials: degree 1..255 */

/* A target function of x for the *_fn fitting variants. Must be finite on [a, b]. */
typedef double (*pact_fn)(void *ctx, double x);

/* New polynomial with Chebyshev coefficients cheb[0..degree] on [a, b] (copied).
 * out *p: free with pact_poly_free. PACT_EINVAL: a, b not finite or a >= b
 * (or b - a overflows), degree outside 0..PACT_POLY_MAX_DEGREE, cheb NULL or
 * not finite. */
pact_status pact_poly_create(double a, double b, int degree, const double *cheb,
                             pact_poly **p, pact_error *err);

/* Releases p; NULL is a no-op. */
void pact_poly_free(pact_poly *p);

/* Deep copy. out *copy: free with pact_poly_free. */
pact_status pact_poly_copy(const pact_poly *p, pact_poly **copy, pact_error *err);

/* Degree d (coefficients c[0..d]). */
int pact_poly_degree(const pact_poly *p);

/* Writes the interval [a, b]; either pointer may be NULL. */
void pact_poly_interval(const pact_poly *p, double *a, double *b);

/* The Chebyshev coefficients c[0..degree], owned by p (valid until it is freed). */
const double *pact_poly_cheb(const pact_poly *p);

/* p(x) by Clenshaw's recurrence (backward stable in the Chebyshev basis). */
double pact_poly_eval(const pact_poly *p, double x);

/* Lowers the degree, in place, while the leading coefficient satisfies
 * |c[d]| <= tol (absolute), never below 0. Returns the new degree. */
int pact_poly_trim(pact_poly *p, double tol);

/* Monomial coefficients in x: p(x) = sum_{j=0..d} mono[j] x^j; mono holds
 * degree + 1 doubles. Conditioning caveat: the monomial basis is exponentially
 * ill-conditioned in the degree (and in max(|a|,|b|)^d): beyond degree ~20, or
 * on wide intervals, the coefficients are huge, alternate in sign and evaluating
 * them loses most digits. Keep the Chebyshev form for computing; this is an
 * export. PACT_ENUMERIC if a coefficient overflows. */
pact_status pact_poly_to_monomial(const pact_poly *p, double *mono, pact_error *err);

/* Inverse of pact_poly_to_monomial: the polynomial sum mono[j] x^j, held on
 * [a, b]. Same conditioning caveat. out *p: free with pact_poly_free.
 * PACT_ENUMERIC if a Chebyshev coefficient overflows. */
pact_status pact_poly_from_monomial(double a, double b, int degree, const double *mono,
                                    pact_poly **p, pact_error *err);

/* dp/dx on the same interval, degree max(d - 1, 0). out *dp: caller frees.
 * PACT_ENUMERIC if a coefficient overflows (e.g. on a tiny interval). */
pact_status pact_poly_derivative(const pact_poly *p, pact_poly **dp, pact_error *err);

/* p * q; both must be on the same interval (PACT_EMISMATCH otherwise). Degree
 * d_p + d_q (PACT_EINVAL above PACT_POLY_MAX_DEGREE). out *pq: caller frees.
 * PACT_ENUMERIC if a coefficient overflows. */
pact_status pact_poly_mul(const pact_poly *p, const pact_poly *q, pact_poly **pq,
                          pact_error *err);

/* outer(inner(x)) on inner's interval, degree d_outer * d_inner (PACT_EINVAL
 * above PACT_POLY_MAX_DEGREE). Exact in the polynomial sense: inner's values need
 * not stay in outer's interval. out *composed: caller frees. PACT_ENUMERIC if
 * a coefficient overflows. */
pact_status pact_poly_compose(const pact_poly *outer, const pact_poly *inner,
                              pact_poly **composed, pact_error *err);

/* --- Fitting ----------------------------------------------------------------
 * Every fit returns a new polynomial of exactly the requested degree on [a, b]
 * and, optionally, its achieved max error: max |f(x) - p(x)| over [a, b],
 * measured on a dense grid (opts->grid points, Chebyshev and uniform spacing
 * merged, plus x = 0 when inside) with the local maxima refined by Brent's
 * method (see pact_poly_max_error). That measurement is independent of how the
 * fit was made. */

/* Symmetry to exploit on a symmetric interval [-r, r]. */
typedef enum {
    PACT_PARITY_AUTO = 0, /* pact_func fits: use the function's known structure
                             (relu, gelu, gelu_tanh, silu = x/2 + even; abs even;
                             sigmoid = 1/2 + odd; tanh, sign odd);
                             *_fn fits: same as NONE */
    PACT_PARITY_NONE,     /* general exchange on [a, b] */
    PACT_PARITY_EVEN,     /* *_fn only: f is even; fit in T_0, T_2, ... */
    PACT_PARITY_ODD       /* *_fn only: f is odd; fit in T_1, T_3, ... */
} pact_parity;

typedef struct {
    int max_iter;       /* Remez exchanges before PACT_EMAXITER (default 100) */
    double tol;         /* Remez stops when (max_error - levelled) <= tol * max_error
                           + rounding floor, levelled = |E| of the reference,
                           tol in (0, 1) (default 1e-10) */
    int grid;           /* dense grid of the max-error measurement: 0 = auto,
                           max(8192, 64 (degree + 1)), or 16..4194304 */
    double floor;       /* lsq: weight of the Chebyshev floor in [0, 1] (default
                           0.1), see pact_fit_lsq */
    pact_parity parity; /* default PACT_PARITY_AUTO */
} pact_fit_opts;

/* Fills *opts with the defaults above. */
void pact_fit_opts_default(pact_fit_opts *opts);

/* Best uniform (minimax) approximation of f on [a, b] by a degree-`degree`
 * polynomial, by the Remez exchange in the Chebyshev basis: reference started at
 * Chebyshev extrema, multi-point exchange of the local extrema of the error
 * (adaptive grid + Brent refinement), stop when the levelled error |E| and the
 * max error agree to opts->tol. On symmetric intervals the parity of f is used
 * (opts->parity): relu = x/2 + |x|/2 is fitted as |x| in even Chebyshev
 * polynomials, so the kink sits at an end of the exchange interval and an odd
 * degree gives the error of degree - 1 (the best fit is unique, hence also the
 * best among all polynomials). Other intervals use the general exchange on
 * all of T_0..T_d (kinks inside are fine, only slower). Accuracy: within 1.4e-8
 * relative of Sollya's minimax error on 449 cases (tests/data/minimax_ref.txt)
 * whose error is >= 1e-7 max|f|. Double precision evaluation of f and p has a
 * rounding floor of about degree * eps * max|f|; an error at that floor (e.g.
 * gelu on [-1e-3, 1e-3] at degree 60) counts as levelled: nothing is left to
 * exchange.
 * out *poly      new polynomial on [a, b]; free with pact_poly_free
 * out *max_error optional (NULL): achieved max error (dense grid, see above)
 * Returns PACT_OK; PACT_EINVAL (a, b not finite, a >= b, b - a overflows, degree outside
 * 1..PACT_FIT_MAX_DEGREE, bad opts, sign on an interval holding 0 where its
 * best uniform error is >= 1/2: use pact_composite_sign);
 * PACT_EMAXITER (not levelled within opts->max_iter: *poly still holds the best
 * polynomial found and *max_error its error); PACT_ENUMERIC (singular reference
 * system or non-finite f). */
pact_status pact_fit_minimax(pact_func f, double a, double b, int degree,
                             const pact_fit_opts *opts, pact_poly **poly,
                             double *max_error, pact_error *err);

/* pact_fit_minimax for any target f(ctx, x); opts->parity EVEN/ODD require a
 * symmetric interval (a == -b) and an f of that parity (asserted, not checked;
 * the measured max error shows a wrong assertion). */
pact_status pact_fit_minimax_fn(pact_fn f, void *ctx, double a, double b, int degree,
                                const pact_fit_opts *opts, pact_poly **poly,
                                double *max_error, pact_error *err);

/* Weighted least squares: minimises
 *   (1 - floor) * sum_i w_i/W (f(x_i) - p(x_i))^2  +  floor * int (f - p)^2 dmu
 * over degree-`degree` polynomials, where (x_i, w_i >= 0), i < n, are samples of
 * the input distribution (W = sum of the w_i with x_i in [a, b]; samples outside
 * [a, b] are ignored) and mu is the normalised Chebyshev measure on [a, b]
 * (dy / (pi sqrt(1 - y^2))). The floor keeps the tails of the interval
 * constrained where the data density vanishes; floor = opts->floor. x == NULL
 * and n == 0 mean the uniform distribution on [a, b] (Gauss-Legendre, split at
 * 0). Solvers: with floor >= 1e-4, the normal equations assembled from
 * Chebyshev moments (O(n degree + degree^3); the floor bounds their condition
 * number by 2 (degree + 1) / floor) and Cholesky; with a smaller floor, Givens
 * QR of the Chebyshev Vandermonde rows (O(n degree^2), no squared condition
 * number). The floor term uses f's Chebyshev coefficients (4096+ point DCT).
 * For millions of samples pass a histogram (pact_hist_samples).
 * out *poly, *max_error as pact_fit_minimax (max_error is the uniform error).
 * Returns PACT_OK; PACT_EINVAL (bad a, b, degree; floor outside [0, 1]; a
 * negative or non-finite x_i or w_i, naming i; floor == 0 and fewer than
 * degree + 1 distinct points carrying weight on [a, b], e.g. all weights zero:
 * raise floor); PACT_ENUMERIC (non-finite f). */
pact_status pact_fit_lsq(pact_func f, double a, double b, int degree, const double *x,
                         const double *w, size_t n, const pact_fit_opts *opts,
                         pact_poly **poly, double *max_error, pact_error *err);

/* pact_fit_lsq for any target f(ctx, x) (uniform distribution: no split at 0). */
pact_status pact_fit_lsq_fn(pact_fn f, void *ctx, double a, double b, int degree,
                            const double *x, const double *w, size_t n,
                            const pact_fit_opts *opts, pact_poly **poly,
                            double *max_error, pact_error *err);

/* Turns a histogram (nbins bins, edges[0..nbins] increasing, counts[0..nbins-1]
 * >= 0, density uniform inside a bin) into weighted samples for pact_fit_lsq:
 * 3 Gauss-Legendre points per bin, so a smooth integrand is integrated exactly
 * to degree 5 within each bin. x and w must hold 3 * nbins doubles; *n receives
 * 3 * nbins. PACT_EINVAL: nbins 0, edges not finite or not increasing, a count
 * negative or not finite (naming the bin). */
pact_status pact_hist_samples(const double *edges, const double *counts, size_t nbins,
                              double *x, double *w, size_t *n, pact_error *err);

/* Chebyshev interpolation at the degree + 1 first-kind nodes
 * x_j = map(cos(pi (j + 1/2) / (degree + 1))): what OpenFHE's
 * EvalChebyshevFunction and Orion compute; a near-best baseline.
 * out *poly, *max_error as pact_fit_minimax. Returns PACT_OK; PACT_EINVAL (bad
 * a, b, degree); PACT_ENUMERIC (non-finite f at a node). */
pact_status pact_fit_cheb(pact_func f, double a, double b, int degree,
                          const pact_fit_opts *opts, pact_poly **poly,
                          double *max_error, pact_error *err);

/* pact_fit_cheb for any target f(ctx, x). */
pact_status pact_fit_cheb_fn(pact_fn f, void *ctx, double a, double b, int degree,
                             const pact_fit_opts *opts, pact_poly **poly,
                             double *max_error, pact_error *err);

/* max |f(x) - p(x)| over p's interval: dense grid of opts->grid points (see
 * Fitting) plus Brent refinement of every local maximum within 20% of the
 * grid's largest (the auto grid samples each oscillation of the error at >= 16
 * points, so a peak's sampled height is within ~1% of its true height).
 * out *max_error; *argmax optional (NULL): where it is attained.
 * PACT_ENUMERIC if f or p is not finite somewhere on the grid. */
pact_status pact_poly_max_error(const pact_poly *p, pact_func f, const pact_fit_opts *opts,
                                double *max_error, double *argmax, pact_error *err);

/* pact_poly_max_error for any target f(ctx, x). */
pact_status pact_poly_max_error_fn(const pact_poly *p, pact_fn f, void *ctx,
                                   const pact_fit_opts *opts, double *max_error,
                                   double *argmax, pact_error *err);

/* --- Composite minimax sign and ReLU (Lee et al., arXiv 2105.10879) --------
 * sign(x) on [-1, -eps] U [eps, 1] is approximated by the composition
 * s(x) = p_k(...p_2(p_1(x))) of odd polynomials, applied innermost first. Stage
 * i is the best odd uniform approximation of sign on [-r_i, -l_i] U [l_i, r_i],
 * the image of [-1, -eps] U [eps, 1] through the earlier stages ([l_1, r_1] =
 * [eps, 1]; then [1 - delta, 1 + delta] with delta the previous stage's
 * measured error): a Remez exchange on [l_i, r_i] in T_1, T_3, ... of
 * x / r_i (by odd symmetry the same as on the union). Each component is a
 * pact_poly on [-r_i, r_i] whose even coefficients are exactly 0.
 * ReLU on [-1, 1] is r(x) = x (1 + s(x)) / 2 (one more level for the product by
 * x); on [-B, B] it is B r(x / B). Its error |x| |sign(x) - s(x)| / 2 is
 * bounded by x / 2 inside the gap (0 <= s <= 1 + delta there) and by delta_k / 2
 * outside; eps is chosen to balance the two. */
typedef struct pact_composite pact_composite;

#define PACT_COMPOSITE_MAX_COMPONENTS 8

/* Composite sign for ReLU precision 2^-alpha, alpha 4..14: the published
 * component degrees (pact_composite_published_degrees; total depth
 * sum ceil(log2(d_i + 1)) + 1, the published sets' depth) and the eps in
 * in [2^-(alpha+4), min(2^(6-alpha), 2^-0.25)] minimising the ReLU error on
 * [-1, 1] (scan, then golden section on log2 eps). out *c: free with pact_composite_free.
 * Returns PACT_OK (pact_composite_relu_error(*c) <= 2^-alpha); PACT_EINVAL
 * (alpha outside 4..14, bad opts); PACT_ETOL (the best eps misses 2^-alpha:
 * *c still holds it); PACT_EMAXITER / PACT_ENUMERIC from a stage's exchange
 * (then *c is NULL). */
pact_status pact_composite_sign(int alpha, const pact_fit_opts *opts, pact_composite **c,
                                pact_error *err);

/* Composite sign with the given odd component degrees (count 1..
 * PACT_COMPOSITE_MAX_COMPONENTS, each odd in 1..PACT_FIT_MAX_DEGREE, innermost
 * first) and gap eps in (0, 1); eps == 0 chooses the eps minimising the ReLU
 * error on [-1, 1] (scan of log2 eps in [-40, -0.25], then golden section).
 * out *c: free with pact_composite_free. PACT_EINVAL for bad arguments;
 * PACT_EMAXITER / PACT_ENUMERIC from a stage (e.g. eps too small for the
 * degrees: a stage's error reaches 1). */
pact_status pact_composite_fit(const int *degrees, int count, double eps,
                               const pact_fit_opts *opts, pact_composite **c,
                               pact_error *err);

/* Releases c; NULL is a no-op. */
void pact_composite_free(pact_composite *c);

/* Number of components k. */
int pact_composite_count(const pact_composite *c);

/* Component i (0 = innermost, applied first), owned by c; NULL if i is out of
 * range. Its interval is [-r_i, r_i]; even Chebyshev coefficients are 0. */
const pact_poly *pact_composite_component(const pact_composite *c, int i);

/* The gap eps: s approximates sign on [-1, -eps] U [eps, 1]. */
double pact_composite_eps(const pact_composite *c);

/* alpha it was built for (pact_composite_sign), 0 for pact_composite_fit. */
int pact_composite_alpha(const pact_composite *c);

/* Depth of the ReLU: sum of ceil(log2(d_i + 1)) over components, + 1 for the
 * product by x (the paper's count; pact_bsgs_plan gives the same per component). */
int pact_composite_depth(const pact_composite *c);

/* max |s(x) - sign(x)| on [-1, -eps] U [eps, 1], and max |r(x) - relu(x)| on
 * [-1, 1], both measured at creation (dense grid of 2^17 points over [0, 1],
 * graded towards 0, plus Brent refinement; s is odd so [0, 1] suffices). */
double pact_composite_sign_error(const pact_composite *c);
double pact_composite_relu_error(const pact_composite *c);

/* s(x), r(x) = x (1 + s(x)) / 2, and B r(x / B) for inputs in [-B, B]. */
double pact_composite_eval_sign(const pact_composite *c, double x);
double pact_composite_eval_relu(const pact_composite *c, double x);
double pact_composite_eval_relu_bound(const pact_composite *c, double bound, double x);


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

/* The records as loaded (count x PACT_CIFAR_RECORD_SIZE bytes, owned by ds):
 * with pact_dataset_from_records, a data set read once and sent elsewhere. */
const unsigned char *pact_dataset_records(const pact_dataset *ds, size_t *size);

/* A data set from `size` bytes of records in memory (copied); `name` labels
 * messages. PACT_EFORMAT (size not a positive multiple of 3073, a label
 * outside 0..9: the record named); PACT_ENOMEM. */
pact_status pact_dataset_from_records(const void *records, size_t size, const char *name,
                                      pact_dataset **ds, pact_error *err);

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
    /* Optional (NULL when the network cannot): split a forward pass at
     * activation layer `layer`, so that measuring what replacing that one
     * layer does runs only the rest of the network. state_size: floats per
     * image of the state at `layer`; forward_to runs up to the layer (its
     * activation not applied) and writes batch x state_size floats;
     * forward_from runs from such a state, starting with the layer itself.
     * forward_to then forward_from must give forward's logits. */
    size_t (*state_size)(void *model_ctx, int layer);
    pact_status (*forward_to)(void *model_ctx, const float *input, int batch, int layer,
                              pact_act_hook hook, void *hook_ctx, float *state,
                              pact_error *err);
    pact_status (*forward_from)(void *model_ctx, int layer, const float *state, int batch,
                                pact_act_hook hook, void *hook_ctx, float *logits,
                                pact_error *err);
} pact_model;

/* @@SECTION net */

/* pact_net: polyact's own fp32 engine, one implementation of pact_model. It
 * reads CIFAR ResNets of He et al. (ResNet-20/32/44/56/110, option-A shortcuts,
 * depth found from the tensor names) from .safetensors files (F32, or F16/BF16
 * converted on load) and CNNs from ONNX files (below), folds batch norm into
 * the convolutions and runs them over groups of images with its own matrix
 * product (no OpenBLAS): 3x3 stride-1 convolutions by Winograd F(4x4, 3x3)
 * (F(2x2, 3x3) where a plane is not a multiple of 4), the others by im2col.
 * On x86-64 the kernels are chosen by the CPU at load time: AVX-512,
 * AVX2 + FMA (the same bits as AVX-512), or the baseline (no FMA: other last
 * bits). Logits agree with PyTorch's fp32 to ~1e-4.
 *
 * ONNX (a file named *.onnx, or whose bytes are a ModelProto; builds with
 * POLYACT_WITH_ONNX): one graph input [N, 3, H, W] (static H, W), one graph
 * output (the logits), weights inside the file (no external data). Supported
 * operators (default domain): Conv (group 1, square kernel, no dilation;
 * asymmetric padding becomes an explicit pad), BatchNormalization (folded
 * into the convolution before it when nothing else reads that convolution,
 * else a per-channel affine op), Relu, Sigmoid, Tanh, Gelu, the subgraphs
 * PyTorch exports for GELU (erf form: x / sqrt 2 -> Erf -> + 1 -> x * . * 0.5;
 * tanh form: x * x * x -> * 0.044715 -> + x -> * sqrt(2/pi) -> Tanh -> + 1 ->
 * x * . * 0.5, or Pow(x, 3)) and SiLU (x * Sigmoid(x)), which all become one
 * activation layer each; Add (residual, same shapes), Add/Sub/Mul/Div by a
 * constant per channel, MaxPool, AveragePool, GlobalAveragePool, ReduceMean
 * over H and W, Flatten/Reshape/Squeeze/Unsqueeze keeping the batch first,
 * Gemm/MatMul with constant weights on 2-D tensors, Pad (constant mode),
 * Slice (steps >= 1), Concat (channels), Identity, Dropout, Cast to float,
 * Shape (the batch counted as 1, as a trace with one image records it).
 * Nodes whose inputs are all constants (PyTorch's pad computations) are
 * evaluated at load time (Constant, ConstantOfShape, Identity, Cast, Reshape,
 * Flatten, Squeeze, Unsqueeze, Concat, Gather, Slice, Transpose, Shape, Add,
 * Sub, Mul, Div, Neg). Nodes the output does not depend on are ignored; any
 * other node is refused with PACT_EUNSUPPORTED, one line naming the node and
 * its op type. Activation layers are named after their node:
 * "/layer1/layer1.0/relu1/Relu" becomes "layer1.0.relu1" (leading '/' and op
 * type dropped, a scope that prefixes the next dropped, '/' -> '.'), so a
 * PyTorch export of a model with named activation modules has the same layer
 * names as its safetensors counterpart. The input normalisation comes from
 * the options or from metadata_props input_mean / input_std ("A,B,C"); the
 * class count is the output's size per image, checked against
 * opts.n_classes and metadata_props num_classes when given; the net's name
 * is metadata_props arch, else the file's name (no extension), else the graph's.
 * opts.act other than relu replaces every Relu node (GELU and SiLU subgraphs
 * stay what they are).
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
 * caller's thread only, once per layer for the whole slice. With T = 1 the
 * caller's thread runs everything. Every sum is taken in a fixed order that
 * does not depend on the other images, so an image's logits are bit for bit
 * the same for every T, every max_batch and wherever it sits in a batch.
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
                                  slices; results do not depend on it */
    int threads;               /* engine threads per forward, 0..PACT_NET_MAX_THREADS
                                  (0 = 1; see "Threads" above) */
    int n_classes;             /* expected logits per image (0: whatever the model
                                  has); a different count is PACT_EMISMATCH */
} pact_net_opts;

#define PACT_NET_MAX_THREADS 256

/* Loads and validates a model file: .safetensors (a CIFAR ResNet) or .onnx
 * (see above). out *net: free with pact_net_free.
 * Returns PACT_OK; PACT_EIO (cannot read); PACT_EFORMAT (malformed file, missing
 * tensor or initializer, wrong dtype or shape, NaN/inf weights, unexpected
 * tensor, a cycle in an ONNX graph, no input normalisation in the metadata and
 * none given: the message names the file and the tensor, node or key);
 * PACT_EUNSUPPORTED (an ONNX operator or attribute polyact does not run,
 * naming the node and op type; a build without ONNX support); PACT_EMISMATCH
 * (opts.n_classes differs from the model's); PACT_EINVAL (bad options);
 * PACT_ENOMEM. */
pact_status pact_net_load(const char *path, const pact_net_opts *opts, pact_net **net,
                          pact_error *err);

/* pact_net_load from the `size` bytes of a model file already in memory
 * (e.g. read once and broadcast to many processes; copied, the caller keeps
 * them). `name` labels error messages (NULL: "(memory)"). Same net, same
 * pact_net_sha256 as loading the file. Errors as pact_net_load. */
pact_status pact_net_load_memory(const void *bytes, size_t size, const char *name,
                                 const pact_net_opts *opts, pact_net **net, pact_error *err);

void pact_net_free(pact_net *net);

/* Architecture name, e.g. "resnet20" (ONNX: see above); owned by the net. */
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

/* The network under the HE cost model (see "HE cost model"), derived from the
 * engine's graph: one slot per activation layer, named like it. Every
 * convolution is a LINEAR op with the profile's cifar_resnet costs for its
 * stage (stage s = 1 + log2(input height / the convolution's output height),
 * clamped to 1..3; conv_downsample when it halves the size; the stem's costs
 * for the first one), each followed by its batch norm's op (the stem's, then
 * the stage's); a residual add of a branch with activations and one without
 * (an identity, or a subsample-pad or convolution shortcut) becomes FORK ...
 * [SHORTCUT] ADD, the shortcut costing the stage's shortcut_downsample when it
 * computes anything; global average pooling and the linear layer are the
 * profile's pool and fc, both where a bootstrapping may go. For a CIFAR ResNet
 * (from safetensors or ONNX) this is exactly pact_cost_layout_resnet. For
 * other CNNs it is an approximation: costs scaled from the ResNet-20 log by
 * stage, not by channel count or kernel size; average pooling and per-channel
 * affine ops cost a batch norm; padding, slicing and concatenation are free.
 * out *layout new (pact_cost_layout_free); it remembers the profile's name.
 * PACT_EFORMAT (the profile has no cifar_resnet section); PACT_EUNSUPPORTED
 * (max pooling, which HE cannot evaluate exactly; nested residual branches,
 * or a branch point the walk cannot place: the message names the op). */
struct pact_cost_profile; /* pact_cost_profile and pact_cost_layout, see "HE cost model" */
struct pact_cost_layout;
pact_status pact_net_cost_layout(const pact_net *net, const struct pact_cost_profile *profile,
                                 struct pact_cost_layout **layout, pact_error *err);

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

/* Checks that the calibration was measured on `model`: same layer count,
 * names and activation function per layer (inputs of a network run with
 * --act gelu are not those of its relu run), and (when both are non-empty)
 * the same weights sha256. PACT_EMISMATCH names the first difference. */
pact_status pact_calib_check_model(const pact_calib *calib, const pact_model *model,
                                   const char *model_sha256, pact_error *err);

/* Writes the calibration as JSON to `path` atomically (a temporary file in the
 * same folder, then rename). PACT_EIO naming the path. */
pact_status pact_calib_save(const pact_calib *calib, const char *path, pact_error *err);

/* Reads a file written by pact_calib_save; every field is checked (types,
 * ranges, histogram sizes and sums, unique names). out *calib. PACT_EIO;
 * PACT_EFORMAT naming the file and the field; PACT_EUNSUPPORTED for another
 * format version; PACT_ENOMEM. */
pact_status pact_calib_load(const char *path, pact_calib **calib, pact_error *err);

/* pact_calib_load from `size` bytes of JSON text in memory; `name` labels
 * messages (NULL: "calibration"). */
pact_status pact_calib_parse(const char *text, size_t size, const char *name, pact_calib **calib,
                             pact_error *err);

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
 * (bins over each layer's [min, max] from totals; PACT_EINVAL when a layer's
 * min and max are not finite with min <= max). */
pact_status pact_calib_hist_chunk(const pact_model *model, const pact_dataset *ds,
                                  const pact_calib_opts *opts, const double *totals,
                                  size_t chunk, uint64_t *counts, pact_error *err);

/* Builds the calibration from merged totals and counts. Of `model` only
 * n_act, act_names and act_funcs are read (a driver that merges partial
 * results without the network may fill just those). Totals and counts are
 * checked (they may come from files): PACT_EFORMAT naming the layer when a
 * count is not a whole number, a value is not finite, min > max, M2 < 0 or
 * the histogram does not sum to the count. out *calib. */
pact_status pact_calib_build(const pact_model *model, const pact_calib_opts *opts,
                             size_t images, const double *totals, const uint64_t *counts,
                             pact_calib **calib, pact_error *err);

/* ======================================================================== */
/* Plans and PANN evaluation                        (src/pann/)             */
/* ======================================================================== */

/* @@SECTION plan */

/* A plan says, per activation layer of one model, which approximation replaces
 * the activation. Two forms:
 *   PACT_FORM_POLY       p(x), one Chebyshev series on the layer's interval [a, b];
 *   PACT_FORM_COMPOSITE  for relu / abs / sign with bound B: u = x / B,
 *                        s = p_k(...p_1(u)) approximates sign(u) (parts applied
 *                        innermost first, each on its own interval), and the
 *                        output is B u (1 + s) / 2 (relu), B u s (abs) or s (sign).
 * Coefficients c_0..c_d are in the Chebyshev basis of each part's interval,
 * c_0 not halved: p(x) = sum c_j T_j((2x - a - b) / (b - a)).
 * A POLY layer may instead hold one polynomial per channel (n_channels > 0):
 * channel c of the layer's input (NCHW, as the model interface passes it) is
 * mapped by its own polynomial of the layer's degree on its own interval.
 * Under CKKS with channels in slots this costs the levels of one polynomial
 * of that degree (plaintext-vector instead of scalar coefficients), which is
 * how the cost model counts it. */
typedef enum { PACT_FORM_POLY = 0, PACT_FORM_COMPOSITE = 1 } pact_form;

#define PACT_PLAN_MAX_PARTS 8

/* One layer of a plan, as a view: pointers stay valid until the plan is
 * changed or freed. Used both to read (pact_plan_layer_get) and to write
 * (pact_plan_set_layer copies everything it points to). */
typedef struct {
    const char *name;       /* the model's activation name ("layer2.1.relu1") */
    pact_func func;         /* the activation being approximated */
    pact_form form;
    double a, b;            /* input interval: the polynomial's, or [-B, B] */
    double bound;           /* COMPOSITE: B; POLY: 0 */
    int n_parts;            /* POLY: 1; COMPOSITE: 1..PACT_PLAN_MAX_PARTS */
    const int *degrees;     /* n_parts degrees, 1..1023 */
    const double *part_a;   /* n_parts interval ends of each part (POLY: a) */
    const double *part_b;   /* (POLY: b) */
    const double *const *cheb; /* n_parts arrays of degrees[i] + 1 coefficients */
    int depth;              /* levels consumed under HE (BSGS plan, +1 for the
                             * final product of a composite relu/abs) */
    double max_error;       /* sup |approximation - func| on [a, b]; NaN unknown
                             * (per channel: the largest over the channels, each
                             * on its own interval) */
    double impact;          /* optimizer's damage estimate; NaN unknown */
    /* Per-channel polynomials (POLY only; 0: one polynomial for the layer).
     * Then a, b is the hull of the channel intervals (pact_plan_set_layer
     * computes it), part_a/part_b give the same, and cheb is NULL in a view:
     * channel c has interval [channel_a[c], channel_b[c]] and coefficients
     * channel_cheb[c][0..degrees[0]]. At most PACT_PLAN_MAX_CHANNELS. */
    int n_channels;
    const double *channel_a, *channel_b;
    const double *const *channel_cheb;
} pact_plan_layer;

#define PACT_PLAN_MAX_CHANNELS 65536

typedef struct pact_plan pact_plan;

/* New plan for a model with n_layers activation layers, all unset.
 * model_name and model_sha256 (hex of the weights file; "" if none) are
 * copied. out *plan: free with pact_plan_free. */
pact_status pact_plan_create(const char *model_name, const char *model_sha256,
                             int n_layers, pact_plan **plan, pact_error *err);
void pact_plan_free(pact_plan *plan);

int pact_plan_layer_count(const pact_plan *plan);
const char *pact_plan_model_name(const pact_plan *plan);
const char *pact_plan_model_sha256(const pact_plan *plan);

/* Sets layer i from *layer (deep copy; zero-initialise the struct so that
 * fields added later keep their defaults). Validates every field: interval
 * a < b finite, degrees 1..1023, finite coefficients, composite only for
 * relu/abs/sign with bound > 0, per-channel only for POLY (a and b are then
 * ignored and set to the hull of the channel intervals). depth is recomputed
 * from the degrees. */
pact_status pact_plan_set_layer(pact_plan *plan, int i, const pact_plan_layer *layer,
                                pact_error *err);

/* out *layer: a view of layer i. PACT_EINVAL if i is out of range or unset. */
pact_status pact_plan_layer_get(const pact_plan *plan, int i, pact_plan_layer *layer,
                                pact_error *err);

/* Evaluates layer i's approximation at x in double precision (Clenshaw).
 * NaN for a per-channel layer: use pact_plan_layer_eval_channel. */
double pact_plan_layer_eval(const pact_plan *plan, int i, double x);

/* The same for channel `channel` of layer i: its own polynomial for a
 * per-channel layer, the layer's for any other (every channel alike). NaN
 * for an index out of range. */
double pact_plan_layer_eval_channel(const pact_plan *plan, int i, int channel, double x);

/* Free-form key/number pairs kept with the plan ("latency_s", "speedup", ...),
 * written to and read from the file's "summary" object. */
pact_status pact_plan_set_summary(pact_plan *plan, const char *key, double value,
                                  pact_error *err);
/* out *value; PACT_EINVAL if the key is absent. */
pact_status pact_plan_get_summary(const pact_plan *plan, const char *key, double *value,
                                  pact_error *err);
/* Free-form key/string pairs (e.g. "cost_profile"), kept like numbers. */
pact_status pact_plan_set_note(pact_plan *plan, const char *key, const char *value,
                               pact_error *err);
const char *pact_plan_get_note(const pact_plan *plan, const char *key); /* NULL if absent */

/* Checks that the plan belongs to `model`: same layer count and names, the
 * same activation function per layer (a relu plan does not fit a network run
 * with --act gelu), and (when both are non-empty) the same weights sha256.
 * PACT_EMISMATCH names the first difference. */
pact_status pact_plan_check_model(const pact_plan *plan, const pact_model *model,
                                  const char *model_sha256, pact_error *err);

/* Writes plan.json (schema "polyact-plan" version 1, see README) to a temporary
 * file beside `path` and renames it over `path`: an interrupted write never
 * leaves a partial file. Same plan -> byte-identical file. */
pact_status pact_plan_save(const pact_plan *plan, const char *path, pact_error *err);

/* Reads and validates plan.json. out *plan: free with pact_plan_free.
 * PACT_EIO (cannot read), PACT_EFORMAT (malformed, unknown version, invalid
 * field: the message names the layer and field). */
pact_status pact_plan_load(const char *path, pact_plan **plan, pact_error *err);

/* pact_plan_load from `size` bytes of plan.json text in memory; `name` labels
 * messages. */
pact_status pact_plan_parse(const char *text, size_t size, const char *name, pact_plan **plan,
                            pact_error *err);

/* --- building plans ------------------------------------------------------ */

/* Sets layer i to the polynomial p (its interval and coefficients are copied). */
pact_status pact_plan_set_poly(pact_plan *plan, int i, const char *name, pact_func func,
                               const pact_poly *p, double max_error, pact_error *err);

/* Sets layer i to B r(x / B) with the composite sign c (func relu, abs or sign). */
pact_status pact_plan_set_composite(pact_plan *plan, int i, const char *name, pact_func func,
                                    double bound, const pact_composite *c, double max_error,
                                    pact_error *err);

/* Least squares of `degree` on [a, b] weighted by a calibrated layer's input
 * histogram (3 Gauss-Legendre samples per bin, see pact_hist_samples), mixed
 * with the Chebyshev floor opts->floor (NULL opts: defaults). This is how a
 * layer's measured distribution enters a fit. out *poly, *max_error as
 * pact_fit_lsq. */
pact_status pact_fit_lsq_calib(const pact_calib_layer *layer, pact_func f, double a, double b,
                               int degree, const pact_fit_opts *opts, pact_poly **poly,
                               double *max_error, pact_error *err);

/* A plan that gives every activation layer of `model` the same kind of
 * approximation (the baselines polyact is measured against). spec:
 *   composite:alpha=A[,B=X]  Lee et al.'s composite minimax ReLU of precision
 *                            2^-A (A = 4..14), B r(x / B); relu, abs or sign
 *                            layers only (their composite forms, see pact_form)
 *   minimax:degree=D[,B=X]   best uniform fit of the layer's function on the interval
 *   cheb:degree=D[,B=X]      Chebyshev interpolation on the interval
 *   lsq:degree=D[,B=X][,floor=F]  least squares weighted by the layer's measured
 *                            input histogram, mixed with a Chebyshev floor F (0.1)
 *   aespa                    AESPA's degree-2 Hermite form, sigma h(x / sigma), with
 *                            sigma the layer's measured std
 *   autorep                  AutoReP's degree-2 closed form for x ~ N(mean, std^2)
 *                            from the layer's measured mean and std
 * and the interval:
 *   B=<number>  [-B, B] everywhere;
 *   B=auto      the published search: B = 50, 55, 60, ... until no calibrated
 *               input of any layer falls outside [-B, B];
 *   B=layer     each layer's calibrated [min, max] widened by margin=M of its
 *               width on each side (default M = 0.05; composite: [-B, B] with
 *               B = max |min|, |max| widened the same way).
 * Defaults: B=auto for composite/minimax/cheb, B=layer for lsq/aespa/autorep.
 * calib may be NULL only when nothing needs it (B=<number> and no lsq/aespa/
 * autorep). The layer names and functions come from `model`.
 * out *plan: free with pact_plan_free. PACT_EINVAL naming the spec part at
 * fault; PACT_EMISMATCH (calib is of another model); fitting errors. */
pact_status pact_plan_uniform(const char *spec, const pact_model *model, const pact_calib *calib,
                              const char *model_name, const char *model_sha256, pact_plan **plan,
                              pact_error *err);

/* --- PANN: a plan prepared for evaluation -------------------------------- */

/* How polynomials are evaluated. frac_bits == 0: fp64 reference. frac_bits F
 * in 8..52: HE-precision simulation, every value that leaves a linear layer
 * and every product of the polynomial evaluation (baby-step giant-step on the
 * Chebyshev basis, the plan of pact_bsgs_plan) rounded to the grid 2^-F, as
 * CKKS rescaling does; noise_sigma > 0 adds Gaussian noise of that absolute
 * standard deviation to each such value, reproducibly from `seed`. */
typedef struct {
    int frac_bits;
    double noise_sigma;
    uint64_t seed;
} pact_arith;

/* What a layer's inputs looked like during a run. Inputs outside the plan's
 * interval are where polynomials explode: they are counted, never hidden. */
typedef struct {
    uint64_t inputs;        /* values seen */
    uint64_t out_of_range;  /* values outside the layer's interval */
    double worst_excursion; /* largest distance outside the interval (0: none) */
    double min_input, max_input;
} pact_layer_stats;

typedef struct pact_pann pact_pann;

/* Prepares every layer of `plan` for evaluation under `arith` (NULL: fp64).
 * out *pann: free with pact_pann_free; it does not refer to `plan` afterwards. */
pact_status pact_pann_create(const pact_plan *plan, const pact_arith *arith, pact_pann **pann,
                             pact_error *err);
void pact_pann_free(pact_pann *pann);

/* Replaces x[0..n) in place by layer `layer`'s approximation and records the
 * inputs in the layer's statistics. An input far outside the interval may
 * give an infinite output, as it would under HE: it is passed on (and counted
 * by the statistics), not refused. For a per-channel layer with C channels,
 * x is one image's C x (n / C) values, channel after channel. PACT_EINVAL for
 * a bad layer index; PACT_EMISMATCH when n is not a multiple of C. */
pact_status pact_pann_apply(pact_pann *pann, int layer, float *x, size_t n, pact_error *err);

/* The model-interface hook (pact_act_hook) of a PANN: pass it as `hook` and
 * the pact_pann * as `hook_ctx` to any forward function. PACT_EMISMATCH when
 * a per-channel layer is called with another number of channels. */
pact_status pact_pann_hook(void *pann, int layer, float *x, int batch, int channels,
                           int spatial, pact_error *err);

/* Selects the noise stream for the following calls (e.g. the index of the
 * image chunk being run), so that noisy results do not depend on how work is
 * split across calls, threads or processes. */
void pact_pann_set_stream(pact_pann *pann, uint64_t stream);

/* Statistics of layer `layer` since creation or the last reset. */
const pact_layer_stats *pact_pann_layer_stats(const pact_pann *pann, int layer);
void pact_pann_reset_stats(pact_pann *pann);

/* --- accuracy of a network or of its PANN -------------------------------- */


typedef struct {
    pact_arith arith;       /* how the plan's polynomials are evaluated */
    int batch;              /* images per forward call and per noise stream (64) */
    size_t max_images;      /* 0: the whole data set */
    pact_progress_fn progress;
    void *progress_ctx;
} pact_pann_eval_opts;

void pact_pann_eval_opts_default(pact_pann_eval_opts *opts);

typedef struct {
    size_t images;
    size_t correct;           /* top-1 correct: the PANN's, or the backbone's without a plan */
    size_t backbone_correct;  /* top-1 correct of the exact network */
    size_t agree;             /* images where PANN and backbone predict the same class */
    double max_logit_diff;    /* max |PANN logit - backbone logit| */
    double mean_logit_diff;   /* mean of the same over all logits */
    size_t nonfinite_images;  /* images with a NaN/Inf PANN logit (counted wrong) */
    double seconds;           /* wall time of the whole evaluation */
    int n_layers;
    pact_layer_stats *layers; /* n_layers entries (plan only; NULL otherwise) */
} pact_pann_report;

/* Runs `model` on the data set, exactly and (when plan != NULL) as a PANN with
 * `plan`'s approximations, and compares them. plan must match model
 * (pact_plan_check_model). out *report (release with pact_pann_report_free). */
pact_status pact_pann_evaluate(const pact_model *model, const pact_dataset *data, const pact_plan *plan,
                      const pact_pann_eval_opts *opts, pact_pann_report *report, pact_error *err);

/* Frees what a report owns (not the struct itself); NULL is a no-op. */
void pact_pann_report_free(pact_pann_report *report);

/* --- evaluation in chunks, for spreading it over threads or processes ----
 * pact_pann_evaluate is exactly: chunks c = 0, 1, ... of opts->batch images
 * (chunk c holds images c x batch .. ; the last may be shorter), each run with
 * noise stream c, their partial results merged in chunk order. The chunks are
 * fixed by the data and the batch, not by who computes them: a driver may run
 * them anywhere (pact_pann_eval_chunk), carry the partial results as rows of
 * doubles (pact_pann_partial_pack / _unpack, exact), and merge them in chunk
 * order (pact_pann_partial_merge) to get the numbers of one process, bit for
 * bit. Counts, minima and maxima merge in any order; only the sum of logit
 * differences needs the chunk order. */
typedef struct {
    size_t images, correct, backbone_correct, agree, nonfinite_images; /* as in the report */
    double max_logit_diff;
    double sum_logit_diff;    /* sum of |PANN - backbone| over the finite images' logits */
    int n_classes;
    int n_layers;             /* plan's layers; 0 for the backbone alone */
    pact_layer_stats *layers; /* n_layers entries, owned */
} pact_pann_partial;

/* Number of chunks: ceil(images / opts->batch) (images after max_images). */
size_t pact_pann_eval_chunk_count(const pact_dataset *data, const pact_pann_eval_opts *opts);

/* An empty partial result (nothing counted; layer minima +inf, maxima -inf)
 * for n_layers (0: no plan) and n_classes. Free with pact_pann_partial_free.
 * PACT_EINVAL (n_layers < 0, n_classes < 1); PACT_ENOMEM. */
pact_status pact_pann_partial_init(pact_pann_partial *partial, int n_layers, int n_classes,
                                   pact_error *err);
void pact_pann_partial_free(pact_pann_partial *partial); /* its layers; NULL no-op */

/* Evaluates chunk `chunk` and overwrites *partial (initialised for
 * model->n_act layers with a pann, 0 without) with its result. `pann`
 * (NULL: backbone only) comes from pact_pann_create(plan, &arith) with the
 * arithmetic wanted (opts->arith is not used here); its statistics are reset
 * and its noise stream set to `chunk`. Reuse one pann per thread for many
 * chunks. PACT_EINVAL (chunk out of range, bad opts); PACT_EMISMATCH (partial
 * of another shape); PACT_ENOMEM; or the model's status. */
pact_status pact_pann_eval_chunk(const pact_model *model, const pact_dataset *data,
                                 pact_pann *pann, const pact_pann_eval_opts *opts, size_t chunk,
                                 pact_pann_partial *partial, pact_error *err);

/* into += part: counts added, maxima and minima kept, sums added (call in
 * chunk order for bit-identical sums). PACT_EMISMATCH for other shapes. */
pact_status pact_pann_partial_merge(pact_pann_partial *into, const pact_pann_partial *part,
                                    pact_error *err);

/* A partial as a row of doubles (counts are whole numbers, exact below 2^53):
 * PACT_PANN_PARTIAL_HEAD numbers (images, correct, backbone_correct, agree,
 * nonfinite_images, max_logit_diff, sum_logit_diff), then per layer
 * PACT_PANN_PARTIAL_LAYER (inputs, out_of_range, worst_excursion, min_input,
 * max_input). Non-finite values (infinite minima) are kept as they are. */
#define PACT_PANN_PARTIAL_HEAD 7
#define PACT_PANN_PARTIAL_LAYER 5
size_t pact_pann_partial_row_size(int n_layers);
void pact_pann_partial_pack(const pact_pann_partial *partial, double *row);

/* Reads a row written by pact_pann_partial_pack into *partial (initialised
 * with the right n_layers), checking every number: PACT_EFORMAT when len is
 * not pact_pann_partial_row_size(n_layers), a count is not a whole number in
 * 0..2^53 or exceeds the images, a difference is negative or not finite. */
pact_status pact_pann_partial_unpack(const double *row, size_t len, pact_pann_partial *partial,
                                     pact_error *err);

/* The report of merged partials (mean_logit_diff = sum / (finite images x
 * classes); seconds 0). out *report: free with pact_pann_report_free. */
pact_status pact_pann_partial_report(const pact_pann_partial *partial, pact_pann_report *report,
                                     pact_error *err);

/* ======================================================================== */
/* HE cost model                                    (src/pann/)             */
/* ======================================================================== */

/* @@SECTION cost */

/* What a plan costs under RNS-CKKS, walked op by op through the network.
 *
 *   pact_cost_profile *prof = NULL; pact_cost_layout *net = NULL;
 *   pact_cost_walk *walk = NULL; pact_cost_act relu13; pact_error err;
 *   pact_cost_profile_default(&prof, &err);          // the MPCNN log
 *   pact_cost_layout_resnet(prof, 20, &net, &err);   // 19 activation slots
 *   pact_cost_act_parse("composite:alpha=13", &relu13, &err);
 *   pact_cost_act acts[19];
 *   for (int i = 0; i < 19; i++) acts[i] = relu13;
 *   pact_cost_evaluate(net, prof, acts, 19, &walk, &err);
 *   // walk->n_bootstraps == 18, walk->total_ms == 2182413 (the sum of the
 *   // log's ops; its total, 2,188.79 s, has 6.4 s no op accounts for)
 *
 * Levels (exact; the optimizer uses the same rules). A ciphertext's level is
 * the number of rescalings it can still take. A fresh input starts at the
 * profile's fresh level; a linear op consumes its levels; an activation
 * consumes its polynomials' depth; FORK saves the main-path ciphertext as the
 * shortcut branch, SHORTCUT ops consume levels on that branch, and ADD's
 * result is at min(main path, shortcut) (CKKS mod-down to the lower level is
 * free). A bootstrapping brings the main-path ciphertext back to the
 * profile's max level L and is placed only: right before an activation (after
 * any ADD), right before a linear op marked bootstrap_before (the final pool
 * and FC), and, if the profile allows it, between the components of a
 * composite activation. It never refreshes a pending shortcut, so an ADD after
 * a bootstrapping inside a block can be low. An op needing more levels than
 * remain, where no bootstrapping may go or where even L is too few, makes the
 * plan infeasible (PACT_EMISMATCH: the plan does not fit the profile).
 *
 * Latency = linear op costs (level-independent: the log measures each layer
 * at one level only) + bootstrappings x the cost of the stage they run in +
 * activation costs, which depend on the level each multiplication runs at
 * (see pact_cost_poly_ms). Bootstrappings are placed where they minimise the
 * latency (the same dynamic program as pact_optimize_dp), which for the
 * uniform alpha=13 ResNet-20 is exactly where the MPCNN log has them.
 * Because a shortcut is not refreshed, a residual block that bootstraps at
 * its first activation usually has to bootstrap at its second as well:
 * uniform depth 3 on ResNet-20 needs 8 bootstrappings where counting windows
 * of floor(16 / (2 + 3)) activations alone gives 6.
 *
 * A speed-up is only meaningful between two walks under the same profile:
 * print the profile's name with it. */

/* A cost profile: level budget, bootstrapping, polynomial and linear costs.
 * JSON, {"format": "polyact-cost", "version": 1, "name": ...}; see
 * data/profiles/ and tools/make-profiles.py, which derives the shipped ones
 * from the measurements in ../shared/he. */
typedef struct pact_cost_profile pact_cost_profile;

/* Reads a profile file (at most 1 MiB). out *profile new; free with
 * pact_cost_profile_free. Returns PACT_OK; PACT_EIO (cannot read);
 * PACT_EFORMAT (not JSON, wrong format/version, a field missing, of the wrong
 * type or out of range: the message names the file and field). */
pact_status pact_cost_profile_load(const char *path, pact_cost_profile **profile,
                                   pact_error *err);

/* Same from `len` bytes of JSON text; `origin` names it in error messages
 * (NULL: "profile"). */
pact_status pact_cost_profile_parse(const char *json, size_t len, const char *origin,
                                    pact_cost_profile **profile, pact_error *err);

/* The default profile "mpcnn-log", compiled in (byte for byte
 * data/profiles/mpcnn-log.json): the published log of the uniform alpha=13
 * encrypted ResNet-20, 16 levels, bootstrapping 102.4 / 90.4 / 78.8 s by
 * stage. out *profile new; free with pact_cost_profile_free. */
pact_status pact_cost_profile_default(pact_cost_profile **profile, pact_error *err);

void pact_cost_profile_free(pact_cost_profile *profile);

/* The profile's "name" (owned by the profile). */
const char *pact_cost_profile_name(const pact_cost_profile *profile);

/* L: levels available after a bootstrapping. */
int pact_cost_profile_max_level(const pact_cost_profile *profile);

/* Level of a freshly encrypted input. */
int pact_cost_profile_fresh_level(const pact_cost_profile *profile);

/* Cost in ms of one bootstrapping in `stage` (1-based, as layout ops name
 * it). PACT_EINVAL if the profile has no such stage. */
pact_status pact_cost_bootstrap_ms(const pact_cost_profile *profile, int stage, double *ms,
                                   pact_error *err);

/* ------------------------------------------------------------------------ */
/* Activation polynomials as the cost model sees them                       */
/* ------------------------------------------------------------------------ */

#define PACT_COST_MAX_COMPONENTS 8

/* What an activation evaluates: one polynomial (n_components = 1,
 * relu_product = 0), or a composite p_n(...p_1(x)) applied innermost first,
 * with relu_product = 1 for ReLU(x) = x (1 + s(x)) / 2: one more
 * multiplication and one more level after the components. */
typedef struct {
    int n_components;                       /* 1..PACT_COST_MAX_COMPONENTS */
    int degrees[PACT_COST_MAX_COMPONENTS];  /* each 1..1023 */
    int relu_product;                       /* 0 or 1 */
} pact_cost_act;

/* The published component degrees of the composite minimax sign for ReLU
 * precision 2^-alpha (Lee et al., IEEE Access 2023), alpha 4..14, innermost
 * first: 4:{5} 5:{13} 6:{3,7} 7:{7,7} 8:{7,15} 9:{15,15} 10:{7,7,13}
 * 11:{7,7,27} 12:{7,15,27} 13:{15,15,27} 14:{15,27,29}. The one copy of that
 * table in polyact (fitting uses it too).
 * out degrees[0..*count) (room for PACT_COST_MAX_COMPONENTS), *count.
 * PACT_EINVAL for alpha outside 4..14. */
pact_status pact_composite_published_degrees(int alpha, int *degrees, int *count,
                                             pact_error *err);

/* Parses an activation spec: "degree:D" (one polynomial), "composite:alpha=A"
 * (published degrees + ReLU product), "composite:D1,D2,..." (those degrees +
 * ReLU product) or "compose:D1,D2,..." (a composition, no product). out *act.
 * PACT_EINVAL naming the spec if malformed. */
pact_status pact_cost_act_parse(const char *spec, pact_cost_act *act, pact_error *err);

/* Writes "degree:7", "composite:15,15,27" or "compose:7,7" (the forms
 * pact_cost_act_parse reads) into buf, truncated to size. Returns buf. */
char *pact_cost_act_format(const pact_cost_act *act, char *buf, size_t size);

/* Levels one polynomial of `degree` consumes under the profile: for a "bsgs"
 * profile the depth of pact_bsgs_plan, ceil(log2(d + 1)); for a "series"
 * profile its measured table (OpenFHE takes one more for some degrees).
 * out *depth. PACT_EINVAL (degree outside 1..1023); PACT_EUNSUPPORTED (the
 * profile's table stops below `degree`). */
pact_status pact_cost_poly_depth(const pact_cost_profile *profile, int degree, int *depth,
                                 pact_error *err);

/* Cost in ms of one polynomial of `degree` whose input is at `level`
 * (level >= its depth, else PACT_EINVAL).
 * "bsgs" profiles charge each multiplication of pact_bsgs_plan at the level of
 * its operands, with a per-level cost table scaled so that the profile's
 * calibration activation costs what was measured. With baby steps T_1..T_k
 * (k = 2^l) and giant steps T_2k..T_(2^(m-1) k), input at level v:
 *   - T_j (2 <= j <= k) is formed at level v - ceil(log2 j) + 1;
 *   - giant step T_(2^i k), i = 1..m-1, at level v - l - i + 1;
 *   - the recursion's products q T_(2^i k) run at level v - l - i: one with
 *     the top giant step (i = m-1, it yields the result at depth l + m), two
 *     with the next, ..., allotted from the top (an approximation of which
 *     blocks exist when the degree does not fill all 2^m blocks);
 *   - the scalar multiplications (pact_bsgs.scalar_mults) at the level of the
 *     deepest baby step, v - l (the flat plan: k = d).
 * Levels below the table's first entry cost the first entry, above its last
 * the last. "series" profiles: the measured cost by degree, linearly
 * interpolated (proportional below the first degree, the last slope above
 * the last), level-independent. out *ms. */
pact_status pact_cost_poly_ms(const pact_cost_profile *profile, int degree, int level,
                              double *ms, pact_error *err);

/* Cost in ms of the ReLU product x (1 + s) / 2 whose lower operand is at
 * `level` (>= 1): one ct x ct multiplication at that level. */
pact_status pact_cost_product_ms(const pact_cost_profile *profile, int level, double *ms,
                                 pact_error *err);

/* Levels the whole activation consumes: its components' depths + relu_product.
 * out *depth. Errors as pact_cost_poly_depth, and PACT_EINVAL for a malformed
 * act. */
pact_status pact_cost_act_depth(const pact_cost_profile *profile, const pact_cost_act *act,
                                int *depth, pact_error *err);

/* Cost in ms of the whole activation run from `level` without bootstrapping
 * (components one after the other, then the product). PACT_EINVAL if
 * level < its depth. */
pact_status pact_cost_act_ms(const pact_cost_profile *profile, const pact_cost_act *act,
                             int level, double *ms, pact_error *err);

/* ------------------------------------------------------------------------ */
/* Network layouts: the sequence of ops the cost model walks                */
/* ------------------------------------------------------------------------ */

typedef enum {
    PACT_COST_LINEAR = 0, /* main path: consumes `levels`, costs `ms` */
    PACT_COST_ACT,        /* an activation slot: its polynomial is the plan's */
    PACT_COST_FORK,       /* saves the main-path ciphertext as the shortcut */
    PACT_COST_SHORTCUT,   /* linear op on the saved shortcut (downsampling) */
    PACT_COST_ADD         /* residual add: main path + shortcut, at the lower level */
} pact_cost_op_kind;

/* One op. Activation slots are numbered 0, 1, ... in the order of their ops. */
typedef struct {
    pact_cost_op_kind kind;
    const char *name;     /* e.g. "layer1.0.relu1"; copied by pact_cost_layout_add */
    int levels;           /* LINEAR, SHORTCUT: levels consumed, 0..60; else 0 */
    double ms;            /* LINEAR, SHORTCUT, ADD: cost in ms, >= 0; else 0 */
    int stage;            /* >= 1: whose bootstrapping cost applies at this op */
    int bootstrap_before; /* LINEAR: 1 if a bootstrapping may go right before it */
} pact_cost_op;

typedef struct pact_cost_layout pact_cost_layout;

/* An empty layout, to be filled with pact_cost_layout_add. out *layout new;
 * free with pact_cost_layout_free. */
pact_status pact_cost_layout_create(pact_cost_layout **layout, pact_error *err);

/* Appends a copy of *op. PACT_EINVAL naming the op if a field is out of range
 * or the structure is wrong (FORK while a shortcut is pending, SHORTCUT or ADD
 * without one); the layout is unchanged then. */
pact_status pact_cost_layout_add(pact_cost_layout *layout, const pact_cost_op *op,
                                 pact_error *err);

/* The CIFAR ResNet of `model_depth` = 6n + 2 layers (20, 32, 44, 56, 110;
 * any n in 1..200), option-A shortcuts, costs and levels from the profile's
 * "cifar_resnet" section: stem conv1, bn1, "relu" (slot 0); then for stage
 * s = 1..3 and block i = 0..n-1: FORK, conv1, bn1, "layer{s}.{i}.relu1",
 * conv2, bn2, [SHORTCUT downsampling in the first block of stages 2, 3], ADD,
 * "layer{s}.{i}.relu2"; then avgpool and linear (fc), both bootstrap_before.
 * The first conv of stages 2 and 3 is the profile's conv_downsample. Slot
 * names match the network engine's activation names (ResNet-20: 19 slots).
 * out *layout new; it remembers the profile's name and is evaluated under
 * that profile only. PACT_EINVAL (model_depth); PACT_EFORMAT (the profile
 * has no cifar_resnet section). */
pact_status pact_cost_layout_resnet(const pact_cost_profile *profile, int model_depth,
                                    pact_cost_layout **layout, pact_error *err);

void pact_cost_layout_free(pact_cost_layout *layout);

int pact_cost_layout_n_ops(const pact_cost_layout *layout);

/* Op i (0 <= i < n_ops), owned by the layout; NULL if out of range. */
const pact_cost_op *pact_cost_layout_op(const pact_cost_layout *layout, int i);

/* Activation slots. */
int pact_cost_layout_n_slots(const pact_cost_layout *layout);

/* Name of slot i (owned by the layout); NULL if out of range. */
const char *pact_cost_layout_slot_name(const pact_cost_layout *layout, int slot);

/* Index of slot i's op (so walk->steps[that] is its step); -1 if out of range. */
int pact_cost_layout_slot_op(const pact_cost_layout *layout, int slot);

/* ------------------------------------------------------------------------ */
/* Walks: the cost of one plan, op by op                                    */
/* ------------------------------------------------------------------------ */

/* What happened at one op of the layout. */
typedef struct {
    int level_in;        /* main-path level reaching the op, before bootstrapping */
    int level_out;       /* main-path level after the op */
    int shortcut_level;  /* pending shortcut's level after the op; -1 if none */
    int n_bootstraps;    /* bootstrappings placed at this op */
    unsigned boot_mask;  /* where: bit 0 right before the op; for an activation
                            with components c_1..c_n, bit j (1 <= j < n) before
                            c_(j+1) and bit n before the ReLU product */
    double op_ms;        /* the op's own cost (an activation: its polynomials) */
    double bootstrap_ms; /* its bootstrappings */
    int choice;          /* ACT: candidate index (pact_optimize_dp) or 0; else -1 */
} pact_cost_step;

/* The cost of one plan. Everything is owned by the walk. */
typedef struct {
    char profile[64];       /* name of the profile the costs come from */
    int n_steps;            /* = the layout's ops, in order */
    pact_cost_step *steps;
    int n_bootstraps;
    double total_ms;        /* = bootstrap_ms + activation_ms + linear_ms */
    double bootstrap_ms;
    double activation_ms;
    double linear_ms;       /* LINEAR, SHORTCUT and ADD ops */
    double impact;          /* pact_optimize_dp: sum of the chosen impacts; else 0 */
} pact_cost_walk;

void pact_cost_walk_free(pact_cost_walk *walk);

/* Cost of running `acts[slot]` at every activation slot (n_acts = the
 * layout's slots), with bootstrappings placed where they minimise the latency
 * under the level rules above. out *walk new; free with pact_cost_walk_free.
 * Returns PACT_OK; PACT_EINVAL (n_acts, a malformed act); PACT_EUNSUPPORTED
 * (a degree the profile has no data for); PACT_EMISMATCH (the layout was
 * built from another profile, names a stage the profile lacks, or the plan
 * cannot fit the levels: the message says where). */
pact_status pact_cost_evaluate(const pact_cost_layout *layout, const pact_cost_profile *profile,
                               const pact_cost_act *acts, int n_acts, pact_cost_walk **walk,
                               pact_error *err);

/* ======================================================================== */
/* Optimizer                                        (src/pann/)             */
/* ======================================================================== */

/* @@SECTION optimize */

/* The dynamic program at the core of the optimizer: one polynomial per
 * activation slot, chosen among candidates, minimising latency under the HE
 * cost model (bootstrappings placed exactly, as in pact_cost_evaluate) while
 * the summed impact (a measured accuracy-damage proxy, >= 0) stays within a
 * budget.
 *
 * State: (op, main-path level, pending shortcut's level, impact used). The
 * impact is counted in `impact_buckets` buckets of budget / buckets, each
 * candidate's impact rounded UP to whole buckets, so the budget is never
 * exceeded (up to a relative 1e-9 that absorbs floating-point noise at
 * bucket boundaries). The result is exactly optimal for the rounded impacts
 * and never slower than the true optimum under the budget reduced by
 * n_slots x budget / buckets (ResNet-20, 2000 buckets: 0.95% of the budget).
 * Time O(ops x states x buckets x candidates), memory about
 * 4 bytes x slots x reachable levels x buckets. */

typedef struct {
    pact_cost_act act; /* what the slot would evaluate */
    double impact;     /* accuracy damage proxy, finite, >= 0 */
} pact_opt_candidate;

typedef struct {
    const pact_opt_candidate *candidates; /* n_candidates, 1..65535 */
    int n_candidates;
} pact_opt_slot;

typedef struct {
    int impact_buckets; /* 1..100000; 0 = 2000 */
} pact_opt_dp_opts;

/* Chooses one candidate per slot (n_slots = the layout's slots) minimising the
 * latency under `profile` with sum of impacts <= impact_budget (>= 0;
 * INFINITY: no budget, impacts are only summed).
 * out *plan new, free with pact_cost_walk_free: steps[op].choice is the
 * candidate chosen at each activation, steps[op].level_in its input level,
 * boot_mask/n_bootstraps where bootstrappings go, impact the sum of the
 * chosen impacts. Returns PACT_OK; PACT_EINVAL (arguments, a malformed
 * candidate); PACT_EUNSUPPORTED (a degree the profile has no data for);
 * PACT_EMISMATCH (no choice fits the levels, or none fits the budget: the
 * message says which; also a layout built from another profile); PACT_ENOMEM
 * (the tables need more than 2 GiB: use fewer buckets). */
pact_status pact_optimize_dp(const pact_cost_layout *layout, const pact_cost_profile *profile,
                             const pact_opt_slot *slots, int n_slots, double impact_budget,
                             const pact_opt_dp_opts *opts, pact_cost_walk **plan,
                             pact_error *err);

/* --- The optimizer: the cheapest plan that keeps the accuracy -------------
 *
 * For every activation layer, candidate polynomials of several degrees are
 * fitted on the layer's calibrated interval (widened by a margin) by least
 * squares weighted by its measured input histogram mixed with a Chebyshev
 * floor (several mixtures). Each candidate's impact is measured by replacing
 * that layer alone on `impact_images` calibration images (from a cached state
 * when the model can split its forward pass): the mean KL divergence of the
 * network's softmax output from the exact network's. The dynamic program
 * (pact_optimize_dp) then picks one candidate per layer minimising the HE
 * latency with the summed impact within a budget, and a closed loop searches
 * the budget: each plan is evaluated as a whole PANN on the calibration
 * images, and the fastest whose top-1 accuracy there is at most `max_drop`
 * points below the exact network's (and, with min_agreement, that predicts
 * the exact network's class on at least that percentage of them) is kept.
 * Test images are never seen.
 *
 * Per-channel candidates (opts->per_channel): each candidate is one
 * polynomial per channel, fitted on that channel's range of inputs (over the
 * calibration images, widened by channel_margin; at least 2% of the layer's
 * width) by the same least squares, floors below 1e-4 raised to 1e-4. Under
 * CKKS with channels in slots they cost what one polynomial of that degree
 * costs (plaintext-vector coefficients), so the cost model is unchanged.
 *
 * Error-aware fitting (opts->refit): the closed loop verifies not the DP's
 * candidates as fitted, but their refit: layer after layer, the chosen degree
 * and floor are fitted again so that the polynomial, applied to the inputs the
 * layer receives in the PANN whose earlier layers are already refitted, gives
 * the exact network's activation outputs on the same refit_images calibration
 * images (pairs from the same images; the interval is the range of those PANN
 * inputs, widened by the margin or channel_margin, and at least the
 * candidate's interval). This compensates the error accumulated
 * before the layer. The plan returned is the refit of the chosen choices.
 *
 * The plan's summary holds latency_s, bootstraps, baseline_latency_s,
 * baseline_bootstraps (uniform alpha=13 composite under the same profile;
 * uniform degree-63 polynomials when not every activation is a ReLU, e.g. a
 * GELU network), speedup, calib_accuracy, calib_backbone_accuracy,
 * calib_agreement (percent of the calibration images where PANN and network
 * agree); notes hold
 * cost_profile and baseline (the uniform spec, "composite:alpha=13" or
 * "degree:63"). */
typedef void (*pact_stage_fn)(void *ctx, const char *stage, size_t done, size_t total);

typedef struct {
    double max_drop;          /* top-1 points the PANN may lose on the calibration images (0.5) */
    int n_degrees;            /* candidate degrees (0: 1 2 3 4 5 7 15 31 63) */
    int degrees[32];
    int n_floors;             /* least-squares floor mixtures (0: 0.02 0.2) */
    double floors[8];
    double margin;            /* interval widening on each side, fraction of its width (0.05) */
    size_t impact_images;     /* calibration images for impacts (0: 256) */
    size_t verify_images;     /* calibration images for the closed loop (0: all) */
    int batch;                /* images per forward call (0: 64) */
    int impact_buckets;       /* DP resolution (0: 2000; else more than 2 x the layers,
                                 at most 100000) */
    pact_stage_fn progress;   /* optional: stage name, done, total */
    void *progress_ctx;
    const double *impacts;    /* optional: every impact item's impact, measured
                                 elsewhere (pact_optimizer_impact, e.g. by other
                                 processes), instead of measuring them */
    size_t n_impacts;         /* entries of impacts: the optimizer's item count */
    double min_agreement;     /* percent of the calibration images on which the PANN must
                                 also predict the exact network's class (0: no requirement) */
    int per_channel;          /* 1: every candidate is one polynomial per channel of its
                                 layer (fitted to that channel's measured inputs on its own
                                 interval); the plan then has per-channel layers (plan
                                 version 2). 0: one polynomial per layer */
    int refit;                /* 1: before the closed loop verifies a plan, refit it
                                 layer after layer on the PANN's own inputs (pact_optimize's
                                 "error-aware fitting", see above) */
    size_t refit_images;      /* calibration images the refit uses (0: impact_images) */
    double channel_margin;    /* per channel: interval widening on each side, fraction of
                                 the channel's width (0: 0.25; wide, because a channel's
                                 narrow range is left more often than a layer's, and a
                                 polynomial explodes beyond its interval) */
} pact_optimize_opts;

void pact_optimize_opts_default(pact_optimize_opts *opts);

/* Finds the plan (see above). `layout` is the network under the cost model
 * (e.g. pact_cost_layout_resnet) with one slot per activation layer of
 * `model`, in order; `calib` is the model's calibration; `data` the
 * calibration images. out *plan (free with pact_plan_free).
 * PACT_EINVAL (options); PACT_EMISMATCH (layout / calib not of this model;
 * no candidate plan fits the levels); PACT_ETOL (even the most accurate
 * candidates lose more than max_drop: *plan then holds that most accurate plan,
 * so that the caller can inspect it); errors of fitting and of the model. */
pact_status pact_optimize(const pact_model *model, const pact_dataset *data,
                          const pact_calib *calib, const pact_cost_layout *layout,
                          const pact_cost_profile *profile, const pact_optimize_opts *opts,
                          const char *model_name, const char *model_sha256, pact_plan **plan,
                          pact_error *err);

/* --- the optimizer in pieces, for spreading it over processes -------------
 * pact_optimize is exactly these calls:
 *
 *   pact_optimizer_create(...)                    fits every candidate
 *   for item in 0 .. pact_optimizer_item_count() - 1:
 *       pact_optimizer_impact(op, item, &impacts[item])
 *   pact_optimizer_set_impacts(op, impacts, n)
 *   loop: pact_optimizer_next(op, choices, &done); if done: stop
 *         pact_optimizer_plan(op, choices, &plan); evaluate the plan with
 *         pact_optimizer_verify_opts (pact_pann_evaluate, or its chunks)
 *         pact_optimizer_tell(op, accuracy, backbone_accuracy, agreement)
 *   pact_optimizer_result(op, &plan)
 *
 * Impact items are (layer, candidate) pairs in layer-major order; each is
 * independent of the others and gives the same double wherever it runs (the
 * model's forward being deterministic), so items may be computed by many
 * processes, each with its own optimizer built from the same inputs, and
 * gathered into one table. An optimizer caches the impact images, their exact
 * logits and the states of the last layer it measured: giving one process
 * consecutive items of one layer saves recomputing those states. The closed
 * loop is ask/tell: the optimizer proposes a plan as one candidate index per
 * layer (small enough to broadcast), the caller reports its accuracy. Plans,
 * impacts and decisions are those of pact_optimize bit for bit. One optimizer
 * must not be used by two threads at once. */
typedef struct pact_optimizer pact_optimizer;

/* Checks the inputs and fits every layer's candidates (progress stage
 * "fit"). The optimizer keeps pointers to model, data, calib, layout and
 * profile (they must outlive it) and copies the rest. out *op: free with
 * pact_optimizer_free. Errors as pact_optimize's before its impact phase. */
pact_status pact_optimizer_create(const pact_model *model, const pact_dataset *data,
                                  const pact_calib *calib, const pact_cost_layout *layout,
                                  const pact_cost_profile *profile, const pact_optimize_opts *opts,
                                  const char *model_name, const char *model_sha256,
                                  pact_optimizer **op, pact_error *err);
void pact_optimizer_free(pact_optimizer *op);

/* Activation layers; impact items (layers x degrees x floors). */
int pact_optimizer_layer_count(const pact_optimizer *op);
size_t pact_optimizer_item_count(const pact_optimizer *op);

/* What item `item` is: its layer, candidate degree and least-squares floor
 * (any pointer may be NULL). PACT_EINVAL out of range. */
pact_status pact_optimizer_item(const pact_optimizer *op, size_t item, int *layer, int *degree,
                                double *floor_weight, pact_error *err);

/* Measures item `item`: the mean KL divergence of the network's softmax with
 * that one layer replaced from the exact network's, on the first
 * impact_images images. out *impact (>= 0; +inf when the output is not
 * finite). PACT_EINVAL out of range; PACT_ENOMEM; the model's status. */
pact_status pact_optimizer_impact(pact_optimizer *op, size_t item, double *impact,
                                  pact_error *err);

/* Gives the optimizer every item's impact (n = item count, each >= 0 or
 * +inf), e.g. gathered from other processes, and frees the measurement
 * caches. PACT_EMISMATCH (n); PACT_EINVAL (a NaN or negative impact, or the
 * closed loop already began). */
pact_status pact_optimizer_set_impacts(pact_optimizer *op, const double *impacts, size_t n,
                                       pact_error *err);

/* The evaluation options of the closed loop's verifications. */
void pact_optimizer_verify_opts(const pact_optimizer *op, pact_pann_eval_opts *opts);

/* Next step of the closed loop: *done = 1 when the search is over (then call
 * pact_optimizer_result); otherwise choices[0..layers) is the plan to verify
 * (each a candidate index of its layer) and pact_optimizer_tell must follow.
 * PACT_EINVAL (impacts not set, a tell missing); PACT_ENUMERIC (every
 * candidate of a layer explodes); the DP's errors. */
pact_status pact_optimizer_next(pact_optimizer *op, int *choices, int *done, pact_error *err);

/* The plan of `choices` (summary and notes empty). out *plan: free with
 * pact_plan_free. PACT_EINVAL for a choice out of range. */
pact_status pact_optimizer_plan(const pact_optimizer *op, const int *choices, pact_plan **plan,
                                pact_error *err);

/* Top-1 accuracy in percent of the proposed plan's PANN and of the backbone
 * on the verification images, and the percentage of them on which the two
 * predict the same class. PACT_EINVAL when no plan is waiting. */
pact_status pact_optimizer_tell(pact_optimizer *op, double accuracy, double backbone_accuracy,
                                double agreement, pact_error *err);

/* The chosen plan with its summary (as pact_optimize). out *plan (free with
 * pact_plan_free). PACT_EINVAL before the loop is done; PACT_ETOL (with
 * *plan set) when even the most accurate plan loses more than max_drop. */
pact_status pact_optimizer_result(pact_optimizer *op, pact_plan **plan, pact_error *err);

/* The cost walk of the same activation `spec` (pact_cost_act_parse) at every
 * slot, e.g. the baseline "composite:alpha=13". out *walk (pact_cost_walk_free). */
pact_status pact_cost_uniform(const pact_cost_layout *layout, const pact_cost_profile *profile,
                              const char *spec, pact_cost_walk **walk, pact_error *err);

/* The cost walk of a plan under `profile` (every layer's degrees as the cost
 * model sees them). out *walk: free with pact_cost_walk_free. */
pact_status pact_plan_cost(const pact_plan *plan, const pact_cost_layout *layout,
                           const pact_cost_profile *profile, pact_cost_walk **walk,
                           pact_error *err);

/* ======================================================================== */
/* Scale-out: partial results of a job split into items    (src/io/)        */
/* ======================================================================== */

/* @@SECTION scaleout */

/* polyact itself never talks to other processes: the work of calibration
 * (image chunks, pact_calib_*_chunk), evaluation (image chunks,
 * pact_pann_eval_chunk) and optimisation (impact items, pact_optimizer_*) is
 * cut into items fixed by the data, whose results merge exactly. A driver (the
 * MPI one in tools/mpi, or job arrays with files) computes items anywhere and
 * merges them in item order. A pact_partial is the file form of such results,
 * for schedulers without MPI:
 *
 *   {"format": "polyact-partial", "version": 1, "kind": "eval",
 *    "job": {...}, "shard": [I, N], "items": n, "row_size": r,
 *    "rows": [[item, r numbers], ...], "context": [numbers], "sums": [counts]}
 *
 * "job" is an object naming everything the results depend on (inputs'
 * hashes, flags); parts merge only when their jobs are identical. "rows"
 * holds one row of doubles per item the file has, items increasing, doubles
 * written as the shortest decimal that reads back to the same bits (and
 * "inf", "-inf", "nan" as strings). "sums" are whole numbers below 2^53
 * added over all items (e.g. histogram counts). */
typedef struct pact_partial pact_partial;

/* An empty partial result: no item present, sums zero. kind: 1..63 of
 * [a-z0-9-]; job_json: a JSON object (kept in canonical form); n_items
 * 1..2^24; row_size doubles per item (0..2^20; items x row_size <= 2^27);
 * n_sums 0..2^28. Shard 0 of 1. out *p: free with pact_partial_free.
 * PACT_EINVAL; PACT_ENOMEM. */
pact_status pact_partial_create(const char *kind, const char *job_json, size_t n_items,
                                size_t row_size, size_t n_sums, pact_partial **p,
                                pact_error *err);
void pact_partial_free(pact_partial *p);

/* Records which shard I of N wrote the file (informative; 0 <= I < N). */
pact_status pact_partial_set_shard(pact_partial *p, int index, int count, pact_error *err);

/* Stores item `item`'s row (row_size doubles, copied) and marks it present.
 * PACT_EINVAL out of range. */
pact_status pact_partial_set_row(pact_partial *p, size_t item, const double *row,
                                 pact_error *err);

/* Numbers every part of one job shares (e.g. the merged pass-1 statistics a
 * histogram pass used), copied; parts merge only when theirs are identical
 * bit for bit. Written as "context": [...]. PACT_EINVAL (more than 2^28). */
pact_status pact_partial_set_context(pact_partial *p, const double *values, size_t n,
                                     pact_error *err);
/* The context (owned by p) and its length *n. */
const double *pact_partial_context(const pact_partial *p, size_t *n);

/* The n_sums counts, to add into (owned by p). */
uint64_t *pact_partial_sums(pact_partial *p);
const uint64_t *pact_partial_sums_const(const pact_partial *p);

const char *pact_partial_kind(const pact_partial *p);
const char *pact_partial_job(const pact_partial *p); /* canonical JSON text */
size_t pact_partial_item_count(const pact_partial *p);
size_t pact_partial_row_size(const pact_partial *p);
size_t pact_partial_sum_count(const pact_partial *p);
size_t pact_partial_present(const pact_partial *p);  /* items present */
void pact_partial_shard(const pact_partial *p, int *index, int *count);

/* Item `item`'s row (owned by p), or NULL when the item is not present. */
const double *pact_partial_row(const pact_partial *p, size_t item);

/* into += part: part's items copied in (none may be in both), sums added.
 * PACT_EMISMATCH (another kind, job or shape; an item in both, naming it);
 * PACT_ENUMERIC (a sum beyond 2^53). `into` is unchanged on error. */
pact_status pact_partial_merge(pact_partial *into, const pact_partial *part, pact_error *err);

/* Writes the file atomically (temporary file beside `path`, then rename).
 * PACT_EIO; PACT_ENUMERIC (a sum beyond 2^53). */
pact_status pact_partial_save(const pact_partial *p, const char *path, pact_error *err);

/* Reads and checks a file (at most 1 GiB): format, version, kind, shapes
 * within the limits above, every row [item, row_size numbers] with items
 * increasing, sums whole numbers. out *p. PACT_EIO; PACT_EFORMAT naming the
 * file and field; PACT_EUNSUPPORTED (another version); PACT_ENOMEM. */
pact_status pact_partial_load(const char *path, pact_partial **p, pact_error *err);

/* The same from `size` bytes of text; `name` labels messages. */
pact_status pact_partial_parse(const char *text, size_t size, const char *name,
                               pact_partial **p, pact_error *err);

/* SHA-256 of `size` bytes as 64 lower-case hex digits and a NUL: names the
 * exact inputs (calibration, plan, images) a job's results depend on. */
void pact_sha256_hex(const void *data, size_t size, char hex[65]);

/* ======================================================================== */
/* Export                                           (src/io/)               */
/* ======================================================================== */

/* @@SECTION export */

/* A plan leaves polyact as a file another library evaluates unchanged:
 *
 *   PACT_EXPORT_OPENFHE  JSON (format "polyact-openfhe", version 1) for
 *       OpenFHE's EvalChebyshevSeries(ct, coeffs, a, b), which computes
 *       coeffs[0]/2 + sum_{i>=1} coeffs[i] T_i(y), y = -1 + 2 (x - a) / (b - a):
 *       coeffs[0] is TWICE the constant Chebyshev term; trailing exactly-zero
 *       coefficients are trimmed (below degree 5 OpenFHE's linear method spends
 *       levels on them). Verified against openfhe-development v1.5.1,
 *       src/pke/lib/scheme/ckksrns/ckksrns-advancedshe.cpp.
 *   PACT_EXPORT_LATTIGO  JSON (format "polyact-lattigo", version 1) for Lattigo
 *       v5/v6 bignum.NewPolynomial(bignum.Chebyshev, coeffs, [2]float64{A, B}),
 *       which evaluates coeffs[0] + sum_{i>=1} coeffs[i] T_i(y), constant term
 *       NOT halved, y = scalar x + constant with scalar = 2/(B-A) and
 *       constant = (-A-B)/(B-A) (Polynomial.ChangeOfBasis); the CKKS evaluator
 *       does not apply that map itself: the user applies it before Evaluate.
 *       Verified against lattigo v6.2.0 utils/bignum/polynomial.go (same in
 *       v5.0.7) and circuits/ckks/polynomial/polynomial_evaluator.go.
 *   PACT_EXPORT_C  a self-contained C99/C++ header: per layer
 *       `static const double <prefix>_layer<i>_cheb[]` (every part's
 *       coefficients, plan convention, %.17g so they read back bit-exactly),
 *       intervals, degrees, a table of layers and inline Clenshaw evaluation
 *       <prefix>_layer_eval(i, x) identical to pact_plan_layer_eval.
 *
 * Both JSON documents describe each layer as a chain of Chebyshev series:
 *
 *   {"format": "polyact-openfhe" | "polyact-lattigo", "version": 1,
 *    "created_by": "polyact 0.1.0", "model": {"name", "sha256"},
 *    "folded": false | true, "convention": "<the evaluation formula>",
 *    "levels_note": "<where the level counts come from>",
 *    "layers": [{
 *      "index": i, "name": "layer1.0.relu1", "func": "relu", "form": "poly" | "composite",
 *      "bound": B (composite only, informative),
 *      "input_map": null | {"scale": s, "shift": t},
 *      "series": [{"degree": d, "coeffs": [d + 1 numbers],
 *                  OpenFHE: "a": a, "b": b, "levels": n
 *                  Lattigo: "interval": [A, B], "change_of_basis":
 *                           {"scalar": 2/(B-A), "constant": (-A-B)/(B-A)},
 *                           "odd": bool, "even": bool, "levels": n}, ...],
 *      "final": {"op": "none"} | {"op": "mul_input", "add": c},
 *      "levels": total levels of the layer}]}
 *
 * To evaluate layer i on ciphertext x: in = x, or, when "input_map" is not
 * null, the input map y = scale * x + shift must already have been applied
 * (fold it into the preceding linear layer: W' = scale W, bias' = scale bias +
 * shift) and in = y. Then s = in; for each series in order: s = series(s);
 * finally out = s ("none") or out = (in + add) * s ("mul_input"). In OpenFHE:
 *
 *   Ciphertext<DCRTPoly> s = in;
 *   for (auto &p : layer["series"])
 *       s = cc->EvalChebyshevSeries(s, p["coeffs"].get<std::vector<double>>(),
 *                                   p["a"].get<double>(), p["b"].get<double>());
 *   if (layer["final"]["op"] == "mul_input") {
 *       double add = layer["final"]["add"];
 *       s = cc->EvalMult(add != 0.0 ? cc->EvalAdd(in, add) : in, s);
 *   }
 *
 * Composite layers (u = x / B, s = p_k(...p_1(u)), relu B u (1+s)/2, abs B u s,
 * sign s) are exported so that no separate multiplication is needed: series 0
 * takes the layer input itself (its interval is B times part 1's, so
 * OpenFHE's input map absorbs the 1/B), and for relu/abs the last series
 * already includes the final affine factor ((1+s)/2 for relu), leaving one
 * ciphertext product with the input: the plan's depth.
 *
 * Unfolded (default), every series is on its own interval, exactly the plan's
 * parts. Folded (opts.folded): every series is on exactly [-1, 1]: the first
 * input map is returned as "input_map" for the preceding linear layer and
 * each later map is folded into the previous series' coefficients, saving
 * OpenFHE one level per series (Lattigo: one rescale per non-integer scalar).
 *
 * "levels" (OpenFHE): per series, the levels EvalChebyshevSeries consumed on
 * [-1, 1] as measured with OpenFHE 1.5.1 (../shared/he/openfhe-n16-2core.json:
 * degree 1: 1, 2: 2, 3-5: 3, 6-13: 4, 14-27: 5, 28-59: 6, 60-119: 7,
 * 120-247: 8, 248-495: 9, 496-1007: 10 (measured at 511), 1008-1023: 11
 * (OpenFHE's GetDepthByDegree less one)), plus 1 when the interval is not
 * [-1, 1] within 2^-44; plus 1 for the final product. Lattigo: per series
 * ceil(log2(d + 1)) plus 1 when its change-of-basis scalar is not an integer
 * (an integer scalar needs no rescale), plus 1 for the final product.
 *
 * Per-channel layers (pact_plan_layer.n_channels > 0) have, instead of
 * "series", "n_channels": C and "channels": [C entries], and the document
 * gains "channels_convention" (documents of plans without such layers are
 * unchanged). "input_map" is null, or folded {"scale": [C], "shift": [C]}:
 * entry c goes into output channel c of the preceding linear layer.
 *   OpenFHE: channels[c] is channel c's series {"degree", "a", "b", "coeffs",
 *       "levels"} (EvalChebyshevSeries on channel c's values, trimmed on its
 *       own); the layer's "levels" is the most of its channels'.
 *   Lattigo: "degree": d, channels[c] = {"interval", "coeffs" (d + 1 of
 *       them for every channel: NewPolynomialVector(polys, mapping) needs one
 *       degree), "change_of_basis", "odd", "even"}, and the layer's "odd",
 *       "even" (every channel's); polys[c] goes on the slots of channel c and
 *       the change of basis is applied per slot with plaintext vectors;
 *       "levels" ceil(log2(d + 1)), plus 1 unless every channel has the same
 *       integer scalar. Lattigo v6.2.0 circuits/common/polynomial.
 *   C: the layer's kind is PACT_C_POLY_CHANNELS with one part per channel
 *       (n_parts = C), evaluated by <prefix>_layer_eval_channel(i, c, x)
 *       exactly as pact_plan_layer_eval_channel (<prefix>_layer_eval is NAN
 *       for it, as pact_plan_layer_eval is). */
typedef enum {
    PACT_EXPORT_OPENFHE = 0,
    PACT_EXPORT_LATTIGO = 1,
    PACT_EXPORT_C = 2
} pact_export_format;

typedef struct {
    int folded;           /* OpenFHE / Lattigo: 1 = every series on [-1, 1] (see above) */
    const char *c_prefix; /* C: prefix of the header's identifiers, a C identifier of at
                           * most 32 characters (NULL or "": "pact") */
} pact_export_opts;

void pact_export_opts_default(pact_export_opts *opts);

/* "openfhe", "lattigo", "c"; "?" for unknown values. */
const char *pact_export_format_name(pact_export_format format);

/* Parses a name as printed by pact_export_format_name. out *format.
 * PACT_EINVAL if unknown. */
pact_status pact_export_format_from_name(const char *name, pact_export_format *format,
                                         pact_error *err);

/* Levels OpenFHE's EvalChebyshevSeries consumes for a series of degree
 * 1..1023 (index of its last non-zero coefficient) on [-1, 1]; add 1 for any
 * other interval. -1 outside 1..1023. */
int pact_openfhe_series_levels(int degree);

/* Exports every layer of `plan` (all must be set) in `format`.
 * out *text: a new NUL-terminated document (free with free()); NULL on error.
 * Same plan and options -> byte-identical text.
 * PACT_EINVAL (unknown format, folded with PACT_EXPORT_C, bad prefix, unset
 * layer), PACT_ENUMERIC (a folded coefficient overflows), PACT_ENOMEM. */
pact_status pact_export(const pact_plan *plan, pact_export_format format,
                        const pact_export_opts *opts, char **text, pact_error *err);

/* pact_export written to `path` through a temporary file renamed over it: on
 * any error nothing is written. PACT_EIO when the file cannot be written. */
pact_status pact_export_save(const pact_plan *plan, pact_export_format format,
                             const pact_export_opts *opts, const char *path, pact_error *err);

/* --- Pictures of plans ---------------------------------------------------
 * An SVG document (no scripts, no external references) of a plan's per-layer
 * polynomials (one bar per activation layer, its height the levels consumed,
 * labelled with the degree(s); per-layer, per-channel and composite forms
 * coloured apart) and, when points are given, the accuracy-vs-latency front
 * of a budget sweep: one point per plan of the sweep (its estimated latency
 * under one cost profile and its measured accuracy), joined in latency order,
 * with the uniform baseline's latency under the same profile as a dashed line.
 * profile_name and accuracy_what (the y axis: what the accuracy was measured
 * on, e.g. "accuracy on 1,017 calibration images"; NULL: "accuracy") label it. */
typedef struct {
    double latency_s;   /* estimated HE latency, > 0 */
    int bootstraps;     /* bootstrappings placed, >= 0 */
    double accuracy;    /* measured accuracy, percent in [0, 100] */
    const char *label;  /* shown beside the point (e.g. the budget); may be NULL */
} pact_front_point;

#define PACT_SVG_MAX_POINTS 1024

/* out *text: a new NUL-terminated SVG document (free with free()); NULL on
 * error. Same inputs -> byte-identical text. Layer and model names are
 * escaped. PACT_EINVAL (an unset layer, n_points outside 0..PACT_SVG_MAX_POINTS,
 * a point with a non-finite or non-positive latency, an accuracy outside
 * [0, 100], or a non-finite baseline when points are given; baseline 0: not
 * drawn), PACT_ENOMEM. */
pact_status pact_plan_svg(const pact_plan *plan, const pact_front_point *points, int n_points,
                          double baseline_latency_s, const char *profile_name,
                          const char *accuracy_what, char **text, pact_error *err);

/* pact_plan_svg written to `path` atomically (nothing written on error);
 * PACT_EIO when the file cannot be written. */
pact_status pact_plan_svg_save(const pact_plan *plan, const pact_front_point *points,
                               int n_points, double baseline_latency_s, const char *profile_name,
                               const char *accuracy_what, const char *path, pact_error *err);

#ifdef __cplusplus
}
#endif

#endif /* POLYACT_H */
