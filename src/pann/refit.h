/* Passes over a model's activation layers (through the model interface) that
 * feed per-channel fitting: the exact inputs' ranges and bins, and the
 * sequential refit of a chosen plan. Internal to the optimizer. */
#ifndef PACT_REFIT_H
#define PACT_REFIT_H

#include "chanfit.h"

/* Per layer, per channel: the range of the exact network's activation inputs. */
typedef struct {
    int n_layers;
    int *channels;     /* per layer (as the model passes them to hooks) */
    double **lo, **hi; /* per layer: channels[l] values */
} pact_act_ranges;

/* The ranges over the first `images` images of `data`, `batch` at a time.
 * PACT_EMISMATCH if a layer's channel count changes between calls. */
pact_status pact_act_ranges_measure(const pact_model *model, const pact_dataset *data,
                                    size_t images, int batch, pact_act_ranges *r,
                                    pact_error *err);
void pact_act_ranges_free(pact_act_ranges *r);

/* Bins the exact network's activation inputs of every layer into bins[l]
 * (initialised by the caller, groups 1 or the layer's channels; no targets). */
pact_status pact_act_bins_measure(const pact_model *model, const pact_dataset *data,
                                  size_t images, int batch, pact_bins *bins, pact_error *err);

/* Sequential refit ("error-aware fitting"): layer after layer, the polynomials
 * of layer k are fitted so that, applied to the inputs layer k receives in the
 * PANN whose earlier layers are already refitted, they give the exact
 * network's activation outputs of layer k on the same images (least squares,
 * floor toward the activation on the group's interval). Groups: one per
 * channel (per_channel) or one per layer; each group's interval is the range
 * of its PANN inputs widened by `margin` (width at least 2% of the layer's).
 * degrees, floors: per layer. cover (optional, per layer, NULL entries
 * allowed): group intervals every refit interval must contain (e.g. the
 * candidates', measured on more images than the refit uses), so that inputs
 * the refit images did not show stay inside. out polys[0..n_act) (initialised
 * here; free with pact_group_poly_free). */
pact_status pact_refit(const pact_model *model, const pact_dataset *data, size_t images,
                       int batch, const int *degrees, const double *floors, int per_channel,
                       double margin, const pact_group_poly *const *cover,
                       pact_group_poly *polys, pact_error *err);

/* The interval of a group whose inputs span [lo, hi] in a layer whose inputs
 * span [layer_lo, layer_hi] (the optimizer's rule for per-channel fits). */
void pact_channel_interval(double lo, double hi, double layer_lo, double layer_hi, double margin,
                           double *a, double *b);

#define PACT_REFIT_BINS 2048

#endif
