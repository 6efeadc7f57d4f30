/* Fitting polynomials to what a network's activation layers see, one per
 * channel (or one per layer): the inputs are binned per channel, with the
 * sum of the targets each bin's inputs should map to, and a weighted least
 * squares in the Chebyshev basis is solved from the bins' moments. The
 * optimizer's per-channel candidates (targets: the activation of the inputs)
 * and its sequential refit (targets: the exact network's activation outputs,
 * inputs: the PANN's) both go through here. Internal. */
#ifndef PACT_CHANFIT_H
#define PACT_CHANFIT_H

#include "../internal.h"

/* Bins of one layer: `groups` groups (1: the whole layer; else its channels),
 * each with its own interval [a, b] cut into `bins` equal bins. */
typedef struct {
    int groups, bins;
    double *a, *b;     /* groups */
    double *count;     /* groups x bins: inputs that fell in the bin */
    double *tsum;      /* groups x bins: sum of their targets */
    double outside;    /* inputs outside their group's interval (not binned) */
} pact_bins;

/* Allocates groups x bins empty bins on the intervals a[g], b[g] (copied).
 * PACT_ENOMEM. */
pact_status pact_bins_init(pact_bins *bn, int groups, int bins, const double *a, const double *b,
                           pact_error *err);
void pact_bins_free(pact_bins *bn);

/* Adds `images` x `channels` x `spatial` inputs x (NCHW) with their targets
 * t (same layout; NULL: no targets). Element (i, c, s) goes to group c when
 * groups == channels, else to group 0. Non-finite inputs are skipped (counted
 * outside). */
void pact_bins_add(pact_bins *bn, const float *x, const float *t, size_t images, int channels,
                   size_t spatial);

/* What a least squares of any degree up to max_degree needs from one group:
 * the Chebyshev moments of its inputs, the targets' projections and the
 * floor function's Chebyshev coefficients. */
typedef struct {
    int max_degree;
    double a, b;
    double weight;  /* sum of the binned counts */
    double *mu;     /* 0..2 max_degree: sum_i w_i T_l(y_i) / weight */
    double *rhs;    /* 0..max_degree: sum_i w_i t_i T_j(y_i) / weight */
    double *cf;     /* 0..max_degree: f's Chebyshev coefficients on [a, b] */
} pact_moments;

/* The moments of group g. Each bin's count is spread over its 3 Gauss-Legendre
 * points (as pact_hist_samples does); the targets there are f at those points
 * (use_targets 0) or the bin's mean target (use_targets 1). */
pact_status pact_bins_moments(const pact_bins *bn, int g, pact_func f, int use_targets,
                              int max_degree, pact_moments *m, pact_error *err);
void pact_moments_free(pact_moments *m);

/* Least squares of `degree` (<= m->max_degree):
 *   (1 - floor) sum_i w_i/W (t_i - p(x_i))^2 + floor int (f - p)^2 dmu
 * with mu the Chebyshev measure of [a, b], floor raised to PACT_CHANFIT_MIN_FLOOR
 * (the normal equations need it); no data (W = 0): floor 1. out cheb[0..degree].
 * PACT_ENUMERIC if the equations cannot be solved. */
#define PACT_CHANFIT_MIN_FLOOR 1e-4
pact_status pact_moments_solve(const pact_moments *m, int degree, double floor, double *cheb,
                               pact_error *err);

/* The interval a group's inputs [lo, hi] are fitted on: widened by margin x
 * width on each side, the width being at least min_width (> 0). */
void pact_group_interval(double lo, double hi, double margin, double min_width, double *a,
                         double *b);

/* Per-group polynomials of one layer, all of one degree, evaluated in double
 * precision (Clenshaw) the way the optimizer's hooks do. */
typedef struct {
    int groups, degree;
    double *a, *b;   /* groups */
    double *cheb;    /* groups x (degree + 1) */
} pact_group_poly;

pact_status pact_group_poly_init(pact_group_poly *gp, int groups, int degree, pact_error *err);
void pact_group_poly_free(pact_group_poly *gp);

/* Replaces x (images x channels x spatial, NCHW) by the polynomials' values;
 * beyond the float range: +-inf. */
void pact_group_poly_apply(const pact_group_poly *gp, float *x, size_t images, int channels,
                           size_t spatial);

/* Largest |p_g - f| over the groups, each on its own interval. */
double pact_group_poly_max_error(const pact_group_poly *gp, pact_func f);

#endif
