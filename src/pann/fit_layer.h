/* Fitting one activation layer from its calibration: the pieces shared by the
 * uniform baselines and the optimizer's candidates. */
#ifndef PACT_FIT_LAYER_H
#define PACT_FIT_LAYER_H

#include "../internal.h"

/* The layer's calibrated [min, max] widened by margin x width on each side
 * (a point range x is widened to +-max(1e-3, |x|), whatever the margin). */
void pact_layer_interval(const pact_calib_layer *cl, double margin, double *a, double *b);

/* Least squares of degree `degree` on [a, b] weighted by the layer's measured
 * histogram, mixed with a Chebyshev floor of weight `floor` in [0, 1].
 * out *p new, *max_error the uniform error on [a, b] (may be NULL). */
pact_status pact_fit_layer_lsq(const pact_calib_layer *cl, pact_func f, double a, double b,
                               int degree, double floor, pact_poly **p, double *max_error,
                               pact_error *err);

#endif
