/* The HE cost model's internal representation, shared by the profile reader
 * (src/io/profile_json.c), the cost functions and the dynamic program. */
#ifndef PACT_COST_INTERNAL_H
#define PACT_COST_INTERNAL_H

#include "../internal.h"

#define PACT_COST_MAX_LEVEL 60   /* levels beyond any RNS-CKKS parameter set */
#define PACT_COST_MAX_STAGES 16
#define PACT_COST_MAX_ROWS 256   /* rows of any per-level / per-degree table */
#define PACT_COST_NAME_MAX 64

typedef enum {
    PACT_ACT_MODEL_BSGS = 0, /* multiplications of pact_bsgs_plan, by level */
    PACT_ACT_MODEL_SERIES    /* measured cost by degree, level-independent */
} pact_act_model;

/* Piecewise-linear table y(x), x strictly increasing. */
typedef struct {
    int n;
    double x[PACT_COST_MAX_ROWS];
    double y[PACT_COST_MAX_ROWS];
} pact_cost_table;

typedef struct {
    int levels;
    double ms;
    int present;
} pact_cost_linear;

typedef struct {
    pact_cost_linear conv, bn, conv_downsample, shortcut_downsample;
} pact_cost_resnet_stage;

struct pact_cost_profile {
    char name[PACT_COST_NAME_MAX];
    int max_level;   /* L */
    int fresh_level;
    int n_stages;
    double bootstrap_ms[PACT_COST_MAX_STAGES];
    int split_composites; /* bootstrapping allowed between composite components */

    pact_act_model model;
    pact_cost_table mult_ct;     /* ct x ct multiplication ms by level */
    pact_cost_table mult_scalar; /* scalar multiplication ms by level */
    double mult_scale;           /* bsgs: calibration factor on both tables */
    pact_cost_table series_ms;   /* series: ms by degree */
    int n_depth_rows;            /* series: levels by maximum degree */
    int depth_max_degree[PACT_COST_MAX_ROWS];
    int depth_levels[PACT_COST_MAX_ROWS];

    int has_resnet;
    pact_cost_linear stem_conv, stem_bn, pool, fc;
    pact_cost_resnet_stage stages[3];
};

/* The default profile's JSON text (src/pann/cost_profile_default.c, generated
 * by tools/make-profiles.py: byte for byte data/profiles/mpcnn-log.json). */
extern const char pact_cost_default_profile_text[];

/* Calibration anchor of a bsgs profile, as read from JSON. */
typedef struct {
    pact_cost_act act;
    int level;
    double ms;
} pact_cost_anchor;

/* Parses JSON into *p (src/io/profile_json.c); fills *anchor for a bsgs
 * profile. Does not compute mult_scale. */
pact_status pact_cost_profile_read_json(const char *json, size_t len, const char *origin,
                                        struct pact_cost_profile *p, pact_cost_anchor *anchor,
                                        pact_error *err);

/* Linear interpolation in a table; clamped to the end values outside. */
double pact_cost_table_clamped(const pact_cost_table *t, double x);

/* Validates an act's shape (counts, degrees). "what" names it in messages. */
pact_status pact_cost_act_check(const pact_cost_act *act, const char *what, pact_error *err);

/* Unscaled (mult_scale = 1) bsgs cost of a polynomial: used for calibration. */
double pact_cost_bsgs_raw_ms(const struct pact_cost_profile *p, int degree, int level);

/* Name of the profile a layout was built from ("" for a hand-built one). */
const char *pact_cost_layout_profile_name(const pact_cost_layout *layout);

/* Marks a layout as built from `profile_name` (net_cost.c's layouts from
 * an engine graph, like pact_cost_layout_resnet's). */
void pact_cost_layout_set_profile(pact_cost_layout *layout, const char *profile_name);

/* 1 if the layout ends inside a residual block (a FORK without its ADD). */
int pact_cost_layout_is_open(const pact_cost_layout *layout);

#endif
