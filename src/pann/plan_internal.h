/* The plan's storage, shared by plan.c (the object) and io/plan_json.c (its file). */
#ifndef PACT_PLAN_INTERNAL_H
#define PACT_PLAN_INTERNAL_H

#include "../internal.h"

#define PACT_PLAN_MAX_LAYERS 100000

typedef struct {
    int set;
    char *name;
    pact_func func;
    pact_form form;
    double a, b, bound;
    int n_parts;
    int degrees[PACT_PLAN_MAX_PARTS];
    double part_a[PACT_PLAN_MAX_PARTS], part_b[PACT_PLAN_MAX_PARTS];
    double *cheb[PACT_PLAN_MAX_PARTS];
    int depth;
    double max_error, impact;
    int n_channels;         /* 0, or per-channel polynomials (POLY only) */
    double *ch_a, *ch_b;    /* n_channels intervals */
    double *ch_cheb;        /* n_channels x (degrees[0] + 1), channel after channel */
    const double **ch_rows; /* n_channels pointers into ch_cheb (for views) */
} plan_layer;

typedef struct { char *key; double value; } plan_summary;
typedef struct { char *key; char *value; } plan_note;

struct pact_plan {
    char *model_name, *model_sha256;
    int n_layers;
    plan_layer *layers;
    plan_summary *summary;
    int n_summary;
    plan_note *notes;
    int n_notes;
};

/* Levels consumed by an approximation of this shape (-1: invalid degree). */
int pact_plan_depth(pact_func func, pact_form form, int n_parts, const int *degrees);

/* Parses plan.json text (size bytes, NUL-terminated or not); `name` labels
 * messages. What pact_plan_load does after reading the file; fuzzed directly. */
pact_status pact_plan_parse(const char *text, size_t size, const char *name, pact_plan **plan,
                            pact_error *err);

#endif
