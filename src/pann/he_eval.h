/* Evaluation of a Chebyshev series the way an HE library runs it: the
 * baby-step giant-step plan of pact_bsgs_plan, with the result of every
 * ciphertext product and of every block's weighted sum of baby steps (summed
 * at the product scale, rescaled once) optionally rounded to the grid 2^-F
 * (what CKKS rescaling does) and perturbed by seeded Gaussian noise; constants
 * are encoded on the same grid. Internal to the library. */
#ifndef PACT_HE_EVAL_H
#define PACT_HE_EVAL_H

#include "polyact.h"

#include <stdint.h>

/* Arithmetic of a simulated evaluation. frac_bits == 0 and noise == 0: exact
 * double arithmetic (the fp64 reference). */
typedef struct {
    int frac_bits;      /* 0, or grid 2^-frac_bits for every product and constant */
    double noise_sigma; /* absolute std dev of noise added to every rounded value */
    uint64_t rng[2];    /* xorshift128+ state; advanced by each call */
    uint64_t mults;     /* non-scalar multiplications performed (counted) */
    double scale, inv;  /* 2^F and 2^-F (set by pact_fx_seed / on first use) */
    double spare;       /* Box-Muller's second normal, when has_spare */
    int has_spare;
} pact_fx;

/* Seeds fx->rng from (seed, stream) so that results do not depend on how work
 * is split: callers use e.g. (layer, image chunk) as the stream. */
void pact_fx_seed(pact_fx *fx, uint64_t seed, uint64_t stream);

/* Rounds v to the grid (and adds noise) under fx; identity in exact mode. */
double pact_fx_round(pact_fx *fx, double v);

/* The same for v[0..n), n <= INT_MAX, branch-free: identical below 2^51 grid
 * steps, within one grid step (2^-51 relative) beyond, where only exploding
 * polynomials go. */
void pact_fx_round_block(pact_fx *fx, double *v, size_t n);

/* A Chebyshev series on [-1, 1] prepared for BSGS evaluation: coefficients
 * split into the baby-step blocks of the recursion (exact Chebyshev division,
 * done once in double). */
typedef struct pact_he_poly pact_he_poly;

/* cheb[0..degree] on [-1, 1] (c_0 not halved). out *hp, free with
 * pact_he_poly_free. PACT_EINVAL for degree outside 1..1023. */
pact_status pact_he_poly_create(const double *cheb, int degree, pact_he_poly **hp,
                                pact_error *err);
void pact_he_poly_free(pact_he_poly *hp);
const pact_bsgs *pact_he_poly_plan(const pact_he_poly *hp);

/* out[i] = p(y[i]) for i < n, evaluated by BSGS under fx (y is rounded to the
 * grid first: it is the output of a linear layer). y and out may alias.
 * PACT_ENOMEM if its work rows cannot be allocated. */
pact_status pact_he_poly_eval(const pact_he_poly *hp, pact_fx *fx, const double *y,
                              double *out, size_t n, pact_error *err);

#endif
