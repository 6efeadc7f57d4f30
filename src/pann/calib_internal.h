/* Calibration storage, shared by calib_stats.c (computing) and io/calib_file.c. */
#ifndef PACT_CALIB_INTERNAL_H
#define PACT_CALIB_INTERNAL_H

#include "../internal.h"

#define PACT_CALIB_MAX_BINS 1000000
#define PACT_CALIB_MAX_LAYERS 100000

typedef struct {
    char *name;
    pact_func func;
    uint64_t count;
    double min, max, mean, m2; /* m2: sum of squared deviations from the mean */
    int n_q;
    double qp[PACT_CALIB_MAX_QUANTILES], qx[PACT_CALIB_MAX_QUANTILES];
    int bins;
    double hmin, hmax;
    double *counts;
} calib_layer;

struct pact_calib {
    char *model_name, *model_sha256, *data_name;
    size_t images;
    int n_layers;
    calib_layer *layers;
};

/* A calibration with n_layers empty layers and copies of the strings. */
pact_calib *pact_calib_alloc(int n_layers, const char *model_name, const char *model_sha256,
                             const char *data_name);

/* Allocates layer->counts for `bins` bins (zeroed); 0 on no memory. */
int pact_calib_alloc_bins(calib_layer *layer, int bins);

/* Recomputes layer->qx from the histogram for layer->qp. */
void pact_calib_fill_quantiles(calib_layer *layer);

/* Parses calib.json text (what pact_calib_load does after reading; fuzzed). */
pact_status pact_calib_parse(const char *text, size_t size, const char *name, pact_calib **calib,
                             pact_error *err);

#endif
