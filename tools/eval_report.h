/* Printing an evaluation report (polyact eval, and polyact merge of eval shards). */
#ifndef PACT_EVAL_REPORT_H
#define PACT_EVAL_REPORT_H

#include "polyact.h"

#include <cjson/cJSON.h>

/* What the numbers are about. */
typedef struct {
    const char *model, *model_sha256, *data;
    const char *const *layer_names; /* the report's n_layers names */
    const char *what;               /* plan path or uniform spec; NULL: backbone alone */
    int frac_bits;
    double noise;
    int timed;                      /* report->seconds is the wall time (merged shards: 0) */
} eval_labels;

/* The --json object (NULL when out of memory). */
cJSON *eval_report_json(const eval_labels *l, const pact_pann_report *r);

/* The text report on stdout. */
void eval_report_text(const eval_labels *l, const pact_pann_report *r);

#endif
