/* The calibration object, shared by the computation (calibrate.c) and the file
 * format (io/calib_json.c). Internal. */
#ifndef PACT_CALIB_INTERNAL_H
#define PACT_CALIB_INTERNAL_H

#include "polyact.h"

struct pact_calib {
    char *model_name, *model_sha256, *data_name; /* never NULL ("" when unknown) */
    size_t images;
    int chunk_images, bins, n_levels;
    double *levels;
    int n_layers;
    pact_calib_layer *layers; /* names, quantiles and histograms owned */
};

/* A calibration with n_layers layers, each with `bins` zero counts and
 * n_levels quantiles, levels copied; names NULL. NULL when out of memory. */
pact_calib *pact_calib_alloc(int n_layers, int bins, int n_levels, const double *levels);

/* Copies s (NULL -> "") into *dst; 0 when out of memory. */
int pact_calib_set_string(char **dst, const char *s);

/* Fills layer->quantiles from its histogram, min, max and count. */
void pact_calib_fill_quantiles(pact_calib_layer *layer);

/* Parses calib.json text (size bytes, NUL-terminated or not); `name` labels
 * messages. What pact_calib_load does after reading the file; fuzzed directly. */
pact_status pact_calib_parse(const char *text, size_t size, const char *name,
                             pact_calib **calib, pact_error *err);

#endif
