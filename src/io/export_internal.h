/* Shared by the exporters: a plan layer as the chain of Chebyshev series an HE
 * library evaluates, and a growable text buffer. */
#ifndef PACT_EXPORT_INTERNAL_H
#define PACT_EXPORT_INTERNAL_H

#include "../internal.h"
#include "json_num.h"

#include <stddef.h>

/* One layer as an HE library runs it: in = x (or, folded, y = in_scale x +
 * in_shift applied by the preceding linear layer); s = in; s = series_k(s) for
 * k = 0..n-1; out = s, or (in + final_add) * s when final_mul. Coefficients in
 * the plan's convention (c_0 not halved), trailing exact zeros trimmed (at
 * least c_0, c_1 kept). */
typedef struct {
    int n;
    int degree[PACT_PLAN_MAX_PARTS];
    double a[PACT_PLAN_MAX_PARTS], b[PACT_PLAN_MAX_PARTS];
    double *cheb[PACT_PLAN_MAX_PARTS];
    int folded;
    double in_scale, in_shift; /* folded only */
    int final_mul;
    double final_add;
} export_chain;

/* Builds the chain of layer `index` (a view from pact_plan_layer_get).
 * PACT_ENOMEM, PACT_ENUMERIC (a folded coefficient is not finite). Free with
 * export_chain_free even on failure. */
pact_status export_chain_build(const pact_plan_layer *l, int index, int folded, export_chain *c,
                               pact_error *err);
void export_chain_free(export_chain *c);

/* Channel `channel` of a per-channel layer as a one-part POLY layer of its
 * own (pointers into l). */
void export_channel_layer(const pact_plan_layer *l, int channel, pact_plan_layer *out);

/* The chains of every channel of a per-channel layer, built like
 * export_chain_build: out *chains (n_channels, free with
 * export_channels_free(chains, n_channels) even on failure). */
pact_status export_channels_build(const pact_plan_layer *l, int index, int folded,
                                  export_chain **chains, pact_error *err);
void export_channels_free(export_chain *chains, int n_channels);

/* OpenFHE's test for an interval that needs no input map (within 2^-44). */
int export_is_unit_interval(double a, double b);

/* Growable NUL-terminated text; `failed` latches the first allocation failure. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} export_text;

void export_text_printf(export_text *t, const char *fmt, ...) PACT_PRINTF(2, 3);

/* The documents, each filling *text (new, free()) or failing with err set. */
pact_status export_openfhe(const pact_plan *plan, int folded, char **text, pact_error *err);
pact_status export_lattigo(const pact_plan *plan, int folded, char **text, pact_error *err);
pact_status export_c_header(const pact_plan *plan, const char *prefix, char **text,
                            pact_error *err);

/* The common head of both JSON documents ("format" .. "levels_note"), or NULL
 * when out of memory. `levels_note` may be NULL. */
struct cJSON;
struct cJSON *export_json_head(const pact_plan *plan, const char *format, int folded,
                               const char *convention, const char *levels_note);
/* Adds index, name, func, form, bound and input_map of a layer to `o`. */
void export_json_layer_head(struct cJSON *o, const pact_plan_layer *l, int index,
                            const export_chain *c);
/* The same for a per-channel layer: "input_map" is null unfolded, else
 * {"scale": [per channel], "shift": [per channel]} from the channels' chains. */
void export_json_channels_head(struct cJSON *o, const pact_plan_layer *l, int index,
                               const export_chain *chains, int folded);
/* 1 when a layer of the plan has per-channel polynomials. */
int export_plan_has_channels(const pact_plan *plan);
/* Prints `root` (deleted here) with a trailing newline into *text. */
pact_status export_json_finish(struct cJSON *root, char **text, pact_error *err);

#endif
